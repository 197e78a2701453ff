package token

import (
	"crypto/x509"
	"testing"
	"time"
)

func benchmarkSign(b *testing.B, alg string) {
	key := testKey(b, alg)
	s := mustSigner(b, key, []*x509.Certificate{selfSigned(b, key)}, "")
	iss := NewIssuer(s, testIssuer, testService, 5*time.Minute)
	access := []ResourceActions{{Type: "repository", Name: "library/alpine", Actions: []string{"pull", "push"}}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := iss.Issue("alice", access); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignRS256 issues one RSA-2048 token with one access entry.
func BenchmarkSignRS256(b *testing.B) { benchmarkSign(b, RS256) }

// BenchmarkSignES256 issues one P-256 token with one access entry.
func BenchmarkSignES256(b *testing.B) { benchmarkSign(b, ES256) }
