//go:build integration

package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/testenv"
)

// TestOpsPostgresOutage takes PostgreSQL away from a running authserver:
// requests that need the store get 503 (never 401, never an empty 500),
// /readyz 503 and /healthz 200; once PostgreSQL is back, requests succeed
// again without restarting authserver.
func TestOpsPostgresOutage(t *testing.T) {
	t.Parallel()
	pg := testenv.NewPGServer(t)
	o := newOpsServer(t, opsOptions{postgresDSN: pg.CreateDatabase(t)})
	o.start(t)
	o.addUser(t, "dev", "Dev-pass-pg1")
	o.cli(t, "project", "create", "team")
	o.cli(t, "member", "add", "team", "--user", "dev", "--role", "developer")

	post := func(user, pass string) func() (int, []byte) {
		return func() (int, []byte) {
			form := url.Values{"grant_type": {"password"}, "service": {"harbor-registry"}, "username": {user},
				"password": {pass}, "scope": {"repository:team/app:pull"}}
			req := newRequest(t, http.MethodPost, o.url+"/service/token", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r := send(t, http.DefaultClient, req)
			return r.status, r.body
		}
	}
	get := func(user, pass string) func() (int, []byte) {
		return func() (int, []byte) {
			r := o.getToken(t, user, pass, "service=harbor-registry&scope=repository:team/app:pull")
			return r.status, r.body
		}
	}
	requests := []struct {
		name string
		do   func() (int, []byte)
		want int // status while PostgreSQL runs
		// cached: an anonymous answer may come from the public-project
		// cache until cache.public_projects (1s by default) has passed
		// since the cache last read the store; after that, 503 too.
		cached bool
	}{
		{"basic login (cached once served)", get("dev", "Dev-pass-pg1"), http.StatusOK, false},
		{"basic wrong password", get("dev", "wrong"), http.StatusUnauthorized, false},
		{"basic unknown user", get("nobody", "whatever"), http.StatusUnauthorized, false},
		{"anonymous with repository scope", get("", ""), http.StatusOK, true},
		{"POST password grant", post("dev", "Dev-pass-pg1"), http.StatusOK, false},
	}
	for _, rq := range requests {
		if status, body := rq.do(); status != rq.want {
			t.Fatalf("%s before the outage: status %d, want %d; body %s", rq.name, status, rq.want, body)
		}
	}

	pg.Stop()
	t.Run("outage", func(t *testing.T) {
		for _, rq := range requests {
			t.Run(rq.name, func(t *testing.T) {
				if rq.cached {
					time.Sleep(1100 * time.Millisecond) // past cache.public_projects
				}
				status, body := rq.do()
				wantErrcode(t, rq.name, status, body, http.StatusServiceUnavailable, "UNAVAILABLE")
			})
		}
		if status, body := getBody(t, o.url+"/readyz"); status != http.StatusServiceUnavailable {
			t.Errorf("/readyz: %d %s, want 503", status, body)
		}
		if status, body := getBody(t, o.url+"/healthz"); status != http.StatusOK {
			t.Errorf("/healthz: %d %s, want 200", status, body)
		}
	})

	if err := pg.Start(); err != nil {
		t.Fatalf("restart PostgreSQL: %v", err)
	}
	t.Run("recovery", func(t *testing.T) {
		// The pool drops its dead connections on first use: poll briefly.
		for _, rq := range requests {
			deadline := time.Now().Add(10 * time.Second)
			for {
				status, body := rq.do()
				if status == rq.want {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s after PostgreSQL came back: status %d, want %d; body %s", rq.name, status, rq.want, body)
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
		if status, body := getBody(t, o.url+"/readyz"); status != http.StatusOK {
			t.Errorf("/readyz after recovery: %d %s, want 200", status, body)
		}
	})
}

// TestOpsGracefulShutdown sends SIGTERM while 16 clients hammer the token
// endpoint over keep-alive connections: every answer received is complete,
// the process exits 0 within server.shutdown_timeout, and the audit records
// of the tokens it issued are in the store afterwards.
func TestOpsGracefulShutdown(t *testing.T) {
	t.Parallel()
	const grace = 5 * time.Second
	o := newOpsServer(t, opsOptions{server: "  shutdown_timeout: 5s\n",
		extra: "audit:\n  buffer: 200000\nthrottle:\n  enabled: false\n"})
	o.start(t)
	o.addUser(t, "dev", "Dev-pass-burst1")
	o.cli(t, "project", "create", "pub", "--public")

	const agent = "ops-burst-test/1"
	tokenURL := o.url + "/service/token?service=harbor-registry&scope=repository:pub/app:pull"
	kinds := []struct {
		name string
		want int // 200 with a token, or 401 with an errcode body
		req  func() *http.Request
	}{
		{"anonymous", http.StatusOK, func() *http.Request {
			req, _ := http.NewRequest(http.MethodGet, tokenURL, nil)
			return req
		}},
		{"basic", http.StatusOK, func() *http.Request {
			req, _ := http.NewRequest(http.MethodGet, tokenURL, nil)
			req.SetBasicAuth("dev", "Dev-pass-burst1")
			return req
		}},
		{"post", http.StatusOK, func() *http.Request {
			form := url.Values{"grant_type": {"password"}, "username": {"dev"}, "password": {"Dev-pass-burst1"},
				"scope": {"repository:pub/app:pull"}}
			req, _ := http.NewRequest(http.MethodPost, o.url+"/service/token", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return req
		}},
		// A wrong password always costs a bcrypt comparison: these are
		// the requests most likely to be in flight at SIGTERM.
		{"wrong password", http.StatusUnauthorized, func() *http.Request {
			req, _ := http.NewRequest(http.MethodGet, tokenURL, nil)
			req.SetBasicAuth("dev", "wrong-password")
			return req
		}},
	}
	// One good login first, so the burst's logins hit the credential cache.
	wantToken(t, o.getToken(t, "dev", "Dev-pass-burst1", "service=harbor-registry"))

	var (
		signalled atomic.Int64 // UnixNano of SIGTERM; 0 before
		issued    atomic.Int64 // 200s with a token
		errored   atomic.Int64 // complete 401 answers
		refused   atomic.Int64 // requests not accepted (after SIGTERM only)
		afterSig  atomic.Int64 // complete answers received after SIGTERM
		mu        sync.Mutex
		problems  []string
	)
	problem := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(problems) < 20 {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 16 {
		kind := kinds[g%3] // two clients send wrong passwords: bcrypt is CPU-bound
		if g >= 14 {
			kind = kinds[3]
		}
		wg.Go(func() {
			c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}, Timeout: 15 * time.Second}
			defer c.CloseIdleConnections()
			for {
				select {
				case <-stop:
					return
				default:
				}
				req := kind.req()
				req.Header.Set("User-Agent", agent)
				resp, err := c.Do(req)
				if err != nil {
					if signalled.Load() == 0 {
						problem("%s: request failed before SIGTERM: %v", kind.name, err)
						return
					}
					refused.Add(1)
					time.Sleep(10 * time.Millisecond)
					continue
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil {
					problem("%s: truncated answer (status %d, %d bytes read): %v", kind.name, resp.StatusCode, len(body), err)
					continue
				}
				if sig := signalled.Load(); sig != 0 && time.Now().UnixNano() > sig {
					afterSig.Add(1)
				}
				var tb tokenBody
				var eb errBody
				switch {
				case resp.StatusCode != kind.want:
					problem("%s: status %d, want %d; body %q", kind.name, resp.StatusCode, kind.want, body)
				case kind.want == http.StatusOK && json.Unmarshal(body, &tb) == nil && tb.Token != "":
					issued.Add(1)
				case kind.want != http.StatusOK && json.Unmarshal(body, &eb) == nil && len(eb.Errors) > 0 && eb.Errors[0].Code == "UNAUTHORIZED":
					errored.Add(1)
				default:
					problem("%s: incomplete or malformed answer: status %d body %q", kind.name, resp.StatusCode, body)
				}
			}
		})
	}

	// A loaded burst: at least 300 ms and 200 tokens and a refusal (5 s at most).
	time.Sleep(300 * time.Millisecond)
	for deadline := time.Now().Add(5 * time.Second); (issued.Load() < 200 || errored.Load() == 0) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	signalled.Store(time.Now().UnixNano())
	o.signal(t, syscall.SIGTERM)
	sent := time.Now()
	select {
	case <-o.proc.Done():
	case <-time.After(grace + 5*time.Second):
		t.Errorf("authserver still running %v after SIGTERM", grace+5*time.Second)
	}
	took := time.Since(sent)
	close(stop)
	wg.Wait()

	t.Logf("issued %d, error answers %d, not accepted %d, answered after SIGTERM %d; exit after %v",
		issued.Load(), errored.Load(), refused.Load(), afterSig.Load(), took.Round(time.Millisecond))
	for _, p := range problems {
		t.Error(p)
	}
	if err := o.proc.Err(); err != nil {
		t.Errorf("authserver exited with %v, want status 0", err)
	}
	if took > grace {
		t.Errorf("authserver took %v to exit, more than server.shutdown_timeout %v", took, grace)
	}
	if issued.Load() < 200 || errored.Load() == 0 {
		t.Errorf("%d tokens and %d refusals during the burst; the test did not load the server", issued.Load(), errored.Load())
	}
	if afterSig.Load() == 0 {
		t.Errorf("no request in flight at SIGTERM was answered")
	}
	if _, err := net.DialTimeout("tcp", o.addr, time.Second); err == nil {
		t.Errorf("%s still accepts connections after exit", o.addr)
	} else if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Logf("dial after exit: %v", err)
	}
	// Flushed on shutdown: every token a client received is audited.
	var audited int64
	for _, r := range o.auditList(t, "--result", "issued") {
		if r.UserAgent == agent {
			audited++
		}
	}
	t.Logf("audit trail: %d issued records from the burst", audited)
	if audited < issued.Load() {
		t.Errorf("audit trail holds %d issued records from the burst, want at least the %d tokens received", audited, issued.Load())
	}
}
