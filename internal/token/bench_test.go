package token

import (
	"crypto"
	"crypto/x509"
	"testing"
	"time"
)

func benchmarkSign(b *testing.B, alg string) { benchmarkSignWith(b, testKey(b, alg)) }

func benchmarkSignWith(b *testing.B, key crypto.Signer) {
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

// BenchmarkSignRS256Harbor4096 issues one token with an RSA-4096 key, the
// size of Harbor's own token key: what keeping a key imported from Harbor
// costs.
func BenchmarkSignRS256Harbor4096(b *testing.B) {
	key, err := newKey(RS256, 4096)
	if err != nil {
		b.Fatal(err)
	}
	benchmarkSignWith(b, key)
}
