package config

import (
	"strings"
	"testing"
)

func TestWarnings(t *testing.T) {
	t.Setenv("PGSSLMODE", "")
	t.Setenv("AS_PW", "s3cret-pw")
	tests := []struct {
		name string
		yaml string
		want []string // substrings, one warning each; none when empty
	}{
		{name: "embedded default", yaml: ""},
		{name: "ldap plain", yaml: "ldap: {url: ldap://dir.example.org, user_search: {base_dn: 'dc=x'}, group_search: {base_dn: 'dc=x'}}",
			want: []string{"ldap.url ldap://dir.example.org without start_tls"}},
		{name: "ldap starttls", yaml: "ldap: {url: ldap://dir.example.org, start_tls: true, user_search: {base_dn: 'dc=x'}, group_search: {base_dn: 'dc=x'}}"},
		{name: "ldaps", yaml: "ldap: {url: ldaps://dir.example.org, user_search: {base_dn: 'dc=x'}, group_search: {base_dn: 'dc=x'}}"},
		{name: "pg url require", yaml: "storage: {driver: postgres, dsn: 'postgres://u:${AS_PW}@db.example:5432/a?sslmode=require'}",
			want: []string{"sslmode=require does not verify the PostgreSQL server db.example"}},
		{name: "pg url default mode", yaml: "storage: {driver: postgres, dsn: 'postgres://u:${AS_PW}@db.example/a'}",
			want: []string{"sslmode=prefer (the default)"}},
		{name: "pg url verify-full", yaml: "storage: {driver: postgres, dsn: 'postgres://u:${AS_PW}@db.example/a?sslmode=verify-full&sslrootcert=/ca.pem'}"},
		{name: "pg url verify-ca", yaml: "storage: {driver: postgres, dsn: 'postgresql://u@db.example/a?sslmode=verify-ca'}"},
		{name: "pg url loopback", yaml: "storage: {driver: postgres, dsn: 'postgres://u:${AS_PW}@127.0.0.1:5432/a?sslmode=disable'}"},
		{name: "pg url localhost v6", yaml: "storage: {driver: postgres, dsn: 'postgres://u@[::1]:5432/a?sslmode=disable'}"},
		{name: "pg url socket via host param", yaml: "storage: {driver: postgres, dsn: 'postgres://u@/a?host=/var/run/postgresql&sslmode=disable'}"},
		{name: "oidc on http", yaml: "server: {public_url: 'http://auth.example.org'}\noidc: {issuer: 'https://sso.example.org', client_id: a}",
			want: []string{"oidc: server.public_url http://auth.example.org is not https"}},
		{name: "oidc on https", yaml: "server: {public_url: 'https://auth.example.org'}\noidc: {issuer: 'https://sso.example.org', client_id: a}"},
		{name: "oidc on loopback http", yaml: "server: {public_url: 'http://127.0.0.1:5001'}\noidc: {issuer: 'https://sso.example.org', client_id: a}"},
		{name: "pg url multi-host, one remote", yaml: "storage: {driver: postgres, dsn: 'postgres://u@localhost:5432,db2.example:5432/a?sslmode=disable'}",
			want: []string{"server db2.example"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			got := c.Warnings()
			if len(got) != len(tt.want) {
				t.Fatalf("warnings %q, want %d", got, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Fatalf("warning %q does not say %q", got[i], w)
				}
				if strings.Contains(got[i], "s3cret-pw") {
					t.Fatalf("warning %q holds the password", got[i])
				}
			}
		})
	}
}

// TestPostgresKeyValueDSN covers libpq's key=value form, which Validate
// does not accept for storage.dsn today but the check reads anyway.
func TestPostgresKeyValueDSN(t *testing.T) {
	t.Setenv("PGSSLMODE", "")
	tests := []struct {
		name, dsn string
		warn      string // substring; "" for none
	}{
		{name: "remote disable", dsn: "host=db.example user=u password='a b\\' c' sslmode=disable", warn: "sslmode=disable"},
		{name: "remote no mode", dsn: "host = db.example dbname=a", warn: "prefer"},
		{name: "remote verify-full", dsn: "host=db.example sslmode=verify-full"},
		{name: "socket", dsn: "host=/tmp dbname=a"},
		{name: "no host", dsn: "dbname=a sslmode=disable"},
		{name: "loopback", dsn: "host=127.0.0.1 sslmode=disable"},
		{name: "unreadable", dsn: "host='db.example", warn: "cannot be read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := postgresTLSWarning(tt.dsn)
			if (tt.warn == "") != (got == "") || !strings.Contains(got, tt.warn) {
				t.Fatalf("warning %q, want one saying %q", got, tt.warn)
			}
			if strings.Contains(got, "a b") {
				t.Fatalf("warning %q holds the password", got)
			}
		})
	}
	t.Setenv("PGSSLMODE", "verify-full")
	if got := postgresTLSWarning("postgres://u@db.example/a"); got != "" {
		t.Fatalf("PGSSLMODE=verify-full ignored: %q", got)
	}
}
