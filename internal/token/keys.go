package token

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"time"
)

// Signing algorithms this package produces. Registry v2.8 accepts only
// RS/ES 256/384/512, so nothing else (no PS*, no EdDSA) is offered.
const (
	RS256 = "RS256"
	ES256 = "ES256"
	ES384 = "ES384"
	ES512 = "ES512"
)

// MinRSABits is the smallest RSA modulus accepted, when loading or generating.
const MinRSABits = 2048

// LoadPrivateKey reads the first private key in the PEM file at path.
// Accepted blocks: "RSA PRIVATE KEY" (PKCS#1), "PRIVATE KEY" (PKCS#8, RSA or
// ECDSA) and "EC PRIVATE KEY" (SEC1). Other blocks (EC PARAMETERS,
// CERTIFICATE) are skipped, so a combined key+certificate file works too.
// Encrypted keys, Ed25519 keys, RSA keys shorter than MinRSABits and curves
// other than P-256/P-384/P-521 are rejected.
func LoadPrivateKey(path string) (crypto.Signer, error) {
	return loadPEM(path, "private key", ParsePrivateKeyPEM)
}

// loadPEM reads the file at path and parses it; errors name the file.
func loadPEM[T any](path, what string, parse func([]byte) (T, error)) (T, error) {
	var zero T
	data, err := os.ReadFile(path)
	if err != nil {
		return zero, fmt.Errorf("token: read %s: %w", what, err)
	}
	v, err := parse(data)
	if err != nil {
		return zero, fmt.Errorf("%w (file %s)", err, path)
	}
	return v, nil
}

// ParsePrivateKeyPEM is LoadPrivateKey on bytes already in memory.
func ParsePrivateKeyPEM(data []byte) (crypto.Signer, error) {
	rest := data
	sawPEM := false
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		sawPEM = true
		var (
			key any
			err error
		)
		switch block.Type {
		case "RSA PRIVATE KEY":
			if _, encrypted := block.Headers["DEK-Info"]; encrypted {
				return nil, errors.New("token: parse private key: encrypted PEM keys are not supported")
			}
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			if _, encrypted := block.Headers["DEK-Info"]; encrypted {
				return nil, errors.New("token: parse private key: encrypted PEM keys are not supported")
			}
			key, err = x509.ParseECPrivateKey(block.Bytes)
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			return nil, errors.New("token: parse private key: encrypted PKCS#8 keys are not supported")
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("token: parse private key (%s block): %w", block.Type, err)
		}
		signer, ok := key.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("token: parse private key: unsupported key type %T", key)
		}
		if _, err := algorithmFor(signer.Public()); err != nil {
			return nil, err
		}
		return signer, nil
	}
	if !sawPEM {
		return nil, errors.New("token: parse private key: no PEM data found")
	}
	return nil, errors.New("token: parse private key: no private key block (want RSA PRIVATE KEY, EC PRIVATE KEY or PRIVATE KEY)")
}

// LoadCertificates reads every CERTIFICATE block of the PEM file at path, in
// file order (leaf first, then intermediates). Other blocks are skipped.
func LoadCertificates(path string) ([]*x509.Certificate, error) {
	return loadPEM(path, "certificate", ParseCertificatesPEM)
}

// ParseCertificatesPEM is LoadCertificates on bytes already in memory.
func ParseCertificatesPEM(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("token: parse certificate %d: %w", len(certs)+1, err)
		}
		certs = append(certs, cert)
	}
	if len(certs) == 0 {
		return nil, errors.New("token: parse certificate: no CERTIFICATE block found")
	}
	return certs, nil
}

// CertBundlePEM encodes certs as concatenated PEM CERTIFICATE blocks, the
// format of the registry's auth.token.rootcertbundle file.
func CertBundlePEM(certs ...*x509.Certificate) []byte {
	var buf bytes.Buffer
	for _, c := range certs {
		_ = pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return buf.Bytes()
}

// checkChain verifies that the leaf (certs[0]) holds the public key of key
// and that every certificate is valid at now: the registry verifies the x5c
// chain with x509.Verify, so an expired certificate makes every token fail.
func checkChain(key crypto.Signer, certs []*x509.Certificate, now time.Time) error {
	if len(certs) == 0 {
		return nil
	}
	leaf := certs[0]
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(leaf.PublicKey) {
		return fmt.Errorf("token: certificate %q does not match the private key (the certificate for the signing key must come first in the file)", leaf.Subject.String())
	}
	for _, c := range certs {
		if now.After(c.NotAfter) {
			return fmt.Errorf("token: certificate %q expired at %s", c.Subject.String(), c.NotAfter.UTC().Format(time.RFC3339))
		}
		if now.Before(c.NotBefore) {
			return fmt.Errorf("token: certificate %q is not valid before %s", c.Subject.String(), c.NotBefore.UTC().Format(time.RFC3339))
		}
	}
	return nil
}

// algorithmFor returns the JWS algorithm for a public key: RSA → RS256,
// P-256 → ES256, P-384 → ES384, P-521 → ES512.
func algorithmFor(pub crypto.PublicKey) (string, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < MinRSABits {
			return "", fmt.Errorf("token: RSA key has %d bits, need at least %d", k.N.BitLen(), MinRSABits)
		}
		return RS256, nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return ES256, nil
		case elliptic.P384():
			return ES384, nil
		case elliptic.P521():
			return ES512, nil
		}
		return "", fmt.Errorf("token: unsupported elliptic curve %s (want P-256, P-384 or P-521)", k.Curve.Params().Name)
	default:
		return "", fmt.Errorf("token: unsupported key type %T (want RSA or ECDSA)", pub)
	}
}

// hashFor returns the digest for a JWS algorithm.
func hashFor(alg string) crypto.Hash {
	switch alg {
	case ES384:
		return crypto.SHA384
	case ES512:
		return crypto.SHA512
	default:
		return crypto.SHA256
	}
}
