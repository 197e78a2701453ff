package app_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/app"
	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/oidctest"
	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/testenv"
)

// fedIssuer is federation.issuers with one entry, "github", trusting is.
func fedIssuer(is *oidctest.Issuer) config.Federation {
	return config.Federation{Issuers: []config.FederationIssuer{{Name: "github", URL: is.URL,
		Audiences: []string{"harbor-registry"}, AllowHTTP: true, Algorithms: []string{"RS256"}, MaxTokenAge: config.Duration(time.Hour)}}}
}

// TestFederatedTokenEndpoint: the whole stack with federation.issuers, a
// federated robot trusting a real issuer on loopback, token reuse on and
// the audit trail: a token never outlives the JWT, never comes with a
// refresh token, is reused, refusals are 401, the issuer down with a new
// key 503, and the audit trail names the JWT's iss and sub.
func TestFederatedTokenEndpoint(t *testing.T) {
	is := oidctest.New(t)
	f, a := newFixtureWith(t, func(cfg *config.Config, opts *app.Options) {
		cfg.Federation = fedIssuer(is)
		cfg.Token.ReuseWindow = config.Duration(30 * time.Second)
		cfg.Audit.Enabled, cfg.Audit.Buffer = true, 100
		// The rate limit is authn's test; here every unknown kid fetches.
		opts.Federation.MinRefetch = time.Millisecond
	})
	ctx := context.Background()
	f.must(f.st.CreateRobot(ctx, &store.Robot{Name: "team+gh", Project: "team", Permissions: store.OneProject("team", "pull", "push"),
		Trust: &store.TrustPolicy{Issuer: "github", Conditions: []store.ClaimCondition{{Claim: "repository", Pattern: "org/app"}}}}))
	jwtExp := time.Now().Add(5 * time.Minute).Unix()
	jwt := is.Mint("harbor-registry", map[string]any{"sub": "repo:org/app:ref:refs/heads/main", "repository": "org/app", "exp": jwtExp})

	// GET with offline_token=true (docker login): a token, never a refresh token.
	q := scopeQuery("repository:team/app:pull,push")
	q.Set("offline_token", "true")
	q.Set("client_id", "docker")
	r := f.get("GET", "/service/token", q, "robot$team+gh", jwt)
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
	r2 := f.get("GET", "/service/token", q, "robot$team+gh", jwt)
	if r2.status != 200 || r2.body["token"] != r.body["token"] || int64(r2.claims["exp"].(float64)) > jwtExp {
		t.Fatalf("second GET: %d, reused %v", r2.status, r2.body["token"] == r.body["token"])
	}
	// POST password grant with access_type=offline (crane, containerd).
	form := url.Values{"grant_type": {"password"}, "service": {"test-registry"}, "client_id": {"containerd-client"},
		"access_type": {"offline"}, "scope": {"repository:team/app:pull"}, "username": {"robot$team+gh"}, "password": {jwt}}
	req, _ := http.NewRequest("POST", f.srv.URL+"/service/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	p := f.do(req)
	if p.status != 200 || p.body["refresh_token"] != nil || int64(p.claims["exp"].(float64)) > jwtExp {
		t.Fatalf("POST: %d %v", p.status, p.body)
	}
	// Refused: another repository's JWT; a plain password.
	other := is.Mint("harbor-registry", map[string]any{"repository": "org/evil"})
	for _, pass := range []string{other, "not-a-jwt"} {
		if r := f.get("GET", "/service/token", scopeQuery(), "robot$team+gh", pass); r.status != 401 {
			t.Fatalf("refused login: %d", r.status)
		}
	}
	// The issuer down and a new key: 503, never 401.
	is.Stop()
	is.Rotate("RS256")
	fresh := is.Mint("harbor-registry", map[string]any{"repository": "org/app"})
	if r := f.get("GET", "/service/token", scopeQuery(), "robot$team+gh", fresh); r.status != 503 {
		t.Fatalf("issuer down, unknown key: %d, want 503", r.status)
	}
	// The audit trail names the robot and the JWT's iss and sub.
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	a.Audit.Flush(cctx)
	recs, err := f.st.ListAudit(ctx, store.AuditFilter{Subject: "robot$team+gh", Result: store.AuditIssued})
	f.must(err)
	if len(recs) != 3 {
		t.Fatalf("%d issued records, want 3", len(recs))
	}
	for _, rec := range recs {
		if rec.Method != authn.MethodFederated || rec.FederatedIssuer != is.URL || rec.FederatedSubject != "repo:org/app:ref:refs/heads/main" {
			t.Fatalf("audit record %+v", rec)
		}
	}
}

// TestReloadJWKSFile: SIGHUP's Reload re-reads an issuer's jwks_file: the
// keys of the new file are used at once (a key taken out no longer works),
// and a bad file is logged and refused, the old keys kept.
func TestReloadJWKSFile(t *testing.T) {
	is := oidctest.New(t)
	file := filepath.Join(t.TempDir(), "jwks.json")
	write := func(data string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(string(is.JWKS()))
	logs := &testenv.Buffer{}
	f, a := newFixtureWith(t, func(cfg *config.Config, opts *app.Options) {
		cfg.Federation = fedIssuer(is)
		cfg.Federation.Issuers[0].JWKSFile = file
		opts.Logger = slog.New(slog.NewTextHandler(logs, nil))
	})
	f.must(f.st.CreateRobot(context.Background(), &store.Robot{Name: "team+gh", Project: "team", Permissions: store.OneProject("team", "pull"),
		Trust: &store.TrustPolicy{Issuer: "github", Conditions: []store.ClaimCondition{{Claim: "repository", Pattern: "org/app"}}}}))
	status := func(jwt string) int {
		t.Helper()
		return f.get("GET", "/service/token", scopeQuery("repository:team/app:pull"), "robot$team+gh", jwt).status
	}
	mint := func() string { return is.Mint("harbor-registry", map[string]any{"repository": "org/app"}) }
	old := mint()
	if s := status(old); s != 200 {
		t.Fatalf("first key: %d", s)
	}
	is.Rotate("RS256")
	is.Retire()
	write(string(is.JWKS()))
	a.Reload(t.Context())
	if !strings.Contains(logs.String(), "reload: jwks_file keys loaded") {
		t.Fatalf("log: %s", logs)
	}
	if s := status(old); s != 401 {
		t.Errorf("the key taken out of the file: %d, want 401", s)
	}
	if s := status(mint()); s != 200 {
		t.Fatalf("new key after reload: %d", s)
	}
	write("not a JWKS")
	a.Reload(t.Context())
	if !strings.Contains(logs.String(), "reload: jwks_file refused; keeping the old keys") || !strings.Contains(logs.String(), "issuer github") {
		t.Fatalf("log: %s", logs)
	}
	if s := status(mint()); s != 200 {
		t.Errorf("after a refused reload: %d, want the old keys kept (200)", s)
	}
}
