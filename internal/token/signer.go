package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Signer holds one signing key and everything derived from it: the JWS
// algorithm, the kid, the optional certificate chain and the encoded JOSE
// header. A Signer is immutable and safe for concurrent use; rotating keys
// means building a new Signer and handing it to Issuer.SetSigner.
type Signer struct {
	key     crypto.Signer
	alg     string
	kidMode KIDMode
	kid     string
	certs   []*x509.Certificate
	jwk     JWK
	x5c     bool   // the header carries the chain
	header  string // base64url of the JOSE header, with the trailing "."
	sigSize int    // bytes of a JWS signature: the RSA modulus, or R || S
}

// jwsHeader is the JOSE header of every token, in this field order.
type jwsHeader struct {
	Typ string   `json:"typ"`
	Alg string   `json:"alg"`
	Kid string   `json:"kid"`
	X5c []string `json:"x5c,omitempty"`
}

// NewSigner loads the PEM private key at keyPath and, when certPath is not
// empty, the PEM certificate chain at certPath (leaf first; it must hold the
// key's public key and be currently valid).
//
// kidMode is KIDThumbprint (or "": registry 3.x) or KIDLibtrust (registry
// 2.x). The header always carries typ "JWT", alg and kid; it carries x5c
// (standard base64 DER of every certificate of the chain) when a certificate
// is configured. Note that registry 3.x rejects a token whose x5c chain does
// not verify against its rootcertbundle, without falling back to kid: for a
// registry configured with only a jwks file, configure no certificate here.
func NewSigner(keyPath, certPath string, kidMode KIDMode) (*Signer, error) {
	key, err := LoadPrivateKey(keyPath)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	if certPath != "" {
		if certs, err = LoadCertificates(certPath); err != nil {
			return nil, err
		}
	}
	s, err := NewSignerFromKey(key, certs, kidMode)
	if err != nil {
		if certPath != "" {
			return nil, fmt.Errorf("%w (key %s, certificate %s)", err, keyPath, certPath)
		}
		return nil, fmt.Errorf("%w (key %s)", err, keyPath)
	}
	return s, nil
}

// NewSignerFromKey is NewSigner for a key and chain already in memory (or a
// crypto.Signer backed by an HSM/KMS). certs may be empty.
func NewSignerFromKey(key crypto.Signer, certs []*x509.Certificate, kidMode KIDMode) (*Signer, error) {
	if key == nil {
		return nil, errors.New("token: new signer: nil key")
	}
	alg, err := algorithmFor(key.Public())
	if err != nil {
		return nil, err
	}
	if err := checkChain(key, certs, time.Now()); err != nil {
		return nil, err
	}
	if kidMode == "" {
		kidMode = KIDThumbprint
	}
	kid, err := KIDFor(key.Public(), kidMode)
	if err != nil {
		return nil, err
	}
	jwk, err := NewJWK(key.Public(), kid, certs)
	if err != nil {
		return nil, err
	}
	header, err := encodeHeader(alg, kid, certs)
	if err != nil {
		return nil, err
	}
	return &Signer{
		key:     key,
		alg:     alg,
		kidMode: kidMode,
		kid:     kid,
		certs:   append([]*x509.Certificate(nil), certs...),
		jwk:     jwk,
		x5c:     len(certs) > 0,
		header:  header,
		sigSize: signatureSize(key.Public()),
	}, nil
}

// signatureSize is the length of a JWS signature by pub's key (a hint for
// Sign's buffer: 0 for a key type it does not know).
func signatureSize(pub crypto.PublicKey) int {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return k.Size()
	case *ecdsa.PublicKey:
		return 2 * ((k.Curve.Params().BitSize + 7) / 8)
	}
	return 0
}

// WithoutX5C returns a copy of s whose tokens carry only kid in their
// header, no x5c, for verifiers that must find the key by kid: registry 3.x
// trusting only a jwks file (it fails a token whose x5c chain it cannot
// verify) and zot (which ignores both). The certificates stay known to the
// copy (Certificates, the JWKS's x5c); only the header changes.
func (s *Signer) WithoutX5C() (*Signer, error) {
	header, err := encodeHeader(s.alg, s.kid, nil)
	if err != nil {
		return nil, err
	}
	c := *s
	c.x5c, c.header = false, header
	return &c, nil
}

// SendsX5C reports whether the tokens' header carries the x5c chain.
func (s *Signer) SendsX5C() bool { return s.x5c }

// encodeHeader is the base64url JOSE header with its trailing ".": typ,
// alg, kid and, when certs is not empty, x5c.
func encodeHeader(alg, kid string, certs []*x509.Certificate) (string, error) {
	h := jwsHeader{Typ: "JWT", Alg: alg, Kid: kid}
	for _, c := range certs {
		h.X5c = append(h.X5c, base64.StdEncoding.EncodeToString(c.Raw))
	}
	hj, err := json.Marshal(h)
	if err != nil {
		return "", fmt.Errorf("token: encode header: %w", err)
	}
	return b64u(hj) + ".", nil
}

// KID returns the kid the tokens carry (thumbprint or libtrust, per mode).
func (s *Signer) KID() string { return s.kid }

// KIDMode returns KIDThumbprint or KIDLibtrust.
func (s *Signer) KIDMode() KIDMode { return s.kidMode }

// Algorithm returns the JWS algorithm: RS256, ES256, ES384 or ES512.
func (s *Signer) Algorithm() string { return s.alg }

// PublicKey returns the public half of the signing key.
func (s *Signer) PublicKey() crypto.PublicKey { return s.key.Public() }

// Certificates returns the configured chain, leaf first (nil when none).
// The slice is a copy; the certificates must not be modified.
func (s *Signer) Certificates() []*x509.Certificate {
	return append([]*x509.Certificate(nil), s.certs...)
}

// signBufs holds the buffers Sign puts tokens together in.
var signBufs = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// Sign returns the compact JWS of payload (raw JSON claims) under this
// signer's header: header.payload.signature, all base64url, put together
// in one pooled buffer.
func (s *Signer) Sign(payload []byte) (string, error) {
	enc := base64.RawURLEncoding
	bp := signBufs.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= 64<<10 {
			signBufs.Put(bp)
		}
	}()
	buf := slices.Grow((*bp)[:0], len(s.header)+enc.EncodedLen(len(payload))+1+enc.EncodedLen(s.sigSize))
	buf = append(buf, s.header...)
	buf = enc.AppendEncode(buf, payload)
	h := hashFor(s.alg)
	var digest []byte
	if h == crypto.SHA256 {
		sum := sha256.Sum256(buf)
		digest = sum[:]
	} else {
		hw := h.New()
		hw.Write(buf)
		digest = hw.Sum(nil)
	}
	sig, err := s.key.Sign(rand.Reader, digest, h)
	if err != nil {
		return "", fmt.Errorf("token: sign: %w", err)
	}
	if pub, ok := s.key.Public().(*ecdsa.PublicKey); ok {
		// crypto.Signer returns ASN.1 DER; JWS wants R || S, each padded.
		if sig, err = ecdsaJWS(sig, (pub.Curve.Params().BitSize+7)/8); err != nil {
			return "", err
		}
	}
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, sig)
	*bp = buf
	return string(buf), nil
}

// ecdsaJWS turns an ASN.1 DER ECDSA signature (SEQUENCE of two INTEGERs)
// into JWS's R || S, each left-padded to size bytes.
func ecdsaJWS(der []byte, size int) ([]byte, error) {
	in := cryptobyte.String(der)
	var seq cryptobyte.String
	var r, s []byte
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() ||
		!seq.ReadASN1Bytes(&r, cbasn1.INTEGER) || !seq.ReadASN1Bytes(&s, cbasn1.INTEGER) || !seq.Empty() {
		return nil, errors.New("token: sign: decode ECDSA signature: malformed DER")
	}
	out := make([]byte, 2*size)
	for i, v := range [][]byte{r, s} {
		if len(v) == 0 || v[0]&0x80 != 0 { // empty or negative
			return nil, errors.New("token: sign: malformed ECDSA signature")
		}
		for len(v) > 1 && v[0] == 0 {
			v = v[1:]
		}
		if len(v) > size {
			return nil, errors.New("token: sign: malformed ECDSA signature")
		}
		copy(out[(i+1)*size-len(v):(i+1)*size], v)
	}
	return out, nil
}
