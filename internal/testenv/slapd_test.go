//go:build integration

package testenv

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
)

func TestSlapdFixturesAndRestart(t *testing.T) {
	s := NewSlapd(t)
	count := func(base, filter string) int {
		t.Helper()
		res, err := s.Root(t).Search(ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
			0, 0, false, filter, []string{"dn"}, nil))
		if err != nil {
			t.Fatalf("search %s: %v", filter, err)
		}
		return len(res.Entries)
	}
	if n := count("ou=groups,ou=many,"+LDAPSuffix, "(member=uid=many,ou=people,ou=many,"+LDAPSuffix+")"); n != ManyGroups {
		t.Fatalf("many is in %d groups, want %d", n, ManyGroups)
	}
	if n := count(LDAPSuffix, `(uid=we\2air\28d\29\5cuser)`); n != 1 {
		t.Fatalf("weird user found %d times", n)
	}
	port := s.Port
	s.Stop()
	s.Stop() // idempotent
	if _, err := ldap.DialURL(s.URL(), ldap.DialWithDialer(&net.Dialer{Timeout: time.Second})); err == nil {
		t.Fatal("slapd still answers after Stop")
	}
	if err := s.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if s.Port != port {
		t.Errorf("port changed: %d -> %d", port, s.Port)
	}
	if n := count("ou=logins,"+LDAPSuffix, "(uid=alice)"); n != 1 {
		t.Fatalf("data lost across restart: alice found %d times", n)
	}
}

func TestSlapdTLS(t *testing.T) {
	s := Slapd(t)
	pool := func(file string) *x509.CertPool {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		p := x509.NewCertPool()
		p.AppendCertsFromPEM(b)
		return p
	}
	tests := []struct {
		name    string
		url     string
		starTLS bool
		ca      string
		wantErr bool
	}{
		{name: "ldaps trusted", url: s.TLSURL(), ca: s.CAFile},
		{name: "starttls trusted", url: s.URL(), starTLS: true, ca: s.CAFile},
		{name: "ldaps untrusted", url: s.TLSURL(), ca: s.OtherCAFile, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := &tls.Config{RootCAs: pool(tt.ca), ServerName: "localhost", MinVersion: tls.VersionTLS12}
			if tt.starTLS {
				cfg.ServerName = "127.0.0.1"
			}
			c, err := ldap.DialURL(tt.url, ldap.DialWithTLSConfig(cfg), ldap.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}))
			if err == nil && tt.starTLS {
				err = c.StartTLS(cfg)
			}
			if err == nil {
				err = c.Bind(LDAPSearchDN, LDAPSearchPassword)
				c.Close()
			}
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error: %t", err, tt.wantErr)
			}
		})
	}
}
