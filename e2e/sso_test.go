//go:build integration

package e2e

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/authserver/authserver/internal/testenv"
	"github.com/authserver/authserver/internal/testenv/oidcop"
)

// SSO end to end: a real OpenID provider (e2e/oidcprovider, in its own
// process), a real browser (Debian's chromium, headless, through chromedp)
// that fills in the provider's form and authserver's pages, authserver with
// an oidc: block, registry v3.1.2, the docker CLI (no daemon), crane and
// `authserver login`. The page selectors are docs/SSO.md's contract.

// ssoUsers are the provider's people: alice's group registry-admins is
// authserver's admin_groups, so she may push to any project.
var ssoUsers = []oidcop.User{
	{Username: "alice", Password: "alice-at-the-provider", Email: "alice@example.org", Name: "Alice", Groups: []string{"registry-admins", "developers"}},
}

// ssoWorld is a provider, an authserver that signs people in with it, a
// registry trusting that authserver, and a browser.
type ssoWorld struct {
	op  *oidcop.Provider
	a   *authServer
	reg *registry
	b   *browser
}

func newSSOWorld(t *testing.T) *ssoWorld { return newSSOWorldWith(t, "", false) }

// newSSOWorldWith adds oidcExtra (lines under oidc:, indented two spaces)
// to authserver's config; rotate makes the provider rotate its refresh
// tokens.
func newSSOWorldWith(t *testing.T, oidcExtra string, rotate bool) *ssoWorld {
	t.Helper()
	port := testenv.FreePort(t)
	public := "http://localhost:" + strconv.Itoa(port)
	op := oidcop.Start(t, oidcop.Options{RedirectURIs: []string{public + "/login/callback"}, Users: ssoUsers, RotateRefreshTokens: rotate})
	a := startAuthServer(t, authOptions{port: port, server: "  public_url: " + public + "\n", extraConfig: fmt.Sprintf(`oidc:
  issuer: %s
  client_id: %s
  client_secret: %s
  allow_http: true
  admin_groups: [registry-admins]
%s`, op.Issuer, op.ClientID, op.ClientSecret, oidcExtra)})
	a.cli(t, "project", "create", "team")
	w := &ssoWorld{op: op, a: a, reg: startRegistry(t, flavours[0], a), b: newBrowser(t)}
	return w
}

// signIn opens authserver's /login in the browser, signs in through the
// provider's form, and waits for the credentials page.
func (w *ssoWorld) signIn(t *testing.T, user, pass string) {
	t.Helper()
	w.b.do("sign in at the provider",
		chromedp.Navigate(w.a.url+"/login?next=/"),
		chromedp.WaitVisible(chromedp.CSS(`#login input[name="username"]`)),
		chromedp.SendKeys(chromedp.CSS(`#login input[name="username"]`), user),
		chromedp.SendKeys(chromedp.CSS(`#login input[name="password"]`), pass),
		chromedp.Click(chromedp.CSS(`#login button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form#pat-create`)),
	)
	if loc := w.b.location(); loc != w.a.url+"/" {
		t.Fatalf("after sign-in the browser is at %s, want %s/", loc, w.a.url)
	}
	if page := w.b.bodyText(); !strings.Contains(page, "Your registry credentials") {
		t.Fatalf("credentials page does not say \"Your registry credentials\":\n%s", page)
	}
}

// TestSSOBrowserPAT: sign in through the provider, create a personal access
// token on the credentials page, `docker login` with it and push with
// crane; revoke it on the page and the next pull is refused.
func TestSSOBrowserPAT(t *testing.T) {
	w := newSSOWorld(t)
	w.signIn(t, "alice", "alice-at-the-provider")

	w.b.do("create a personal access token",
		chromedp.SendKeys(chromedp.CSS(`#pat-create input[name="name"]`), "laptop"),
		chromedp.SendKeys(chromedp.CSS(`#pat-create input[name="expires"]`), "30"),
		chromedp.Click(chromedp.CSS(`#pat-create [type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`code#pat-secret`)),
	)
	secret := w.b.text(`code#pat-secret`)
	if secret == "" {
		t.Fatal("the page shows an empty secret")
	}
	if n := w.b.count(`tr[data-pat="laptop"]`); n != 1 {
		t.Fatalf("%d rows for the new token, want 1\n%s", n, w.b.describe())
	}

	s := newSession(t, w.reg, "", "")
	docker := dockerCLI{s}
	mustOK(t, docker.login("alice", secret))
	mustOK(t, s.cranePush(t, "team/app:v1", "pushed with a token made in the browser"))
	mustOK(t, s.cranePull("team/app:v1"))

	// Revoke it on the page: the row goes, and the next pull is refused.
	w.b.do("revoke the token",
		chromedp.Navigate(w.a.url+"/"),
		chromedp.Click(chromedp.CSS(`tr[data-pat="laptop"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form#pat-create`)),
		chromedp.WaitNotPresent(chromedp.CSS(`tr[data-pat="laptop"]`)),
	)
	mustRefuse(t, s.cranePull("team/app:v1"))

	recs := auditRecords(t, w.a)
	recs.find(t, "alice's sign-in", func(r auditRec) bool {
		return r.str("subject") == "alice" && r.str("action") == "sso.signin" && r.str("result") == "done"
	})
	recs.find(t, "the token made in the page", func(r auditRec) bool {
		return r.str("subject") == "alice" && r.str("action") == "pat.create" && strings.Contains(r.str("target"), "laptop")
	})
	recs.find(t, "its revocation", func(r auditRec) bool {
		return r.str("subject") == "alice" && r.str("action") == "pat.revoke" && strings.Contains(r.str("target"), "laptop")
	})
}

var verificationURL = regexp.MustCompile(`https?://\S+/device\?user_code=[A-Z]{4}-[A-Z]{4}`)

// deviceLogin starts `authserver login` for the registry in the
// background, as the session's user, and returns it with the address it
// printed for the browser.
func (w *ssoWorld) deviceLogin(t *testing.T, s *session, env ...string) (*testenv.Process, string) {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), "login.log")
	p := startLogged(t, "authserver login", logPath, append(s.env(), env...), s.home, bin["authserver"], "login", w.reg.host)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m := verificationURL.FindString(p.Log()); m != "" {
			return p, m
		}
		select {
		case <-p.Done():
			t.Fatalf("authserver login ended before printing the address (%v):\n%s", p.Err(), p.Log())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("authserver login printed no verification address in 30s:\n%s", p.Log())
		}
	}
}

// decide opens the verification address in the (signed-in) browser and
// presses approve or deny.
func (w *ssoWorld) decide(t *testing.T, addr, decision, want string) {
	t.Helper()
	w.b.do("open the device page", chromedp.Navigate(addr), chromedp.WaitVisible(chromedp.CSS(`form#device-approve`)))
	code := addr[strings.LastIndex(addr, "=")+1:]
	if page := w.b.bodyText(); !strings.Contains(page, "authserver-cli") || !strings.Contains(page, code) {
		t.Fatalf("the device page does not show the asking client and the code %s:\n%s", code, page)
	}
	w.b.do(decision+" the device",
		chromedp.Click(chromedp.CSS(`form#device-approve button[name="decision"][value="`+decision+`"]`)),
		chromedp.WaitNotPresent(chromedp.CSS(`form#device-approve`)),
	)
	if page := w.b.bodyText(); !strings.Contains(page, want) {
		t.Fatalf("after %s the page does not say %q:\n%s", decision, want, page)
	}
}

// waitExit waits for the background login to end (it polls every 5 s).
func waitExit(t *testing.T, p *testenv.Process) {
	t.Helper()
	select {
	case <-p.Done():
	case <-time.After(60 * time.Second):
		t.Fatalf("authserver login still running 60s after the decision:\n%s", p.Log())
	}
}

// TestSSODeviceFlow: `authserver login` in the background, the browser
// approves the code, crane pushes with the identitytoken it stored; after
// the provider's sessions end (a restart), another refresh still works. A
// denied code ends the command with a clear error. The audit trail shows
// the sign-in, the approval and each credential minted.
func TestSSODeviceFlow(t *testing.T) {
	w := newSSOWorld(t)
	w.signIn(t, "alice", "alice-at-the-provider")

	s := newSession(t, w.reg, "", "")
	p, addr := w.deviceLogin(t, s)
	w.decide(t, addr, "approve", "approved")
	waitExit(t, p)
	if p.Err() != nil || !strings.Contains(p.Log(), "Signed in to "+w.reg.host+" as alice") {
		t.Fatalf("authserver login failed (%v):\n%s", p.Err(), p.Log())
	}
	entry, file := dockerCLI{s}.auth(t)
	if !strings.HasPrefix(entry["identitytoken"], "asr_") || entry["auth"] != base64.StdEncoding.EncodeToString([]byte("alice:")) {
		t.Fatalf("docker config after authserver login:\n%s", file)
	}
	mustOK(t, s.cranePush(t, "team/device:v1", "pushed with the device flow's refresh token"))

	// The provider's sessions and grants end; authserver's credential does not.
	w.op.Restart(t)
	mustOK(t, s.cranePull("team/device:v1"))
	mustOK(t, s.cranePush(t, "team/device:v2", "a second refresh after the provider restarted"))

	// A denied code: the command says so and fails.
	s2 := newSession(t, w.reg, "", "")
	p2, addr2 := w.deviceLogin(t, s2)
	w.decide(t, addr2, "deny", "denied")
	waitExit(t, p2)
	if p2.Err() == nil || !strings.Contains(p2.Log(), "denied") {
		t.Fatalf("authserver login after a denial: %v\n%s", p2.Err(), p2.Log())
	}
	if entry, _ := (dockerCLI{s2}).auth(t); entry != nil {
		t.Fatalf("a denied login stored %v", entry)
	}

	// The audit trail: the sign-in, the approval and denial, the credential minted.
	recs := auditRecords(t, w.a)
	recs.find(t, "alice's sign-in", func(r auditRec) bool {
		return r.str("subject") == "alice" && r.str("action") == "sso.signin" && r.str("result") == "done"
	})
	recs.find(t, "the device approval", func(r auditRec) bool {
		return r.str("subject") == "alice" && r.str("action") == "device.approve" && strings.Contains(r.str("target"), "authserver-cli")
	})
	recs.find(t, "the denial", func(r auditRec) bool {
		return r.str("subject") == "alice" && r.str("action") == "device.deny"
	})
	recs.find(t, "the refresh token minted by the device grant", func(r auditRec) bool {
		return r.str("subject") == "alice" && r.str("kind") == "token" && r.str("method") == "sso" && r.str("result") == "issued" &&
			r.str("client_id") == "authserver-cli"
	})
}

// auditRec is one record of `authserver audit list --output json`.
type auditRec map[string]any

func (r auditRec) str(k string) string { s, _ := r[k].(string); return s }

type auditRecs []auditRec

// auditRecords reads the whole audit trail through the CLI.
func auditRecords(t *testing.T, a *authServer) auditRecs {
	t.Helper()
	var recs auditRecs
	if err := json.Unmarshal([]byte(a.cli(t, "audit", "list", "--output", "json", "--limit", "1000")), &recs); err != nil {
		t.Fatal(err)
	}
	return recs
}

// find fails the test unless a record matches.
func (recs auditRecs) find(t *testing.T, what string, match func(auditRec) bool) {
	t.Helper()
	for _, r := range recs {
		if match(r) {
			t.Logf("audit: %s: %v", what, map[string]any(r))
			return
		}
	}
	b, _ := json.MarshalIndent(recs, "", "  ")
	t.Errorf("no audit record of %s in:\n%s", what, b)
}

// TestSSORecheck: with oidc.recheck and offline_access, a credential
// minted from a sign-in is checked with the provider once per period: it
// keeps working while the provider honours the grant (which rotates its
// refresh token at every use), answers 503 — never 401 — while the
// provider cannot be reached, and is refused once the provider has
// forgotten the grant (a restart ends every grant of the test provider).
func TestSSORecheck(t *testing.T) {
	w := newSSOWorldWith(t, "  scopes: [openid, profile, email, offline_access]\n  recheck: 1s\n", true)
	w.signIn(t, "alice", "alice-at-the-provider")
	s := newSession(t, w.reg, "", "")
	p, addr := w.deviceLogin(t, s)
	w.decide(t, addr, "approve", "approved")
	waitExit(t, p)
	if p.Err() != nil {
		t.Fatalf("authserver login: %v\n%s", p.Err(), p.Log())
	}
	entry, _ := dockerCLI{s}.auth(t)
	refresh := entry["identitytoken"]
	grant := func() int {
		t.Helper()
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "service": {"harbor-registry"},
			"client_id": {"go-containerregistry"}, "scope": {"repository:team/app:pull"}}
		resp, err := http.PostForm(w.a.url+"/service/token", form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// Each grant after a second asks the provider, with the refresh token
	// it handed out last time.
	for i := range 3 {
		time.Sleep(1100 * time.Millisecond)
		if code := grant(); code != http.StatusOK {
			t.Fatalf("refresh %d while the provider honours the grant: %d", i+1, code)
		}
	}
	mustOK(t, s.cranePush(t, "team/app:v1", "pushed while the provider honours the grant"))

	w.op.Stop()
	time.Sleep(1100 * time.Millisecond)
	if code := grant(); code != http.StatusServiceUnavailable {
		t.Fatalf("refresh while the provider is down: %d, want 503", code)
	}

	w.op.Restart(t)
	if code := grant(); code != http.StatusUnauthorized {
		t.Fatalf("refresh after the provider forgot the grant: %d, want 401", code)
	}
	mustRefuse(t, s.cranePull("team/app:v1"))
	if code := grant(); code != http.StatusUnauthorized {
		t.Fatalf("refresh after the sign-in was refused once: %d, want 401 (the sign-in is gone)", code)
	}
}

// TestSSOCredentialHelper: with the docker config naming authserver as the
// registry's credential helper (credHelpers), `authserver login` stores the
// refresh token through docker-credential-authserver (a link to the
// binary) and leaves docker's empty entry; crane gets it back through the
// helper and pushes.
func TestSSOCredentialHelper(t *testing.T) {
	w := newSSOWorld(t)
	w.signIn(t, "alice", "alice-at-the-provider")
	s := newSession(t, w.reg, "", "")
	helpers := t.TempDir()
	if err := os.Symlink(bin["authserver"], filepath.Join(helpers, "docker-credential-authserver")); err != nil {
		t.Fatal(err)
	}
	pathEnv := "PATH=" + helpers + string(os.PathListSeparator) + os.Getenv("PATH")
	cfg := filepath.Join(s.home, "docker", "config.json")
	if err := os.WriteFile(cfg, []byte(`{"credHelpers":{"`+w.reg.host+`":"authserver"},"psFormat":"table {{.ID}}"}`), 0o600); err != nil {
		t.Fatal(err)
	}

	p, addr := w.deviceLogin(t, s, pathEnv)
	w.decide(t, addr, "approve", "approved")
	waitExit(t, p)
	if p.Err() != nil || !strings.Contains(p.Log(), "docker-credential-authserver") {
		t.Fatalf("authserver login (%v) does not say it stored through the helper:\n%s", p.Err(), p.Log())
	}
	entry, file := dockerCLI{s}.auth(t)
	if entry == nil || len(entry) != 0 || !strings.Contains(file, `"psFormat"`) || !strings.Contains(file, `"credHelpers"`) {
		t.Fatalf("docker config after a login through the helper (want an empty entry, other keys kept):\n%s", file)
	}
	get := runIn(s.home, append(s.env(), pathEnv), w.reg.host+"\n", filepath.Join(helpers, "docker-credential-authserver"), "get")
	mustOK(t, get)
	var c struct{ ServerURL, Username, Secret string }
	if err := json.Unmarshal([]byte(get.stdout), &c); err != nil || c.Username != "<token>" || !strings.HasPrefix(c.Secret, "asr_") {
		t.Fatalf("docker-credential-authserver get: %v\n%s", err, get)
	}
	st, err := os.Stat(filepath.Join(s.home, "config", "authserver", "docker-credentials.json"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("the helper's file: %v %v", st, err)
	}

	layer := writeLayer(t, s.home, "pushed with the token the helper keeps")
	mustOK(t, runIn(s.home, append(s.env(), pathEnv), "", bin["crane"], "append", "-f", layer, "-t", w.reg.ref("team/helper:v1")))
	// The credential lives in the helper only: without it on PATH crane
	// fails looking for it.
	if r := s.crane("append", "-f", layer, "-t", w.reg.ref("team/helper:v2")); r.err == nil || !strings.Contains(r.stderr, "docker-credential-authserver") {
		t.Fatalf("crane without the helper on PATH:\n%s", r)
	}
}

// TestBrowserSignsInAtProvider drives chromium through the test provider's
// own form for a stand-in client (nothing of authserver's): the browser
// part of the harness works, and the provider redirects back with a code
// and the state.
func TestBrowserSignsInAtProvider(t *testing.T) {
	got := make(chan url.Values, 1)
	client := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.URL.Query()
		fmt.Fprint(w, "<html><body><p id=done>back at the client</p></body></html>")
	}))
	defer client.Close()
	op := oidcop.Start(t, oidcop.Options{RedirectURIs: []string{client.URL + "/cb"}, Users: ssoUsers})
	b := newBrowser(t)

	verifier := rand.Text() + rand.Text()
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"client_id": {op.ClientID}, "redirect_uri": {client.URL + "/cb"}, "response_type": {"code"},
		"scope": {"openid profile"}, "state": {"st-123"}, "nonce": {"n-456"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	b.do("sign in at the provider",
		chromedp.Navigate(op.Issuer+"/authorize?"+q.Encode()),
		chromedp.SendKeys(chromedp.CSS(`#login input[name="username"]`), "alice"),
		chromedp.SendKeys(chromedp.CSS(`#login input[name="password"]`), "alice-at-the-provider"),
		chromedp.Click(chromedp.CSS(`#login button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#done`)),
	)
	select {
	case v := <-got:
		if v.Get("code") == "" || v.Get("state") != "st-123" {
			t.Fatalf("the client got %v", v)
		}
	default:
		t.Fatal("the browser never reached the client")
	}
}
