package zotverify

import (
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// The rules, as zot applies them to a bearer token (written from its
// documented behaviour, checked against v2.1.20; no zot code is used):
//   - exactly one trusted key, the first in its `cert` file; the header's
//     kid and x5c are ignored;
//   - RS/PS/ES 256-512 and EdDSA;
//   - exp, nbf and iat are checked (iat not in the future); aud and iss
//     are not;
//   - an access entry matches only with the exact type and name, and the
//     asked action listed literally: "*" is not a wildcard.

// ErrDenied is wrapped when a valid token does not grant the asked access.
var ErrDenied = errors.New("zot: access denied")

// ErrInvalid is wrapped when the token itself is refused (signature, key,
// algorithm, validity window, shape).
var ErrInvalid = errors.New("zot: invalid token")

// Access is what zot asks of a token for one request: one action on one
// resource. The zero value asks for nothing (GET /v2/: any valid token).
type Access struct {
	Type, Name, Action string
}

func (a Access) String() string { return a.Type + ":" + a.Name + ":" + a.Action }

// Verifier checks tokens against one key.
type Verifier struct {
	key crypto.PublicKey
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// New trusts exactly key.
func New(key crypto.PublicKey) *Verifier { return &Verifier{key: key} }

// FromCertFile trusts the first key of a PEM file, as zot's `cert` option:
// a CERTIFICATE or a PUBLIC KEY block.
func FromCertFile(path string) (*Verifier, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("zotverify: %w", err)
	}
	for rest := data; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			return nil, fmt.Errorf("zotverify: %s: no certificate or public key", path)
		}
		switch b.Type {
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("zotverify: %s: %w", path, err)
			}
			return New(c.PublicKey), nil
		case "PUBLIC KEY":
			k, err := x509.ParsePKIXPublicKey(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("zotverify: %s: %w", path, err)
			}
			return New(k), nil
		}
	}
}

var algorithms = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512, jose.EdDSA,
}

// claims are the parts of the payload zot reads. Dates are pointers so a
// missing one is told apart from 0.
type claims struct {
	Exp    *json.Number `json:"exp"`
	Nbf    *json.Number `json:"nbf"`
	Iat    *json.Number `json:"iat"`
	Access []struct {
		Type    string   `json:"type"`
		Name    string   `json:"name"`
		Actions []string `json:"actions"`
	} `json:"access"`
}

// Verify checks raw (a compact JWS) and that it grants want. It returns
// an error wrapping ErrInvalid or ErrDenied.
func (v *Verifier) Verify(raw string, want Access) error {
	jws, err := jose.ParseSigned(raw, algorithms)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	// The header's kid and x5c play no part: the one key is used.
	payload, err := jws.Verify(v.key)
	if err != nil {
		return fmt.Errorf("%w: signature: %v", ErrInvalid, err)
	}
	var c claims
	dec := json.NewDecoder(strings.NewReader(string(payload)))
	dec.UseNumber()
	if err := dec.Decode(&c); err != nil {
		return fmt.Errorf("%w: claims: %v", ErrInvalid, err)
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	t := now().Unix()
	if err := checkDate("exp", c.Exp, t, func(d int64) bool { return t < d }); err != nil {
		return err
	}
	if err := checkDate("nbf", c.Nbf, t, func(d int64) bool { return t >= d }); err != nil {
		return err
	}
	if err := checkDate("iat", c.Iat, t, func(d int64) bool { return d <= t }); err != nil {
		return err
	}
	if want == (Access{}) {
		return nil
	}
	for _, e := range c.Access {
		if e.Type == want.Type && e.Name == want.Name && slices.Contains(e.Actions, want.Action) {
			return nil
		}
	}
	return fmt.Errorf("%w: %s not granted by %s", ErrDenied, want, accessString(c))
}

// checkDate: exp is required; nbf and iat, when present, must hold.
func checkDate(name string, n *json.Number, now int64, ok func(int64) bool) error {
	if n == nil {
		if name == "exp" {
			return fmt.Errorf("%w: no exp", ErrInvalid)
		}
		return nil
	}
	d, err := n.Int64()
	if err != nil {
		f, ferr := n.Float64()
		if ferr != nil {
			return fmt.Errorf("%w: %s %q is not a number", ErrInvalid, name, n.String())
		}
		d = int64(f)
	}
	if !ok(d) {
		return fmt.Errorf("%w: %s %d does not hold at %d", ErrInvalid, name, d, now)
	}
	return nil
}

func accessString(c claims) string {
	var parts []string
	for _, e := range c.Access {
		parts = append(parts, e.Type+":"+e.Name+":"+strings.Join(e.Actions, ","))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// ForRequest is the access zot asks for an HTTP request to the registry
// API: pull for GET and HEAD, push for POST, PATCH and PUT, delete for
// DELETE, on the repository named in the path; repository::pull (empty
// name) for /v2/_catalog; nothing for /v2/ (any valid token). ok is false
// for a path that is not the registry API.
func ForRequest(method, path string) (a Access, ok bool) {
	rest, found := strings.CutPrefix(path, "/v2/")
	if !found {
		return Access{}, false
	}
	if rest == "" {
		return Access{}, true
	}
	action := ""
	switch method {
	case "GET", "HEAD":
		action = "pull"
	case "POST", "PATCH", "PUT":
		action = "push"
	case "DELETE":
		action = "delete"
	default:
		return Access{}, false
	}
	if rest == "_catalog" {
		return Access{Type: "repository", Name: "", Action: "pull"}, true
	}
	// The name runs up to the last route segment of the distribution API.
	end := -1
	for _, seg := range []string{"/blobs/", "/manifests/", "/tags/", "/referrers/"} {
		if i := strings.LastIndex(rest, seg); i > end {
			end = i
		}
	}
	if end <= 0 {
		return Access{}, false
	}
	return Access{Type: "repository", Name: rest[:end], Action: action}, true
}
