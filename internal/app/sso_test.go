package app_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/admin"
	"github.com/authserver/authserver/internal/app"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/oidctest"
	"github.com/authserver/authserver/internal/store"
)

var patSecretRE = regexp.MustCompile(`<code id="pat-secret"[^>]*>([^<]+)</code>`)

// TestSSOBrowserSignIn: sign in through the provider (auth code, PKCE,
// state, nonce), land on the credentials page, make a PAT there, use it at
// the token endpoint with the role the OIDC group holds, revoke it there.
func TestSSOBrowserSignIn(t *testing.T) {
	e := newSSOEnv(t, func(c *config.Config) { c.Registry.PublicHost = "registry.example.org" })
	ctx := t.Context()
	if err := e.a.Store.CreateProject(ctx, &store.Project{Name: "team"}); err != nil {
		t.Fatal(err)
	}

	q := e.begin("/")
	for _, k := range []string{"state", "nonce", "code_challenge"} {
		if q.Get(k) == "" {
			t.Errorf("the authorization request has no %s: %v", k, q)
		}
	}
	if q.Get("code_challenge_method") != "S256" || q.Get("client_id") != ssoClientID || q.Get("redirect_uri") != e.url+"/login/callback" ||
		q.Get("response_type") != "code" || !strings.Contains(q.Get("scope"), "openid") {
		t.Errorf("authorization request %v", q)
	}
	resp, body := e.callback(q)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("callback = %d\n%s", resp.StatusCode, body)
	}
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "authserver_session" {
			session = c
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Secure {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Lax (not Secure on http)", session)
	}
	resp, page := e.get("/")
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Your registry credentials") {
		t.Fatalf("GET / = %d\n%s", resp.StatusCode, page)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(page, "<script") {
		t.Errorf("CSP %q; the page must run no script", csp)
	}
	for _, want := range []string{`<form id="pat-create" method="post" action="/tokens">`, `name="expires"`,
		"authserver login registry.example.org", "docker login registry.example.org"} { // the registry, not authserver
		if !strings.Contains(page, want) {
			t.Errorf("credentials page lacks %q", want)
		}
	}
	u, err := e.a.Store.GetUser(ctx, "alice")
	if err != nil || u.Source != store.SourceOIDC {
		t.Fatalf("onboarded user %+v, %v", u, err)
	}
	if !e.audited("user.onboard", store.AuditDone) || !e.audited("sso.signin", store.AuditDone) {
		t.Error("no audit record of the onboarding and the sign-in")
	}
	// The OIDC group made at sign-in gets a role; the page shows it.
	if g, err := e.a.Store.GetGroup(ctx, "devs"); err != nil || !g.OIDC {
		t.Fatalf("group devs = %+v, %v", g, err)
	}
	if err := e.a.Store.SetMember(ctx, store.Member{Project: "team", Kind: store.MemberGroup, Name: "devs", Role: store.RoleDeveloper}); err != nil {
		t.Fatal(err)
	}
	_, page = e.get("/")
	if !strings.Contains(page, `<tr data-project="team"><td>team</td><td>developer</td>`) {
		t.Errorf("the page does not show team with the group's role:\n%s", page)
	}

	// A form without the CSRF token is refused.
	if resp, _ := e.post("/tokens", url.Values{"name": {"laptop"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("POST /tokens without csrf = %d, want 403", resp.StatusCode)
	}
	resp, page = e.post("/tokens", url.Values{"csrf": {e.csrf(page)}, "name": {"laptop"}, "expires": {"30"}})
	m := patSecretRE.FindStringSubmatch(page)
	if resp.StatusCode != http.StatusOK || m == nil || !strings.HasPrefix(m[1], "asp_") || !strings.Contains(page, `<tr data-pat="laptop">`) {
		t.Fatalf("POST /tokens = %d; want the secret once and the row\n%s", resp.StatusCode, page)
	}
	pat := m[1]
	if _, again := e.get("/"); strings.Contains(again, pat) {
		t.Error("the secret is shown again")
	}
	if !e.audited("pat.create", store.AuditDone) {
		t.Error("no audit record of the PAT")
	}
	tok, err := e.a.Store.GetPersonalToken(ctx, hashOf(pat))
	if err != nil || tok.SignInID == 0 || tok.ExpiresAt.After(time.Now().Add(31*24*time.Hour)) {
		t.Fatalf("stored PAT %+v, %v: want it tied to the sign-in", tok, err)
	}
	if code := e.basicToken("alice", pat, "repository:team/app:pull,push"); code != http.StatusOK {
		t.Fatalf("token with the PAT made in the page = %d", code)
	}

	// Revoke it in the page: the next token request is refused.
	_, page = e.get("/")
	resp, _ = e.post("/tokens/laptop/revoke", url.Values{"csrf": {e.csrf(page)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke = %d", resp.StatusCode)
	}
	if code := e.basicToken("alice", pat, "repository:team/app:pull"); code != http.StatusUnauthorized {
		t.Errorf("token with the revoked PAT = %d, want 401", code)
	}

	// Sign out: the session is gone; the page sends the browser to /login.
	_, page = e.get("/")
	if resp, body := e.post("/logout", url.Values{"csrf": {e.csrf(page)}}); resp.StatusCode != http.StatusOK || !strings.Contains(body, "signed out") {
		t.Fatalf("logout = %d\n%s", resp.StatusCode, body)
	}
	if resp, _ := e.get("/"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?next=%2F" {
		t.Errorf("GET / after logout = %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// TestSSOAdminGroupAndRename: admin_groups make a sysadmin; a second
// sign-in with another name claim is the same (issuer, sub) account.
func TestSSOAdminGroupAndRename(t *testing.T) {
	e := newSSOEnv(t)
	e.claims["groups"] = []string{"registry-admins"}
	e.signIn()
	if code := e.basicToken("alice", "x", "repository:any/app:pull"); code != http.StatusUnauthorized {
		t.Fatalf("a password for an SSO user = %d, want 401", code)
	}
	ou, err := e.a.Store.GetOIDCUser(t.Context(), "alice")
	if err != nil || !ou.Admin || ou.Subject != "sub-alice" {
		t.Fatalf("oidc user %+v, %v", ou, err)
	}
	e.claims["preferred_username"] = "alice2"
	e.signIn()
	if _, err := e.a.Store.GetUser(t.Context(), "alice2"); err == nil {
		t.Error("a new name claim made a second account for the same sub")
	}
}

// TestSSOSignInRefused: every bad sign-in is refused with a page that says
// why (403), audited; the provider down is a 503 page, never a 401 or 500.
func TestSSOSignInRefused(t *testing.T) {
	other := oidctest.New(t)
	foreignKey := oidctest.NewKey(t, "foreign")
	tests := []struct {
		name   string
		cfg    func(*config.Config)
		setup  func(e *ssoEnv)
		run    func(e *ssoEnv) (*http.Response, string)
		status int
		want   string
	}{
		{name: "wrong state", run: func(e *ssoEnv) (*http.Response, string) {
			q := e.begin("/")
			q.Set("state", "forged")
			return e.callback(q)
		}, status: http.StatusForbidden, want: "state"},
		{name: "replayed state", run: func(e *ssoEnv) (*http.Response, string) {
			q := e.begin("/")
			if resp, body := e.callback(q); resp.StatusCode != http.StatusSeeOther {
				e.t.Fatalf("first callback = %d\n%s", resp.StatusCode, body)
			}
			// The browser keeps the same login cookie (as a replaying attacker would).
			e.client.Jar.SetCookies(mustURL(e.url+"/login"), []*http.Cookie{{Name: "authserver_login", Value: e.loginCookie(q), Path: "/login"}})
			return e.callback(q)
		}, status: http.StatusForbidden, want: "already used"},
		{name: "nonce mismatch", setup: func(e *ssoEnv) {
			e.idToken = func(string) string {
				return e.is.Mint(ssoClientID, map[string]any{"sub": "s", "preferred_username": "bob", "nonce": "another"})
			}
		}, status: http.StatusForbidden, want: "nonce"},
		{name: "other audience", setup: func(e *ssoEnv) {
			e.idToken = func(n string) string {
				return e.is.Mint("someone-else", map[string]any{"sub": "s", "preferred_username": "bob", "nonce": n})
			}
		}, status: http.StatusForbidden, want: "audience"},
		{name: "other issuer", setup: func(e *ssoEnv) {
			e.idToken = func(n string) string {
				// Signed with the provider's own key, but naming another issuer.
				return e.is.Mint(ssoClientID, map[string]any{"iss": other.URL, "sub": "s", "preferred_username": "bob", "nonce": n})
			}
		}, status: http.StatusForbidden, want: "different provider"},
		{name: "another provider's token", setup: func(e *ssoEnv) {
			e.idToken = func(n string) string {
				return other.Mint(ssoClientID, map[string]any{"sub": "s", "preferred_username": "bob", "nonce": n})
			}
		}, status: http.StatusForbidden, want: "does not verify"},
		{name: "key the provider does not publish", setup: func(e *ssoEnv) {
			e.idToken = func(n string) string {
				return e.is.MintWith(foreignKey, ssoClientID, map[string]any{"sub": "s", "preferred_username": "bob", "nonce": n})
			}
		}, status: http.StatusForbidden, want: "does not verify"},
		{name: "expired ID token", setup: func(e *ssoEnv) {
			e.idToken = func(n string) string {
				old := time.Now().Add(-time.Hour).Unix()
				return e.is.Mint(ssoClientID, map[string]any{"sub": "s", "preferred_username": "bob", "nonce": n,
					"iat": old, "nbf": old, "exp": old + 60})
			}
		}, status: http.StatusForbidden, want: "expired"},
		{name: "outside allowed_groups", cfg: func(c *config.Config) { c.OIDC.AllowedGroups = []string{"engineering"} },
			status: http.StatusForbidden, want: "allowed_groups"},
		{name: "name of a local user", setup: func(e *ssoEnv) {
			if err := e.a.Store.CreateUser(e.t.Context(), &store.User{Name: "alice", PasswordHash: "x"}); err != nil {
				e.t.Fatal(err)
			}
		}, status: http.StatusForbidden, want: "never merged"},
		{name: "provider says access_denied", run: func(e *ssoEnv) (*http.Response, string) {
			q := e.begin("/")
			return e.get("/login/callback?" + url.Values{"error": {"access_denied"}, "state": {q.Get("state")}}.Encode())
		}, status: http.StatusForbidden, want: "access_denied"},
		{name: "provider down at /login", run: func(e *ssoEnv) (*http.Response, string) {
			e.is.Stop()
			return e.get("/login?next=/")
		}, status: http.StatusServiceUnavailable, want: "cannot be reached"},
		{name: "provider down at the callback", run: func(e *ssoEnv) (*http.Response, string) {
			q := e.begin("/")
			e.is.Stop()
			return e.callback(q)
		}, status: http.StatusServiceUnavailable, want: "cannot be reached"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mods []func(*config.Config)
			if tt.cfg != nil {
				mods = append(mods, tt.cfg)
			}
			e := newSSOEnv(t, mods...)
			if tt.setup != nil {
				tt.setup(e)
			}
			run := tt.run
			if run == nil {
				run = func(e *ssoEnv) (*http.Response, string) { return e.callback(e.begin("/")) }
			}
			resp, body := run(e)
			if resp.StatusCode != tt.status || !strings.Contains(body, tt.want) {
				t.Fatalf("= %d, want %d with %q\n%s", resp.StatusCode, tt.status, tt.want, body)
			}
			if !strings.Contains(resp.Header.Get("Content-Type"), "text/html") {
				t.Errorf("Content-Type %q, want a page", resp.Header.Get("Content-Type"))
			}
			if tt.status == http.StatusForbidden && !e.audited("sso.signin", store.AuditUnauthorized) {
				t.Error("the refusal is not audited")
			}
			for _, c := range resp.Cookies() {
				if c.Name == "authserver_session" && c.MaxAge >= 0 {
					t.Error("a refused sign-in got a session")
				}
			}
		})
	}
}

// loginCookie rebuilds the login cookie value of a flow from the jar (the
// replay case sets it again after the callback cleared it).
func (e *ssoEnv) loginCookie(url.Values) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.lastLoginCookie
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// TestSSOGroupMadeAhead: an administrator makes an OIDC group (group_type
// 3) and gives it a role before anyone signed in; the first sign-in of a
// user the claim puts in it gets the role. A local group of a claimed name
// is never joined.
func TestSSOGroupMadeAhead(t *testing.T) {
	e := newSSOEnv(t)
	ctx := t.Context()
	adm, err := app.NewAdmin(e.a.Config, e.a.Store, nil)
	if err != nil {
		t.Fatal(err)
	}
	cli := admin.Actor{Name: "cli", Admin: true, Method: admin.MethodCLI}
	if _, err := adm.CreateOIDCGroup(ctx, cli, "everyone"); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.CreateOIDCGroup(ctx, cli, " padded"); err == nil {
		t.Error("an OIDC group name with a leading space was accepted")
	}
	if _, err := adm.CreateGroup(ctx, cli, "devs", ""); err != nil { // local, same name as a claimed group
		t.Fatal(err)
	}
	if err := e.a.Store.CreateProject(ctx, &store.Project{Name: "team"}); err != nil {
		t.Fatal(err)
	}
	if err := e.a.Store.SetMember(ctx, store.Member{Project: "team", Kind: store.MemberGroup, Name: "everyone", Role: store.RoleGuest}); err != nil {
		t.Fatal(err)
	}
	page := e.signIn()
	if !strings.Contains(page, `<tr data-project="team"><td>team</td><td>guest</td>`) {
		t.Errorf("the role of the group made ahead does not apply:\n%s", page)
	}
	if names, err := e.a.Store.UserGroups(ctx, "alice"); err != nil || strings.Join(names, ",") != "everyone" {
		t.Errorf("alice's groups = %v, %v; want everyone only (devs is local)", names, err)
	}
}

// TestSSOExplain: explain judges an SSO user as the token endpoint does:
// the admin flag of the last sign-in, the roles of the OIDC groups it
// joined.
func TestSSOExplain(t *testing.T) {
	e := newSSOEnv(t)
	e.claims["groups"] = []string{"devs"}
	e.signIn()
	ctx := t.Context()
	if err := e.a.Store.CreateProject(ctx, &store.Project{Name: "team"}); err != nil {
		t.Fatal(err)
	}
	if err := e.a.Store.SetMember(ctx, store.Member{Project: "team", Kind: store.MemberGroup, Name: "devs", Role: store.RoleMaintainer}); err != nil {
		t.Fatal(err)
	}
	adm, err := app.NewAdmin(e.a.Config, e.a.Store, nil)
	if err != nil {
		t.Fatal(err)
	}
	x, err := adm.Explain(ctx, admin.Actor{Name: "cli", Admin: true, Method: admin.MethodCLI},
		admin.ExplainRequest{User: "alice", Scopes: []string{"repository:team/app:pull,push,delete"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(x.Decisions[0].Granted, ","); got != "pull,push,delete" || !strings.Contains(strings.Join(x.Notes, " "), "SSO user") {
		t.Fatalf("explain = %+v", x)
	}
}

// TestSSOPathPrefix: behind a public_url with a path, every link, redirect
// and cookie of the pages carries it, and the redirect URI too.
func TestSSOPathPrefix(t *testing.T) {
	e := newSSOEnv(t, func(c *config.Config) { c.Server.PublicURL += "/auth" })
	e.url += "/auth"
	q := e.begin("/")
	if q.Get("redirect_uri") != e.url+"/login/callback" {
		t.Fatalf("redirect_uri %q", q.Get("redirect_uri"))
	}
	resp, body := e.callback(q)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/auth/" {
		t.Fatalf("callback = %d to %q\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	for _, c := range resp.Cookies() {
		if c.Name == "authserver_session" && c.Path != "/auth/" {
			t.Errorf("session cookie path %q", c.Path)
		}
	}
	resp, page := e.get("/")
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `action="/auth/tokens"`) || !strings.Contains(page, `href="/auth/assets/style.css"`) {
		t.Fatalf("GET /auth/ = %d\n%s", resp.StatusCode, page)
	}
	if resp, _ := e.get("/device?user_code=BCDF-GHJK"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("device page = %d", resp.StatusCode)
	}
	e.client.Jar = nil
	if resp, _ := e.get("/device?user_code=BCDF-GHJK"); resp.Header.Get("Location") != "/auth/login?next=%2Fdevice%3Fuser_code%3DBCDF-GHJK" {
		t.Errorf("signed out, /device sends to %q", resp.Header.Get("Location"))
	}
}
