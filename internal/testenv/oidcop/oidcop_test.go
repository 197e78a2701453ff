//go:build integration

package oidcop

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/authserver/authserver/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// redirectURI is the client's registered redirect URI; nothing listens
// there: the browser below stops at the redirect and reads the code.
const redirectURI = "http://localhost:1/login/callback"

func random(t *testing.T) string {
	t.Helper()
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// browser is a plain HTTP client with cookies that does not follow
// redirects, so each step of the flow is seen.
type browser struct {
	t *testing.T
	c *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

func (b *browser) do(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func (b *browser) get(u string) (*http.Response, string) {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return b.do(req)
}

func (b *browser) post(u string, form url.Values) (*http.Response, string) {
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// follow resolves a redirect's Location against the request's URL.
func follow(t *testing.T, resp *http.Response) string {
	t.Helper()
	if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("%s %s: %s, want a redirect", resp.Request.Method, resp.Request.URL, resp.Status)
	}
	loc, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return loc.String()
}

var hiddenID = regexp.MustCompile(`name="authRequestID" value="([^"]+)"`)

// flow is one authorization request's secrets.
type flow struct{ state, nonce, verifier string }

func (p *Provider) authorizeURL(t *testing.T, scope string, extra url.Values) (string, flow) {
	f := flow{state: random(t), nonce: random(t), verifier: random(t) + random(t)}
	sum := sha256.Sum256([]byte(f.verifier))
	q := url.Values{"client_id": {p.ClientID}, "redirect_uri": {redirectURI}, "response_type": {"code"},
		"scope": {scope}, "state": {f.state}, "nonce": {f.nonce},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	for k, v := range extra {
		q[k] = v
	}
	return p.Issuer + "/authorize?" + q.Encode(), f
}

// signIn runs the browser part of the flow: authorize, fill in the form
// (when the provider shows one), and return the code from the redirect.
func (p *Provider) signIn(t *testing.T, b *browser, scope, user, pass string) (code string, f flow, sawForm bool) {
	t.Helper()
	u, f := p.authorizeURL(t, scope, nil)
	resp, _ := b.get(u)
	resp, page := b.get(follow(t, resp))
	if resp.StatusCode == http.StatusOK {
		sawForm = true
		m := hiddenID.FindStringSubmatch(page)
		if m == nil || !strings.Contains(page, `name="username"`) || !strings.Contains(page, `name="password"`) {
			t.Fatalf("login page lacks the form:\n%s", page)
		}
		resp, page = b.post(p.Issuer+"/login", url.Values{"authRequestID": {m[1]}, "username": {user}, "password": {pass}})
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("POST /login: %s\n%s", resp.Status, page)
		}
	}
	for !strings.HasPrefix(resp.Header.Get("Location"), redirectURI) {
		resp, _ = b.get(follow(t, resp))
	}
	back, _ := url.Parse(resp.Header.Get("Location"))
	if got := back.Query().Get("state"); got != f.state {
		t.Fatalf("state = %q, want %q", got, f.state)
	}
	if back.Query().Get("code") == "" {
		t.Fatalf("no code in %s", back)
	}
	return back.Query().Get("code"), f, sawForm
}

type tokens struct {
	IDToken      string `json:"id_token"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	Error        string `json:"error"`
}

// token posts a grant to the token endpoint with client_secret_basic.
func (p *Provider) token(t *testing.T, form url.Values) (int, tokens) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, p.Issuer+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(p.ClientID), url.QueryEscape(p.ClientSecret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tk tokens
	if err := json.NewDecoder(resp.Body).Decode(&tk); err != nil {
		t.Fatalf("token response: %v", err)
	}
	return resp.StatusCode, tk
}

func (p *Provider) exchange(t *testing.T, code string, f flow) (int, tokens) {
	return p.token(t, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {redirectURI}, "code_verifier": {f.verifier}})
}

type claims struct {
	PreferredUsername string   `json:"preferred_username"`
	Email             string   `json:"email"`
	Groups            []string `json:"groups"`
}

// TestAuthCodeFlow signs in through the provider's form with PKCE, verifies
// the ID token with go-oidc (issuer, audience, expiry, signature from the
// JWKS) and its nonce and claims, refreshes it, and checks what a restart
// ends.
func TestAuthCodeFlow(t *testing.T) {
	p := Start(t, Options{RedirectURIs: []string{redirectURI}, Users: []User{
		{Username: "alice", Password: "alice-pass", Email: "alice@example.org", Groups: []string{"developers", "registry-admins"}},
		{Username: "bob", Password: "bob-pass", Groups: nil},
	}})
	ctx := context.Background()
	prov, err := oidc.NewProvider(oidc.InsecureIssuerURLContext(ctx, p.Issuer), p.Issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	verifier := prov.Verifier(&oidc.Config{ClientID: p.ClientID})
	verify := func(raw, nonce string) claims {
		t.Helper()
		idt, err := verifier.Verify(ctx, raw)
		if err != nil {
			t.Fatalf("verify ID token: %v", err)
		}
		if nonce != "" && idt.Nonce != nonce {
			t.Fatalf("nonce = %q, want %q", idt.Nonce, nonce)
		}
		var c claims
		if err := idt.Claims(&c); err != nil {
			t.Fatal(err)
		}
		return c
	}

	b := newBrowser(t)
	code, f, sawForm := p.signIn(t, b, "openid profile email offline_access", "alice", "alice-pass")
	if !sawForm {
		t.Fatal("first sign-in did not show the login form")
	}
	status, tk := p.exchange(t, code, f)
	if status != http.StatusOK || tk.IDToken == "" || tk.RefreshToken == "" {
		t.Fatalf("code exchange: %d %+v", status, tk)
	}
	c := verify(tk.IDToken, f.nonce)
	if c.PreferredUsername != "alice" || c.Email != "alice@example.org" || !slices.Equal(c.Groups, []string{"developers", "registry-admins"}) {
		t.Fatalf("claims = %+v", c)
	}
	if status, _ := p.exchange(t, code, f); status == http.StatusOK {
		t.Fatal("a code was accepted twice")
	}

	// The refresh grant works and its ID token verifies too.
	status, rt := p.token(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tk.RefreshToken}})
	if status != http.StatusOK || rt.IDToken == "" {
		t.Fatalf("refresh: %d %+v", status, rt)
	}
	verify(rt.IDToken, "")

	// The browser's session at the provider skips the form the second time.
	code, f, sawForm = p.signIn(t, b, "openid profile", "", "")
	if sawForm {
		t.Fatal("second sign-in showed the form despite the provider session")
	}
	if status, tk := p.exchange(t, code, f); status != http.StatusOK || tk.RefreshToken != "" {
		t.Fatalf("exchange without offline_access: %d, refresh token %q (want none)", status, tk.RefreshToken)
	}

	// A restart ends the sessions and grants: the refresh token is refused,
	// the form is shown again; the signing key stays.
	p.Restart(t)
	if status, _ := p.token(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tk.RefreshToken}}); status == http.StatusOK {
		t.Fatal("refresh token still works after a restart")
	}
	code, f, sawForm = p.signIn(t, b, "openid profile", "bob", "bob-pass")
	if !sawForm {
		t.Fatal("no login form after a restart")
	}
	_, tk = p.exchange(t, code, f)
	if c := verify(tk.IDToken, f.nonce); c.PreferredUsername != "bob" || len(c.Groups) != 0 {
		t.Fatalf("bob's claims = %+v", c)
	}
}

// TestRefusals: a wrong password shows the form again with an error, and a
// request without PKCE or nonce is refused (this provider requires both,
// to catch a client that forgets one).
func TestRefusals(t *testing.T) {
	p := Start(t, Options{RedirectURIs: []string{redirectURI}, Users: []User{{Username: "alice", Password: "right"}}})
	b := newBrowser(t)

	u, _ := p.authorizeURL(t, "openid", nil)
	resp, _ := b.get(u)
	_, page := b.get(follow(t, resp))
	id := hiddenID.FindStringSubmatch(page)[1]
	resp, page = b.post(p.Issuer+"/login", url.Values{"authRequestID": {id}, "username": {"alice"}, "password": {"wrong"}})
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(page, `id="login-error"`) {
		t.Fatalf("wrong password: %s\n%s", resp.Status, page)
	}

	for _, tc := range []struct {
		name  string
		extra url.Values
	}{
		{name: "no PKCE", extra: url.Values{"code_challenge": {""}, "code_challenge_method": {""}}},
		{name: "plain PKCE", extra: url.Values{"code_challenge_method": {"plain"}}},
		{name: "no nonce", extra: url.Values{"nonce": {""}}},
		{name: "unregistered redirect", extra: url.Values{"redirect_uri": {"http://localhost:2/evil"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, _ := p.authorizeURL(t, "openid", tc.extra)
			resp, page := b.get(u)
			loc := resp.Header.Get("Location")
			if strings.HasPrefix(loc, "/login") {
				t.Fatalf("provider accepted the request: %s %s", resp.Status, loc)
			}
			if resp.StatusCode == http.StatusFound && !strings.Contains(loc, "error=") {
				t.Fatalf("redirect without an error: %s", loc)
			}
			if resp.StatusCode != http.StatusFound && page == "" {
				t.Fatal(errors.New("empty error page"))
			}
		})
	}
}
