package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/authserver/authserver/internal/atomicfile"
)

// Files written by GenerateKeyPair, and the generated certificate's shape.
const (
	KeyFile      = "token.key"
	CertFile     = "token.crt"
	JWKSFile     = "jwks.json"
	CertSubject  = "authserver token signer"
	CertValidity = 10 * 365 * 24 * time.Hour
	// DefaultRSABits is the RSA size used when bits is 0.
	DefaultRSABits = 2048
	maxRSABits     = 8192
)

// GenerateKeyPair creates a signing key for `authserver keygen`:
//   - DIR/token.key: PEM PKCS#8 private key, mode 0600;
//   - DIR/token.crt: self-signed certificate of that key (CN "authserver
//     token signer", valid 10 years, KeyUsage DigitalSignature|CertSign,
//     IsCA, so it can serve as the registry's rootcertbundle);
//   - DIR/jwks.json: JWKS of the public key, kid = RFC 7638 thumbprint
//     (registry 3.x auth.token.jwks).
//
// alg is RS256 (default when ""), ES256, ES384 or ES512; bits is the RSA
// size (0 = 2048, at least 2048, at most 8192) and is ignored for EC (the
// curve fixes the size, so a CLI default of 2048 does no harm). DIR is
// created (0700) if missing. Unless force is set, it refuses to overwrite
// any of the three files.
func GenerateKeyPair(dir, alg string, bits int, force bool) (keyPath, certPath, jwksPath string, err error) {
	keyPath = filepath.Join(dir, KeyFile)
	certPath = filepath.Join(dir, CertFile)
	jwksPath = filepath.Join(dir, JWKSFile)
	if !force {
		for _, p := range []string{keyPath, certPath, jwksPath} {
			if _, err := os.Lstat(p); err == nil {
				return "", "", "", fmt.Errorf("token: keygen: %s already exists; refusing to overwrite it (use --force)", p)
			} else if !errors.Is(err, fs.ErrNotExist) {
				return "", "", "", fmt.Errorf("token: keygen: %w", err)
			}
		}
	}
	key, err := newKey(alg, bits)
	if err != nil {
		return "", "", "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", "", fmt.Errorf("token: keygen: %w", err)
	}
	cert, err := SelfSignedCertificate(key)
	if err != nil {
		return "", "", "", err
	}
	s, err := NewSignerFromKey(key, []*x509.Certificate{cert}, KIDThumbprint)
	if err != nil {
		return "", "", "", err
	}
	jwks, err := JWKS(s)
	if err != nil {
		return "", "", "", err
	}
	if err := writeKey(keyPath, key); err != nil {
		return "", "", "", err
	}
	if err := writeFileAtomic(certPath, CertBundlePEM(cert), 0o644); err != nil {
		return "", "", "", err
	}
	if err := writeFileAtomic(jwksPath, append(jwks, '\n'), 0o644); err != nil {
		return "", "", "", err
	}
	return keyPath, certPath, jwksPath, nil
}

// EnsureKeyPair prepares the embedded default's key on first start. When
// keyPath is missing it generates an RSA-2048 key there (0600) and, when
// certPath is not empty, its self-signed certificate; created is then true.
// When the key exists it is left alone, except that a missing certificate
// is (re)created from it. A certificate without its key is an error: the
// registry may trust it, so it is not silently replaced.
func EnsureKeyPair(keyPath, certPath string) (created bool, err error) {
	keyExists, err := exists(keyPath)
	if err != nil {
		return false, err
	}
	certExists := true
	if certPath != "" {
		if certExists, err = exists(certPath); err != nil {
			return false, err
		}
	}
	var key crypto.Signer
	switch {
	case keyExists && certExists:
		return false, nil
	case keyExists:
		if key, err = LoadPrivateKey(keyPath); err != nil {
			return false, err
		}
	case certExists && certPath != "":
		return false, fmt.Errorf("token: ensure key: certificate %s exists but its key %s does not; restore the key or remove the certificate", certPath, keyPath)
	default:
		if key, err = newKey(RS256, DefaultRSABits); err != nil {
			return false, err
		}
		if err := os.MkdirAll(filepath.Dir(keyPath), 0o700); err != nil {
			return false, fmt.Errorf("token: ensure key: %w", err)
		}
		if err := writeKey(keyPath, key); err != nil {
			return false, err
		}
	}
	if certPath != "" {
		cert, err := SelfSignedCertificate(key)
		if err != nil {
			return true, err
		}
		if err := os.MkdirAll(filepath.Dir(certPath), 0o755); err != nil {
			return true, fmt.Errorf("token: ensure key: %w", err)
		}
		if err := writeFileAtomic(certPath, CertBundlePEM(cert), 0o644); err != nil {
			return true, err
		}
	}
	return true, nil
}

// SelfSignedCertificate returns a self-signed CA certificate for key (CN
// CertSubject, valid from one hour ago for CertValidity): put it in the
// registry's rootcertbundle to trust tokens carrying it in x5c.
func SelfSignedCertificate(key crypto.Signer) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("token: certificate serial: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: CertSubject},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(CertValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("token: create certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("token: create certificate: %w", err)
	}
	return cert, nil
}

// newKey generates a key for alg. EC keys are drawn until neither
// coordinate starts with a zero byte: registry 3.x computes the thumbprint
// of rootcertbundle keys without padding, and such keys would get a
// different kid there than the RFC 7638 one we put in tokens.
func newKey(alg string, bits int) (crypto.Signer, error) {
	var curve elliptic.Curve
	switch alg {
	case "", RS256:
		if bits == 0 {
			bits = DefaultRSABits
		}
		if bits < MinRSABits || bits > maxRSABits {
			return nil, fmt.Errorf("token: keygen: RSA size %d out of range [%d, %d]", bits, MinRSABits, maxRSABits)
		}
		k, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			return nil, fmt.Errorf("token: keygen: %w", err)
		}
		return k, nil
	case ES256:
		curve = elliptic.P256()
	case ES384:
		curve = elliptic.P384()
	case ES512:
		curve = elliptic.P521()
	default:
		return nil, fmt.Errorf("token: keygen: unsupported algorithm %q (want RS256, ES256, ES384 or ES512)", alg)
	}
	for {
		k, err := ecdsa.GenerateKey(curve, rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("token: keygen: %w", err)
		}
		_, x, y, err := ecCoordinates(&k.PublicKey)
		if err != nil {
			return nil, err
		}
		if x[0] != 0 && y[0] != 0 {
			return k, nil
		}
	}
}

func writeKey(path string, key crypto.Signer) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("token: encode private key: %w", err)
	}
	return writeFileAtomic(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
}

// writeFileAtomic writes path so that readers never see a partial file
// (internal/atomicfile).
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	if err := atomicfile.Write(path, data, perm); err != nil {
		return fmt.Errorf("token: %w", err)
	}
	return nil
}

func exists(path string) (bool, error) {
	_, err := os.Stat(path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	default:
		return false, fmt.Errorf("token: %w", err)
	}
}
