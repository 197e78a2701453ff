package app_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/app"
	"github.com/authserver/authserver/internal/app/apptest"
	"github.com/authserver/authserver/internal/authn/secret"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/store"
)

// replicas are n apps on one database with the shared throttle
// (throttle.store: database) and the credential cache on, and the local
// user "dev" (password "dev-secret").
func replicas(t *testing.T, n int) []*app.App {
	t.Helper()
	cfg := apptest.Config(t)
	cfg.Throttle = config.Defaults().Throttle
	cfg.Throttle.Store = config.ThrottleDatabase
	cfg.Throttle.BaseDelay = config.Duration(time.Minute)
	cfg.Cache.CredentialsTTL = config.Duration(5 * time.Minute)
	var out []*app.App
	for range n {
		out = append(out, apptest.New(t, cfg, app.Options{}))
	}
	hash, err := secret.HashPassword("dev-secret", 4)
	if err != nil {
		t.Fatal(err)
	}
	if err := out[0].Store.CreateUser(t.Context(), &store.User{Name: "dev", PasswordHash: hash, Source: store.SourceLocal}); err != nil {
		t.Fatal(err)
	}
	return out
}

func serveFrom(a *app.App, req *http.Request, remote string) *httptest.ResponseRecorder {
	req.RemoteAddr = remote
	rec := httptest.NewRecorder()
	a.Handler.ServeHTTP(rec, req)
	return rec
}

// throttleWrites reads authserver_throttle_writes_total from a's metrics.
func throttleWrites(t *testing.T, a *app.App) int {
	t.Helper()
	body := serveFrom(a, httptest.NewRequest(http.MethodGet, "/metrics", nil), "127.0.0.1:1").Body.String()
	m := regexp.MustCompile(`(?m)^authserver_throttle_writes_total (\d+)$`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no authserver_throttle_writes_total in /metrics")
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// TestSharedThrottleAcrossReplicas: guesses spread over three replicas on
// one database meet 429 after the budget of one (user_ip_failures, 5),
// at every replica, even for the right password the cache would answer;
// the owner on another network still gets in.
func TestSharedThrottleAcrossReplicas(t *testing.T) {
	rs := replicas(t, 3)
	q := url.Values{"scope": {"repository:team/app:pull"}}
	for i := range 5 {
		if rec := serveFrom(rs[i%3], getReq(q, "dev", fmt.Sprintf("guess%d", i)), "192.0.2.7:4000"); rec.Code != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d, want 401", i+1, rec.Code)
		}
	}
	for i, a := range rs {
		if rec := serveFrom(a, getReq(q, "dev", "guess-more"), "192.0.2.7:4000"); rec.Code != http.StatusTooManyRequests {
			t.Fatalf("replica %d after 5 failures over 3 replicas: %d, want 429", i, rec.Code)
		}
		if rec := serveFrom(a, getReq(q, "dev", "dev-secret"), "198.51.100.1:4000"); rec.Code != http.StatusOK {
			t.Fatalf("replica %d, the owner elsewhere: %d %s", i, rec.Code, rec.Body)
		}
		// Now a cache hit, still refused from the blocked network.
		if rec := serveFrom(a, getReq(q, "dev", "dev-secret"), "192.0.2.7:4000"); rec.Code != http.StatusTooManyRequests {
			t.Fatalf("replica %d, the right password from the blocked network: %d, want 429", i, rec.Code)
		}
	}
}

// TestCacheHitWritesNoThrottle: with the shared throttle, the first login
// (bcrypt) writes its hold and its release; the next ones, answered by the
// credential cache, write nothing.
func TestCacheHitWritesNoThrottle(t *testing.T) {
	a := replicas(t, 1)[0]
	q := url.Values{"scope": {"repository:team/app:pull"}}
	for i := range 20 {
		if rec := serveFrom(a, getReq(q, "dev", "dev-secret"), "192.0.2.7:4000"); rec.Code != http.StatusOK {
			t.Fatalf("login %d: %d %s", i+1, rec.Code, rec.Body)
		}
	}
	if n := throttleWrites(t, a); n != 2 {
		t.Fatalf("20 logins, 19 of them cache hits, wrote the throttle %d times; want 2 (the first one's hold and release)", n)
	}
}
