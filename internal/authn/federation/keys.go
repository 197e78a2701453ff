package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/authserver/authserver/internal/authn"
)

// errUnknownKey: the issuer's current key set (fetched just now or within
// the refetch interval) has no key for the JWT: a 401, not an outage.
var errUnknownKey = errors.New("key not published by the issuer")

// maxJWKSBytes bounds a discovery document or JWKS response.
const maxJWKSBytes = 1 << 20

// keySet holds one issuer's public keys: fetched on first use (discovery
// at url/.well-known/openid-configuration, then jwks_uri) or read from a
// file, cached, and fetched again when a JWT names a key it does not hold,
// at most once per minRefetch. Lookups of cached keys never wait for a
// fetch, so they keep working while the issuer is down.
type keySet struct {
	url       string // the issuer URL (discovery), or
	file      string // a JWKS file
	allowHTTP bool   // the issuer's allow_http: jwks_uri and redirects may be http://
	// client fetches with keyClient's redirect rule.
	client     *http.Client
	minRefetch time.Duration
	now        func() time.Time

	mu        sync.RWMutex
	keys      []jose.JSONWebKey
	attempted time.Time // last fetch attempt, successful or not
	lastErr   error     // its error, nil when it worked

	fetchMu sync.Mutex // one fetch at a time
}

// lookup returns the keys a JWT with header kid may be signed with (every
// key when kid is empty). A key it does not hold triggers one fetch unless
// one was attempted within minRefetch. errUnknownKey when the fresh set
// lacks it; an error wrapping ErrUnavailable when the keys could not be
// fetched.
func (k *keySet) lookup(ctx context.Context, kid string) ([]jose.JSONWebKey, error) {
	if ks := k.cached(kid); len(ks) > 0 {
		return ks, nil
	}
	k.fetchMu.Lock()
	defer k.fetchMu.Unlock()
	// Another request may have fetched while this one waited.
	if ks := k.cached(kid); len(ks) > 0 {
		return ks, nil
	}
	k.mu.RLock()
	recent := !k.attempted.IsZero() && k.now().Sub(k.attempted) < k.minRefetch
	lastErr := k.lastErr
	k.mu.RUnlock()
	if recent {
		if lastErr != nil {
			return nil, fmt.Errorf("%w: issuer keys: %w", authn.ErrUnavailable, lastErr)
		}
		return nil, errUnknownKey
	}
	keys, err := k.fetch(ctx)
	k.mu.Lock()
	k.attempted, k.lastErr = k.now(), err
	if err == nil {
		k.keys = keys
	}
	k.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("%w: issuer keys: %w", authn.ErrUnavailable, err)
	}
	if ks := k.cached(kid); len(ks) > 0 {
		return ks, nil
	}
	return nil, errUnknownKey
}

// reloadFile re-reads a jwks_file set now (SIGHUP), whatever a JWT needs.
// A file that cannot be read or parsed, or holds no public signing key,
// leaves the keys held as they were.
func (k *keySet) reloadFile(ctx context.Context) error {
	k.fetchMu.Lock()
	defer k.fetchMu.Unlock()
	keys, err := k.fetch(ctx)
	if err == nil && len(keys) == 0 {
		err = errors.New("JWKS: no public signing key")
	}
	if err != nil {
		return err
	}
	k.mu.Lock()
	k.keys, k.attempted, k.lastErr = keys, k.now(), nil
	k.mu.Unlock()
	return nil
}

func (k *keySet) cached(kid string) []jose.JSONWebKey {
	k.mu.RLock()
	defer k.mu.RUnlock()
	if kid == "" {
		return k.keys
	}
	for i := range k.keys {
		if k.keys[i].KeyID == kid {
			return k.keys[i : i+1]
		}
	}
	return nil
}

// fetch reads the whole key set: the file, or discovery then jwks_uri.
func (k *keySet) fetch(ctx context.Context) ([]jose.JSONWebKey, error) {
	var data []byte
	var err error
	if k.file != "" {
		data, err = os.ReadFile(k.file)
	} else {
		var disc struct {
			Issuer  string `json:"issuer"`
			JWKSURI string `json:"jwks_uri"`
		}
		data, err = k.get(ctx, strings.TrimSuffix(k.url, "/")+"/.well-known/openid-configuration")
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(data, &disc); err != nil {
			return nil, fmt.Errorf("discovery document: %w", err)
		}
		// OpenID Connect Discovery: the document's issuer must be the URL
		// it was fetched for, or it speaks for someone else.
		if disc.Issuer != k.url {
			return nil, fmt.Errorf("discovery document names issuer %q, not %q", disc.Issuer, k.url)
		}
		if disc.JWKSURI == "" {
			return nil, errors.New("discovery document has no jwks_uri")
		}
		// The keys are what every login trusts: fetched over TLS, whatever
		// the discovery document says, unless the issuer allows http.
		if u, err := url.Parse(disc.JWKSURI); err != nil || u.Host == "" || !k.schemeAllowed(u.Scheme) {
			return nil, fmt.Errorf("discovery document: jwks_uri %q refused: want an https:// URL (http:// only with allow_http)", clip(disc.JWKSURI))
		}
		data, err = k.get(ctx, disc.JWKSURI)
	}
	if err != nil {
		return nil, err
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("JWKS: %w", err)
	}
	var keys []jose.JSONWebKey
	for _, key := range set.Keys {
		// Public signing keys only: a private or symmetric key in a JWKS is
		// a mistake, and must never verify anything.
		if key.IsPublic() && (key.Use == "" || key.Use == "sig") {
			keys = append(keys, key)
		}
	}
	return keys, nil
}

func (k *keySet) schemeAllowed(scheme string) bool {
	return scheme == "https" || (scheme == "http" && k.allowHTTP)
}

// keyClient is c for one issuer's key fetches: a redirect is followed only
// to the host (and port) the fetch was for, and to https unless the issuer
// allows http. A discovery document or JWKS answered from elsewhere is
// refused, so whoever can make the issuer's host answer a redirect (an open
// redirect, a compromised path) cannot hand authserver keys of its own.
func keyClient(c *http.Client, allowHTTP bool) *http.Client {
	out := *c
	out.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		switch from := via[0].URL; {
		case len(via) >= 10:
			return errors.New("stopped after 10 redirects")
		case req.URL.Scheme != "https" && !(req.URL.Scheme == "http" && allowHTTP):
			return fmt.Errorf("redirect to %s:// refused: want https:// (http:// only with allow_http)", clip(req.URL.Scheme))
		case !strings.EqualFold(req.URL.Hostname(), from.Hostname()) || port(req.URL) != port(from):
			return fmt.Errorf("redirect from %s to another host (%s) refused", from.Host, clip(req.URL.Host))
		}
		return nil
	}
	return &out
}

// port is u's port, the scheme's default when it names none.
func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "http" {
		return "80"
	}
	return "443"
}

func (k *keySet) get(ctx context.Context, target string) ([]byte, error) {
	// A client that hangs up must not leave its failure cached for everyone.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := k.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", target, resp.Status)
	}
	return io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes))
}
