package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
)

// JWK is one public key of a JWKS document (RFC 7517), as served at
// GET /.well-known/jwks.json and as read by registry 3.x's auth.token.jwks.
type JWK struct {
	Kty string `json:"kty"`           // "RSA" or "EC"
	Use string `json:"use"`           // always "sig"
	Alg string `json:"alg"`           // RS256, ES256, ES384 or ES512
	Kid string `json:"kid"`           // the kid tokens signed by this key carry
	N   string `json:"n,omitempty"`   // RSA modulus, base64url
	E   string `json:"e,omitempty"`   // RSA exponent, base64url
	Crv string `json:"crv,omitempty"` // EC curve: P-256, P-384, P-521
	X   string `json:"x,omitempty"`   // EC x, base64url, padded to the curve size
	Y   string `json:"y,omitempty"`   // EC y, base64url, padded to the curve size
	// X5c is the certificate chain, standard base64 DER, leaf first.
	X5c []string `json:"x5c,omitempty"`
}

// JWKSet is a JWKS document: {"keys":[...]}.
type JWKSet struct {
	Keys []JWK `json:"keys"`
}

// NewJWK describes pub with the given kid; certs (optional, leaf first) fill
// x5c and must start with pub's certificate.
func NewJWK(pub crypto.PublicKey, kid string, certs []*x509.Certificate) (JWK, error) {
	alg, err := algorithmFor(pub)
	if err != nil {
		return JWK{}, err
	}
	k := JWK{Use: "sig", Alg: alg, Kid: kid}
	switch p := pub.(type) {
	case *rsa.PublicKey:
		k.Kty, k.N, k.E = "RSA", b64u(p.N.Bytes()), b64u(big.NewInt(int64(p.E)).Bytes())
	case *ecdsa.PublicKey:
		crv, x, y, err := ecCoordinates(p)
		if err != nil {
			return JWK{}, err
		}
		k.Kty, k.Crv, k.X, k.Y = "EC", crv, b64u(x), b64u(y)
	}
	if len(certs) > 0 {
		if eq, ok := pub.(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(certs[0].PublicKey) {
			return JWK{}, errors.New("token: jwk: certificate does not match the public key")
		}
		for _, c := range certs {
			k.X5c = append(k.X5c, base64.StdEncoding.EncodeToString(c.Raw))
		}
	}
	return k, nil
}

// JWKFromCertificate describes the key of cert (e.g. a rotated-out signing
// certificate still trusted by the registry) with the kid of kidMode.
func JWKFromCertificate(cert *x509.Certificate, kidMode KIDMode) (JWK, error) {
	kid, err := KIDFor(cert.PublicKey, kidMode)
	if err != nil {
		return JWK{}, err
	}
	return NewJWK(cert.PublicKey, kid, []*x509.Certificate{cert})
}

// JWK describes the signer's key: its kid, alg and certificate chain.
func (s *Signer) JWK() JWK {
	k := s.jwk
	k.X5c = append([]string(nil), k.X5c...)
	return k
}

// JWKS returns the JSON JWKS document of the given signers, in order,
// skipping repeated kids.
func JWKS(signers ...*Signer) ([]byte, error) {
	set := JWKSet{Keys: []JWK{}}
	for _, s := range signers {
		set.add(s.JWK())
	}
	return set.marshal()
}

// JWKS returns the JSON JWKS document for GET /.well-known/jwks.json: the
// current signer's key first, then one entry per extra certificate (e.g.
// rotated-out signing certificates whose tokens may still be in use), with
// the current signer's kid mode. Duplicate keys are listed once. With no
// argument it lists the current key only.
func (i *Issuer) JWKS(extra ...*x509.Certificate) ([]byte, error) {
	set := JWKSet{Keys: []JWK{}}
	s := i.signer.Load()
	mode := KIDThumbprint
	if s != nil {
		set.add(s.JWK())
		mode = s.kidMode
	}
	for _, c := range extra {
		k, err := JWKFromCertificate(c, mode)
		if err != nil {
			return nil, fmt.Errorf("token: jwks: certificate %q: %w", c.Subject.String(), err)
		}
		set.add(k)
	}
	return set.marshal()
}

func (set *JWKSet) add(k JWK) {
	for _, have := range set.Keys {
		if have.Kid == k.Kid {
			return
		}
	}
	set.Keys = append(set.Keys, k)
}

func (set *JWKSet) marshal() ([]byte, error) {
	b, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("token: jwks: %w", err)
	}
	return b, nil
}
