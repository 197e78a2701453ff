package token

import (
	"crypto"
	"crypto/x509"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

func TestGenerateKeyPair(t *testing.T) {
	tests := []struct {
		name    string
		alg     string
		bits    int
		wantAlg string
		wantErr string
	}{
		{name: "default RS256", alg: "", bits: 0, wantAlg: RS256},
		{name: "RS256 3072", alg: RS256, bits: 3072, wantAlg: RS256},
		{name: "ES256 ignores bits", alg: ES256, bits: 2048, wantAlg: ES256},
		{name: "ES384", alg: ES384, wantAlg: ES384},
		{name: "RSA too small", alg: RS256, bits: 1024, wantErr: "RSA size 1024 out of range"},
		{name: "RSA too large", alg: RS256, bits: 16384, wantErr: "out of range"},
		{name: "unknown alg", alg: "HS256", wantErr: `unsupported algorithm "HS256"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "keys")
			keyPath, certPath, jwksPath, err := GenerateKeyPair(dir, tt.alg, tt.bits, false)
			if endsInError(t, err, tt.wantErr) {
				if _, err := os.Stat(dir); err == nil {
					t.Error("directory created despite the error")
				}
				return
			}
			if keyPath != filepath.Join(dir, "token.key") || certPath != filepath.Join(dir, "token.crt") || jwksPath != filepath.Join(dir, "jwks.json") {
				t.Errorf("paths = %s %s %s", keyPath, certPath, jwksPath)
			}
			for p, mode := range map[string]os.FileMode{keyPath: 0o600, certPath: 0o644, jwksPath: 0o644} {
				fi, err := os.Stat(p)
				if err != nil {
					t.Fatal(err)
				}
				if fi.Mode().Perm() != mode {
					t.Errorf("%s mode = %v, want %v", p, fi.Mode().Perm(), mode)
				}
			}

			s, err := NewSigner(keyPath, certPath, "")
			if err != nil {
				t.Fatal(err)
			}
			if s.Algorithm() != tt.wantAlg {
				t.Errorf("Algorithm = %s, want %s", s.Algorithm(), tt.wantAlg)
			}
			if tt.bits != 0 && tt.alg == RS256 {
				if got := s.PublicKey().(interface{ Size() int }).Size() * 8; got != tt.bits {
					t.Errorf("RSA bits = %d, want %d", got, tt.bits)
				}
			}
			cert := s.Certificates()[0]
			if cert.Subject.CommonName != CertSubject || !cert.IsCA ||
				cert.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageCertSign ||
				time.Until(cert.NotAfter) < 9*365*24*time.Hour || cert.CheckSignatureFrom(cert) != nil {
				t.Errorf("certificate: CN %q IsCA %v KeyUsage %v NotAfter %v", cert.Subject.CommonName, cert.IsCA, cert.KeyUsage, cert.NotAfter)
			}

			// The jwks.json as registry 3.x reads it (go-jose).
			data, err := os.ReadFile(jwksPath)
			if err != nil {
				t.Fatal(err)
			}
			var set jose.JSONWebKeySet
			if err := json.Unmarshal(data, &set); err != nil {
				t.Fatal(err)
			}
			if len(set.Keys) != 1 {
				t.Fatalf("jwks has %d keys", len(set.Keys))
			}
			k := set.Keys[0]
			if k.KeyID != s.KID() || k.Algorithm != tt.wantAlg || k.Use != "sig" || len(k.Certificates) != 1 {
				t.Errorf("jwks key kid %q alg %q use %q certs %d; want kid %q", k.KeyID, k.Algorithm, k.Use, len(k.Certificates), s.KID())
			}
			if !s.PublicKey().(interface{ Equal(crypto.PublicKey) bool }).Equal(k.Key) {
				t.Error("jwks key differs from the signing key")
			}

			// Refuses to overwrite; force does.
			if _, _, _, err := GenerateKeyPair(dir, tt.alg, tt.bits, false); err == nil || !strings.Contains(err.Error(), "refusing to overwrite") {
				t.Errorf("second GenerateKeyPair: err = %v, want refusal", err)
			}
			if _, _, _, err := GenerateKeyPair(dir, tt.alg, tt.bits, true); err != nil {
				t.Fatalf("forced GenerateKeyPair: %v", err)
			}
			s2, err := NewSigner(keyPath, certPath, "")
			if err != nil {
				t.Fatal(err)
			}
			if s2.KID() == s.KID() {
				t.Error("forced GenerateKeyPair kept the old key")
			}
			leftovers, _ := filepath.Glob(filepath.Join(dir, ".*tmp*"))
			if len(leftovers) != 0 {
				t.Errorf("temporary files left: %v", leftovers)
			}
		})
	}
}

func TestEnsureKeyPair(t *testing.T) {
	dir := t.TempDir()
	keyPath := filepath.Join(dir, "data", "token.key")
	certPath := filepath.Join(dir, "data", "token.crt")

	created, err := EnsureKeyPair(keyPath, certPath)
	if err != nil || !created {
		t.Fatalf("first EnsureKeyPair = %v, %v; want created", created, err)
	}
	s1, err := NewSigner(keyPath, certPath, "")
	if err != nil {
		t.Fatal(err)
	}
	if s1.Algorithm() != RS256 || s1.PublicKey().(interface{ Size() int }).Size() != 256 {
		t.Errorf("generated %s key of %d bytes, want RSA-2048", s1.Algorithm(), s1.PublicKey().(interface{ Size() int }).Size())
	}
	if fi, _ := os.Stat(keyPath); fi.Mode().Perm() != 0o600 {
		t.Errorf("key mode = %v", fi.Mode().Perm())
	}

	tests := []struct {
		name        string
		prepare     func(t *testing.T)
		wantCreated bool
		wantErr     string
		wantSameKey bool
	}{
		{name: "present: nothing to do", prepare: func(t *testing.T) {}, wantSameKey: true},
		{name: "certificate missing: recreated from the key", prepare: func(t *testing.T) {
			if err := os.Remove(certPath); err != nil {
				t.Fatal(err)
			}
		}, wantCreated: true, wantSameKey: true},
		{name: "key missing but certificate present", prepare: func(t *testing.T) {
			if err := os.Rename(keyPath, keyPath+".bak"); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = os.Rename(keyPath+".bak", keyPath) })
		}, wantErr: "exists but its key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.prepare(t)
			created, err := EnsureKeyPair(keyPath, certPath)
			if endsInError(t, err, tt.wantErr) {
				return
			}
			if created != tt.wantCreated {
				t.Fatalf("EnsureKeyPair = %v, %v; want %v", created, err, tt.wantCreated)
			}
			s, err := NewSigner(keyPath, certPath, "")
			if err != nil {
				t.Fatal(err)
			}
			if (s.KID() == s1.KID()) != tt.wantSameKey {
				t.Errorf("key changed = %v", s.KID() != s1.KID())
			}
		})
	}

	// Key only (no certificate path).
	keyOnly := filepath.Join(dir, "solo.key")
	if created, err := EnsureKeyPair(keyOnly, ""); err != nil || !created {
		t.Fatalf("EnsureKeyPair(key only) = %v, %v", created, err)
	}
	if created, err := EnsureKeyPair(keyOnly, ""); err != nil || created {
		t.Fatalf("second EnsureKeyPair(key only) = %v, %v", created, err)
	}
}
