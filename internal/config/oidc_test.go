package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseOIDC(t *testing.T) {
	t.Setenv("OIDC_TEST_SECRET", "from-env")
	runParse(t, func(c Config) *OIDC { return c.OIDC }, []parseCase[*OIDC]{
		{name: "absent section", yaml: "log: {level: info}",
			check: func(t *testing.T, o *OIDC) {
				if o != nil {
					t.Fatalf("want no oidc, got %+v", o)
				}
			}},
		{name: "defaults", yaml: `
server: {public_url: "https://auth.example.org"}
oidc: {issuer: "https://sso.example.org", client_id: authserver, client_secret: s}
`,
			check: func(t *testing.T, o *OIDC) {
				if !slices.Equal(o.Scopes, []string{"openid", "profile", "email"}) || o.UsernameClaim != "preferred_username" ||
					o.GroupsClaim != "groups" || o.MaxSession.D() != 30*24*time.Hour || o.Recheck != 0 {
					t.Fatalf("defaults not applied: %+v", o)
				}
				if got := o.RedirectURL("https://auth.example.org/"); got != "https://auth.example.org/login/callback" {
					t.Fatalf("redirect %q", got)
				}
			}},
		{name: "every problem at once", yaml: `
oidc:
  issuer: "http://sso.example.org"
  scopes: [profile, "a b"]
  username_claim: ""
  max_session: 10s
  recheck: 1h
  ca_file: /nonexistent/ca.pem
  admin_groups: [""]
  alowed_groups: [x]
`,
			wantErr: []string{"oidc.issuer", "allow_http", "oidc.client_id", "must include openid", `"a b" is not a scope`,
				"oidc.username_claim", "oidc.max_session", "recheck: needs client_secret", "oidc.ca_file",
				"a group must not be empty", "server.public_url", "field alowed_groups not found"}},
		{name: "recheck needs offline_access", yaml: `
server: {public_url: "https://auth.example.org"}
oidc: {issuer: "https://sso.example.org", client_id: a, client_secret: s, recheck: 1h}
`, wantErr: []string{"offline_access"}},
		{name: "http on loopback with allow_http", yaml: `
server: {public_url: "http://127.0.0.1:5001"}
oidc: {issuer: "http://127.0.0.1:9999", client_id: a, allow_http: true, recheck: 1h, client_secret: "${OIDC_TEST_SECRET}", scopes: [openid, offline_access]}
`, check: func(t *testing.T, o *OIDC) {
			if o.ClientSecret != "from-env" || o.Recheck.D() != time.Hour {
				t.Fatalf("got %+v", o)
			}
		}},
	})
}

// TestExampleOIDCSection uncomments the documented oidc: section of
// config.example.yaml and checks that it loads with the defaults it shows.
func TestExampleOIDCSection(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	section := []string{"server: {public_url: \"https://auth.example.org\"}"}
	in := false
	for _, line := range strings.Split(string(data), "\n") {
		if line == "# oidc:" {
			in = true
		}
		if in && !strings.HasPrefix(line, "#") {
			break
		}
		if in {
			line = strings.TrimPrefix(strings.TrimPrefix(line, "#"), " ")
			if strings.HasPrefix(line, "  ca_file:") {
				line = "  ca_file: \"\""
			}
			section = append(section, line)
		}
	}
	if len(section) < 10 {
		t.Fatal("no commented oidc: section found in config.example.yaml")
	}
	t.Setenv("OIDC_CLIENT_SECRET", "s")
	cfg, err := Parse([]byte(strings.Join(section, "\n")))
	if err != nil {
		t.Fatalf("documented oidc section does not load: %v", err)
	}
	o, d := cfg.OIDC, OIDC{}
	if err := d.UnmarshalYAML(func(any) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.Scopes, d.Scopes) || o.UsernameClaim != d.UsernameClaim || o.GroupsClaim != d.GroupsClaim ||
		o.MaxSession != d.MaxSession || o.Recheck != d.Recheck || o.AllowHTTP {
		t.Errorf("the example's optional values differ from the defaults:\nexample  %+v\ndefaults %+v", *o, d)
	}
}
