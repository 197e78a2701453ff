//go:build integration

package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/testenv"
)

// TestHighAvailability runs docs/HIGH-AVAILABILITY.md: authserver
// processes on one throw-away PostgreSQL, behind a real nginx running
// deploy/nginx/authserver.conf, in front of a registry that verifies the
// tokens:
//   - five replicas started at once on the empty database: exactly one
//     creates the admin, its password is where its log says, the others
//     say they did not create it; three of them go behind nginx;
//   - wrong passwords through the balancer, one after another and in a
//     concurrent burst, meet 429 after exactly the budget of one replica
//     (user_ip_failures: 5), while the owner elsewhere gets in;
//   - a rolling key rotation (docs/KEY-ROTATION.md, N replicas) while
//     tokens are fetched and used at the registry: no failure;
//   - kill -9 of a replica under load, then a PostgreSQL restart under
//     load: every token a client received has its audit record (the jti
//     sets are compared), and a valid credential never gets 401.
func TestHighAvailability(t *testing.T) {
	t.Parallel()
	pg := testenv.NewPGServer(t)
	dsn := pg.CreateDatabase(t)
	h := &haCluster{t: t, dir: t.TempDir(), dsn: dsn, lbPort: testenv.FreePort(t)}
	h.lbURL = "http://127.0.0.1:" + strconv.Itoa(h.lbPort)
	h.keys = filepath.Join(h.dir, "keys")
	keygen(t, h.keys)
	next := filepath.Join(h.dir, "next")
	keygen(t, next)
	// The certificates published besides the signing one (step 2 of the
	// rotation adds the next key's): every replica lists this file.
	h.published = filepath.Join(h.keys, "published.crt")
	writeFile(t, h.published, readFile(t, filepath.Join(h.keys, "token.crt")))
	oldKID := jwksKIDs(t, readFile(t, filepath.Join(h.keys, "jwks.json")))[0]
	newKID := jwksKIDs(t, readFile(t, filepath.Join(next, "jwks.json")))[0]

	var adminPass string
	t.Run("five first starts", func(t *testing.T) {
		for i := range 5 {
			h.replicas = append(h.replicas, h.newReplica(i))
		}
		for _, r := range h.replicas { // at once: none waits for another
			r.start()
		}
		for _, r := range h.replicas {
			r.waitReady(t)
		}
		var creators []*haReplica
		for _, r := range h.replicas {
			log := r.log(t)
			switch {
			case strings.Contains(log, "created sysadmin admin with a generated password"):
				creators = append(creators, r)
			case !strings.Contains(log, "not creating the bootstrap sysadmin"):
				t.Errorf("replica %d says neither that it created the admin nor that it did not:\n%s", r.n, log)
			}
		}
		if len(creators) != 1 {
			t.Fatalf("%d replicas created the admin, want 1", len(creators))
		}
		m := regexp.MustCompile(`password_file=(\S+)`).FindStringSubmatch(creators[0].log(t))
		if m == nil {
			t.Fatalf("the creator's log names no password file:\n%s", creators[0].log(t))
		}
		adminPass = strings.TrimSpace(string(readFile(t, m[1])))
		if out := h.cli(t, "user", "list"); strings.Count(out, "\n") != 2 { // header and admin
			t.Fatalf("users after five first starts:\n%s", out)
		}
		// Three replicas stay, behind the balancer.
		for _, r := range h.replicas[3:] {
			r.proc.Stop(syscall.SIGTERM, 10*time.Second)
		}
		h.replicas = h.replicas[:3]
		h.startNginx()
		if rep := h.token(t, http.DefaultClient, "GET", "admin", adminPass, ""); rep.status != http.StatusOK {
			t.Fatalf("admin with the password from the file, through nginx: %d %s", rep.status, rep.body)
		}
	})
	if t.Failed() {
		return
	}
	h.addUser(t, "dev", "Dev-secret-1")
	h.addUser(t, "ops", "Ops-secret-1")
	h.cli(t, "project", "create", "team")
	h.cli(t, "member", "add", "team", "--user", "dev", "--role", "developer")

	t.Run("one throttle budget through the balancer", func(t *testing.T) {
		// One guess after another, round robin over three replicas.
		attacker := clientFrom("127.0.0.2")
		var got []int
		for i := range 8 {
			got = append(got, h.token(t, attacker, "GET", "dev", fmt.Sprint("guess", i), "").status)
		}
		want := []int{401, 401, 401, 401, 401, 429, 429, 429}
		if !slices.Equal(got, want) {
			t.Errorf("8 wrong passwords one after another: %v, want %v", got, want)
		}
		// The right password from the blocked address is refused too.
		if s := h.token(t, attacker, "GET", "dev", "Dev-secret-1", "").status; s != http.StatusTooManyRequests {
			t.Errorf("the right password from the blocked address: %d, want 429", s)
		}
		// 30 guesses at the same instant, from another address.
		burst := clientFrom("127.0.0.3")
		statuses := make(chan int, 30)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range 30 {
			wg.Go(func() {
				<-start
				method := "GET"
				if i%2 == 1 {
					method = "POST"
				}
				statuses <- h.token(t, burst, method, "ops", fmt.Sprint("burst", i), "").status
			})
		}
		close(start)
		wg.Wait()
		close(statuses)
		count := map[int]int{}
		for s := range statuses {
			count[s]++
		}
		if count[401] != 5 || count[429] != 25 {
			t.Errorf("30 simultaneous wrong passwords: %v, want 5 × 401 and 25 × 429", count)
		}
		// The owners from elsewhere are not affected.
		owner := clientFrom("127.0.0.4")
		for _, u := range [][2]string{{"dev", "Dev-secret-1"}, {"ops", "Ops-secret-1"}} {
			if s := h.token(t, owner, "GET", u[0], u[1], "").status; s != http.StatusOK {
				t.Errorf("%s from another address: %d, want 200", u[0], s)
			}
		}
		// Through the balancer nothing was untrusted; straight to a
		// replica, X-Forwarded-For from an untrusted peer is counted.
		r := h.replicas[0]
		if v := r.metric(t, "authserver_untrusted_forwarded_requests_total"); v != 0 {
			t.Errorf("requests through nginx counted as untrusted: %v", v)
		}
		req := newRequest(t, http.MethodGet, "http://"+r.addr+"/healthz", nil)
		req.Header.Set("X-Forwarded-For", "203.0.113.9")
		send(t, clientFrom("127.0.0.9"), req)
		if v := r.metric(t, "authserver_untrusted_forwarded_requests_total"); v != 1 {
			t.Errorf("X-Forwarded-For from an untrusted peer: counted %v, want 1", v)
		}
	})

	t.Run("rolling key rotation while pulling", func(t *testing.T) {
		bundle := filepath.Join(h.dir, "registry-bundle.crt")
		writeFile(t, bundle, append(readFile(t, filepath.Join(h.keys, "token.crt")), readFile(t, filepath.Join(next, "token.crt"))...))
		reg := startRegistryTrusting(t, flavours[0], h.authServer(), bundle)
		mustOK(t, newSession(t, reg, "dev", "Dev-secret-1").cranePush(t, "team/app:1", "high availability"))

		pulls := h.pullLoop(t, reg)
		// Step 2: publish the next key on every replica.
		writeFile(t, h.published, append(readFile(t, filepath.Join(h.keys, "token.crt")), readFile(t, filepath.Join(next, "token.crt"))...))
		for _, r := range h.replicas {
			r.reload(t)
		}
		for _, r := range h.replicas {
			if kids := r.jwksKIDs(t); !slices.Equal(kids, []string{oldKID, newKID}) {
				t.Fatalf("replica %d publishes %v after step 2, want [old %s, next %s]", r.n, kids, oldKID, newKID)
			}
		}
		// Step 3: switch the signers one by one (the key files are shared).
		replaceFile(t, filepath.Join(h.keys, "token.key"), readFile(t, filepath.Join(next, "token.key")))
		replaceFile(t, filepath.Join(h.keys, "token.crt"), readFile(t, filepath.Join(next, "token.crt")))
		for _, r := range h.replicas {
			time.Sleep(300 * time.Millisecond)
			r.reload(t)
			if kid := r.signingKID(t); kid != newKID {
				t.Fatalf("replica %d signs with %s after its reload, want %s", r.n, kid, newKID)
			}
		}
		time.Sleep(300 * time.Millisecond)
		// Step 5 (after the tokens' lifetime, not waited here): retire the
		// old key from what the replicas publish.
		writeFile(t, h.published, readFile(t, filepath.Join(next, "token.crt")))
		for _, r := range h.replicas {
			r.reload(t)
			if kids := r.jwksKIDs(t); !slices.Equal(kids, []string{newKID}) {
				t.Fatalf("replica %d publishes %v after step 5, want [%s]", r.n, kids, newKID)
			}
		}
		time.Sleep(300 * time.Millisecond)
		n, kids, failures := pulls()
		t.Logf("%d token-then-pull pairs during the rotation, tokens by kid %v", n, kids)
		if len(failures) > 0 {
			t.Errorf("%d of %d pulls failed during the rotation; first: %s", len(failures), n, failures[0])
		}
		if kids[oldKID] == 0 || kids[newKID] == 0 || n < 20 {
			t.Errorf("%d pulls, tokens by kid %v: want both keys used", n, kids)
		}
	})

	t.Run("kill -9 of a replica under load", func(t *testing.T) {
		victim := h.replicas[1]
		received := h.load(t, 4*time.Second, func() {
			time.Sleep(1500 * time.Millisecond)
			if err := victim.proc.Signal(syscall.SIGKILL); err != nil {
				t.Error(err)
			}
		})
		h.wantRecorded(t, received)
		// The replica comes back; the throttle forgot nothing.
		victim.start()
		victim.waitReady(t)
		if s := h.token(t, clientFrom("127.0.0.2"), "GET", "dev", "Dev-secret-1", "").status; s != http.StatusTooManyRequests {
			t.Errorf("the blocked address after a replica's restart: %d, want 429", s)
		}
	})

	t.Run("PostgreSQL restart under load", func(t *testing.T) {
		received := h.load(t, 6*time.Second, func() {
			time.Sleep(1500 * time.Millisecond)
			pg.Stop()
			time.Sleep(2 * time.Second)
			if err := pg.Start(); err != nil {
				t.Error(err)
			}
		})
		h.wantRecorded(t, received)
	})
}

// haCluster is the replicas, the balancer and what they share.
type haCluster struct {
	t         *testing.T
	dir       string
	dsn       string
	keys      string // the shared key directory
	published string // the certificates every replica publishes besides its own
	lbPort    int
	lbURL     string // http://127.0.0.1:PORT, nginx
	replicas  []*haReplica
}

// haReplica is one authserver process of the cluster.
type haReplica struct {
	h       *haCluster
	n       int
	dir     string
	addr    string // 127.0.0.1:PORT
	config  string
	logPath string
	proc    *testenv.Process
}

// newReplica writes replica n's config: PostgreSQL, the shared keys,
// nginx trusted as a proxy, the realm at nginx, throttle blocks of a
// minute (so the budget is seen exactly), no token reuse (every token is
// signed, with its own jti).
func (h *haCluster) newReplica(n int) *haReplica {
	t := h.t
	r := &haReplica{h: h, n: n, dir: filepath.Join(h.dir, fmt.Sprint("replica", n))}
	if err := os.MkdirAll(r.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	r.addr = "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	r.config, r.logPath = filepath.Join(r.dir, "config.yaml"), filepath.Join(r.dir, "authserver.log")
	cfg := authConfig(r.addr, h.keys, r.dir, authOptions{
		postgresDSN: h.dsn,
		server:      fmt.Sprintf("  public_url: http://localhost:%d\n  trusted_proxies: [127.0.0.1/32]\n", h.lbPort),
		token:       "  reuse_window: 0s\n  previous_certificates: [" + h.published + "]\n",
		extraConfig: "throttle:\n  base_delay: 1m\n  max_delay: 1h\n",
	})
	writeFile(t, r.config, []byte(cfg))
	return r
}

// start runs the replica (no $AUTHSERVER_ADMIN_PASSWORD: a first start
// generates the admin's password) until the whole test ends.
func (r *haReplica) start() {
	r.h.t.Helper()
	r.proc = startLogged(r.h.t, fmt.Sprint("authserver-", r.n), r.logPath, []string{"AUTHSERVER_ADMIN_PASSWORD=", "AUTHSERVER_CONFIG="},
		r.dir, bin["authserver"], "serve", "--config", r.config)
}

func (r *haReplica) waitReady(t *testing.T) {
	t.Helper()
	waitFor(t, fmt.Sprint("authserver replica ", r.n), r.proc.Done(), tokenEndpointReady(http.DefaultClient, "http://"+r.addr))
}

func (r *haReplica) log(t *testing.T) string { return string(readFile(t, r.logPath)) }

// reload sends SIGHUP and waits for the replica to say it reloaded.
func (r *haReplica) reload(t *testing.T) {
	t.Helper()
	before := strings.Count(r.log(t), "reload: signing key loaded")
	if err := r.proc.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); strings.Count(r.log(t), "reload: signing key loaded") == before; {
		if time.Now().After(deadline) {
			t.Fatalf("replica %d did not reload", r.n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// signingKID is the kid the replica says it signs with, in /readyz and in
// authserver_signing_key_info (which must agree).
func (r *haReplica) signingKID(t *testing.T) string {
	t.Helper()
	status, body := getBody(t, "http://"+r.addr+"/readyz")
	var ready struct {
		SigningKID string `json:"signing_kid"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &ready) != nil {
		t.Fatalf("replica %d /readyz: %d %s", r.n, status, body)
	}
	if v, ok := metricValue(r.metrics(t), "authserver_signing_key_info", `kid="`+ready.SigningKID+`"`); !ok || v != 1 {
		t.Fatalf("replica %d: /readyz says %s, authserver_signing_key_info does not", r.n, ready.SigningKID)
	}
	return ready.SigningKID
}

func (r *haReplica) jwksKIDs(t *testing.T) []string {
	t.Helper()
	status, body := getBody(t, "http://"+r.addr+"/.well-known/jwks.json")
	if status != http.StatusOK {
		t.Fatalf("replica %d JWKS: %d", r.n, status)
	}
	return jwksKIDs(t, body)
}

func (r *haReplica) metrics(t *testing.T) string {
	t.Helper()
	_, body := getBody(t, "http://"+r.addr+"/metrics")
	return string(body)
}

func (r *haReplica) metric(t *testing.T, name string) float64 {
	t.Helper()
	v, _ := metricValue(r.metrics(t), name, "")
	return v
}

// authServer is the cluster as the registry helpers see it: the CLI on
// replica 0's config, the realm at nginx.
func (h *haCluster) authServer() *authServer {
	return &authServer{dir: h.replicas[0].dir, config: h.replicas[0].config, url: "http://localhost:" + strconv.Itoa(h.lbPort)}
}

func (h *haCluster) cli(t *testing.T, args ...string) string { return h.authServer().cli(t, args...) }

func (h *haCluster) addUser(t *testing.T, name, pass string) { h.authServer().addUser(t, name, pass) }

// startNginx runs deploy/nginx/authserver.conf with the listen address and
// the upstream servers replaced by the cluster's, under a main config of
// the test's own (its prefix, pid file, logs and temp paths in one
// directory); it is stopped by its pid when the whole test ends.
func (h *haCluster) startNginx() {
	t := h.t
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	site := string(readFile(t, filepath.Join(root, "deploy", "nginx", "authserver.conf")))
	servers := regexp.MustCompile(`(?m)^(\s*)server \S+ max_fails=0;\n`)
	if len(servers.FindAllString(site, -1)) != 3 || !strings.Contains(site, "\n    listen 80;\n") {
		t.Fatal("deploy/nginx/authserver.conf: the listen line or the three server lines are not where the test replaces them")
	}
	var upstream strings.Builder
	for _, r := range h.replicas {
		fmt.Fprintf(&upstream, "    server %s max_fails=0;\n", r.addr)
	}
	first := true
	site = servers.ReplaceAllStringFunc(site, func(string) string {
		if !first {
			return ""
		}
		first = false
		return upstream.String()
	})
	site = strings.Replace(site, "\n    listen 80;\n", fmt.Sprintf("\n    listen 127.0.0.1:%d;\n", h.lbPort), 1)
	dir := filepath.Join(h.dir, "nginx")
	for _, d := range []string{"", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(dir, "authserver.conf"), []byte(site))
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;\n" // workers reach the test's private directories
	}
	main := fmt.Sprintf(`%sdaemon off;
worker_processes 1;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log info;
events { worker_connections 512; }
http {
    access_log %[2]s/access.log;
    client_body_temp_path %[2]s/tmp/body;
    proxy_temp_path %[2]s/tmp/proxy;
    fastcgi_temp_path %[2]s/tmp/fastcgi;
    uwsgi_temp_path %[2]s/tmp/uwsgi;
    scgi_temp_path %[2]s/tmp/scgi;
    include %[2]s/authserver.conf;
}
`, user, dir)
	writeFile(t, filepath.Join(dir, "nginx.conf"), []byte(main))
	nginx := "/usr/sbin/nginx"
	if p, err := exec.LookPath("nginx"); err == nil {
		nginx = p
	}
	p := startLogged(t, "nginx", filepath.Join(dir, "nginx.out"), nil, dir, nginx, "-c", filepath.Join(dir, "nginx.conf"), "-p", dir)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("--- nginx error.log ---\n%s", readFileOr(filepath.Join(dir, "error.log")))
		}
	})
	waitFor(t, "nginx", p.Done(), func() error {
		resp, err := http.Get(h.lbURL + "/healthz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET /healthz through nginx: %s", resp.Status)
		}
		return nil
	})
}

// token asks for a token through nginx, GET with Basic credentials or
// POST with the password grant; scope "" is a pull on team/app.
func (h *haCluster) token(t *testing.T, c *http.Client, method, user, pass, scope string) reply {
	t.Helper()
	if scope == "" {
		scope = "repository:team/app:pull"
	}
	rep, err := h.tryToken(c, method, user, pass, scope)
	if err != nil {
		t.Fatalf("%s /service/token through nginx: %v", method, err)
	}
	return rep
}

func (h *haCluster) tryToken(c *http.Client, method, user, pass, scope string) (reply, error) {
	var req *http.Request
	if method == http.MethodPost {
		form := url.Values{"grant_type": {"password"}, "username": {user}, "password": {pass},
			"service": {"harbor-registry"}, "client_id": {"ha-test"}, "scope": {scope}}
		req, _ = http.NewRequest(http.MethodPost, h.lbURL+"/service/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req, _ = http.NewRequest(http.MethodGet, h.lbURL+"/service/token?service=harbor-registry&scope="+url.QueryEscape(scope), nil)
		req.SetBasicAuth(user, pass)
	}
	resp, err := c.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: body}, err
}

// pullLoop fetches a token through nginx and pulls team/app:1's manifest
// with it at reg, again and again until the returned function is called,
// which says how many pairs ran, the tokens by kid and what failed.
func (h *haCluster) pullLoop(t *testing.T, reg *registry) func() (int, map[string]int, []string) {
	stop, done := make(chan struct{}), make(chan struct{})
	var n int
	kids := map[string]int{}
	var failures []string
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			n++
			rep, err := h.tryToken(http.DefaultClient, "GET", "dev", "Dev-secret-1", "repository:team/app:pull")
			var tb tokenBody
			if err != nil || rep.status != http.StatusOK || json.Unmarshal(rep.body, &tb) != nil {
				failures = append(failures, fmt.Sprintf("token: %d %s %v", rep.status, rep.body, err))
				continue
			}
			kids[jwtField(tb.Token, 0, "kid")]++
			req, _ := http.NewRequest(http.MethodGet, reg.url+"/v2/team/app/manifests/1", nil)
			req.Header.Set("Authorization", "Bearer "+tb.Token)
			req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				failures = append(failures, "pull: "+err.Error())
				continue
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				failures = append(failures, fmt.Sprintf("pull: %d %s", resp.StatusCode, body))
			}
		}
	}()
	return func() (int, map[string]int, []string) {
		close(stop)
		<-done
		return n, kids, failures
	}
}

// load sends token requests through nginx from 6 workers (GET and POST,
// dev's right password) for d, running disrupt alongside; it returns the
// jti of every token received, and fails the test when a valid credential
// got 401 (or anything but 200, 502, 503 and 504).
func (h *haCluster) load(t *testing.T, d time.Duration, disrupt func()) map[string]bool {
	t.Helper()
	var mu sync.Mutex
	received := map[string]bool{}
	statuses := map[int]int{}
	connErrors := 0
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Go(func() {
			c := &http.Client{Timeout: 20 * time.Second}
			for i := 0; time.Now().Before(deadline); i++ {
				method := "GET"
				if (w+i)%2 == 1 {
					method = "POST"
				}
				rep, err := h.tryToken(c, method, "dev", "Dev-secret-1", "")
				mu.Lock()
				if err != nil {
					connErrors++
				} else {
					statuses[rep.status]++
				}
				mu.Unlock()
				if err != nil || rep.status != http.StatusOK {
					time.Sleep(20 * time.Millisecond)
					continue
				}
				var tb tokenBody
				if err := json.Unmarshal(rep.body, &tb); err != nil || tb.Token == "" {
					t.Errorf("a 200 without a token: %s", rep.body)
					continue
				}
				jti := jwtField(tb.Token, 1, "jti")
				if jti == "" {
					t.Errorf("a token without a jti: %s", tb.Token)
					continue
				}
				mu.Lock()
				received[jti] = true
				mu.Unlock()
			}
		})
	}
	disrupt()
	wg.Wait()
	t.Logf("answers under load: %v, connection errors %d, tokens received %d", statuses, connErrors, len(received))
	for s, n := range statuses {
		switch s {
		case http.StatusOK, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		default:
			t.Errorf("%d answers %d to a valid credential", n, s)
		}
	}
	if len(received) < 10 {
		t.Errorf("only %d tokens received under load", len(received))
	}
	return received
}

// wantRecorded checks that every received token has its audit record.
func (h *haCluster) wantRecorded(t *testing.T, received map[string]bool) {
	t.Helper()
	out := h.cli(t, "audit", "list", "--result", "issued", "--output", "json", "--limit", "1000000")
	var recs []struct {
		JTI string `json:"jti"`
	}
	if err := json.Unmarshal([]byte(out), &recs); err != nil {
		t.Fatalf("audit list: %v", err)
	}
	recorded := map[string]bool{}
	for _, r := range recs {
		recorded[r.JTI] = true
	}
	var missing []string
	for jti := range received {
		if !recorded[jti] {
			missing = append(missing, jti)
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d of %d tokens clients received have no audit record, e.g. jti %s", len(missing), len(received), missing[0])
	}
}

// jwtField is the string field name of a JWT's header (part 0) or payload
// (part 1), "" when there is none (safe in any goroutine, unlike the
// helpers that fail the test).
func jwtField(tok string, part int, name string) string {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[part])
	var fields map[string]any
	if err != nil || json.Unmarshal(raw, &fields) != nil {
		return ""
	}
	v, _ := fields[name].(string)
	return v
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func readFileOr(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	return string(b)
}
