package config

import (
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Federation lists the OIDC issuers whose JWTs federated robots accept
// (CI platforms, Kubernetes clusters). Infrastructure decides which
// platforms are trusted; a robot names one of them in its trust policy.
type Federation struct {
	// Issuers are the trusted issuers; names are unique.
	Issuers []FederationIssuer `yaml:"issuers"`
}

// FederationIssuer is one trusted OIDC issuer.
type FederationIssuer struct {
	// Name is how robots refer to the issuer ("github"): a word of
	// letters, digits, '-', '_' and '.'.
	Name string `yaml:"name"`
	// URL is the JWT's iss, compared exactly. Unless JWKSFile is set, its
	// keys are found through URL + "/.well-known/openid-configuration"
	// (jwks_uri). https only, unless AllowHTTP.
	URL string `yaml:"url"`
	// Audiences: the JWT's aud must contain one of them (at least one).
	Audiences []string `yaml:"audiences"`
	// JWKSFile, when set, is a JWKS file holding the issuer's keys, instead
	// of discovery (private clusters: `kubectl get --raw /openid/v1/jwks`).
	// It is read on first use and again whenever a JWT names a key it does
	// not hold (at most once per 30 s), so a rewritten file needs no restart;
	// SIGHUP re-reads it at once (a bad file: the old keys stay).
	JWKSFile string `yaml:"jwks_file"`
	// AllowHTTP permits an http:// URL (private or test issuers only).
	AllowHTTP bool `yaml:"allow_http"`
	// Algorithms are the accepted signature algorithms. Default RS256 and
	// ES256; none and HS* are never accepted.
	Algorithms []string `yaml:"algorithms"`
	// MaxTokenAge refuses JWTs issued (iat) longer ago. Default 1h.
	MaxTokenAge Duration `yaml:"max_token_age"`
}

// Federation defaults.
const DefaultMaxTokenAge = time.Hour

// DefaultAlgorithms are the signature algorithms accepted when an issuer
// names none.
var DefaultAlgorithms = []string{"RS256", "ES256"}

// asymmetricAlgs are the algorithms an issuer may list: public-key
// signatures only.
var asymmetricAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

var issuerName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// UnmarshalYAML decodes an issuer strictly on top of its defaults.
func (f *FederationIssuer) UnmarshalYAML(unmarshal func(any) error) error {
	*f = FederationIssuer{MaxTokenAge: Duration(DefaultMaxTokenAge)}
	type plain FederationIssuer
	if err := unmarshal((*plain)(f)); err != nil {
		return err
	}
	if len(f.Algorithms) == 0 {
		f.Algorithms = slices.Clone(DefaultAlgorithms)
	}
	return nil
}

// Issuer returns the issuer named name.
func (f Federation) Issuer(name string) (FederationIssuer, bool) {
	for _, is := range f.Issuers {
		if is.Name == name {
			return is, true
		}
	}
	return FederationIssuer{}, false
}

// IssuerNames lists the configured issuer names, in config order.
func (f Federation) IssuerNames() []string {
	out := make([]string, len(f.Issuers))
	for i, is := range f.Issuers {
		out[i] = is.Name
	}
	return out
}

// validate checks every issuer and returns all problems.
func (f Federation) validate() []error {
	var errs []error
	seen := map[string]bool{}
	for i, is := range f.Issuers {
		at := fmt.Sprintf("federation.issuers[%d]", i)
		bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(at+"."+format, args...)) }
		switch {
		case !issuerName.MatchString(is.Name):
			bad("name %q: want 1 to 64 letters, digits, '.', '-' or '_'", is.Name)
		case seen[is.Name]:
			bad("name %q: used twice", is.Name)
		}
		seen[is.Name] = true
		u, err := url.Parse(is.URL)
		switch {
		case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.RawQuery != "" || u.Fragment != "":
			bad("url %q: want an https:// URL without query or fragment (the JWT's iss)", is.URL)
		case u.Scheme == "http" && !is.AllowHTTP:
			bad("url %q: http:// needs allow_http: true (private or test issuers only)", is.URL)
		}
		if len(is.Audiences) == 0 || slices.Contains(is.Audiences, "") {
			bad("audiences: list at least one non-empty audience (the JWT's aud must contain one)")
		}
		for _, a := range is.Algorithms {
			if !slices.Contains(asymmetricAlgs, a) {
				bad("algorithms: %q is not accepted (want some of %s; none and HS* never)", a, strings.Join(asymmetricAlgs, ", "))
			}
		}
		if is.JWKSFile != "" {
			if _, err := os.Stat(is.JWKSFile); err != nil {
				bad("jwks_file: %v", err)
			}
		}
		if is.MaxTokenAge.D() <= 0 {
			bad("max_token_age: must be positive")
		}
	}
	return errs
}
