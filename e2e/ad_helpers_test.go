//go:build integration

package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/testenv"
)

// The Active Directory tests share one Samba DC (testenv.Samba: its ports
// are fixed, so the e2e package is the only one that starts it) and one OU
// made by TestActiveDirectory; every subtest has users of its own.

// adCacheTTL is ldap.cache_ttl of the AD tests' server: short, so a change
// in the domain reaches refresh tokens and PATs within the test.
const adCacheTTL = 2 * time.Second

// adSection is an ldap: section for the test domain: users and groups
// under ou, Active Directory's filter and attributes, nested groups, the
// admin group, bind_dn and cache_ttl as given, and the keys in more
// (two-space indented lines).
func adSection(s *testenv.SambaServer, ou, url, bindDN string, ttl time.Duration, more string) string {
	return fmt.Sprintf(`ldap:
  url: %s
  ca_file: %s
  bind_dn: '%s'
  bind_password: %s
  timeout: 5s
  cache_ttl: %s
%s  user_search:
    base_dn: "%s"
    filter: "(&(objectClass=user)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))"
    username_attribute: sAMAccountName
  group_search:
    base_dn: "%s"
    filter: "(objectClass=group)"
    nested: true
  admin_group_dn: "CN=Registry Admins,%s"
`, url, s.CAFile, bindDN, testenv.SambaAdminPassword, ttl, more, ou, ou, ou)
}

// adWorld is the authserver of the AD tests and the domain it uses.
type adWorld struct {
	s  *testenv.SambaServer
	ou string
	a  *opsServer
}

// user creates an enabled user name (password name-pw) in the test OU.
func (w *adWorld) user(t *testing.T, name string, attrs ...map[string][]string) string {
	t.Helper()
	u := testenv.SambaUser{Name: name, CN: "User " + name, Password: name + "-pw"}
	if len(attrs) > 0 {
		u.Attrs = attrs[0]
	}
	return w.s.AddUser(t, w.ou, u)
}

// token asks GET /service/token with Basic credentials and returns the status.
func (w *adWorld) token(t *testing.T, user, pass string) int {
	t.Helper()
	return w.a.getToken(t, user, pass, "service=harbor-registry&scope=repository:adteam/app:pull").status
}

// refreshToken gets a refresh token with the password grant (docker
// login's offline access).
func (w *adWorld) refreshToken(t *testing.T, user, pass string) string {
	t.Helper()
	st, body := w.post(t, url.Values{"grant_type": {"password"}, "username": {user}, "password": {pass},
		"client_id": {"docker"}, "access_type": {"offline"}})
	rt, _ := body["refresh_token"].(string)
	if st != http.StatusOK || rt == "" {
		t.Fatalf("password grant for %s: %d %v", user, st, body)
	}
	return rt
}

// redeem trades a refresh token for an access token and returns the status.
func (w *adWorld) redeem(t *testing.T, rt string) int {
	t.Helper()
	st, _ := w.post(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {"docker"}})
	return st
}

func (w *adWorld) post(t *testing.T, form url.Values) (int, map[string]any) {
	t.Helper()
	form.Set("service", "harbor-registry")
	resp, err := http.PostForm(w.a.url+"/service/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

// pat creates a personal access token through the API, authenticated by
// the user's directory password, as the user would.
func (w *adWorld) pat(t *testing.T, user, pass, name string) string {
	t.Helper()
	r := w.api(t, http.MethodPost, "/api/authserver/v1/users/current/tokens", user, pass, `{"name":"`+name+`"}`)
	var body struct{ Secret string }
	if err := json.Unmarshal(r.body, &body); r.status != http.StatusCreated || err != nil || body.Secret == "" {
		t.Fatalf("create PAT for %s: %d %s", user, r.status, r.body)
	}
	return body.Secret
}

// api sends a request to the REST API with Basic credentials.
func (w *adWorld) api(t *testing.T, method, path, user, pass, body string) reply {
	t.Helper()
	req := newRequest(t, method, w.a.url+path, strings.NewReader(body))
	req.SetBasicAuth(user, pass)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return send(t, http.DefaultClient, req)
}

// credentials are a user's refresh token and PAT, minted with the password.
type adCreds struct{ user, rt, pat string }

func (w *adWorld) creds(t *testing.T, user string) adCreds {
	t.Helper()
	return adCreds{user: user, rt: w.refreshToken(t, user, user+"-pw"), pat: w.pat(t, user, user+"-pw", "ci")}
}

// want checks the password, the refresh token and the PAT all get status.
func (w *adWorld) want(t *testing.T, what string, c adCreds, pass string, status int) {
	t.Helper()
	if got := w.token(t, c.user, pass); got != status {
		t.Errorf("%s: password login %d, want %d", what, got, status)
	}
	if got := w.redeem(t, c.rt); got != status {
		t.Errorf("%s: refresh grant %d, want %d", what, got, status)
	}
	if got := w.token(t, c.user, c.pat); got != status {
		t.Errorf("%s: PAT login %d, want %d", what, got, status)
	}
}

// afterCache waits until what the login and lookup caches hold has expired.
func afterCache() { time.Sleep(adCacheTTL + 500*time.Millisecond) }

// ldapTest runs `authserver ldap test --user user` with the password on
// stdin ("" for a search-only test).
func (w *adWorld) ldapTest(user, pass string) result {
	args := []string{"ldap", "test", "--user", user}
	if pass != "" {
		args = append(args, "--password-stdin")
		pass += "\n"
	}
	return w.a.tryCLI(pass, args...)
}

// sambaShow is what samba-tool says an attribute of a user is: Samba's own
// text form (objectGUID as a GUID string).
func (w *adWorld) sambaShow(t *testing.T, user, attr string) string {
	t.Helper()
	out, err := exec.Command(testenv.SambaToolBin, "user", "show", user, "--attributes="+attr,
		"-s", filepath.Join(w.s.Dir, "etc", "smb.conf")).CombinedOutput()
	if err != nil {
		t.Fatalf("samba-tool user show %s: %v\n%s", user, err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, attr+": "); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("samba-tool user show %s: no %s in\n%s", user, attr, out)
	return ""
}

// withConfig writes a copy of the server's config with the ldap: section
// replaced, for CLI runs (ldap test) against another setting.
func (w *adWorld) withConfig(t *testing.T, section string) *authServer {
	t.Helper()
	b, err := os.ReadFile(w.a.config)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _, _ := strings.Cut(string(b), "ldap:\n")
	a := *w.a.authServer
	a.config = filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(a.config, []byte(cfg+section), 0o600); err != nil {
		t.Fatal(err)
	}
	return &a
}
