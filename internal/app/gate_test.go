package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/login"
	"github.com/authserver/authserver/internal/store"
)

// throttled turns the throttle on with its defaults (apptest turns it off).
func throttled(c *config.Config) { c.Throttle = config.Defaults().Throttle }

// waitUntil polls cond for up to 10 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestConcurrentGuessesThrottled: 59 different wrong passwords for one name
// sent at the same instant from one address reach the password check at
// most throttle.user_ip_failures (5) times; the others, and the right
// password sent while they are in flight, get 429 before any check. (The
// held checks keep their slots: enough are allowed that slots play no part.)
func TestConcurrentGuessesThrottled(t *testing.T) {
	hs := newHardServer(t, func(c *config.Config) {
		throttled(c)
		c.Server.MaxPasswordChecksSet, c.Server.PasswordChecksPerNetwork = 16, 8
	})
	release := hs.logins.holdChecks()
	q := url.Values{"scope": {"repository:team/app:pull"}}
	codes := make(chan int, 59)
	for i := range 59 {
		go func() { codes <- hs.serve(getReq(q, "dev", fmt.Sprintf("guess%d", i)), "192.0.2.7:4000").Code }()
	}
	waitUntil(t, "5 checks held and 54 answers", func() bool { return hs.logins.running.Load() == 5 && len(codes) == 54 })
	right := hs.serve(getReq(q, "dev", "dev-secret"), "192.0.2.7:4000")
	if right.Code != http.StatusTooManyRequests || right.Header().Get("Retry-After") == "" {
		t.Fatalf("the right password during the burst: %d %s, want 429 with Retry-After", right.Code, right.Body)
	}
	release()
	count := map[int]int{}
	for range 59 {
		count[<-codes]++
	}
	if n := hs.logins.calls.Load(); n != 5 || count[http.StatusUnauthorized] != 5 || count[http.StatusTooManyRequests] != 54 {
		t.Fatalf("%d password checks, answers %v; want 5 checks, 5 × 401 and 54 × 429", n, count)
	}
}

// TestAPILoginsAudited: failed and throttled logins at the REST API are
// audit records naming the endpoint, count in the metrics, and share the
// token endpoint's throttle.
func TestAPILoginsAudited(t *testing.T) {
	hs := newHardServer(t, func(c *config.Config) {
		throttled(c)
		c.Audit.Enabled = true
	})
	api := func(pass, ip string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/api/v2.0/users/current", nil)
		req.SetBasicAuth("dev", pass)
		return hs.serve(req, ip+":4000")
	}
	for i := range 5 {
		if rec := api(fmt.Sprintf("guess%d", i), "192.0.2.7"); rec.Code != http.StatusUnauthorized || rec.Header().Get("WWW-Authenticate") == "" {
			t.Fatalf("guess %d: %d, want 401 with a challenge", i, rec.Code)
		}
	}
	rec := api("dev-secret", "192.0.2.7")
	wantErrcode(t, rec, http.StatusTooManyRequests)
	if rec.Header().Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	// The counter is the token endpoint's too.
	tok := hs.serve(getReq(url.Values{}, "dev", "dev-secret"), "192.0.2.7:4000")
	if tok.Code != http.StatusTooManyRequests {
		t.Fatalf("token endpoint after 5 API failures: %d, want 429", tok.Code)
	}
	if rec := api("dev-secret", "198.51.100.1"); rec.Code != http.StatusOK {
		t.Fatalf("owner from another address: %d %s", rec.Code, rec.Body)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	hs.app.Audit.Flush(ctx)
	recs, err := hs.st.ListAudit(ctx, store.AuditFilter{Subject: "dev", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	byEndpoint := map[string]int{}
	for _, r := range recs {
		byEndpoint[r.Endpoint+" "+r.Result]++
	}
	want := map[string]int{"api unauthorized": 5, "api throttled": 1, "token throttled": 1}
	for k, n := range want {
		if byEndpoint[k] != n {
			t.Fatalf("audit records %v, want %v", byEndpoint, want)
		}
	}

	metrics := hs.serve(httptest.NewRequest(http.MethodGet, "/metrics", nil), "127.0.0.1:1").Body.String()
	for series, want := range map[string]int{
		`authserver_logins_total{endpoint="api",method="password",result="unauthorized"}`: 5,
		`authserver_logins_total{endpoint="api",method="password",result="throttled"}`:    1,
		`authserver_logins_total{endpoint="api",method="password",result="ok"}`:           1,
		`authserver_logins_total{endpoint="token",method="password",result="throttled"}`:  1,
		`authserver_throttled_requests_total`:                                             2,
	} {
		m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\d+)$`).FindStringSubmatch(metrics)
		if m == nil {
			t.Fatalf("metrics lack %s", series)
		}
		if n, _ := strconv.Atoi(m[1]); n != want {
			t.Fatalf("%s = %d, want %d", series, n, want)
		}
	}
}

// TestSecretLimit: a password, token or secret over 8 KiB is 400 before
// any check, in Basic and in a POST form, at the token endpoint and the API.
func TestSecretLimit(t *testing.T) {
	hs := newHardServer(t, nil)
	long := strings.Repeat("p", login.MaxSecretBytes+1)
	api := httptest.NewRequest(http.MethodGet, "/api/v2.0/users/current", nil)
	api.SetBasicAuth("dev", long)
	for name, req := range map[string]*http.Request{
		"GET Basic":          getReq(url.Values{}, "dev", long),
		"POST password":      postReq(url.Values{"grant_type": {"password"}, "username": {"dev"}, "password": {long}, "service": {"fuzz-registry"}}),
		"POST refresh_token": postReq(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {long}, "service": {"fuzz-registry"}}),
		"API Basic":          api,
	} {
		rec := hs.serve(req, "192.0.2.7:4000")
		wantErrcode(t, rec, http.StatusBadRequest)
		if !strings.Contains(rec.Body.String(), "too long") {
			t.Fatalf("%s: %s", name, rec.Body)
		}
	}
	if n := hs.logins.calls.Load(); n != 0 {
		t.Fatalf("%d password checks for oversized secrets", n)
	}
}

// TestPasswordCheckSlots: with slow hashes, one network's burst holds at
// most server.password_checks_per_network slots; what cannot get one within
// server.password_check_wait is 503 with Retry-After (never 401), and a
// login from another network still finds a slot at once.
func TestPasswordCheckSlots(t *testing.T) {
	hs := newHardServer(t, func(c *config.Config) {
		throttled(c)
		c.Passwords.BcryptCost = 13 // the dummy bcrypt of unknown names: far longer than the wait
		c.Server.MaxPasswordChecksSet = 4
		c.Server.PasswordChecksPerNetwork = 2
		c.Server.PasswordCheckWait = config.Duration(50 * time.Millisecond)
	})
	var wg sync.WaitGroup
	var mu sync.Mutex
	count := map[int]int{}
	for i := range 10 {
		wg.Go(func() {
			rec := hs.serve(getReq(url.Values{}, fmt.Sprintf("ghost%d", i), "guess"), "192.0.2.7:4000")
			mu.Lock()
			count[rec.Code]++
			mu.Unlock()
			if rec.Code == http.StatusServiceUnavailable && rec.Header().Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
		})
	}
	waitUntil(t, "8 answers", func() bool { mu.Lock(); defer mu.Unlock(); return count[http.StatusServiceUnavailable] == 8 })
	if n := hs.app.Slots.InUse(); n != 2 {
		t.Fatalf("%d slots in use during one network's burst, want 2", n)
	}
	owner := hs.serve(getReq(url.Values{}, "dev", "dev-secret"), "198.51.100.1:4000")
	if owner.Code != http.StatusOK {
		t.Fatalf("a login from another network during the burst: %d %s", owner.Code, owner.Body)
	}
	wg.Wait()
	if count[http.StatusUnauthorized] != 2 || count[http.StatusServiceUnavailable] != 8 {
		t.Fatalf("answers %v, want 2 × 401 and 8 × 503", count)
	}
	// No verdict, no failure: the busy attempts did not count.
	if rec := hs.serve(getReq(url.Values{}, "dev", "dev-secret"), "192.0.2.7:4000"); rec.Code != http.StatusOK {
		t.Fatalf("the burst's network afterwards: %d", rec.Code)
	}
}
