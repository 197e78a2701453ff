package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Scenarios.
const (
	ScenarioAnonymous = "anonymous"  // GET, no credentials
	ScenarioBasic     = "basic"      // GET, one user's Basic credentials
	ScenarioBasicMany = "basic-many" // GET, N users round-robin
	ScenarioRefresh   = "refresh"    // POST grant_type=refresh_token
	ScenarioRobot     = "robot"      // GET, a robot account's Basic credentials
	// ScenarioReuse is basic with the same scope every time: against a
	// server with token.reuse_window set, every answer after the first
	// reuses the token already signed (Result.Reused counts them).
	ScenarioReuse = "reuse"
	// ScenarioFlooded is basic, measured while --flood-workers other
	// workers send wrong passwords for --flood-user from --flood-source:
	// does a normal login stay fast while someone guesses from elsewhere?
	ScenarioFlooded = "flooded"
)

// Scope modes.
const (
	ScopeRepeated = "repeated" // every request asks the same scope
	ScopeDistinct = "distinct" // a new repository per request
	ScopeNone     = "none"     // no scope (a docker login)
)

// Config is one load run. Zero values are not defaults: main's flags set them.
type Config struct {
	URL      string // token endpoint, e.g. http://127.0.0.1:5001/service/token
	Service  string
	ClientID string
	Scenario string

	User, Password   string // basic, and refresh when it must fetch a refresh token
	UsersFile        string // basic-many: "name:password" lines
	UserPrefix       string // basic-many without a file: prefix + zero-padded index
	UserDigits       int
	UserStart        int
	Users            int
	PasswordTemplate string // basic-many: {user} and {i} are replaced; empty means Password
	RefreshToken     string // refresh: fetched with offline_token=true when empty
	RobotName        string
	RobotSecret      string

	// Source is the local address the measured workers send from (empty:
	// the system's choice). Any 127.0.0.0/8 address works on loopback.
	Source string
	// FloodWorkers, FloodUser and FloodSource drive the flooded scenario's
	// guessers: each sends wrong passwords (a new one every request) for
	// FloodUser from FloodSource, on a connection of its own, from before
	// the warm-up until the measured phase ends.
	FloodWorkers int
	FloodUser    string
	FloodSource  string

	Concurrency int
	// Rate, when above 0, makes the run open-loop: requests are due at
	// this many per second whatever the answers take (Concurrency
	// connections send them; a request due while all are busy waits for
	// one), and a request's latency runs from when it was due, so a slow
	// answer counts for the requests it held up (no coordinated omission).
	// Two servers' tails compare at the same load this way; a closed loop
	// (Rate 0: each worker sends its next request when the last answer
	// arrives) runs each server at its own rate.
	Rate     float64
	Duration time.Duration // measured phase; always bounded
	Warmup   time.Duration // unmeasured phase before it
	Requests int64         // cap on requests per phase
	Timeout  time.Duration // per request

	ScopeMode string
	Project   string // literal, or a printf format (e.g. proj%05d) when Projects > 0
	Projects  int    // distinct mode: cycle the project over 0…Projects-1
	Repo      string
	Actions   string

	// Alg, when set (RS256, ES256, …), is the alg every token's header must
	// name: a token signed otherwise counts as a bad body, so a run cannot
	// measure the wrong key by mistake.
	Alg string

	MaxErrorSamples int
}

func (c *Config) validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("--url %q: want the token endpoint's http:// or https:// URL", c.URL)
	}
	switch c.Scenario {
	case ScenarioAnonymous:
	case ScenarioBasic, ScenarioFlooded, ScenarioReuse:
		if c.User == "" || c.Password == "" {
			bad("--scenario %s: needs --user and --password", c.Scenario)
		}
		if c.Scenario == ScenarioReuse && c.ScopeMode != ScopeRepeated {
			bad("--scenario reuse: needs --scope-mode repeated (the same grant every time)")
		}
		if c.Scenario == ScenarioFlooded && (c.FloodWorkers < 1 || c.FloodWorkers > 4096 || c.FloodUser == "") {
			bad("--scenario flooded: needs --flood-workers 1 to 4096 and --flood-user")
		}
	case ScenarioBasicMany:
		if c.UsersFile == "" && (c.Users < 1 || c.UserPrefix == "") {
			bad("--scenario basic-many: needs --users-file, or --users N with --user-prefix")
		}
		if c.UsersFile == "" && c.Password == "" && c.PasswordTemplate == "" {
			bad("--scenario basic-many: needs --password or --password-template")
		}
	case ScenarioRefresh:
		if c.RefreshToken == "" && (c.User == "" || c.Password == "") {
			bad("--scenario refresh: needs --refresh-token, or --user and --password to obtain one")
		}
	case ScenarioRobot:
		if c.RobotName == "" || c.RobotSecret == "" {
			bad("--scenario robot: needs --robot-name and --robot-secret")
		}
	default:
		bad("--scenario %q: want anonymous, basic, basic-many, refresh, robot, reuse or flooded", c.Scenario)
	}
	switch c.ScopeMode {
	case ScopeRepeated, ScopeDistinct, ScopeNone:
	default:
		bad("--scope-mode %q: want repeated, distinct or none", c.ScopeMode)
	}
	if c.Projects > 0 {
		if p := fmt.Sprintf(c.Project, 1); p == c.Project || strings.Contains(p, "%!") {
			bad("--project %q: with --projects it must be a format with one integer verb, e.g. proj%%05d", c.Project)
		}
	}
	if c.Concurrency < 1 || c.Concurrency > 4096 {
		bad("--concurrency %d: want 1 to 4096", c.Concurrency)
	}
	if c.Rate < 0 || c.Rate > 1e6 {
		bad("--rate %g: want 0 (closed loop) to 1000000 requests a second", c.Rate)
	}
	if c.Duration <= 0 || c.Duration > time.Hour {
		bad("--duration %s: want more than 0 and at most 1h", c.Duration)
	}
	if c.Warmup < 0 || c.Warmup > 10*time.Minute {
		bad("--warmup %s: want 0 to 10m", c.Warmup)
	}
	if c.Requests < 1 {
		bad("--requests %d: want at least 1", c.Requests)
	}
	if c.Timeout <= 0 {
		bad("--timeout %s: want more than 0", c.Timeout)
	}
	for flag, a := range map[string]string{"--source": c.Source, "--flood-source": c.FloodSource} {
		if a != "" && net.ParseIP(a) == nil {
			bad("%s %q: want an IP address", flag, a)
		}
	}
	return errors.Join(errs...)
}

// credential is one identity requests are sent as.
type credential struct {
	auth  string // Authorization header value; empty for anonymous
	query string // endpoint URL up to and including the fixed query parameters
}

// generator builds the requests of a run.
type generator struct {
	cfg     Config
	creds   []credential
	refresh string // the refresh token, refresh scenario only
	fixed   string // fixed scope in repeated mode
}

func basicAuth(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// withQuery returns the endpoint URL followed by v, joined with ? or &.
func withQuery(endpoint string, v url.Values) string {
	sep := "?"
	if strings.Contains(endpoint, "?") {
		sep = "&"
	}
	return endpoint + sep + v.Encode()
}

func newGenerator(ctx context.Context, cfg Config, client *http.Client) (*generator, error) {
	g := &generator{cfg: cfg}
	type login struct{ user, pass string }
	var logins []login
	switch cfg.Scenario {
	case ScenarioAnonymous, ScenarioRefresh:
		logins = []login{{}}
	case ScenarioBasic, ScenarioFlooded, ScenarioReuse:
		logins = []login{{cfg.User, cfg.Password}}
	case ScenarioRobot:
		logins = []login{{cfg.RobotName, cfg.RobotSecret}}
	case ScenarioBasicMany:
		pairs, err := manyUsers(cfg)
		if err != nil {
			return nil, err
		}
		for _, p := range pairs {
			logins = append(logins, login{p[0], p[1]})
		}
	}
	for _, l := range logins {
		v := url.Values{"client_id": {cfg.ClientID}}
		if cfg.Service != "" {
			v.Set("service", cfg.Service)
		}
		c := credential{}
		if l.user != "" {
			v.Set("account", l.user)
			c.auth = basicAuth(l.user, l.pass)
		}
		c.query = withQuery(cfg.URL, v)
		g.creds = append(g.creds, c)
	}
	g.fixed = g.scope(0)
	if cfg.Scenario == ScenarioRefresh {
		g.refresh = cfg.RefreshToken
		if g.refresh == "" {
			tok, err := fetchRefreshToken(ctx, client, cfg, g.fixed)
			if err != nil {
				return nil, err
			}
			g.refresh = tok
		}
	}
	return g, nil
}

// manyUsers lists the basic-many users as [name, password] pairs.
func manyUsers(cfg Config) ([][2]string, error) {
	if cfg.UsersFile != "" {
		f, err := os.Open(cfg.UsersFile)
		if err != nil {
			return nil, fmt.Errorf("--users-file: %w", err)
		}
		defer f.Close()
		var out [][2]string
		sc := bufio.NewScanner(f)
		for n := 1; sc.Scan(); n++ {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			name, pass, ok := strings.Cut(line, ":")
			if !ok || name == "" || pass == "" {
				return nil, fmt.Errorf("--users-file %s line %d: want name:password", cfg.UsersFile, n)
			}
			out = append(out, [2]string{name, pass})
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("--users-file: %w", err)
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("--users-file %s: no users", cfg.UsersFile)
		}
		return out, nil
	}
	out := make([][2]string, cfg.Users)
	for k := range out {
		i := cfg.UserStart + k
		name := fmt.Sprintf("%s%0*d", cfg.UserPrefix, cfg.UserDigits, i)
		pass := cfg.Password
		if cfg.PasswordTemplate != "" {
			pass = strings.NewReplacer("{user}", name, "{i}", strconv.Itoa(i)).Replace(cfg.PasswordTemplate)
		}
		out[k] = [2]string{name, pass}
	}
	return out, nil
}

// scope is the scope of request i ("" in mode none).
func (g *generator) scope(i int64) string {
	c := g.cfg
	project := c.Project
	switch c.ScopeMode {
	case ScopeNone:
		return ""
	case ScopeDistinct:
		if c.Projects > 0 {
			project = fmt.Sprintf(c.Project, i%int64(c.Projects))
		}
		return "repository:" + project + "/" + c.Repo + "-" + strconv.FormatInt(i, 10) + ":" + c.Actions
	}
	if c.Projects > 0 {
		project = fmt.Sprintf(c.Project, 0)
	}
	return "repository:" + project + "/" + c.Repo + ":" + c.Actions
}

// request builds request number i.
func (g *generator) request(ctx context.Context, i int64) (*http.Request, error) {
	cred := g.creds[i%int64(len(g.creds))]
	scope := g.fixed
	if g.cfg.ScopeMode == ScopeDistinct {
		scope = g.scope(i)
	}
	var req *http.Request
	var err error
	if g.cfg.Scenario == ScenarioRefresh {
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {g.refresh}, "client_id": {g.cfg.ClientID}}
		if g.cfg.Service != "" {
			form.Set("service", g.cfg.Service)
		}
		if scope != "" {
			form.Set("scope", scope)
		}
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, g.cfg.URL, strings.NewReader(form.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	} else {
		u := cred.query
		if scope != "" {
			u += "&scope=" + url.QueryEscape(scope)
		}
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	}
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	if cred.auth != "" {
		req.Header.Set("Authorization", cred.auth)
	}
	req.Header.Set("User-Agent", "authserver-loadgen")
	return req, nil
}

// fetchRefreshToken asks for an offline token with --user/--password, as
// `docker login` does, and returns its refresh_token.
func fetchRefreshToken(ctx context.Context, client *http.Client, cfg Config, scope string) (string, error) {
	v := url.Values{"client_id": {cfg.ClientID}, "offline_token": {"true"}, "account": {cfg.User}}
	if cfg.Service != "" {
		v.Set("service", cfg.Service)
	}
	if scope != "" {
		v.Set("scope", scope)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, withQuery(cfg.URL, v), nil)
	if err != nil {
		return "", fmt.Errorf("refresh token: %w", err)
	}
	req.Header.Set("Authorization", basicAuth(cfg.User, cfg.Password))
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("refresh token: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("refresh token: GET offline_token=true answered %d: %s", resp.StatusCode, clip(body))
	}
	var tr struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.Unmarshal(body, &tr); err != nil {
		return "", fmt.Errorf("refresh token: answer is not JSON: %w", err)
	}
	if tr.RefreshToken == "" {
		return "", errors.New("refresh token: the answer to offline_token=true has no refresh_token (does the server issue refresh tokens?)")
	}
	return tr.RefreshToken, nil
}

func clip(b []byte) string {
	const n = 300
	s := strings.TrimSpace(string(b))
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}

// newClient is a keep-alive client with one idle connection per worker
// (conns), sending from source when it is set. It ignores proxy settings
// and does not follow redirects (a 3xx is counted as such): requests go
// only to the URL given.
func newClient(cfg Config, conns int, source string) *http.Client {
	d := &net.Dialer{Timeout: cfg.Timeout}
	if source != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(source)}
	}
	return &http.Client{
		Timeout:       cfg.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         d.DialContext,
			MaxIdleConns:        conns,
			MaxIdleConnsPerHost: conns,
			MaxConnsPerHost:     conns,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
	}
}

// flood runs cfg.FloodWorkers guessers until ctx ends and returns their
// answers by status ("error" for no answer).
func flood(ctx context.Context, cfg Config) (wait func() map[string]int64) {
	client := newClient(cfg, cfg.FloodWorkers, cfg.FloodSource)
	var mu sync.Mutex
	tally := map[string]int64{}
	v := url.Values{"client_id": {cfg.ClientID}}
	if cfg.Service != "" {
		v.Set("service", cfg.Service)
	}
	endpoint := withQuery(cfg.URL, v)
	var n atomic.Int64
	var wg sync.WaitGroup
	for range cfg.FloodWorkers {
		wg.Go(func() {
			for ctx.Err() == nil {
				status := "error"
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
				if err == nil {
					req.Header.Set("Authorization", basicAuth(cfg.FloodUser, "wrong-"+strconv.FormatInt(n.Add(1), 10)))
					req.Header.Set("User-Agent", "authserver-loadgen-flood")
					var resp *http.Response
					if resp, err = client.Do(req); err == nil {
						_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
						resp.Body.Close()
						status = strconv.Itoa(resp.StatusCode)
					}
				}
				if ctx.Err() != nil {
					return
				}
				mu.Lock()
				tally[status]++
				mu.Unlock()
			}
		})
	}
	return func() map[string]int64 {
		wg.Wait()
		client.CloseIdleConnections()
		return tally
	}
}

var (
	tokenField = []byte(`"token"`)
	tokenValue = []byte(`"token":"`)
)

// token looks at the token of a 200 answer: it counts it by its header's
// alg, and as reused when it is the worker's previous token again. It
// returns why the answer is bad ("" when it is not): a token signed with
// another alg than --alg.
func (r *recorder) token(body []byte) string {
	_, rest, ok := bytes.Cut(body, tokenValue)
	if !ok {
		return ""
	}
	tok, _, _ := bytes.Cut(rest, []byte{'"'})
	if string(tok) == r.lastToken {
		r.reused++
	} else {
		r.lastToken = string(tok)
	}
	header, _, _ := bytes.Cut(tok, []byte{'.'})
	if string(header) != r.lastHeader {
		r.lastHeader, r.lastAlg = string(header), "?"
		if raw, err := base64.RawURLEncoding.DecodeString(string(header)); err == nil {
			var h struct{ Alg string }
			if json.Unmarshal(raw, &h) == nil && h.Alg != "" {
				r.lastAlg = h.Alg
			}
		}
	}
	r.algs[r.lastAlg]++
	if r.wantAlg != "" && r.lastAlg != r.wantAlg {
		return "a token signed " + r.lastAlg + ", want " + r.wantAlg
	}
	return ""
}

// run warms up for cfg.Warmup, then measures cfg.Concurrency workers for
// cfg.Duration or cfg.Requests requests, whichever ends first.
func run(ctx context.Context, cfg Config) (Result, error) {
	if err := cfg.validate(); err != nil {
		return Result{}, err
	}
	client := newClient(cfg, cfg.Concurrency, cfg.Source)
	defer client.CloseIdleConnections()
	gen, err := newGenerator(ctx, cfg, client)
	if err != nil {
		return Result{}, err
	}
	// The flooded scenario's guessers run from before the warm-up until the
	// measured phase ends.
	var stopFlood func() map[string]int64
	if cfg.Scenario == ScenarioFlooded {
		fctx, cancel := context.WithCancel(ctx)
		wait := flood(fctx, cfg)
		stopFlood = func() map[string]int64 { cancel(); return wait() }
		defer func() {
			if stopFlood != nil {
				stopFlood()
			}
		}()
	}
	var seq atomic.Int64 // request numbers across phases: distinct scopes never repeat
	if cfg.Warmup > 0 {
		phase(ctx, cfg, client, gen, &seq, cfg.Warmup, nil)
	}
	res := Result{URL: cfg.URL, Scenario: cfg.Scenario, ScopeMode: cfg.ScopeMode, Concurrency: cfg.Concurrency, Rate: cfg.Rate}
	errs := &errorLog{limit: cfg.MaxErrorSamples}
	start := time.Now()
	recs := phase(ctx, cfg, client, gen, &seq, cfg.Duration, errs)
	res.Elapsed = time.Since(start).Seconds()
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("run: %w", err)
	}
	res.ErrorSamples = errs.items
	res.merge(recs)
	if stopFlood != nil {
		res.Flood, stopFlood = stopFlood(), nil
	}
	return res, nil
}

// phase runs the workers for d (and at most cfg.Requests requests) and
// returns their tallies. Requests in flight at the deadline finish.
func phase(ctx context.Context, cfg Config, client *http.Client, gen *generator, seq *atomic.Int64, d time.Duration, errs *errorLog) []*recorder {
	deadline := time.Now().Add(d)
	var issued atomic.Int64
	recs := make([]*recorder, cfg.Concurrency)
	perWorker := maxSamples / cfg.Concurrency
	var due chan time.Time // open loop: when each request was due
	if cfg.Rate > 0 {
		due = make(chan time.Time)
		go func() {
			defer close(due)
			start := time.Now()
			for i := int64(0); ctx.Err() == nil && i < cfg.Requests; i++ {
				t := start.Add(time.Duration(float64(i) / cfg.Rate * float64(time.Second)))
				if !t.Before(deadline) {
					return
				}
				if d := time.Until(t); d > 0 {
					time.Sleep(d)
				}
				select {
				case due <- t: // waits while every connection is busy; t stays when it was due
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	var wg sync.WaitGroup
	for w := range recs {
		rec := &recorder{lat: newReservoir(perWorker, uint64(w)+1), status: map[int]int64{}, algs: map[string]int64{}, wantAlg: cfg.Alg}
		recs[w] = rec
		wg.Go(func() {
			if due != nil {
				for t := range due {
					one(ctx, client, gen, seq.Add(1)-1, rec, errs, t)
				}
				return
			}
			for ctx.Err() == nil && time.Now().Before(deadline) && issued.Add(1) <= cfg.Requests {
				one(ctx, client, gen, seq.Add(1)-1, rec, errs, time.Time{})
			}
		})
	}
	wg.Wait()
	return recs
}

// one sends request i and records its outcome; its latency runs from
// due (when the open loop meant to send it), or from now when due is zero.
func one(ctx context.Context, client *http.Client, gen *generator, i int64, rec *recorder, errs *errorLog, due time.Time) {
	req, err := gen.request(ctx, i)
	if err != nil {
		rec.errors++
		if errs != nil {
			errs.add(err.Error())
		}
		return
	}
	t0 := due
	if t0.IsZero() {
		t0 = time.Now()
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			rec.errors++
			if errs != nil {
				errs.add("transport: " + err.Error())
			}
		}
		return
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	lat := time.Since(t0)
	if err != nil {
		rec.errors++
		if errs != nil {
			errs.add("read body: " + err.Error())
		}
		return
	}
	rec.status[resp.StatusCode]++
	rec.lat.add(lat)
	switch {
	case resp.StatusCode == http.StatusOK && bytes.Contains(body, tokenField):
		if why := rec.token(body); why != "" {
			rec.badBodies++
			if errs != nil && !errs.full() {
				errs.add("200 with " + why)
			}
		}
	case resp.StatusCode == http.StatusOK:
		rec.badBodies++
		if errs != nil && !errs.full() {
			errs.add("200 without a token: " + clip(body))
		}
	default:
		if errs != nil && !errs.full() {
			errs.add(strconv.Itoa(resp.StatusCode) + " " + clip(body))
		}
	}
}
