//go:build integration

package ldap_test

import (
	"testing"
	"time"

	"github.com/authserver/authserver/internal/testenv"
)

// BenchmarkLDAPColdLogin200Groups is a login of a user in 200 groups with
// the cache off, against the local slapd: search user, bind, one group
// search on pooled connections. It reports round trips per login.
func BenchmarkLDAPColdLogin200Groups(b *testing.B) {
	l := newLDAP(b, ldapConfig(testenv.Slapd(b), "many"))
	if _, ok, err := l.Authenticate(b.Context(), "many", "many-pw"); !ok || err != nil {
		b.Fatalf("warm-up login: %t, %v", ok, err)
	}
	before := requests(l)
	b.ResetTimer()
	for b.Loop() {
		u, ok, err := l.Authenticate(b.Context(), "many", "many-pw")
		if !ok || err != nil || len(u.Groups) != testenv.ManyGroups {
			b.Fatalf("login: %t, %v, %d groups", ok, err, len(u.Groups))
		}
	}
	b.ReportMetric(float64(requests(l)-before)/float64(b.N), "roundtrips/op")
}

// BenchmarkLDAPCachedLogin is the same login answered from the cache.
func BenchmarkLDAPCachedLogin(b *testing.B) {
	l := newLDAP(b, ldapConfig(testenv.Slapd(b), "many", withCache(time.Hour)))
	if _, ok, err := l.Authenticate(b.Context(), "many", "many-pw"); !ok || err != nil {
		b.Fatalf("warm-up login: %t, %v", ok, err)
	}
	before := requests(l)
	b.ResetTimer()
	for b.Loop() {
		if u, ok, err := l.Authenticate(b.Context(), "many", "many-pw"); !ok || err != nil || !u.Cached {
			b.Fatalf("login: %t, %v, cached %t", ok, err, u.Cached)
		}
	}
	b.ReportMetric(float64(requests(l)-before)/float64(b.N), "roundtrips/op")
}
