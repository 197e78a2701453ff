package federation_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/authn/authntest"
	"github.com/authserver/authserver/internal/authn/federation"
	"github.com/authserver/authserver/internal/authn/secret"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/metrics"
	"github.com/authserver/authserver/internal/oidctest"
	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/testenv"
	"github.com/authserver/authserver/internal/testenv/sqlitetest"
)

const aud = "harbor-registry"

// fedEnv is three real issuers on loopback (GitHub-, GitLab- and
// Kubernetes-shaped), robots trusting them, and the robot authenticator.
type fedEnv struct {
	gh, gl, k8s *oidctest.Issuer
	st          store.Store
	robots      *secret.Robots
	metrics     *metrics.Metrics
	skew        atomic.Int64    // added to the federation's clock
	log         *testenv.Buffer // the robot authenticator's log
}

// issuerConfig is an issuer on loopback standing in for the platform
// name says: github and gitlab get the identity claims authserver knows
// for GitHub Actions and GitLab.com, any other sub alone.
func issuerConfig(name string, is *oidctest.Issuer) config.FederationIssuer {
	c := config.FederationIssuer{Name: name, URL: is.URL, Audiences: []string{aud}, AllowHTTP: true,
		Algorithms: []string{"RS256", "ES256"}, MaxTokenAge: config.Duration(time.Hour), IdentityClaims: []string{}}
	switch name {
	case "github":
		c.IdentityClaims = config.DefaultIdentityClaims(config.GitHubActionsURL)
	case "gitlab":
		c.IdentityClaims = config.DefaultIdentityClaims(config.GitLabURL)
	}
	return c
}

func newFedEnv(t *testing.T) *fedEnv {
	e := &fedEnv{gh: oidctest.New(t), gl: oidctest.New(t), k8s: oidctest.New(t), st: sqlitetest.Open(t), metrics: metrics.New("test")}
	ctx := t.Context()
	if err := e.st.CreateProject(ctx, &store.Project{Name: "team"}); err != nil {
		t.Fatal(err)
	}
	trust := func(name, project, issuer string, conds ...string) {
		t.Helper()
		p := &store.TrustPolicy{Issuer: issuer}
		for i := 0; i < len(conds); i += 2 {
			p.Conditions = append(p.Conditions, store.ClaimCondition{Claim: conds[i], Pattern: conds[i+1]})
		}
		if err := e.st.CreateRobot(ctx, &store.Robot{Name: name, Project: project, Permissions: store.OneProject(project, "pull", "push"), Trust: p}); err != nil {
			t.Fatal(err)
		}
	}
	trust("team+gh", "team", "github", "repository", "org/app", "ref", "refs/heads/*")
	trust("team+gh-main", "team", "github", "sub", "repo:org/app:ref:refs/heads/main")
	trust("team+other", "team", "github", "repository", "org/other")
	trust("team+gl", "team", "gitlab", "project_path", "group/app", "ref_type", "branch")
	trust("builder", store.SystemRobotProject, "cluster", "sub", "system:serviceaccount:ci:builder", "/kubernetes.io/namespace", "ci")
	authntest.AddRobot(t, e.st, "team+ci", "team", "ci-secret")
	cfg := config.Federation{Issuers: []config.FederationIssuer{issuerConfig("github", e.gh), issuerConfig("gitlab", e.gl), issuerConfig("cluster", e.k8s)}}
	fed, err := federation.New(cfg, federation.Options{
		MinRefetch: 30 * time.Second,
		Now:        func() time.Time { return time.Now().Add(time.Duration(e.skew.Load())) },
	})
	if err != nil {
		t.Fatal(err)
	}
	e.log = &testenv.Buffer{}
	e.robots = secret.NewRobots(e.st, "robot$", authntest.NewChain(t, e.st, nil), nil, slog.New(slog.NewTextHandler(e.log, nil)))
	e.robots.SetFederation(fed, e.metrics)
	return e
}

// advance moves the federation's clock past the refetch interval.
func (e *fedEnv) advance() { e.skew.Add(int64(31 * time.Second)) }

func with(base map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range base {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

// forged builds a JWT by hand: header and claims as given, signature
// computed by sign over the signing input (nil: empty signature).
func forged(t *testing.T, header string, claims string, sign func([]byte) []byte) string {
	t.Helper()
	in := base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + base64.RawURLEncoding.EncodeToString([]byte(claims))
	var sig []byte
	if sign != nil {
		sig = sign([]byte(in))
	}
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func TestFederatedRobotLogin(t *testing.T) {
	e := newFedEnv(t)
	ctx := t.Context()
	now := time.Now().Unix()
	main := oidctest.GitHub("org/app", "refs/heads/main")
	pubDER, err := x509.MarshalPKIXPublicKey(e.gh.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	claimsJSON := `{"iss":"` + e.gh.URL + `","aud":"` + aud + `","sub":"repo:org/app:ref:refs/heads/main","repository":"org/app","ref":"refs/heads/main","iat":` +
		itoa(now) + `,"exp":` + itoa(now+600) + `}`

	tests := []struct {
		name  string
		robot string
		jwt   func() string
		ok    bool
		why   string // in the refusal's log line
	}{
		{name: "github exact and glob", robot: "team+gh", ok: true, jwt: func() string { return e.gh.Mint(aud, main) }},
		{name: "github feature branch matches the glob", robot: "team+gh", ok: true,
			jwt: func() string { return e.gh.Mint(aud, oidctest.GitHub("org/app", "refs/heads/feature/x")) }},
		{name: "github sub exact", robot: "team+gh-main", ok: true, jwt: func() string { return e.gh.Mint(aud, main) }},
		{name: "audience in a list", robot: "team+gh", ok: true, jwt: func() string { return e.gh.Mint(aud, with(main, "aud", []string{"other", aud})) }},
		{name: "gitlab branch", robot: "team+gl", ok: true, jwt: func() string { return e.gl.Mint(aud, oidctest.GitLab("group/app", "branch", "main")) }},
		{name: "kubernetes nested claim", robot: "builder", ok: true, jwt: func() string { return e.k8s.Mint(aud, oidctest.Kubernetes("ci", "builder")) }},

		{name: "another repository", robot: "team+gh", why: "claim repository", jwt: func() string { return e.gh.Mint(aud, oidctest.GitHub("org/evil", "refs/heads/main")) }},
		{name: "a tag where a branch is required (github)", robot: "team+gh", why: "claim ref", jwt: func() string { return e.gh.Mint(aud, oidctest.GitHub("org/app", "refs/tags/v1")) }},
		{name: "a tag where a branch is required (gitlab)", robot: "team+gl", why: "claim ref_type", jwt: func() string { return e.gl.Mint(aud, oidctest.GitLab("group/app", "tag", "v1")) }},
		{name: "kubernetes other namespace", robot: "builder", why: "claim sub", jwt: func() string { return e.k8s.Mint(aud, oidctest.Kubernetes("prod", "builder")) }},
		{name: "kubernetes sub right, nested namespace wrong", robot: "builder", why: "claim /kubernetes.io/namespace",
			jwt: func() string {
				return e.k8s.Mint(aud, with(oidctest.Kubernetes("prod", "builder"), "sub", "system:serviceaccount:ci:builder"))
			}},
		{name: "kubernetes sub right, namespace claim missing", robot: "builder", why: "claim /kubernetes.io/namespace: missing",
			jwt: func() string { return e.k8s.Mint(aud, map[string]any{"sub": "system:serviceaccount:ci:builder"}) }},
		{name: "expired", robot: "team+gh", why: "expired at", jwt: func() string { return e.gh.Mint(aud, with(main, "iat", now-700, "nbf", now-700, "exp", now-100)) }},
		{name: "not yet valid", robot: "team+gh", why: "not valid before", jwt: func() string { return e.gh.Mint(aud, with(main, "nbf", now+300)) }},
		{name: "too old", robot: "team+gh", why: "too old", jwt: func() string { return e.gh.Mint(aud, with(main, "iat", now-2*3600, "nbf", now-2*3600)) }},
		{name: "issued in the future", robot: "team+gh", why: "issued in the future", jwt: func() string { return e.gh.Mint(aud, with(main, "iat", now+300)) }},
		{name: "no exp", robot: "team+gh", why: "no exp", jwt: func() string { return e.gh.Mint(aud, with(main, "exp", nil)) }},
		{name: "wrong audience", robot: "team+gh", why: "wrong audience", jwt: func() string { return e.gh.Mint("other-registry", main) }},
		{name: "wrong issuer", robot: "team+gh", why: "wrong issuer", jwt: func() string { return e.gh.Mint(aud, with(main, "iss", e.gl.URL)) }},
		{name: "another issuer's JWT", robot: "team+gh", why: "bad signature", jwt: func() string { return e.gl.Mint(aud, main) }},
		{name: "alg none", robot: "team+gh", why: `algorithm \"none\" not allowed`, jwt: func() string { return forged(t, `{"alg":"none","typ":"JWT"}`, claimsJSON, nil) }},
		{name: "HS256 keyed with the issuer's public key", robot: "team+gh", why: `algorithm \"HS256\" not allowed`, jwt: func() string {
			return forged(t, `{"alg":"HS256","typ":"JWT","kid":"key-1"}`, claimsJSON, func(in []byte) []byte {
				m := hmac.New(sha256.New, pubPEM)
				m.Write(in)
				return m.Sum(nil)
			})
		}},
		{name: "HS256 keyed with the DER public key", robot: "team+gh", why: `algorithm \"HS256\" not allowed`, jwt: func() string {
			return forged(t, `{"alg":"HS256","typ":"JWT","kid":"key-1"}`, claimsJSON, func(in []byte) []byte {
				m := hmac.New(sha256.New, pubDER)
				m.Write(in)
				return m.Sum(nil)
			})
		}},
		{name: "a key the issuer does not publish", robot: "team+gh", why: "not published by the issuer", jwt: func() string { return e.gh.MintWith(oidctest.NewKey(t, "key-9"), aud, main) }},
		{name: "an unpublished key under a published kid", robot: "team+gh", why: "bad signature", jwt: func() string { return e.gh.MintWith(oidctest.NewKey(t, "key-1"), aud, main) }},
		{name: "a JWT for another robot's policy", robot: "team+other", why: "claim repository", jwt: func() string { return e.gh.Mint(aud, main) }},
		{name: "a plain password for a federated robot", robot: "team+gh", why: "not a JWT", jwt: func() string { return "ci-secret" }},
		{name: "garbage", robot: "team+gh", why: "malformed JWT", jwt: func() string { return "a.b.c" }},
		// The header is read before the signature is checked: what it says
		// reaches the log line clipped.
		{name: "a 64 KB alg", robot: "team+gh", why: "not allowed", jwt: func() string {
			return forged(t, `{"alg":"`+strings.Repeat("A", 64<<10)+`","typ":"JWT"}`, claimsJSON, nil)
		}},
		{name: "a 64 KB kid", robot: "team+gh", why: "not published by the issuer", jwt: func() string {
			return forged(t, `{"alg":"RS256","typ":"JWT","kid":"`+strings.Repeat("k", 64<<10)+`"}`, claimsJSON, func([]byte) []byte { return []byte("sig") })
		}},
		{name: "a JWT for a secret robot", robot: "team+ci", why: "wrong secret", jwt: func() string { return e.gh.Mint(aud, main) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := tt.jwt()
			id, ok, err := e.robots.Login(ctx, "robot$"+tt.robot, raw)
			if err != nil {
				t.Fatalf("err = %v; want none (401 or success)", err)
			}
			logged := e.log.Take()
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v; log: %s", ok, tt.ok, logged)
			}
			if len(logged) > 2048 {
				t.Fatalf("log of %d bytes: what the client sent is not clipped:\n%.300s", len(logged), logged)
			}
			if !ok {
				if !strings.Contains(logged, tt.why) {
					t.Fatalf("log does not say %q:\n%s", tt.why, logged)
				}
				return
			}
			if id.Method != authn.MethodFederated || id.Robot == nil || id.Federated == nil || id.Federated.Subject == "" ||
				id.NotAfter.IsZero() || id.NotAfter.After(time.Now().Add(11*time.Minute)) || secret.Refreshable(id) {
				t.Fatalf("identity %+v (federated %+v)", id, id.Federated)
			}
			// Logging in again with the same JWT (cached) gives the same.
			if id2, ok, err := e.robots.Login(ctx, "robot$"+tt.robot, raw); !ok || err != nil || !id2.NotAfter.Equal(id.NotAfter) {
				t.Fatalf("again: %v %v", ok, err)
			}
		})
	}
	if got := testutil.ToFloat64(e.metrics.FederatedLogins.WithLabelValues("github", authn.FederatedOK)); got < 4 {
		t.Errorf("federated ok logins counted: %v", got)
	}
	if got := testutil.ToFloat64(e.metrics.FederatedLogins.WithLabelValues("github", authn.FederatedRefused)); got < 10 {
		t.Errorf("federated refusals counted: %v", got)
	}
	// The secret robot still logs in with its secret.
	if _, ok, err := e.robots.Login(ctx, "robot$team+ci", "ci-secret"); !ok || err != nil {
		t.Errorf("secret robot: %v %v", ok, err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// A cached JWT is re-checked against the clock: it stops working when it
// expires, and a disabled robot is refused even with a cached JWT.
func TestFederatedCachedJWTRechecked(t *testing.T) {
	e := newFedEnv(t)
	ctx := t.Context()
	raw := e.gh.Mint(aud, with(oidctest.GitHub("org/app", "refs/heads/main"), "exp", time.Now().Unix()+120))
	if _, ok, err := e.robots.Login(ctx, "robot$team+gh", raw); !ok || err != nil {
		t.Fatalf("first: %v %v", ok, err)
	}
	e.skew.Add(int64(3 * time.Minute))
	if _, ok, err := e.robots.Login(ctx, "robot$team+gh", raw); ok || err != nil {
		t.Fatalf("after exp: %v %v; want refused", ok, err)
	}
	e.skew.Store(0)
	raw = e.gh.Mint(aud, oidctest.GitHub("org/app", "refs/heads/main"))
	if _, err := e.st.ModifyRobot(ctx, "team+gh", func(r store.Robot) (store.Robot, error) { r.Disabled = true; return r, nil }); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := e.robots.Login(ctx, "robot$team+gh", raw); ok || err != nil {
		t.Fatalf("disabled: %v %v; want refused", ok, err)
	}
}

// The verified-JWT cache answers only for the very JWT it verified: the
// signature of a cached JWT under another payload (here: another
// repository the robot trusts too) is not a hit but a bad signature.
func TestFederatedCacheKeyIsTheWholeJWT(t *testing.T) {
	e := newFedEnv(t)
	ctx := t.Context()
	raw := e.gh.Mint(aud, oidctest.GitHub("org/app", "refs/heads/main"))
	if _, ok, err := e.robots.Login(ctx, "robot$team+gh", raw); !ok || err != nil {
		t.Fatalf("first: %v %v", ok, err)
	}
	parts := strings.Split(raw, ".")
	other := strings.Split(e.gh.Mint(aud, oidctest.GitHub("org/app", "refs/heads/other")), ".")
	spliced := parts[0] + "." + other[1] + "." + parts[2]
	if _, ok, err := e.robots.Login(ctx, "robot$team+gh", spliced); ok || err != nil {
		t.Fatalf("cached signature, other payload: %v %v; want refused", ok, err)
	}
	if !strings.Contains(e.log.String(), "bad signature") {
		t.Errorf("log: %s; want a bad signature", e.log)
	}
	if _, ok, err := e.robots.Login(ctx, "robot$team+gh", raw); !ok || err != nil {
		t.Fatalf("the cached JWT again: %v %v", ok, err)
	}
}

// Key rotation is picked up without a restart (one refetch for the new
// kid); an unknown kid fetches at most once per interval; the issuer down
// means 503 for a key not cached while cached keys keep working.
func TestFederatedIssuerKeys(t *testing.T) {
	e := newFedEnv(t)
	ctx := t.Context()
	claims := oidctest.GitHub("org/app", "refs/heads/main")
	login := func(raw string) (bool, error) {
		_, ok, err := e.robots.Login(ctx, "robot$team+gh", raw)
		return ok, err
	}
	if ok, err := login(e.gh.Mint(aud, claims)); !ok || err != nil {
		t.Fatalf("first login: %v %v", ok, err)
	}
	fetches := e.gh.JWKSFetch.Load()

	// Rotation: a new kid is fetched once and accepted.
	e.advance()
	e.gh.Rotate("ES256")
	if ok, err := login(e.gh.Mint(aud, claims)); !ok || err != nil {
		t.Fatalf("after rotation: %v %v", ok, err)
	}
	if n := e.gh.JWKSFetch.Load(); n != fetches+1 {
		t.Fatalf("JWKS fetched %d times for the rotation, want 1", n-fetches)
	}
	// Unknown kids within the interval: no more fetches, 401.
	fetches = e.gh.JWKSFetch.Load()
	for i := 0; i < 3; i++ {
		if ok, err := login(e.gh.MintWith(oidctest.NewKey(t, "nope"), aud, claims)); ok || err != nil {
			t.Fatalf("unknown kid: %v %v; want 401", ok, err)
		}
	}
	if n := e.gh.JWKSFetch.Load(); n != fetches {
		t.Fatalf("unknown kids within the interval fetched %d times, want 0", n-fetches)
	}

	// The issuer goes down: cached keys work, a new key is 503.
	cached := e.gh.Mint(aud, with(claims, "jti", "cached-while-down"))
	e.gh.Stop()
	e.advance()
	if ok, err := login(cached); !ok || err != nil {
		t.Fatalf("cached key while down: %v %v", ok, err)
	}
	e.gh.Rotate("RS256")
	fresh := e.gh.Mint(aud, claims)
	for i := 0; i < 2; i++ { // the failed fetch and then within its interval
		_, err := login(fresh)
		if !errors.Is(err, authn.ErrUnavailable) {
			t.Fatalf("new key while down (%d): %v; want ErrUnavailable (503)", i, err)
		}
	}
	if got := testutil.ToFloat64(e.metrics.FederatedLogins.WithLabelValues("github", authn.FederatedUnavailable)); got != 2 {
		t.Errorf("unavailable counted %v, want 2", got)
	}
	e.gh.Start()
	e.advance()
	if ok, err := login(fresh); !ok || err != nil {
		t.Fatalf("issuer back: %v %v", ok, err)
	}
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// A jwks_file stands in for discovery (a private cluster's keys), and is
// read again for an unknown kid.
func TestFederatedJWKSFile(t *testing.T) {
	is := oidctest.New(t)
	file := filepath.Join(t.TempDir(), "jwks.json")
	writeFile(t, file, is.JWKS())
	is.Stop() // the file alone must do
	st := sqlitetest.Open(t)
	if err := st.CreateRobot(t.Context(), &store.Robot{Name: "builder", Project: store.SystemRobotProject, Permissions: store.OneProject(store.SystemRobotProject, "pull"),
		Trust: &store.TrustPolicy{Issuer: "cluster", Conditions: []store.ClaimCondition{{Claim: "sub", Pattern: "system:serviceaccount:ci:builder"}}}}); err != nil {
		t.Fatal(err)
	}
	c := issuerConfig("cluster", is)
	c.JWKSFile = file
	var skew time.Duration
	fed, err := federation.New(config.Federation{Issuers: []config.FederationIssuer{c}},
		federation.Options{Now: func() time.Time { return time.Now().Add(skew) }})
	if err != nil {
		t.Fatal(err)
	}
	robots := secret.NewRobots(st, "robot$", authntest.NewChain(t, st, nil), nil, nil)
	robots.SetFederation(fed, nil)
	if _, ok, err := robots.Login(t.Context(), "robot$builder", is.Mint(aud, oidctest.Kubernetes("ci", "builder"))); !ok || err != nil {
		t.Fatalf("jwks_file: %v %v", ok, err)
	}
	is.Rotate("RS256")
	writeFile(t, file, is.JWKS())
	skew = time.Minute
	if _, ok, err := robots.Login(t.Context(), "robot$builder", is.Mint(aud, oidctest.Kubernetes("ci", "builder"))); !ok || err != nil {
		t.Fatalf("rotated jwks_file: %v %v", ok, err)
	}
}

// ReloadKeyFiles (SIGHUP) re-reads a jwks_file whatever the JWTs name: a
// key taken out of the file stops working at once, even for a JWT already
// verified with it; a file that is unreadable, not a JWKS or without a
// public key is refused, naming the issuer, and the old keys stay.
func TestFederatedReloadKeyFiles(t *testing.T) {
	is := oidctest.New(t)
	file := filepath.Join(t.TempDir(), "jwks.json")
	write := func(data []byte) { t.Helper(); writeFile(t, file, data) }
	write(is.JWKS())
	st := sqlitetest.Open(t)
	if err := st.CreateRobot(t.Context(), &store.Robot{Name: "builder", Project: store.SystemRobotProject, Permissions: store.OneProject(store.SystemRobotProject, "pull"),
		Trust: &store.TrustPolicy{Issuer: "cluster", Conditions: []store.ClaimCondition{{Claim: "sub", Pattern: "system:serviceaccount:ci:builder"}}}}); err != nil {
		t.Fatal(err)
	}
	withFile := issuerConfig("cluster", is)
	withFile.JWKSFile = file
	fed, err := federation.New(config.Federation{Issuers: []config.FederationIssuer{withFile, issuerConfig("github", oidctest.New(t))}}, federation.Options{})
	if err != nil {
		t.Fatal(err)
	}
	robots := secret.NewRobots(st, "robot$", authntest.NewChain(t, st, nil), nil, nil)
	robots.SetFederation(fed, nil)
	login := func(jwt string) bool {
		t.Helper()
		_, ok, err := robots.Login(t.Context(), "robot$builder", jwt)
		if err != nil {
			t.Fatalf("login: %v", err)
		}
		return ok
	}
	old := is.Mint(aud, oidctest.Kubernetes("ci", "builder"))
	if !login(old) {
		t.Fatal("first key refused")
	}
	is.Rotate("RS256")
	is.Retire()
	write(is.JWKS())
	if got, err := fed.ReloadKeyFiles(t.Context()); err != nil || !slices.Equal(got, []string{"cluster"}) {
		t.Fatalf("reload: %v %v; want [cluster]", got, err)
	}
	if login(old) {
		t.Error("a JWT of the key taken out of the file still works after the reload")
	}
	if !login(is.Mint(aud, oidctest.Kubernetes("ci", "builder"))) {
		t.Fatal("new key refused after the reload")
	}
	for _, tt := range []struct {
		name string
		data []byte
	}{
		{"not JSON", []byte("{")},
		{"no public key", []byte(`{"keys":[]}`)},
		{"gone", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			write(tt.data)
			if tt.data == nil {
				if err := os.Remove(file); err != nil {
					t.Fatal(err)
				}
			}
			got, err := fed.ReloadKeyFiles(t.Context())
			if err == nil || len(got) != 0 || !strings.Contains(err.Error(), "issuer cluster: jwks_file "+file) {
				t.Fatalf("reload: %v %v; want refused, naming the issuer and file", got, err)
			}
			if !login(is.Mint(aud, oidctest.Kubernetes("ci", "builder"))) {
				t.Error("the old keys are gone after a refused reload")
			}
		})
	}
}

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"refs/heads/main", "refs/heads/main", true},
		{"refs/heads/main", "refs/heads/mainx", false},
		{"refs/heads/*", "refs/heads/feature/x", true},
		{"refs/heads/*", "refs/tags/v1", false},
		{"repo:org/*:ref:refs/heads/*", "repo:org/app:ref:refs/heads/main", true},
		{"repo:org/*:ref:refs/heads/*", "repo:org/app:ref:refs/tags/v1", false},
		{"*-prod", "eu-prod", true},
		{"*-prod", "eu-prod-x", false},
		{"a*b*c", "abc", true},
		{"a*b*c", "acb", false},
		{"ab*ba", "aba", false},
		{"*", "", true},
	}
	for _, tt := range tests {
		if got := federation.GlobMatch(tt.pattern, tt.s); got != tt.want {
			t.Errorf("GlobMatch(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}
