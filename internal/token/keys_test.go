package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"testing"
	"time"
)

func TestParsePrivateKeyPEM(t *testing.T) {
	rsaKey := testKey(t, RS256).(*rsa.PrivateKey)
	ecKey := testKey(t, ES256).(*ecdsa.PrivateKey)
	p384 := testKey(t, ES384).(*ecdsa.PrivateKey)
	pkcs8 := func(k any) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	sec1, err := x509.MarshalECPrivateKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	p224, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	p224der, err := x509.MarshalECPrivateKey(p224)
	if err != nil {
		t.Fatal(err)
	}
	cert := pemBytes("CERTIFICATE", selfSigned(t, rsaKey).Raw)
	// `openssl ecparam -genkey` writes EC PARAMETERS before the key.
	ecParams := pemBytes("EC PARAMETERS", []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07})

	tests := []struct {
		name    string
		data    []byte
		wantAlg string
		wantErr string
	}{
		{name: "PKCS#1 RSA", data: pemBytes("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey)), wantAlg: RS256},
		{name: "PKCS#8 RSA", data: pemBytes("PRIVATE KEY", pkcs8(rsaKey)), wantAlg: RS256},
		{name: "PKCS#8 EC P-256", data: pemBytes("PRIVATE KEY", pkcs8(ecKey)), wantAlg: ES256},
		{name: "PKCS#8 EC P-384", data: pemBytes("PRIVATE KEY", pkcs8(p384)), wantAlg: ES384},
		{name: "SEC1 EC", data: pemBytes("EC PRIVATE KEY", sec1), wantAlg: ES256},
		{name: "SEC1 after EC PARAMETERS", data: append(ecParams, pemBytes("EC PRIVATE KEY", sec1)...), wantAlg: ES256},
		{name: "certificate then key", data: append(cert, pemBytes("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey))...), wantAlg: RS256},
		{name: "garbage", data: []byte("not a key"), wantErr: "no PEM data"},
		{name: "empty", data: nil, wantErr: "no PEM data"},
		{name: "certificate only", data: cert, wantErr: "no private key block"},
		{name: "corrupt DER", data: pemBytes("RSA PRIVATE KEY", []byte{1, 2, 3}), wantErr: "parse private key (RSA PRIVATE KEY block)"},
		{name: "encrypted PKCS#8", data: pemBytes("ENCRYPTED PRIVATE KEY", []byte{1}), wantErr: "encrypted"},
		{name: "RSA 1024", data: pemBytes("PRIVATE KEY", pkcs8(small)), wantErr: "1024 bits, need at least 2048"},
		{name: "Ed25519", data: pemBytes("PRIVATE KEY", pkcs8(edKey)), wantErr: "unsupported key type"},
		{name: "P-224", data: pemBytes("EC PRIVATE KEY", p224der), wantErr: "unsupported elliptic curve P-224"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := ParsePrivateKeyPEM(tt.data)
			if endsInError(t, err, tt.wantErr) {
				return
			}
			alg, err := algorithmFor(key.Public())
			if err != nil || alg != tt.wantAlg {
				t.Errorf("alg = %q (%v), want %q", alg, err, tt.wantAlg)
			}
		})
	}
}

func TestNewSigner(t *testing.T) {
	dir := t.TempDir()
	rsaKey, ecKey := testKey(t, RS256), testKey(t, ES256)
	rsaKeyPath := writeFile(t, dir, "rsa.key", pemBytes("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey.(*rsa.PrivateKey))))
	sec1, _ := x509.MarshalECPrivateKey(ecKey.(*ecdsa.PrivateKey))
	ecKeyPath := writeFile(t, dir, "ec.key", pemBytes("EC PRIVATE KEY", sec1))
	rsaCert := selfSigned(t, rsaKey)
	rsaCertPath := writeFile(t, dir, "rsa.crt", CertBundlePEM(rsaCert))
	ecCertPath := writeFile(t, dir, "ec.crt", CertBundlePEM(selfSigned(t, ecKey)))
	_, inter, leaf := testChain(t, rsaKey)
	chainPath := writeFile(t, dir, "chain.crt", CertBundlePEM(leaf, inter))
	reversedPath := writeFile(t, dir, "reversed.crt", CertBundlePEM(inter, leaf))
	expired := issueCertSelf(t, "old", rsaKey, time.Now().Add(-time.Hour))
	expiredPath := writeFile(t, dir, "expired.crt", CertBundlePEM(expired))
	garbagePath := writeFile(t, dir, "garbage.crt", []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	textPath := writeFile(t, dir, "text.crt", []byte("hello"))

	tpRSA, _ := ThumbprintKID(rsaKey.Public())
	ltRSA, _ := LibtrustKID(rsaKey.Public())
	tpEC, _ := ThumbprintKID(ecKey.Public())

	tests := []struct {
		name      string
		key, cert string
		mode      KIDMode
		wantAlg   string
		wantKID   string
		wantCerts int
		wantErr   string
	}{
		{name: "RSA with cert", key: rsaKeyPath, cert: rsaCertPath, wantAlg: RS256, wantKID: tpRSA, wantCerts: 1},
		{name: "RSA no cert", key: rsaKeyPath, wantAlg: RS256, wantKID: tpRSA},
		{name: "RSA libtrust", key: rsaKeyPath, cert: rsaCertPath, mode: KIDLibtrust, wantAlg: RS256, wantKID: ltRSA, wantCerts: 1},
		{name: "RSA chain", key: rsaKeyPath, cert: chainPath, wantAlg: RS256, wantKID: tpRSA, wantCerts: 2},
		{name: "EC with cert", key: ecKeyPath, cert: ecCertPath, mode: KIDThumbprint, wantAlg: ES256, wantKID: tpEC, wantCerts: 1},
		{name: "mismatched key and cert", key: rsaKeyPath, cert: ecCertPath, wantErr: "does not match the private key"},
		{name: "leaf not first", key: rsaKeyPath, cert: reversedPath, wantErr: "does not match the private key"},
		{name: "expired cert", key: rsaKeyPath, cert: expiredPath, wantErr: "expired at"},
		{name: "garbage cert", key: rsaKeyPath, cert: garbagePath, wantErr: "parse certificate 1"},
		{name: "no cert block", key: rsaKeyPath, cert: textPath, wantErr: "no CERTIFICATE block"},
		{name: "garbage key", key: textPath, wantErr: "no PEM data found"},
		{name: "missing key", key: dir + "/nope.key", wantErr: "read private key"},
		{name: "missing cert", key: rsaKeyPath, cert: dir + "/nope.crt", wantErr: "read certificate"},
		{name: "unknown kid mode", key: rsaKeyPath, mode: "jku", wantErr: "unknown kid mode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewSigner(tt.key, tt.cert, tt.mode)
			if endsInError(t, err, tt.wantErr) {
				return
			}
			if s.Algorithm() != tt.wantAlg {
				t.Errorf("Algorithm = %q, want %q", s.Algorithm(), tt.wantAlg)
			}
			if s.KID() != tt.wantKID {
				t.Errorf("KID = %q, want %q", s.KID(), tt.wantKID)
			}
			if len(s.Certificates()) != tt.wantCerts {
				t.Errorf("len(Certificates) = %d, want %d", len(s.Certificates()), tt.wantCerts)
			}
			k, _ := LoadPrivateKey(tt.key)
			if pub, ok := s.PublicKey().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(k.Public()) {
				t.Error("PublicKey does not match the key file")
			}
		})
	}
}

func TestCertBundlePEM(t *testing.T) {
	_, inter, leaf := testChain(t, testKey(t, RS256))
	got, err := ParseCertificatesPEM(CertBundlePEM(leaf, inter))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !got[0].Equal(leaf) || !got[1].Equal(inter) {
		t.Errorf("round trip lost certificates or order")
	}
	if len(CertBundlePEM()) != 0 {
		t.Error("CertBundlePEM() not empty")
	}
}
