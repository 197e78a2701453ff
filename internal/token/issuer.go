package token

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"
)

// Token lifetime bounds.
const (
	// DefaultLifetime is used when NewIssuer gets a lifetime <= 0. It is
	// Harbor's default token expiration.
	DefaultLifetime = 30 * time.Minute
	// MinLifetime is the shortest lifetime issued: clients expect
	// expires_in >= 60.
	MinLifetime = 60 * time.Second
)

// ResourceActions is one entry of the token's `access` claim: the actions
// granted on one resource, e.g. {repository, library/alpine, [pull push]}.
// It never carries a scope class: registries do not expect one.
type ResourceActions struct {
	// Type is "repository" or "registry".
	Type string `json:"type"`
	// Name is the repository name (possibly with a host:port/ prefix) or
	// "catalog".
	Name string `json:"name"`
	// Actions are the granted actions; nil is encoded as [].
	Actions []string `json:"actions"`
}

// Token is a signed JWT and its validity window.
type Token struct {
	// Raw is the compact JWS, the value of the response's token and
	// access_token fields.
	Raw string
	// ID is the jti claim, for the audit log.
	ID string
	// IssuedAt is the iat claim (whole seconds, UTC).
	IssuedAt time.Time
	// ExpiresAt is the exp claim (whole seconds, UTC).
	ExpiresAt time.Time

	signer *Signer // that signed it (Reuser.Remember)
}

// ExpiresIn returns the lifetime in whole seconds: the response's
// expires_in.
func (t Token) ExpiresIn() int { return int(t.ExpiresAt.Sub(t.IssuedAt) / time.Second) }

// claims is the exact JWT payload: numeric dates are int64 so they always
// marshal as JSON integers, aud is a single string (registry 2.8 rejects an
// array), access is never null.
type claims struct {
	Iss    string            `json:"iss"`
	Sub    string            `json:"sub"`
	Aud    string            `json:"aud"`
	Exp    int64             `json:"exp"`
	Nbf    int64             `json:"nbf"`
	Iat    int64             `json:"iat"`
	Jti    string            `json:"jti"`
	Access []ResourceActions `json:"access"`
}

// appendJSON appends c as json.Marshal encodes it (TestClaimsJSON), with
// nil actions as [] and nil access as [], without reflection.
func (c *claims) appendJSON(b []byte) []byte {
	b = append(b, `{"iss":`...)
	b = AppendJSONString(b, c.Iss)
	b = append(b, `,"sub":`...)
	b = AppendJSONString(b, c.Sub)
	b = append(b, `,"aud":`...)
	b = AppendJSONString(b, c.Aud)
	b = append(b, `,"exp":`...)
	b = strconv.AppendInt(b, c.Exp, 10)
	b = append(b, `,"nbf":`...)
	b = strconv.AppendInt(b, c.Nbf, 10)
	b = append(b, `,"iat":`...)
	b = strconv.AppendInt(b, c.Iat, 10)
	b = append(b, `,"jti":`...)
	b = AppendJSONString(b, c.Jti)
	b = append(b, `,"access":[`...)
	for i, ra := range c.Access {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"type":`...)
		b = AppendJSONString(b, ra.Type)
		b = append(b, `,"name":`...)
		b = AppendJSONString(b, ra.Name)
		b = append(b, `,"actions":[`...)
		for k, a := range ra.Actions {
			if k > 0 {
				b = append(b, ',')
			}
			b = AppendJSONString(b, a)
		}
		b = append(b, "]}"...)
	}
	return append(b, "]}"...)
}

// jsonPlain holds the bytes encoding/json writes as they are: printable
// ASCII but '"', '\\' and the HTML-escaped '<', '>', '&'. A table: the
// token's 1–3 KB are scanned twice per answer.
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// AppendJSONString appends s as encoding/json writes a string: as it is
// when every byte is printable ASCII that needs no escape (tokens, names,
// dates), else through encoding/json itself.
func AppendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if !jsonPlain[s[i]] {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// Issuer mints registry tokens for one issuer name and one service
// (audience). It is safe for concurrent use; SetSigner swaps the key at
// runtime (rotation) without disturbing Issue calls in flight.
type Issuer struct {
	signer   atomic.Pointer[Signer]
	issuer   string
	service  string
	lifetime time.Duration
}

// NewIssuer returns an Issuer signing with signer. issuer must equal the
// registry's auth.token.issuer and service its auth.token.service (the aud
// claim). lifetime is truncated to whole seconds; <= 0 means
// DefaultLifetime and anything shorter than MinLifetime is raised to it
// (configuration validation should reject such values before this point).
func NewIssuer(signer *Signer, issuer, service string, lifetime time.Duration) *Issuer {
	lifetime = lifetime.Truncate(time.Second)
	switch {
	case lifetime <= 0:
		lifetime = DefaultLifetime
	case lifetime < MinLifetime:
		lifetime = MinLifetime
	}
	i := &Issuer{issuer: issuer, service: service, lifetime: lifetime}
	i.signer.Store(signer)
	return i
}

// SetSigner replaces the signing key; tokens issued afterwards use it.
// Tokens already issued stay valid as long as the registry still trusts the
// old key (keep its certificate in the rootcertbundle / JWKS until they
// expire).
func (i *Issuer) SetSigner(s *Signer) { i.signer.Store(s) }

// Signer returns the current signer.
func (i *Issuer) Signer() *Signer { return i.signer.Load() }

// Issuer returns the iss claim.
func (i *Issuer) Issuer() string { return i.issuer }

// Service returns the aud claim: the registry's service name.
func (i *Issuer) Service() string { return i.service }

// Lifetime returns the validity of issued tokens (exp - iat).
func (i *Issuer) Lifetime() time.Duration { return i.lifetime }

// Issue signs a token for subject ("" for anonymous) granting access (nil or
// empty for a login token). Entries are copied as given: merging and
// filtering are the caller's job.
func (i *Issuer) Issue(subject string, access []ResourceActions) (Token, error) {
	return i.IssueUntil(subject, access, time.Time{})
}

// IssueUntil is Issue for a token that must expire no later than notAfter
// (zero: no cap), e.g. the exp of the federated JWT that proved the
// subject: the token's exp is the earlier of the usual lifetime and
// notAfter (truncated to whole seconds, so never later). A notAfter that
// is already past is refused.
func (i *Issuer) IssueUntil(subject string, access []ResourceActions, notAfter time.Time) (Token, error) {
	jti, err := NewJTI()
	if err != nil {
		return Token{}, err
	}
	return i.IssueID(jti, subject, access, notAfter)
}

// IssueID is IssueUntil for a token whose jti the caller chose (NewJTI)
// before: the server writes the token's audit record while it is signed.
func (i *Issuer) IssueID(jti, subject string, access []ResourceActions, notAfter time.Time) (Token, error) {
	return i.IssueFor(jti, subject, access, 0, notAfter)
}

// IssueFor is IssueID for a token that lives lifetime (0: the issuer's;
// truncated to whole seconds and at least MinLifetime) instead of the
// issuer's: a push token (token.push_expiration), a robot's own.
func (i *Issuer) IssueFor(jti, subject string, access []ResourceActions, lifetime time.Duration, notAfter time.Time) (Token, error) {
	s := i.signer.Load()
	if s == nil {
		return Token{}, errors.New("token: issue: no signer configured")
	}
	if lifetime = lifetime.Truncate(time.Second); lifetime <= 0 {
		lifetime = i.lifetime
	}
	lifetime = max(lifetime, MinLifetime)
	iat := time.Now().UTC().Truncate(time.Second)
	exp := iat.Add(lifetime)
	if !notAfter.IsZero() {
		if limit := notAfter.UTC().Truncate(time.Second); limit.Before(exp) {
			exp = limit
		}
		if !exp.After(iat) {
			return Token{}, errors.New("token: issue: the credential that proved the subject has expired")
		}
	}
	c := claims{
		Iss:    i.issuer,
		Sub:    subject,
		Aud:    i.service,
		Exp:    exp.Unix(),
		Nbf:    iat.Unix(),
		Iat:    iat.Unix(),
		Jti:    jti,
		Access: access,
	}
	raw, err := s.Sign(c.appendJSON(make([]byte, 0, 256)))
	if err != nil {
		return Token{}, err
	}
	return Token{Raw: raw, ID: jti, IssuedAt: iat, ExpiresAt: exp, signer: s}, nil
}

// NewJTI returns a new jti: 16 bytes, base64url without padding (22
// chars). The first 6 are the time in milliseconds (big-endian), the other
// 10 random: jtis never repeat (80 random bits within a millisecond), and
// the jtis of tokens issued together are neighbours in the audit trail's
// jti index, so a batch of records writes a few index pages rather than
// one random page per token (BenchmarkAppendAudit).
func NewJTI() (string, error) {
	var b [16]byte
	ms := uint64(time.Now().UnixMilli())
	for i := range 6 {
		b[i] = byte(ms >> (8 * (5 - i)))
	}
	if _, err := rand.Read(b[6:]); err != nil {
		return "", fmt.Errorf("token: jti: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}
