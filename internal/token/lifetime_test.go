package token

import (
	"crypto/x509"
	"testing"
	"time"
)

// IssueFor gives a token the lifetime asked (a push token's, a robot's
// own), at least MinLifetime, the issuer's for 0, capped by notAfter.
func TestIssueFor(t *testing.T) {
	s := mustSigner(t, testKey(t, RS256), []*x509.Certificate{selfSigned(t, testKey(t, RS256))}, "")
	iss := NewIssuer(s, "i", "s", 30*time.Minute)
	tests := []struct {
		name     string
		lifetime time.Duration
		notAfter time.Time
		want     int
	}{
		{"issuer's", 0, time.Time{}, 1800},
		{"push", 2 * time.Hour, time.Time{}, 7200},
		{"fraction of a second dropped", 90*time.Second + 500*time.Millisecond, time.Time{}, 90},
		{"at least a minute", 10 * time.Second, time.Time{}, 60},
		{"capped by the credential", 2 * time.Hour, time.Now().Add(10 * time.Minute), 600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := iss.IssueFor("jti", "u", nil, tt.lifetime, tt.notAfter)
			if err != nil {
				t.Fatal(err)
			}
			if got := tok.ExpiresIn(); got < tt.want-1 || got > tt.want {
				t.Errorf("ExpiresIn %d, want %d", got, tt.want)
			}
		})
	}
}
