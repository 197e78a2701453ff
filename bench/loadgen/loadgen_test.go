package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/app"
	"github.com/authserver/authserver/internal/app/apptest"
	"github.com/authserver/authserver/internal/authn/secret"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/token"
)

// startAuthserver serves the whole stack (internal/app) over a real SQLite
// store and RSA key on 127.0.0.1, with users ci and ci2 (passwords
// "<name>-pass", bcrypt cost 4), private project team (ci is a developer)
// and public project pub.
func startAuthserver(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	cfg := apptest.Config(t)
	cfg.Token.Issuer = "test-issuer"
	a := apptest.New(t, cfg, app.Options{})
	st := a.Store
	for _, name := range []string{"ci", "ci2"} {
		hash, err := secret.HashPassword(name+"-pass", 4)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.CreateUser(ctx, &store.User{Name: name, PasswordHash: hash}); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []store.Project{{Name: "team"}, {Name: "pub", Public: true}} {
		if err := st.CreateProject(ctx, &p); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.SetMember(ctx, store.Member{Project: "team", Kind: store.MemberUser, Name: "ci", Role: store.RoleDeveloper}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(srv.Close)
	return srv.URL + "/service/token"
}

// testConfig is main's defaults, pointed at endpoint, short and light.
func testConfig(t *testing.T, endpoint string) Config {
	t.Helper()
	cfg, _, err := parseFlags([]string{"--url", endpoint, "--concurrency", "4", "--duration", "300ms", "--warmup", "100ms"}, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestRunAgainstAuthserver(t *testing.T) {
	endpoint := startAuthserver(t)
	usersFile := filepath.Join(t.TempDir(), "users.txt")
	if err := os.WriteFile(usersFile, []byte("# name:password\nci:ci-pass\n\nci2:ci2-pass\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		set      func(c *Config)
		status   string // the status expected of every request
		also     string // another status allowed (429 once the throttle trips)
		requests int64  // exact count expected, when non-zero
	}{
		{name: "anonymous repeated public scope", status: "200", set: func(c *Config) {
			c.Duration, c.Project = time.Second, "pub"
		}},
		{name: "basic distinct scopes", status: "200", set: func(c *Config) {
			c.Duration, c.Scenario, c.User, c.Password, c.Project, c.ScopeMode = time.Second, ScenarioBasic, "ci", "ci-pass", "team", ScopeDistinct
		}},
		{name: "basic-many from a file", status: "200", set: func(c *Config) {
			c.Scenario, c.UsersFile, c.Project = ScenarioBasicMany, usersFile, "team"
		}},
		{name: "basic-many generated names", status: "200", set: func(c *Config) {
			c.Scenario, c.UserPrefix, c.UserDigits, c.UserStart, c.Users, c.PasswordTemplate = ScenarioBasicMany, "ci", 0, 2, 1, "{user}-pass"
		}},
		{name: "robot credentials as Basic", status: "200", set: func(c *Config) {
			c.Scenario, c.RobotName, c.RobotSecret, c.ScopeMode = ScenarioRobot, "ci", "ci-pass", ScopeNone
		}},
		{name: "wrong password", status: "401", also: "429", set: func(c *Config) {
			c.Scenario, c.User, c.Password = ScenarioBasic, "ci", "nope"
		}},
		{name: "flooded: a login measured while others guess from 127.0.0.2", status: "200", set: func(c *Config) {
			// A second of measurement: each measured login runs bcrypt (the
			// test server has no credential cache) beside the guessers'.
			c.Scenario, c.User, c.Password, c.FloodWorkers, c.Source = ScenarioFlooded, "ci", "ci-pass", 2, "127.0.0.1"
			c.Duration = time.Second
		}},
		{name: "request cap", status: "200", requests: 25, set: func(c *Config) {
			c.Requests, c.Duration, c.Warmup = 25, 30*time.Second, 0
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t, endpoint)
			tt.set(&cfg)
			began := time.Now()
			res, err := run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if took := time.Since(began); took > cfg.Warmup+cfg.Duration+5*time.Second {
				t.Fatalf("run took %s", took)
			}
			checkSane(t, res)
			if res.Status[tt.status]+res.Status[tt.also] != res.Requests || res.Status[tt.status] == 0 || res.Errors != 0 || res.BadBodies != 0 {
				t.Fatalf("want only %s: %+v", tt.status, res)
			}
			if cfg.Scenario == ScenarioFlooded && (res.Flood["401"]+res.Flood["429"]+res.Flood["503"] == 0 || res.Flood["200"] != 0) {
				t.Fatalf("the flood's answers: %v", res.Flood)
			}
			if tt.requests != 0 && res.Requests != tt.requests {
				t.Fatalf("%d requests, want exactly %d", res.Requests, tt.requests)
			}
			if tt.status == "200" && (res.OK != res.Requests || len(res.ErrorSamples) != 0) {
				t.Fatalf("ok %d of %d, failures %q", res.OK, res.Requests, res.ErrorSamples)
			}
			if tt.status != "200" && (res.OK != 0 || len(res.ErrorSamples) != cfg.MaxErrorSamples ||
				!strings.HasPrefix(res.ErrorSamples[0], tt.status+" {")) {
				t.Fatalf("ok %d, failures %q", res.OK, res.ErrorSamples)
			}
		})
	}
}

// checkSane checks the invariants every result must keep.
func checkSane(t *testing.T, r Result) {
	t.Helper()
	l := r.Latency
	var sum int64
	for _, n := range r.Status {
		sum += n
	}
	switch {
	case r.Requests < 10:
		t.Fatalf("only %d requests: %+v", r.Requests, r)
	case sum+r.Errors != r.Requests:
		t.Fatalf("status counts %v + errors %d ≠ requests %d", r.Status, r.Errors, r.Requests)
	case int64(r.LatencySamples) != sum:
		t.Fatalf("%d latency samples for %d responses", r.LatencySamples, sum)
	case !(0 < l.P50 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.Max && l.Mean <= l.Max):
		t.Fatalf("latency %+v", l)
	case r.Elapsed <= 0 || r.RPS <= 0 || r.RPS*r.Elapsed < float64(r.Requests)-0.5:
		t.Fatalf("elapsed %f rps %f for %d requests", r.Elapsed, r.RPS, r.Requests)
	}
}

func TestJSONOutput(t *testing.T) {
	endpoint := startAuthserver(t)
	var out, errOut bytes.Buffer
	code := realMain(context.Background(), []string{"--url", endpoint, "--scenario", "basic", "--user", "ci", "--password", "ci-pass",
		"--project", "team", "--concurrency", "2", "--duration", "300ms", "--warmup", "0s", "--json"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var res Result
	dec := json.NewDecoder(&out)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&res); err != nil {
		t.Fatalf("--json output does not parse: %v", err)
	}
	checkSane(t, res)
	if res.Scenario != "basic" || res.Concurrency != 2 || res.OK != res.Requests {
		t.Fatalf("result %+v", res)
	}
}

// TestRefreshProtocol checks the refresh scenario's requests against a
// stand-in endpoint that insists on the Docker refresh-token protocol: an
// offline token fetched once with Basic credentials, then POST forms.
func TestRefreshProtocol(t *testing.T) {
	var mu sync.Mutex
	var problems []string
	fail := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		problems = append(problems, s)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
			q := r.URL.Query()
			if u, p, _ := r.BasicAuth(); u != "ci" || p != "ci-pass" || q.Get("offline_token") != "true" || q.Get("service") != "harbor-registry" {
				fail("offline token request " + r.URL.String())
			}
			w.Write([]byte(`{"token":"t","refresh_token":"rt-1"}`))
		case http.MethodPost:
			if err := r.ParseForm(); err != nil || r.Header.Get("Authorization") != "" ||
				r.PostForm.Get("grant_type") != "refresh_token" || r.PostForm.Get("refresh_token") != "rt-1" ||
				r.PostForm.Get("client_id") != "loadgen" || r.PostForm.Get("service") != "harbor-registry" ||
				!strings.HasPrefix(r.PostForm.Get("scope"), "repository:team/app-") {
				fail("refresh request " + r.PostForm.Encode())
			}
			w.Write([]byte(`{"token":"t","access_token":"t"}`))
		}
	}))
	defer srv.Close()
	tests := []struct {
		name  string
		token string
	}{
		{name: "fetched with offline_token", token: ""},
		{name: "given", token: "rt-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t, srv.URL+"/token")
			cfg.Scenario, cfg.User, cfg.Password, cfg.RefreshToken = ScenarioRefresh, "ci", "ci-pass", tt.token
			cfg.Project, cfg.ScopeMode = "team", ScopeDistinct
			res, err := run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			checkSane(t, res)
			if res.OK != res.Requests || len(problems) > 0 {
				t.Fatalf("ok %d of %d; protocol problems: %q", res.OK, res.Requests, problems[:min(3, len(problems))])
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	tests := []struct {
		name      string
		n         int // latencies 1…n ms, spread round-robin over workers
		workers   int
		limit     int // reservoir size per worker
		p50, p99  float64
		tolerance float64 // relative
	}{
		{name: "exact", n: 100, workers: 1, limit: 1000, p50: 50, p99: 99},
		{name: "exact over workers", n: 1000, workers: 3, limit: 1000, p50: 500, p99: 990},
		{name: "sampled", n: 100_000, workers: 4, limit: 2000, p50: 50_000, p99: 99_000, tolerance: 0.05},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := make([]*reservoir, tt.workers)
			for w := range rs {
				rs[w] = newReservoir(tt.limit, uint64(w)+1)
			}
			for i := 1; i <= tt.n; i++ {
				rs[i%tt.workers].add(time.Duration(i) * time.Millisecond)
			}
			l, kept := summarize(rs)
			if kept > tt.workers*tt.limit || l.Max != float64(tt.n) {
				t.Fatalf("kept %d, max %v", kept, l.Max)
			}
			near := func(got, want float64) bool { return got >= want*(1-tt.tolerance) && got <= want*(1+tt.tolerance) }
			if !near(l.P50, tt.p50) || !near(l.P99, tt.p99) || l.Mean != float64(tt.n+1)/2 {
				t.Fatalf("p50 %v p99 %v mean %v, want %v %v %v", l.P50, l.P99, l.Mean, tt.p50, tt.p99, float64(tt.n+1)/2)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "defaults", args: nil},
		{name: "unknown scenario", args: []string{"--scenario", "ldap"}, wantErr: "--scenario"},
		{name: "basic without user", args: []string{"--scenario", "basic"}, wantErr: "--user"},
		{name: "basic-many without users", args: []string{"--scenario", "basic-many", "--password", "x"}, wantErr: "--users"},
		{name: "robot without secret", args: []string{"--scenario", "robot", "--robot-name", "robot$p+x"}, wantErr: "--robot-secret"},
		{name: "refresh without a way to a token", args: []string{"--scenario", "refresh"}, wantErr: "--refresh-token"},
		{name: "unbounded", args: []string{"--duration", "0s"}, wantErr: "--duration"},
		{name: "not http", args: []string{"--url", "ftp://127.0.0.1/x"}, wantErr: "--url"},
		{name: "projects without format", args: []string{"--projects", "10"}, wantErr: "--project"},
		{name: "bad scope mode", args: []string{"--scope-mode", "random"}, wantErr: "--scope-mode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, _, err := parseFlags(tt.args, os.Stderr)
			if err != nil {
				t.Fatal(err)
			}
			err = cfg.validate()
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// TestAlgAndReuse: against an authserver signing with ES256 and reusing
// tokens for 30 s, --alg ES256 passes every token and --alg RS256 none,
// and the reuse scenario counts the answers that repeat a token.
func TestAlgAndReuse(t *testing.T) {
	ctx := context.Background()
	cfg := apptest.Config(t)
	cfg.Token.Key, cfg.Token.Certificate, _, _ = mustKeyPair(t, "ES256")
	cfg.Token.ReuseWindow = config.Duration(30 * time.Second)
	cfg.Cache.CredentialsTTL = config.Duration(time.Minute)
	a := apptest.New(t, cfg, app.Options{})
	hash, err := secret.HashPassword("ci-pass", 4)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Store.CreateUser(ctx, &store.User{Name: "ci", PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	if err := a.Store.CreateProject(ctx, &store.Project{Name: "pub", Public: true}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(srv.Close)
	endpoint := srv.URL + "/service/token"

	for _, tt := range []struct {
		name   string
		set    func(c *Config)
		bad    bool // every 200 is a bad body
		reuses bool // answers repeat tokens
	}{
		{name: "anonymous, ES256 expected", set: func(c *Config) { c.Project, c.Alg = "pub", "ES256" }},
		{name: "anonymous, RS256 expected", bad: true, set: func(c *Config) { c.Project, c.Alg = "pub", "RS256" }},
		{name: "reuse", reuses: true, set: func(c *Config) {
			c.Scenario, c.User, c.Password, c.Project, c.Alg = ScenarioReuse, "ci", "ci-pass", "pub", "ES256"
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := testConfig(t, endpoint)
			tt.set(&c)
			res, err := run(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			checkSane(t, res)
			if res.Status["200"] != res.Requests || res.Algs["ES256"] != res.Requests {
				t.Fatalf("want every answer a 200 with an ES256 token: %+v", res)
			}
			if tt.bad != (res.BadBodies == res.Requests) || tt.bad != (res.OK == 0) {
				t.Fatalf("bad bodies %d, ok %d of %d; samples %q", res.BadBodies, res.OK, res.Requests, res.ErrorSamples)
			}
			if tt.reuses && res.Reused <= res.Requests/2 {
				t.Fatalf("%d of %d answers reused a token", res.Reused, res.Requests)
			}
		})
	}
	var out, errOut bytes.Buffer
	if code := realMain(ctx, []string{"--url", endpoint, "--scenario", "reuse", "--user", "ci", "--password", "ci-pass",
		"--scope-mode", "distinct", "--duration", "100ms"}, &out, &errOut); code != 2 {
		t.Fatalf("reuse with distinct scopes: exit %d, want 2 (bad flags): %s", code, errOut.String())
	}
}

// mustKeyPair writes a key pair of alg to a temporary directory.
func mustKeyPair(t *testing.T, alg string) (key, cert, jwks string, err error) {
	t.Helper()
	key, cert, jwks, err = token.GenerateKeyPair(t.TempDir(), alg, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	return key, cert, jwks, nil
}

// TestOpenLoop: with --rate the requests are due at that rate whatever the
// answers take, and the latency of one held up behind a slow answer runs
// from when it was due: a server that stalls 100 ms on one connection
// shows it in the tail of the ~20 requests due meanwhile, where a closed
// loop would record one slow request.
func TestOpenLoop(t *testing.T) {
	var n sync.Mutex
	count := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Lock()
		count++
		stall := count == 10
		n.Unlock()
		if stall {
			time.Sleep(100 * time.Millisecond)
		}
		_, _ = w.Write([]byte(`{"token":"x"}`))
	}))
	defer srv.Close()
	cfg := testConfig(t, srv.URL+"/service/token")
	cfg.Concurrency, cfg.Rate, cfg.Warmup, cfg.Duration = 1, 200, 0, 500*time.Millisecond
	res, err := run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests < 50 || res.Requests > 101 || res.Rate != 200 {
		t.Fatalf("%d requests at rate %g in 500 ms, want about 100 at 200", res.Requests, res.Rate)
	}
	if res.Latency.Max < 100 || res.Latency.P90 < 5 {
		t.Fatalf("latency %+v: want the stall (100 ms) and the requests held up behind it (p90 at least 5 ms)", res.Latency)
	}
}
