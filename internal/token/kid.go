package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"math/big"
	"strings"
)

// KIDMode says which `kid` the token header and the JWKS carry (token.kid).
type KIDMode string

// Key ID modes.
const (
	// KIDThumbprint is the RFC 7638 JWK thumbprint (SHA-256, base64url, no
	// padding, 43 characters): what registry 3.x looks up. The default.
	KIDThumbprint KIDMode = "thumbprint"
	// KIDLibtrust is the libtrust key ID (48 characters in 12 groups of 4
	// joined by ':'): what registry 2.x looks up.
	KIDLibtrust KIDMode = "libtrust"
)

// ParseKIDMode reads a token.kid value ("" means KIDThumbprint).
func ParseKIDMode(s string) (KIDMode, error) {
	switch m := KIDMode(s); m {
	case "", KIDThumbprint:
		return KIDThumbprint, nil
	case KIDLibtrust:
		return m, nil
	default:
		return "", fmt.Errorf("token: unknown kid mode %q (want %q or %q)", s, KIDThumbprint, KIDLibtrust)
	}
}

// KIDFor computes the key ID of pub in the given mode ("" means
// KIDThumbprint).
func KIDFor(pub crypto.PublicKey, mode KIDMode) (string, error) {
	switch mode {
	case "", KIDThumbprint:
		return ThumbprintKID(pub)
	case KIDLibtrust:
		return LibtrustKID(pub)
	default:
		return "", fmt.Errorf("token: unknown kid mode %q (want %q or %q)", mode, KIDThumbprint, KIDLibtrust)
	}
}

// ThumbprintKID returns the RFC 7638 JWK thumbprint of an RSA or ECDSA public
// key: SHA-256 over the required members in lexicographic order
// ({"e","kty","n"} for RSA, {"crv","kty","x","y"} for EC, coordinates padded
// to the curve size), base64url without padding.
//
// Registry 3.x computes the thumbprint of its rootcertbundle keys WITHOUT
// padding EC coordinates, so for an EC key whose x or y starts with a zero
// byte (about 1 in 128 keys) the two differ; GenerateKeyPair never produces
// such keys, and a token with x5c is unaffected.
func ThumbprintKID(pub crypto.PublicKey) (string, error) {
	var canonical string
	switch k := pub.(type) {
	case *rsa.PublicKey:
		canonical = fmt.Sprintf(`{"e":"%s","kty":"RSA","n":"%s"}`,
			b64u(big.NewInt(int64(k.E)).Bytes()), b64u(k.N.Bytes()))
	case *ecdsa.PublicKey:
		crv, x, y, err := ecCoordinates(k)
		if err != nil {
			return "", err
		}
		canonical = fmt.Sprintf(`{"crv":"%s","kty":"EC","x":"%s","y":"%s"}`, crv, b64u(x), b64u(y))
	default:
		return "", fmt.Errorf("token: thumbprint: unsupported key type %T", pub)
	}
	sum := sha256.Sum256([]byte(canonical))
	return b64u(sum[:]), nil
}

// LibtrustKID returns the docker/libtrust key ID of pub: SHA-256 of the DER
// SubjectPublicKeyInfo (not the certificate), first 30 bytes, base32 (std
// alphabet, 48 characters), in 12 groups of 4 joined by ':'.
func LibtrustKID(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("token: libtrust kid: %w", err)
	}
	sum := sha256.Sum256(der)
	s := base32.StdEncoding.EncodeToString(sum[:30])
	groups := make([]string, 0, len(s)/4)
	for i := 0; i < len(s); i += 4 {
		groups = append(groups, s[i:i+4])
	}
	return strings.Join(groups, ":"), nil
}

// ecCoordinates returns the JWK curve name and the x, y coordinates padded
// to the curve size.
func ecCoordinates(k *ecdsa.PublicKey) (crv string, x, y []byte, err error) {
	raw, err := k.Bytes() // 0x04 || X || Y, each padded to the curve size
	if err != nil {
		return "", nil, nil, fmt.Errorf("token: EC public key: %w", err)
	}
	size := (len(raw) - 1) / 2
	return k.Curve.Params().Name, raw[1 : 1+size], raw[1+size:], nil
}

func b64u(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
