package server

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/audit"
	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/authz"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/oidctest"
	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/token"
)

// fedServer is the token endpoint with a federated robot trusting a real
// issuer on loopback, token reuse on, and the audit trail.
type fedServer struct {
	*fixture
	is    *oidctest.Issuer
	audit *audit.Writer
}

func newFedServer(t *testing.T) *fedServer {
	f := newFixture(t) // its store, users and projects; a server of our own below
	is := oidctest.New(t)
	ctx := context.Background()
	f.must(f.st.CreateRobot(ctx, &store.Robot{Name: "team+gh", Project: "team", Actions: []string{"pull", "push"},
		Trust: &store.TrustPolicy{Issuer: "github", Conditions: []store.ClaimCondition{{Claim: "repository", Pattern: "org/app"}}}}))
	fed, err := authn.NewFederation(config.Federation{Issuers: []config.FederationIssuer{{Name: "github", URL: is.URL,
		Audiences: []string{"harbor-registry"}, AllowHTTP: true, Algorithms: []string{"RS256"}, MaxTokenAge: config.Duration(time.Hour)}}},
		authn.FederationOptions{MinRefetch: time.Millisecond}) // the rate limit is authn's test; here every unknown kid fetches
	f.must(err)
	local, err := authn.NewLocal(f.st, 4)
	f.must(err)
	robots := authn.NewRobots(f.st, "robot$", local, nil, nil)
	robots.SetFederation(fed, nil)
	keyPath, certPath, _, err := token.GenerateKeyPair(t.TempDir(), "RS256", 2048, false)
	f.must(err)
	signer, err := token.NewSigner(keyPath, certPath, "thumbprint")
	f.must(err)
	issuer := token.NewIssuer(signer, "test-issuer", "test-registry", 30*time.Minute)
	w := audit.New(f.st, audit.Config{Buffer: 100}, slog.New(slog.DiscardHandler), nil)
	srv := httptest.NewServer(New(Options{
		Passwords:  robots,
		Refresh:    authn.NewRefresher(f.st, authn.NewAccounts(f.st, nil), authn.RefreshOptions{MaxLifetime: time.Hour}),
		Authorizer: authz.New(f.st),
		Issuer:     issuer,
		Reuser:     token.NewReuser(issuer, 30*time.Second, 100),
		Realm:      "http://auth.test/service/token",
		Audit:      w,
	}))
	t.Cleanup(srv.Close)
	f.srv = srv
	return &fedServer{fixture: f, is: is, audit: w}
}

func TestFederatedTokenEndpoint(t *testing.T) {
	fs := newFedServer(t)
	ctx := context.Background()
	jwtExp := time.Now().Add(5 * time.Minute).Unix()
	jwt := fs.is.Mint("harbor-registry", map[string]any{"sub": "repo:org/app:ref:refs/heads/main", "repository": "org/app", "exp": jwtExp})

	// GET with offline_token=true (docker login): a token, never a refresh token.
	q := scopeQuery("repository:team/app:pull,push")
	q.Set("offline_token", "true")
	q.Set("client_id", "docker")
	r := fs.get("GET", "/service/token", q, "robot$team+gh", jwt)
	if r.status != 200 {
		t.Fatalf("GET: %d %v", r.status, r.body)
	}
	if _, ok := r.body["refresh_token"]; ok {
		t.Fatal("a federated robot got a refresh token")
	}
	if exp := int64(r.claims["exp"].(float64)); exp > jwtExp {
		t.Fatalf("token exp %d outlives the JWT's %d", exp, jwtExp)
	}
	if got := r.claims["access"].([]any); len(got) != 1 || len(got[0].(map[string]any)["actions"].([]any)) != 2 {
		t.Fatalf("access %v", got)
	}
	// Reused on a second request, and still within the JWT.
	r2 := fs.get("GET", "/service/token", q, "robot$team+gh", jwt)
	if r2.status != 200 || r2.body["token"] != r.body["token"] || int64(r2.claims["exp"].(float64)) > jwtExp {
		t.Fatalf("second GET: %d, reused %v", r2.status, r2.body["token"] == r.body["token"])
	}
	// POST password grant with access_type=offline (crane, containerd).
	form := url.Values{"grant_type": {"password"}, "service": {"test-registry"}, "client_id": {"containerd-client"},
		"access_type": {"offline"}, "scope": {"repository:team/app:pull"}, "username": {"robot$team+gh"}, "password": {jwt}}
	req, _ := http.NewRequest("POST", fs.srv.URL+"/service/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	p := fs.do(req)
	if p.status != 200 || p.body["refresh_token"] != nil || int64(p.claims["exp"].(float64)) > jwtExp {
		t.Fatalf("POST: %d %v", p.status, p.body)
	}
	// Refused: another repository's JWT; a plain password.
	other := fs.is.Mint("harbor-registry", map[string]any{"repository": "org/evil"})
	for _, pass := range []string{other, "not-a-jwt"} {
		if r := fs.get("GET", "/service/token", scopeQuery(), "robot$team+gh", pass); r.status != 401 {
			t.Fatalf("refused login: %d", r.status)
		}
	}
	// The issuer down and a new key: 503, never 401.
	fs.is.Stop()
	fs.is.Rotate("RS256")
	fresh := fs.is.Mint("harbor-registry", map[string]any{"repository": "org/app"})
	if r := fs.get("GET", "/service/token", scopeQuery(), "robot$team+gh", fresh); r.status != 503 {
		t.Fatalf("issuer down, unknown key: %d, want 503", r.status)
	}
	// The audit trail names the robot and the JWT's iss and sub.
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	fs.audit.Close(cctx)
	recs, err := fs.st.ListAudit(ctx, store.AuditFilter{Subject: "robot$team+gh", Result: store.AuditIssued})
	f := fs.fixture
	f.must(err)
	if len(recs) != 3 {
		t.Fatalf("%d issued records, want 3", len(recs))
	}
	for _, rec := range recs {
		if rec.Method != authn.MethodFederated || rec.FederatedIssuer != fs.is.URL || rec.FederatedSubject != "repo:org/app:ref:refs/heads/main" {
			t.Fatalf("audit record %+v", rec)
		}
	}
}
