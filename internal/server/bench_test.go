package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/authz"
	"github.com/authserver/authserver/internal/metrics"
	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/store/sqlite"
	"github.com/authserver/authserver/internal/token"
)

// benchHandler is server.New over a real SQLite store and an RSA-2048 key,
// wired as cmd/authserver serve wires it (robots → PATs → local users with
// the credential cache, metrics on; audit and throttling off), with token
// reuse for reuseWindow (0: every token is signed). The store holds the
// user "dev" (password "dev-secret", bcrypt cost 10, developer in project
// team) and the public project pub.
func benchHandler(b *testing.B, reuseWindow time.Duration) http.Handler {
	b.Helper()
	ctx := context.Background()
	must := func(err error) {
		b.Helper()
		if err != nil {
			b.Fatal(err)
		}
	}
	dir := b.TempDir()
	st, err := sqlite.Open(ctx, dir+"/db.sqlite")
	must(err)
	b.Cleanup(func() { st.Close() })
	must(st.Migrate(ctx))
	hash, err := authn.HashPassword("dev-secret", 10)
	must(err)
	must(st.CreateUser(ctx, &store.User{Name: "dev", PasswordHash: hash, Source: store.SourceLocal}))
	must(st.CreateProject(ctx, &store.Project{Name: "team"}))
	must(st.CreateProject(ctx, &store.Project{Name: "pub", Public: true}))
	must(st.SetMember(ctx, store.Member{Project: "team", Kind: store.MemberUser, Name: "dev", Role: store.RoleDeveloper}))

	keyPath, certPath, _, err := token.GenerateKeyPair(dir, "RS256", 2048, false)
	must(err)
	signer, err := token.NewSigner(keyPath, certPath, "thumbprint")
	must(err)
	m := metrics.New("bench")
	local, err := authn.NewLocal(st, 10)
	must(err)
	must(local.SetCache(5*time.Minute, 100000, m))
	accounts := authn.NewAccounts(st, nil)
	pats := authn.NewPATs(st, accounts, local, nil, nil)
	issuer := token.NewIssuer(signer, "bench-issuer", "bench-registry", 30*time.Minute)
	return New(Options{
		Passwords:  authn.NewRobots(st, "robot$", pats, nil, nil),
		Authorizer: authz.New(st),
		Issuer:     issuer,
		Realm:      "http://auth.test/service/token",
		Reuser:     token.NewReuser(issuer, reuseWindow, 10000),
		Metrics:    m,
	})
}

// benchGet serves one GET /service/token and fails unless it issued a
// token.
func benchGet(b *testing.B, h http.Handler, target, user, pass string) {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	req.RemoteAddr = "127.0.0.1:40000"
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"token"`) {
		b.Fatalf("GET %s: %d %s", target, rec.Code, rec.Body)
	}
}

// BenchmarkTokenRequest is a whole GET /service/token through the handler
// (routing, middleware, parsing, authentication, the permission query,
// signing, JSON), without the network:
//
//   - anonymous: pull on a public project; one query and one signature.
//   - basic-cached: Basic credentials of a local user, verified-credential
//     cache warm (no bcrypt), reuse off; the cost of authenticating on top
//     of the anonymous request.
//   - basic-reuse: the same request with token.reuse_window 30s: the
//     identical grant is answered with the token already signed.
func BenchmarkTokenRequest(b *testing.B) {
	q := func(scope string) string {
		return "/service/token?" + url.Values{
			"service": {"bench-registry"}, "client_id": {"docker"}, "scope": {scope},
		}.Encode()
	}
	anon := q("repository:pub/tools:pull")
	dev := q("repository:team/app:pull,push") + "&account=dev"
	cases := []struct {
		name       string
		reuse      time.Duration
		target     string
		user, pass string
	}{
		{"anonymous", 0, anon, "", ""},
		{"basic-cached", 0, dev, "dev", "dev-secret"},
		{"basic-reuse", 30 * time.Second, dev, "dev", "dev-secret"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			h := benchHandler(b, c.reuse)
			benchGet(b, h, c.target, c.user, c.pass) // warms the credential cache (one bcrypt) and the reuse cache
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				benchGet(b, h, c.target, c.user, c.pass)
			}
		})
	}
}

// BenchmarkParsePostLimits parses the worst POST bodies an unauthenticated
// client may send (1 MiB): one scope repeating 16 actions, and 1 MiB of
// distinct actions (refused at the 17th). Neither reaches authentication.
func BenchmarkParsePostLimits(b *testing.B) {
	signer, err := fuzzSigner()
	if err != nil {
		b.Fatal(err)
	}
	s := &Server{opts: Options{Issuer: token.NewIssuer(signer, "i", "bench-registry", time.Hour)}}
	acts := make([]string, 16)
	for i := range acts {
		acts[i] = "a" + strconv.Itoa(i)
	}
	act16 := strings.Join(acts, ",")
	body := func(scope string, fill int) string {
		form := url.Values{"grant_type": {"password"}, "username": {"dev"}, "password": {"x"}}
		pre := form.Encode() + "&scope=repository%3Ateam%2Fapp%3A"
		var sb strings.Builder
		sb.WriteString(pre)
		for sb.Len() < fill {
			sb.WriteString(scope)
		}
		return sb.String()
	}
	repeats := body(url.QueryEscape(act16+","), maxFormBytes-200)
	var distinct strings.Builder
	distinct.WriteString(body("", 0))
	for i := 0; distinct.Len() < maxFormBytes-20; i++ {
		distinct.WriteString("b" + strconv.Itoa(i) + "%2C")
	}
	cases := []struct {
		name, body string
		ok         bool
	}{
		{"1MiB-repeated-actions", repeats, true},
		{"1MiB-distinct-actions", distinct.String(), false},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/service/token", strings.NewReader(c.body))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				_, rerr := s.parsePost(httptest.NewRecorder(), req)
				if (rerr == nil) != c.ok {
					b.Fatalf("parse: %v", rerr)
				}
			}
		})
	}
}
