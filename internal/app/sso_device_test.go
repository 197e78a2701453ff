package app_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/store"
)

const deviceGrant = "urn:ietf:params:oauth:grant-type:device_code"

// startDevice is POST /oauth/device/code.
func (e *ssoEnv) startDevice(clientID string) (deviceCode, userCode string) {
	e.t.Helper()
	code, body := e.tokenLike("/oauth/device/code", url.Values{"client_id": {clientID}, "scope": {"repository:team/app:pull,push"}})
	if code != http.StatusOK {
		e.t.Fatalf("POST /oauth/device/code = %d %v", code, body)
	}
	uc, _ := body["user_code"].(string)
	if !regexp.MustCompile(`^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$`).MatchString(uc) ||
		body["verification_uri"] != e.url+"/device" || body["verification_uri_complete"] != e.url+"/device?user_code="+uc ||
		body["expires_in"] != float64(600) || body["interval"] != float64(5) {
		e.t.Fatalf("device authorization %v", body)
	}
	return body["device_code"].(string), uc
}

func (e *ssoEnv) tokenLike(path string, form url.Values) (int, map[string]any) {
	e.t.Helper()
	resp, body := e.post(path, form)
	var out map[string]any
	testenvDecode(body, &out)
	return resp.StatusCode, out
}

// poll is the CLI's poll of /service/token.
func (e *ssoEnv) poll(deviceCode, clientID string) (int, map[string]any) {
	return e.tokenPOST(url.Values{"grant_type": {deviceGrant}, "device_code": {deviceCode}, "client_id": {clientID},
		"service": {"harbor-registry"}, "scope": {"repository:team/app:pull,push"}})
}

// approve decides userCode in the browser (signed in) and returns the page.
func (e *ssoEnv) decide(userCode, decision string) string {
	e.t.Helper()
	resp, page := e.get("/device?user_code=" + url.QueryEscape(userCode))
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `<form id="device-approve" method="post" action="/device">`) ||
		!strings.Contains(page, "authserver-cli") {
		e.t.Fatalf("GET /device?user_code = %d\n%s", resp.StatusCode, page)
	}
	resp, page = e.post("/device", url.Values{"csrf": {e.csrf(page)}, "user_code": {userCode}, "decision": {decision}})
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("POST /device = %d\n%s", resp.StatusCode, page)
	}
	return page
}

// TestSSODeviceFlow: the CLI's device flow end to end in process: pending,
// slow_down, approval in the browser, a refresh token that works with the
// refresh grant (docker's identitytoken) until max_session after the
// sign-in, and the audit trail.
func TestSSODeviceFlow(t *testing.T) {
	e := newSSOEnv(t)
	if err := e.a.Store.CreateProject(t.Context(), &store.Project{Name: "team"}); err != nil {
		t.Fatal(err)
	}
	e.signIn()
	if err := e.a.Store.SetMember(t.Context(), store.Member{Project: "team", Kind: store.MemberGroup, Name: "devs", Role: store.RoleDeveloper}); err != nil {
		t.Fatal(err)
	}
	dc, uc := e.startDevice("authserver-cli")
	if code, body := e.poll(dc, "authserver-cli"); code != http.StatusBadRequest || body["error"] != "authorization_pending" {
		t.Fatalf("first poll = %d %v, want authorization_pending", code, body)
	}
	if code, body := e.poll(dc, "authserver-cli"); code != http.StatusBadRequest || body["error"] != "slow_down" {
		t.Fatalf("a poll within the interval = %d %v, want slow_down", code, body)
	}
	if code, body := e.poll(dc, "another-client"); code != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Fatalf("a poll by another client = %d %v, want invalid_grant", code, body)
	}
	// The form without a code, then the code typed in lower case.
	if resp, page := e.get("/device"); resp.StatusCode != http.StatusOK || !strings.Contains(page, `<form id="device-code" method="get" action="/device">`) {
		t.Fatalf("GET /device = %d\n%s", resp.StatusCode, page)
	}
	if page := e.decide(strings.ToLower(uc), "approve"); !strings.Contains(page, "approved") {
		t.Fatalf("approval page:\n%s", page)
	}
	if !e.audited("device.approve", store.AuditDone) {
		t.Error("the approval is not audited")
	}
	e.advance(6 * time.Second)
	code, body := e.poll(dc, "authserver-cli")
	rt, _ := body["refresh_token"].(string)
	if code != http.StatusOK || body["token"] == nil || body["access_token"] != body["token"] || !strings.HasPrefix(rt, "asr_") {
		t.Fatalf("poll after approval = %d %v", code, body)
	}
	if scope, _ := body["scope"].(string); !strings.Contains(scope, "repository:team/app:pull,push") {
		t.Errorf("granted %q, want pull,push through the OIDC group", scope)
	}
	if code, body := e.poll(dc, "authserver-cli"); code != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Errorf("a second redemption = %d %v, want invalid_grant", code, body)
	}
	stored, err := e.a.Store.GetRefreshToken(t.Context(), hashOf(rt))
	if err != nil || stored.SignInID == 0 || stored.ExpiresAt.IsZero() {
		t.Fatalf("stored refresh token %+v, %v: want it tied to the sign-in", stored, err)
	}

	refresh := func() (int, map[string]any) {
		return e.tokenPOST(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {"docker"},
			"service": {"harbor-registry"}, "scope": {"repository:team/app:pull"}})
	}
	if code, body := refresh(); code != http.StatusOK || body["refresh_token"] != rt {
		t.Fatalf("refresh grant with the device-flow token = %d %v", code, body)
	}
	// The browser session ending changes nothing for the CLI.
	_, page := e.get("/")
	e.post("/logout", url.Values{"csrf": {e.csrf(page)}})
	e.advance(20 * 24 * time.Hour)
	if code, _ := refresh(); code != http.StatusOK {
		t.Fatalf("refresh after logout, 20 days on = %d, want 200", code)
	}
	e.advance(11 * 24 * time.Hour) // past max_session (30d) after the sign-in
	if code, _ := refresh(); code != http.StatusUnauthorized {
		t.Fatalf("refresh past max_session = %d, want 401", code)
	}
}

// TestSSODeviceRefusals: denied, expired, unknown, and a disabled user's
// approval.
func TestSSODeviceRefusals(t *testing.T) {
	e := newSSOEnv(t, func(c *config.Config) { c.Audit.Enabled = true })
	e.signIn()
	dc, uc := e.startDevice("authserver-cli")
	if page := e.decide(uc, "deny"); !strings.Contains(page, "denied") {
		t.Fatalf("deny page:\n%s", page)
	}
	if code, body := e.poll(dc, "authserver-cli"); code != http.StatusBadRequest || body["error"] != "access_denied" {
		t.Fatalf("poll after deny = %d %v", code, body)
	}
	dc2, _ := e.startDevice("authserver-cli")
	e.advance(11 * time.Minute)
	if code, body := e.poll(dc2, "authserver-cli"); code != http.StatusBadRequest || body["error"] != "expired_token" {
		t.Fatalf("poll after expiry = %d %v", code, body)
	}
	if code, body := e.poll("asd_nothing", "authserver-cli"); code != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Fatalf("unknown device_code = %d %v", code, body)
	}
	// Each poll that ended without a token is a refused login in the
	// audit trail, with the RFC's reason.
	e.a.Audit.Flush(t.Context())
	recs, err := e.a.Store.ListAudit(t.Context(), store.AuditFilter{Kind: store.AuditKindToken, Result: store.AuditUnauthorized, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, code := range []string{"access_denied", "expired_token", "invalid_grant"} {
		found := false
		for _, r := range recs {
			found = found || (r.Method == authn.MethodSSO && r.ClientID == "authserver-cli" && strings.HasPrefix(r.Reason, "device grant "+code))
		}
		if !found {
			t.Errorf("no refused-login record for the device poll answered %s: %+v", code, recs)
		}
	}
	if resp, page := e.get("/device?user_code=BBBB-CCCC"); resp.StatusCode != http.StatusNotFound || !strings.Contains(page, "No request waits") {
		t.Fatalf("an unknown user code = %d\n%s", resp.StatusCode, page)
	}
	// Approved, then the user is disabled before the CLI polls.
	dc3, uc3 := e.startDevice("authserver-cli")
	e.decide(uc3, "approve")
	if _, err := e.a.Store.ModifyUser(t.Context(), "alice", func(u store.User) (store.User, error) { u.Disabled = true; return u, nil }); err != nil {
		t.Fatal(err)
	}
	if code, body := e.poll(dc3, "authserver-cli"); code != http.StatusBadRequest || body["error"] != "access_denied" {
		t.Fatalf("poll for a disabled user = %d %v", code, body)
	}
	if resp, _ := e.get("/"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a disabled user's session still works: %d", resp.StatusCode)
	}
}

// TestSSORecheck: with oidc.recheck, a credential minted from a sign-in
// asks the provider again: refused once the provider says invalid_grant,
// 503 while it cannot be reached.
func TestSSORecheck(t *testing.T) {
	e := newSSOEnv(t, func(c *config.Config) {
		c.OIDC.Recheck = config.Duration(time.Hour)
		c.OIDC.Scopes = []string{"openid", "profile", "offline_access"}
	})
	e.signIn()
	_, page := e.get("/")
	_, page = e.post("/tokens", url.Values{"csrf": {e.csrf(page)}, "name": {"ci"}})
	pat := patSecretRE.FindStringSubmatch(page)[1]
	si, err := e.a.Store.GetSignIn(t.Context(), mustPAT(t, e, pat).SignInID)
	if err != nil || len(si.ProviderRefresh) == 0 || strings.Contains(string(si.ProviderRefresh), "provider-refresh") {
		t.Fatalf("sign-in %+v, %v: want the provider refresh token kept, sealed", si, err)
	}
	if code := e.basicToken("alice", pat, ""); code != http.StatusOK {
		t.Fatalf("within the recheck period = %d", code)
	}
	// Due: the provider honours the grant and rotates its token.
	e.mu.Lock()
	e.refresh = func() (int, map[string]any) {
		return http.StatusOK, map[string]any{"access_token": "a2", "token_type": "Bearer", "refresh_token": "provider-refresh-2"}
	}
	e.mu.Unlock()
	e.advance(2 * time.Hour)
	if code := e.basicToken("alice", pat, ""); code != http.StatusOK {
		t.Fatalf("recheck honoured = %d", code)
	}
	// Due again, provider down: 503, not 401.
	e.advance(2 * time.Hour)
	e.is.Stop()
	if code := e.basicToken("alice", pat, ""); code != http.StatusServiceUnavailable {
		t.Fatalf("recheck with the provider down = %d, want 503", code)
	}
	e.is.Start()
	// The provider revoked the grant: refused, and stays refused.
	e.mu.Lock()
	e.refresh = func() (int, map[string]any) { return http.StatusBadRequest, map[string]any{"error": "invalid_grant"} }
	e.mu.Unlock()
	if code := e.basicToken("alice", pat, ""); code != http.StatusUnauthorized {
		t.Fatalf("recheck refused by the provider = %d, want 401", code)
	}
	if code := e.basicToken("alice", pat, ""); code != http.StatusUnauthorized {
		t.Fatalf("after the refusal = %d, want 401", code)
	}
}

func mustPAT(t *testing.T, e *ssoEnv, secret string) store.PersonalToken {
	t.Helper()
	p, err := e.a.Store.GetPersonalToken(t.Context(), hashOf(secret))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSSOStartsBounded: flows that take no credential but keep a row are
// bounded per client network and minute (429 with Retry-After).
func TestSSOStartsBounded(t *testing.T) {
	e := newSSOEnv(t)
	form := url.Values{"client_id": {"authserver-cli"}}
	// Up to 130 tries: a minute turning during the loop still ends in 429.
	last := 0
	for range 130 {
		resp, _ := e.post("/oauth/device/code", form)
		last = resp.StatusCode
		if last == http.StatusTooManyRequests {
			if resp.Header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
			break
		}
	}
	if last != http.StatusTooManyRequests {
		t.Fatalf("61 device authorizations in a minute: last %d, want 429", last)
	}
	for range 130 {
		resp, _ := e.get("/login")
		last = resp.StatusCode
		if last != http.StatusFound {
			break
		}
	}
	if last != http.StatusTooManyRequests {
		t.Fatalf("61 sign-ins started in a minute: last %d, want 429", last)
	}
}
