package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseLDAP(t *testing.T) {
	t.Setenv("AS_TEST_LDAP_PW", "s3cret")
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	runParse(t, func(c Config) *LDAP { return c.LDAP }, []parseCase[*LDAP]{
		{name: "absent section", yaml: "log: {level: info}",
			check: func(t *testing.T, l *LDAP) {
				if l != nil {
					t.Fatalf("want nil, got %+v", l)
				}
			}},
		{name: "defaults fill a minimal section", yaml: `
ldap:
  url: ldap://ldap.example.org
  user_search: {base_dn: "ou=people,dc=example,dc=org"}
  group_search: {base_dn: "ou=groups,dc=example,dc=org"}
`,
			check: func(t *testing.T, l *LDAP) {
				if l.Timeout.D() != 5*time.Second || l.CacheTTL.D() != time.Minute ||
					l.UserSearch.UsernameAttribute != "uid" || l.UserSearch.Scope != "sub" ||
					l.UserSearch.Filter != "(objectClass=inetOrgPerson)" ||
					l.GroupSearch.MemberAttribute != "member" || l.GroupSearch.MemberValue != "dn" ||
					l.GroupSearch.NameAttribute != "cn" || l.GroupSearch.Filter != "(objectClass=groupOfNames)" {
					t.Fatalf("defaults not applied: %+v", l)
				}
				if addr, err := l.Addr(); err != nil || addr != "ldap.example.org:389" {
					t.Fatalf("Addr = %q, %v", addr, err)
				}
			}},
		{name: "full active directory section", yaml: `
ldap:
  url: ldaps://dc1.corp.example:3269
  ca_file: ""
  bind_dn: "CN=svc,OU=Service,DC=corp,DC=example"
  bind_password: "${AS_TEST_LDAP_PW}"
  timeout: 2s
  cache_ttl: 0s
  user_search: {base_dn: "DC=corp,DC=example", filter: "(&(objectClass=user)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))", username_attribute: sAMAccountName, scope: one,
    id_attribute: objectGUID, password_changed_attribute: pwdLastSet}
  group_search: {base_dn: "DC=corp,DC=example", filter: "(objectClass=group)", nested: true}
  admin_group_dn: "CN=Registry Admins,OU=Groups,DC=corp,DC=example"
`,
			check: func(t *testing.T, l *LDAP) {
				if l.BindPassword != "s3cret" || l.CacheTTL.D() != 0 || !l.GroupSearch.Nested || l.UserSearch.Scope != "one" ||
					l.UserSearch.IDAttribute != "objectGUID" || l.UserSearch.PasswordChangedAttribute != "pwdLastSet" {
					t.Fatalf("%+v", l)
				}
				if addr, _ := l.Addr(); addr != "dc1.corp.example:3269" {
					t.Fatalf("Addr = %q", addr)
				}
			}},
		{name: "ldaps default port", yaml: `
ldap: {url: "ldaps://h", user_search: {base_dn: "dc=x"}, group_search: {base_dn: "dc=x"}}`,
			check: func(t *testing.T, l *LDAP) {
				if addr, _ := l.Addr(); addr != "h:636" {
					t.Fatalf("Addr = %q", addr)
				}
			}},
		{name: "unknown key inside the section", yaml: `
ldap: {url: "ldap://h", user_search: {base_dn: "dc=x", filtr: "(a=b)"}, group_search: {base_dn: "dc=x"}}`,
			wantErr: []string{"filtr"}},
		{name: "empty section reports required keys", yaml: "ldap: {}",
			wantErr: []string{"ldap.url", "ldap.user_search.base_dn", "ldap.group_search.base_dn"}},
		{name: "every bad value reported at once", yaml: `
ldap:
  url: http://h
  bind_password: x
  ca_file: ` + notPEM + `
  timeout: 0s
  user_search: {base_dn: "not a dn", filter: "uid=x", username_attribute: "u id", scope: base,
    id_attribute: "entry uuid", password_changed_attribute: "pwd:changed"}
  group_search: {base_dn: "dc=x", filter: "(&(a=b)", member_attribute: "", member_value: uid, name_attribute: "c=n"}
  admin_group_dn: "=broken"
`,
			wantErr: []string{"ldap.url", "ldap.bind_password", "ldap.ca_file", "ldap.timeout",
				"ldap.user_search.base_dn", "ldap.user_search.filter", "ldap.user_search.username_attribute",
				"ldap.user_search.scope", "ldap.user_search.id_attribute", "ldap.user_search.password_changed_attribute", "ldap.group_search.filter", "ldap.group_search.member_attribute",
				"ldap.group_search.member_value", "ldap.group_search.name_attribute", "ldap.admin_group_dn"}},
		{name: "tls combinations", yaml: `
ldap: {url: "ldaps://h", start_tls: true, user_search: {base_dn: "dc=x"}, group_search: {base_dn: "dc=x"}}`,
			wantErr: []string{"ldap.start_tls"}},
		{name: "skip verify without tls", yaml: `
ldap: {url: "ldap://h", insecure_skip_verify: true, user_search: {base_dn: "dc=x"}, group_search: {base_dn: "dc=x"}}`,
			wantErr: []string{"ldap.insecure_skip_verify"}},
		{name: "bind dn without password", yaml: `
ldap: {url: "ldap://h", bind_dn: "cn=svc,dc=x", user_search: {base_dn: "dc=x"}, group_search: {base_dn: "dc=x"}}`,
			wantErr: []string{"ldap.bind_password"}},
		{name: "nested needs dn members", yaml: `
ldap: {url: "ldap://h", user_search: {base_dn: "dc=x"}, group_search: {base_dn: "dc=x", member_attribute: memberUid, member_value: username, nested: true}}`,
			wantErr: []string{"ldap.group_search.nested"}},
		{name: "url with path", yaml: `
ldap: {url: "ldap://h/dc=x", user_search: {base_dn: "dc=x"}, group_search: {base_dn: "dc=x"}}`,
			wantErr: []string{"only scheme, host and port"}},
		{name: "bad port", yaml: `
ldap: {url: "ldap://h:99999", user_search: {base_dn: "dc=x"}, group_search: {base_dn: "dc=x"}}`,
			wantErr: []string{"bad port"}},
		{name: "active directory bind names", yaml: `
ldap: {url: "ldaps://h", bind_dn: 'EXAMPLE\Administrator', bind_password: x, user_search: {base_dn: "dc=x"}, group_search: {base_dn: "dc=x"}}`,
			check: func(t *testing.T, l *LDAP) {
				if l.BindDN != `EXAMPLE\Administrator` {
					t.Fatalf("bind_dn %q", l.BindDN)
				}
			}},
		{name: "account state defaults", yaml: `
ldap: {url: "ldaps://h", user_search: {base_dn: "dc=x"}, group_search: {base_dn: "dc=x"}}`,
			check: func(t *testing.T, l *LDAP) {
				as := l.AccountState
				if as.Check != "auto" || as.ControlAttribute != "userAccountControl" || as.ExpiresAttribute != "accountExpires" ||
					as.ComputedControlAttribute != "msDS-User-Account-Control-Computed" || as.LockoutTimeAttribute != "lockoutTime" ||
					as.PasswordExpiresAttribute != "msDS-UserPasswordExpiryTimeComputed" {
					t.Fatalf("%+v", as)
				}
			}},
		{name: "bad account state", yaml: `
ldap: {url: "ldaps://h", bind_dn: "svc@", bind_password: x, user_search: {base_dn: "dc=x"}, group_search: {base_dn: "dc=x"},
  account_state: {check: always, expires_attribute: "account expires", lockout_time_attribute: ""}}`,
			wantErr: []string{"ldap.bind_dn", "ldap.account_state.check", "ldap.account_state.expires_attribute"}},
	})
}

// bind_dn accepts a DN and Active Directory's two other names for an
// account in a simple bind.
func TestBindNameKind(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{name: "dn", in: "cn=search,dc=example,dc=org", want: "dn"},
		{name: "ad dn with spaces", in: "CN=Search Account,OU=Service Accounts,DC=corp,DC=example", want: "dn"},
		{name: "dn with an at sign", in: "cn=a@b,dc=x", want: "dn"},
		{name: "upn", in: "Administrator@EXAMPLE.ORG", want: "upn"},
		{name: "down-level", in: `EXAMPLE\Administrator`, want: "down-level"},
		{name: "down-level with a space", in: `CORP\svc registry`, want: "down-level"},
		{name: "empty realm", in: "svc@", want: ""},
		{name: "empty domain", in: `\svc`, want: ""},
		{name: "two backslashes", in: `A\B\c`, want: ""},
		{name: "plain word", in: "Administrator", want: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := BindNameKind(tc.in); got != tc.want {
				t.Errorf("BindNameKind(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestExampleLDAPSection uncomments the documented ldap: section of
// config.example.yaml and checks that it loads with the defaults it shows.
func TestExampleLDAPSection(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var section []string
	in := false
	for _, line := range strings.Split(string(data), "\n") {
		if line == "# ldap:" {
			in = true
		}
		if in && !strings.HasPrefix(line, "#") {
			break
		}
		if in {
			line = strings.TrimPrefix(strings.TrimPrefix(line, "#"), " ")
			if strings.HasPrefix(line, "  ca_file:") {
				line = "  ca_file: \"\"" // the example path does not exist here
			}
			section = append(section, line)
		}
	}
	if len(section) < 10 {
		t.Fatalf("no commented ldap: section found in config.example.yaml")
	}
	t.Setenv("LDAP_BIND_PASSWORD", "pw")
	cfg, err := Parse([]byte(strings.Join(section, "\n")))
	if err != nil {
		t.Fatalf("documented ldap section does not load: %v\n%s", err, strings.Join(section, "\n"))
	}
	l := cfg.LDAP
	defaults := LDAP{}
	if err := defaults.UnmarshalYAML(func(any) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if l.Timeout != defaults.Timeout || l.CacheTTL != defaults.CacheTTL || l.UserSearch.Filter != defaults.UserSearch.Filter ||
		l.UserSearch.UsernameAttribute != defaults.UserSearch.UsernameAttribute || l.UserSearch.Scope != defaults.UserSearch.Scope ||
		l.GroupSearch.Filter != defaults.GroupSearch.Filter || l.GroupSearch.MemberAttribute != defaults.GroupSearch.MemberAttribute ||
		l.GroupSearch.MemberValue != defaults.GroupSearch.MemberValue || l.GroupSearch.NameAttribute != defaults.GroupSearch.NameAttribute ||
		l.GroupSearch.Nested || l.StartTLS || l.InsecureSkipVerify {
		t.Errorf("the example's optional values differ from the defaults:\nexample  %+v\ndefaults %+v", *l, defaults)
	}
}
