package app_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/app"
	"github.com/authserver/authserver/internal/app/apptest"
	"github.com/authserver/authserver/internal/authn/secret"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/oidctest"
	"github.com/authserver/authserver/internal/store"
)

// ssoEnv is authserver with oidc: pointed at an oidctest issuer whose token
// endpoint the test answers, served on loopback, and a browser-like client
// (cookies, no redirects followed).
type ssoEnv struct {
	t      *testing.T
	is     *oidctest.Issuer
	a      *app.App
	url    string
	client *http.Client
	skew   atomic.Int64 // added to the server's clock

	mu sync.Mutex
	// claims are the ID token's claims for the next code; idToken, when
	// set, replaces the ID token (forged or foreign ones).
	claims  map[string]any
	idToken func(nonce string) string
	// refresh answers the provider refresh grant (recheck).
	refresh func() (int, map[string]any)
	// authorize is the last authorization URL authserver sent the browser
	// to, lastLoginCookie the login cookie it set then.
	authorize       url.Values
	lastLoginCookie string
}

const ssoClientID, ssoClientSecret = "authserver", "client-secret-of-authserver"

func newSSOEnv(t *testing.T, mods ...func(*config.Config)) *ssoEnv {
	t.Helper()
	e := &ssoEnv{t: t, is: oidctest.New(t)}
	e.claims = map[string]any{"sub": "sub-alice", "preferred_username": "alice", "email": "alice@example.org", "name": "Alice",
		"groups": []string{"devs", "everyone"}}
	srv := httptest.NewUnstartedServer(nil)
	e.url = "http://" + srv.Listener.Addr().String()
	cfg := apptest.Config(t)
	cfg.Server.PublicURL = e.url
	cfg.OIDC = &config.OIDC{Issuer: e.is.URL, ClientID: ssoClientID, ClientSecret: ssoClientSecret,
		Scopes: []string{"openid", "profile", "email"}, UsernameClaim: "preferred_username", GroupsClaim: "groups",
		MaxSession: config.Duration(30 * 24 * time.Hour), AllowHTTP: true, AdminGroups: []string{"registry-admins"}}
	for _, m := range mods {
		m(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	e.is.HandleToken(e.token)
	e.a = apptest.New(t, cfg, app.Options{Now: func() time.Time { return time.Now().Add(time.Duration(e.skew.Load())) }})
	srv.Config.Handler = e.a.Handler
	srv.Start()
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	e.client = &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return e
}

// advance moves the server's clock.
func (e *ssoEnv) advance(d time.Duration) { e.skew.Add(int64(d)) }

// token is the provider's token endpoint: the authorization code grant
// (checking the client, the redirect URI and PKCE S256) and the refresh
// grant.
func (e *ssoEnv) token(form url.Values) (int, map[string]any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	bad := func(code string) (int, map[string]any) { return http.StatusBadRequest, map[string]any{"error": code} }
	if form.Get("client_id") != ssoClientID || form.Get("client_secret") != ssoClientSecret {
		return http.StatusUnauthorized, map[string]any{"error": "invalid_client"}
	}
	switch form.Get("grant_type") {
	case "refresh_token":
		if e.refresh == nil {
			return bad("invalid_grant")
		}
		return e.refresh()
	case "authorization_code":
	default:
		return bad("unsupported_grant_type")
	}
	a := e.authorize
	sum := sha256.Sum256([]byte(form.Get("code_verifier")))
	switch {
	case a == nil || form.Get("code") != "code-"+a.Get("state"):
		return bad("invalid_grant")
	case base64.RawURLEncoding.EncodeToString(sum[:]) != a.Get("code_challenge") || a.Get("code_challenge_method") != "S256":
		return bad("invalid_grant") // PKCE
	case form.Get("redirect_uri") != a.Get("redirect_uri"):
		return bad("invalid_grant")
	}
	raw := ""
	if e.idToken != nil {
		raw = e.idToken(a.Get("nonce"))
	} else {
		c := map[string]any{"nonce": a.Get("nonce")}
		for k, v := range e.claims {
			c[k] = v
		}
		raw = e.is.Mint(ssoClientID, c)
	}
	return http.StatusOK, map[string]any{"access_token": "provider-access", "token_type": "Bearer", "expires_in": 300,
		"id_token": raw, "refresh_token": "provider-refresh-1"}
}

func (e *ssoEnv) do(req *http.Request) (*http.Response, string) {
	e.t.Helper()
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func (e *ssoEnv) get(path string) (*http.Response, string) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.url+path, nil)
	return e.do(req)
}

func (e *ssoEnv) post(path string, form url.Values) (*http.Response, string) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.url+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return e.do(req)
}

// begin is GET /login?next=: it returns the authorization URL's query
// (state, nonce, code_challenge…), remembered for the token endpoint.
func (e *ssoEnv) begin(next string) url.Values {
	e.t.Helper()
	resp, body := e.get("/login?next=" + url.QueryEscape(next))
	if resp.StatusCode != http.StatusFound {
		e.t.Fatalf("GET /login = %d, want 302\n%s", resp.StatusCode, body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(loc.String(), e.is.URL+"/authorize?") {
		e.t.Fatalf("GET /login went to %q, want the provider's authorization endpoint", resp.Header.Get("Location"))
	}
	q := loc.Query()
	e.mu.Lock()
	e.authorize = q
	for _, c := range resp.Cookies() {
		if c.Name == "authserver_login" {
			e.lastLoginCookie = c.Value
		}
	}
	e.mu.Unlock()
	return q
}

// callback is the provider sending the browser back.
func (e *ssoEnv) callback(q url.Values) (*http.Response, string) {
	e.t.Helper()
	return e.get("/login/callback?" + url.Values{"code": {"code-" + q.Get("state")}, "state": {q.Get("state")}}.Encode())
}

// signIn signs in and returns the page it lands on.
func (e *ssoEnv) signIn() string {
	e.t.Helper()
	q := e.begin("/")
	resp, body := e.callback(q)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		e.t.Fatalf("callback = %d to %q, want 303 to /\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	resp, body = e.get("/")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Your registry credentials") {
		e.t.Fatalf("GET / after sign-in = %d\n%s", resp.StatusCode, body)
	}
	return body
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the form token of a page.
func (e *ssoEnv) csrf(page string) string {
	e.t.Helper()
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		e.t.Fatalf("no csrf field in the page:\n%s", page)
	}
	return m[1]
}

// tokenPOST is POST /service/token with form; it returns the status and
// the decoded JSON body.
func (e *ssoEnv) tokenPOST(form url.Values) (int, map[string]any) {
	e.t.Helper()
	resp, body := e.post("/service/token", form)
	var out map[string]any
	_ = json.Unmarshal([]byte(body), &out)
	return resp.StatusCode, out
}

// basicToken is GET /service/token with Basic credentials for scope.
func (e *ssoEnv) basicToken(user, pass, scope string) int {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.url+"/service/token?service=harbor-registry&scope="+url.QueryEscape(scope), nil)
	req.SetBasicAuth(user, pass)
	resp, _ := e.do(req)
	return resp.StatusCode
}

// audited reports whether an admin audit record with action exists.
func (e *ssoEnv) audited(action, result string) bool {
	e.t.Helper()
	recs, err := e.a.Store.ListAudit(e.t.Context(), store.AuditFilter{Kind: store.AuditKindAdmin, Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, r := range recs {
		if r.Action == action && r.Result == result {
			return true
		}
	}
	return false
}

func hashOf(s string) string { return secret.Hash(s) }

func testenvDecode(body string, v any) { _ = json.Unmarshal([]byte(body), v) }
