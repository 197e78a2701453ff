package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
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

// fedIssuer is federation.issuers with one entry, "github", trusting is
// with GitHub Actions' identity claims (repository, repository_owner, ...).
func fedIssuer(is *oidctest.Issuer) config.Federation {
	return config.Federation{Issuers: []config.FederationIssuer{{Name: "github", URL: is.URL,
		Audiences: []string{"harbor-registry"}, AllowHTTP: true, Algorithms: []string{"RS256"}, MaxTokenAge: config.Duration(time.Hour),
		IdentityClaims: config.DefaultIdentityClaims(config.GitHubActionsURL)}}}
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

// TestFederatedPolicyMustPin, through the running server: a robot stored
// by an earlier version with a trust policy that pins no workload (aud
// alone: any job of the issuer asking for the registry's audience) is
// refused at the token endpoint even with a JWT meeting its conditions,
// the log line says why, and the API shows why (authserver_federation's
// refused). The API gives no robot such a policy (400); a PUT with a
// policy that pins fixes the robot.
func TestFederatedPolicyMustPin(t *testing.T) {
	is := oidctest.New(t)
	logs := &testenv.Buffer{}
	f, _ := newFixtureWith(t, func(cfg *config.Config, opts *app.Options) {
		cfg.Federation = fedIssuer(is)
		opts.Logger = slog.New(slog.NewTextHandler(logs, nil))
	})
	old := &store.Robot{Name: "team+old", Project: "team", Permissions: store.OneProject("team", "pull"),
		Trust: &store.TrustPolicy{Issuer: "github", Conditions: []store.ClaimCondition{{Claim: "aud", Pattern: "harbor-registry"}}}}
	f.must(f.st.CreateRobot(t.Context(), old))
	jwt := is.Mint("harbor-registry", oidctest.GitHub("org/app", "refs/heads/main"))
	token := func() int {
		t.Helper()
		return f.get("GET", "/service/token", scopeQuery("repository:team/app:pull"), "robot$team+old", jwt).status
	}
	if s := token(); s != 401 {
		t.Fatalf("a stored policy that pins nothing: %d, want 401", s)
	}
	if l := logs.String(); !strings.Contains(l, `msg="robot refused" backend=robot robot=robot$team+old issuer=github reason="trust policy refused: `+
		`no condition pins the workload's identity: the policy needs one on sub, repository, repository_owner`) {
		t.Fatalf("log: %s", l)
	}
	robotURL := f.srv.URL + "/api/v2.0/robots/" + strconv.FormatInt(old.ID, 10)
	api := func(method string, body any) reply {
		t.Helper()
		req, err := http.NewRequest(method, robotURL, nil)
		f.must(err)
		if body != nil {
			data, err := json.Marshal(body)
			f.must(err)
			req, err = http.NewRequest(method, robotURL, bytes.NewReader(data))
			f.must(err)
			req.Header.Set("Content-Type", "application/json")
		}
		req.SetBasicAuth("root", "root-secret")
		return f.do(req)
	}
	got := api("GET", nil)
	if fed, _ := got.body["authserver_federation"].(map[string]any); got.status != 200 || !strings.Contains(fmt.Sprint(fed["refused"]), "no condition pins") {
		t.Fatalf("GET of the robot: %d %v; want the reason it is refused", got.status, got.body)
	}
	put := func(conds ...map[string]string) reply {
		return api("PUT", map[string]any{"name": "robot$team+old", "level": "project", "duration": -1,
			"permissions": []any{map[string]any{"kind": "project", "namespace": "team",
				"access": []any{map[string]any{"resource": "repository", "action": "pull"}}}},
			"authserver_federation": map[string]any{"issuer": "github", "conditions": conds}})
	}
	for _, bad := range [][]map[string]string{
		{{"claim": "aud", "pattern": "harbor-registry"}},
		{{"claim": "ref", "pattern": "refs/heads/main"}},
		{{"claim": "repository", "pattern": "*app"}},
	} {
		if r := put(bad...); r.status != 400 {
			t.Fatalf("PUT %v: %d %v, want 400", bad, r.status, r.body)
		}
	}
	if r := put(map[string]string{"claim": "repository", "pattern": "org/app"}); r.status != 200 {
		t.Fatalf("PUT a policy that pins: %d %v", r.status, r.body)
	}
	if s := token(); s != 200 {
		t.Fatalf("after the fix: %d, want 200", s)
	}
}

// TestFederatedKeyFetchRules, through the running server: an https issuer
// whose discovery document sends key fetches to an http:// jwks_uri, or
// whose JWKS redirects to another host, hands authserver no keys: a JWT
// signed by the keys found there (an attacker's on 127.0.0.2, under the
// issuer's iss) gets 503 with the reason in the log, never a token; the
// issuer's own keys, fetched from its own host, work.
func TestFederatedKeyFetchRules(t *testing.T) {
	is := oidctest.NewWith(t, oidctest.Options{TLS: true})
	evil := oidctest.NewWith(t, oidctest.Options{Host: "127.0.0.2"})
	evilTLS := oidctest.NewWith(t, oidctest.Options{TLS: true, Host: "127.0.0.2", Like: is})
	logs := &testenv.Buffer{}
	f, _ := newFixtureWith(t, func(cfg *config.Config, opts *app.Options) {
		cfg.Federation = fedIssuer(is)
		cfg.Federation.Issuers[0].AllowHTTP = false
		opts.Logger = slog.New(slog.NewTextHandler(logs, nil))
		opts.Federation.HTTPClient = is.Client()
		opts.Federation.MinRefetch = time.Millisecond
	})
	f.must(f.st.CreateRobot(context.Background(), &store.Robot{Name: "team+gh", Project: "team", Permissions: store.OneProject("team", "pull"),
		Trust: &store.TrustPolicy{Issuer: "github", Conditions: []store.ClaimCondition{{Claim: "repository", Pattern: "org/app"}}}}))
	claims := oidctest.GitHub("org/app", "refs/heads/main")
	status := func(jwt string) int {
		t.Helper()
		time.Sleep(2 * time.Millisecond) // past MinRefetch: every login fetches
		return f.get("GET", "/service/token", scopeQuery("repository:team/app:pull"), "robot$team+gh", jwt).status
	}

	is.SetDiscovery(map[string]any{"jwks_uri": evil.URL + "/jwks"})
	if s := status(evil.Mint("harbor-registry", with(claims, "iss", is.URL))); s != 503 {
		t.Fatalf("keys from an http:// jwks_uri: %d, want 503", s)
	}
	if !strings.Contains(logs.String(), `jwks_uri \"http://127.0.0.2:`) || evil.JWKSFetch.Load() != 0 {
		t.Fatalf("the http:// jwks_uri was fetched (%d) or the log does not say why:\n%s", evil.JWKSFetch.Load(), logs)
	}
	is.SetDiscovery(nil)
	is.Redirect("/jwks", evilTLS.URL+"/jwks")
	if s := status(evilTLS.Mint("harbor-registry", with(claims, "iss", is.URL))); s != 503 {
		t.Fatalf("keys behind a redirect to another host: %d, want 503", s)
	}
	if !strings.Contains(logs.String(), "to another host (127.0.0.2:") || evilTLS.JWKSFetch.Load() != 0 {
		t.Fatalf("the redirect was followed (%d) or the log does not say why:\n%s", evilTLS.JWKSFetch.Load(), logs)
	}
	is.Redirect("/jwks", "")
	if s := status(is.Mint("harbor-registry", claims)); s != 200 {
		t.Fatalf("the issuer's own keys: %d, want 200", s)
	}
}

func with(base map[string]any, kv ...any) map[string]any {
	out := maps.Clone(base)
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}
