package federation

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/config"
)

// FederationOptions tune a Federation; zero values are defaults.
type Options struct {
	// HTTPClient fetches discovery documents and JWKS (default: a client
	// with a 10 s timeout). Its CheckRedirect is replaced: key fetches
	// follow redirects only on the same host, to https unless allow_http.
	HTTPClient *http.Client
	// MinRefetch is the least time between two fetches of one issuer's
	// keys for an unknown kid (default 30 s).
	MinRefetch time.Duration
	// CacheMax bounds the verified-JWT cache (default 10000; -1 disables).
	CacheMax int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// FederatedClaims is what a verified JWT says.
type Claims struct {
	// Issuer is the configured issuer's name; URL its iss.
	Issuer  string
	URL     string
	Subject string
	// Expiry is the JWT's exp: nothing derived from it may outlive it.
	Expiry time.Time
	// Claims is the whole payload, for the trust policy's conditions.
	Claims map[string]any

	issuedAt, notBefore time.Time
	// identity is Issuer, URL and Subject for Identity.Federated, built
	// once per verified JWT rather than once per login.
	identity *authn.FederatedIdentity
	// signed is the JWT's header and payload ("h.p."), a copy sharing no
	// memory with the JWT: with the SHA-256 of the signature segment (the
	// cache key) it identifies the JWT exactly (see Verify).
	signed string
}

// Federation verifies OIDC JWTs of the trusted issuers: signature with a
// key the issuer publishes, iss exactly, aud, exp, nbf, iat within the
// issuer's max token age, and an allowed alg. A JWT once verified is
// remembered until it expires, so a CI job logging in again and again with
// the same JWT costs a short hash and a comparison, not a signature check;
// its time-based checks are made again on every use.
type Verifier struct {
	issuers map[string]*fedIssuer
	now     func() time.Time

	mu sync.Mutex
	// verified is keyed by the SHA-256 of a JWT's signature segment, the
	// only part of it that is a secret; an entry also holds the header and
	// payload (which its decoded claims hold anyway), compared in full.
	verified map[[32]byte]*Claims
	max      int
}

type fedIssuer struct {
	cfg  config.FederationIssuer
	algs []jose.SignatureAlgorithm
	keys *keySet
	// identity is cfg.Identity(): the claims a trust policy pins with.
	identity []string
}

// clockSkew is how far in the future nbf and iat may be.
const clockSkew = time.Minute

var asymmetric = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512, jose.EdDSA}

// NewFederation builds the verifier for the configured issuers (already
// validated by config). Keys are fetched on first use, never here, so an
// issuer that is down does not stop the server; a jwks_file is read on
// first use too, again for an unknown kid, and by ReloadKeyFiles.
func New(cfg config.Federation, opt Options) (*Verifier, error) {
	if opt.HTTPClient == nil {
		opt.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if opt.MinRefetch <= 0 {
		opt.MinRefetch = 30 * time.Second
	}
	if opt.CacheMax == 0 {
		opt.CacheMax = 10000
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	f := &Verifier{issuers: map[string]*fedIssuer{}, now: opt.Now, verified: map[[32]byte]*Claims{}, max: opt.CacheMax}
	for _, c := range cfg.Issuers {
		is := &fedIssuer{cfg: c, identity: c.Identity(), keys: &keySet{url: c.URL, file: c.JWKSFile, allowHTTP: c.AllowHTTP,
			client: keyClient(opt.HTTPClient, c.AllowHTTP), minRefetch: opt.MinRefetch, now: opt.Now}}
		for _, a := range c.Algorithms {
			alg := jose.SignatureAlgorithm(a)
			if !slices.Contains(asymmetric, alg) {
				return nil, fmt.Errorf("federation issuer %s: algorithm %q is not accepted", c.Name, a)
			}
			is.algs = append(is.algs, alg)
		}
		if len(is.algs) == 0 || len(c.Audiences) == 0 || c.MaxTokenAge.D() <= 0 {
			return nil, fmt.Errorf("federation issuer %s: needs algorithms, audiences and a max token age", c.Name)
		}
		if _, dup := f.issuers[c.Name]; dup {
			return nil, fmt.Errorf("federation issuer %s: configured twice", c.Name)
		}
		f.issuers[c.Name] = is
	}
	return f, nil
}

// Issuers lists the configured issuer names.
func (f *Verifier) Issuers() []string {
	var out []string
	for name := range f.issuers {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// ReloadKeyFiles re-reads the jwks_file of every issuer that has one (on
// SIGHUP): reloaded names those whose new keys are in use, and their
// JWTs verified with the old keys are verified again (a key taken out of
// the file stops working at once); err joins one error per issuer whose
// file was refused, naming it, and that issuer keeps the keys it had.
func (f *Verifier) ReloadKeyFiles(ctx context.Context) (reloaded []string, err error) {
	var errs []error
	for _, name := range f.Issuers() {
		is := f.issuers[name]
		if is.cfg.JWKSFile == "" {
			continue
		}
		if err := is.keys.reloadFile(ctx); err != nil {
			errs = append(errs, fmt.Errorf("issuer %s: jwks_file %s: %w", name, is.cfg.JWKSFile, err))
		} else {
			reloaded = append(reloaded, name)
			f.forget(name)
		}
	}
	return reloaded, errors.Join(errs...)
}

// refusal is a JWT that failed a check: reason names the check, for the
// log line only (the client learns nothing).
type refusal struct{ reason string }

func (r *refusal) Error() string { return r.reason }

func refuse(format string, args ...any) error { return &refusal{fmt.Sprintf(format, args...)} }

// Verify checks raw as a JWT of the issuer named issuer. A JWT that fails
// a check is an error for which IsRefusal holds, naming the check; an
// error wrapping ErrUnavailable means the issuer's keys could not be
// fetched when they were needed (503, never 401).
func (f *Verifier) Verify(ctx context.Context, issuer, raw string) (*Claims, error) {
	is, ok := f.issuers[issuer]
	if !ok {
		return nil, refuse("issuer %q is not configured", issuer)
	}
	// A hit is the same JWT: the same signature (SHA-256 is collision
	// resistant) and byte for byte the same header and payload. Hashing the
	// signature alone is a third of the work of hashing the whole JWT.
	signed, sig := splitSignature(raw)
	sum := jwtSum(sig)
	f.mu.Lock()
	c := f.verified[sum]
	f.mu.Unlock()
	if c != nil && c.signed == signed && c.Issuer == issuer {
		return c, f.checkTimes(is, c)
	}
	c, err := f.verify(ctx, is, raw)
	if err != nil {
		return nil, err
	}
	f.remember(sum, c)
	return c, nil
}

// jwtBufs are scratch buffers for jwtSum: copying a JWT's signature (a
// few hundred bytes) into a fresh slice for every login costs an
// allocation and garbage.
var jwtBufs = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// splitSignature splits a JWT after its last '.': "h.p." and the
// signature segment (raw itself when it has no '.'). A JWT has two dots,
// found from the front with IndexByte, which is vectorised (LastIndexByte
// walks the ~350-byte signature back byte by byte).
func splitSignature(raw string) (signed, sig string) {
	i := strings.IndexByte(raw, '.') + 1
	if j := strings.IndexByte(raw[i:], '.'); i > 0 && j >= 0 {
		i += j + 1
	}
	if strings.IndexByte(raw[i:], '.') >= 0 { // not a JWT: more dots
		i = strings.LastIndexByte(raw, '.') + 1
	}
	return raw[:i], raw[i:]
}

// jwtSum is the SHA-256 of part of a JWT, the verified-JWT cache's key.
func jwtSum(part string) [sha256.Size]byte {
	bp := jwtBufs.Get().(*[]byte)
	b := append((*bp)[:0], part...)
	sum := sha256.Sum256(b)
	clear(b) // no JWT lingers in the pool
	*bp = b[:0]
	jwtBufs.Put(bp)
	return sum
}

// IsRefusal reports whether err is a failed check (401) rather than an
// outage.
func IsRefusal(err error) bool {
	var r *refusal
	return errors.As(err, &r)
}

func (f *Verifier) verify(ctx context.Context, is *fedIssuer, raw string) (*Claims, error) {
	if strings.Count(raw, ".") != 2 {
		return nil, refuse("not a JWT")
	}
	var hdr struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	hb, err := base64.RawURLEncoding.DecodeString(raw[:strings.IndexByte(raw, '.')])
	if err != nil || json.Unmarshal(hb, &hdr) != nil {
		return nil, refuse("malformed JWT header")
	}
	if !slices.Contains(is.algs, jose.SignatureAlgorithm(hdr.Alg)) {
		return nil, refuse("algorithm %q not allowed", clip(hdr.Alg))
	}
	tok, err := jwt.ParseSigned(raw, is.algs)
	if err != nil {
		return nil, refuse("malformed JWT: %v", err)
	}
	keys, err := is.keys.lookup(ctx, hdr.Kid)
	if errors.Is(err, errUnknownKey) {
		return nil, refuse("signing key %q not published by the issuer", clip(hdr.Kid))
	}
	if err != nil {
		return nil, fmt.Errorf("federated login via %s: %w", is.cfg.Name, err)
	}
	var std jwt.Claims
	var all map[string]any
	verified := false
	for _, k := range keys {
		if k.Algorithm != "" && k.Algorithm != hdr.Alg {
			continue
		}
		if tok.Claims(k.Key, &std, &all) == nil {
			verified = true
			break
		}
	}
	if !verified {
		return nil, refuse("bad signature")
	}
	switch {
	case std.Issuer != is.cfg.URL:
		return nil, refuse("wrong issuer %q", std.Issuer)
	case !slices.ContainsFunc(is.cfg.Audiences, std.Audience.Contains):
		return nil, refuse("wrong audience %q", []string(std.Audience))
	case std.Expiry == nil:
		return nil, refuse("no exp")
	case std.IssuedAt == nil:
		return nil, refuse("no iat")
	}
	signed, _ := splitSignature(raw)
	c := &Claims{Issuer: is.cfg.Name, URL: std.Issuer, Subject: std.Subject, Expiry: std.Expiry.Time(),
		Claims: all, issuedAt: std.IssuedAt.Time(), signed: strings.Clone(signed),
		identity: &authn.FederatedIdentity{Issuer: is.cfg.Name, URL: std.Issuer, Subject: std.Subject}}
	if std.NotBefore != nil {
		c.notBefore = std.NotBefore.Time()
	}
	return c, f.checkTimes(is, c)
}

// checkTimes makes the checks that depend on the clock: run on every use,
// cached or not.
func (f *Verifier) checkTimes(is *fedIssuer, c *Claims) error {
	now := f.now()
	switch {
	case !now.Before(c.Expiry):
		return refuse("expired at %s", c.Expiry.UTC().Format(time.RFC3339))
	case !c.notBefore.IsZero() && now.Add(clockSkew).Before(c.notBefore):
		return refuse("not valid before %s", c.notBefore.UTC().Format(time.RFC3339))
	case now.Add(clockSkew).Before(c.issuedAt):
		return refuse("issued in the future (%s)", c.issuedAt.UTC().Format(time.RFC3339))
	case now.Sub(c.issuedAt) > is.cfg.MaxTokenAge.D():
		return refuse("too old: issued %s, max_token_age %s", c.issuedAt.UTC().Format(time.RFC3339), is.cfg.MaxTokenAge)
	}
	return nil
}

// forget drops the verified JWTs of the issuer named issuer.
func (f *Verifier) forget(issuer string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	maps.DeleteFunc(f.verified, func(_ [32]byte, c *Claims) bool { return c.Issuer == issuer })
}

// remember caches a verified JWT until it expires; when full, expired
// entries go first, then arbitrary ones.
func (f *Verifier) remember(sum [32]byte, c *Claims) {
	if f.max < 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.verified) >= f.max {
		now := f.now()
		for k, v := range f.verified {
			if !now.Before(v.Expiry) {
				delete(f.verified, k)
			}
		}
		for k := range f.verified {
			if len(f.verified) < f.max {
				break
			}
			delete(f.verified, k)
		}
	}
	f.verified[sum] = c
}
