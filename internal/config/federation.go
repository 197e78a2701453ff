package config

import (
	"errors"
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
	// AllowHTTP permits http:// (private or test issuers only): for URL,
	// for the discovery document's jwks_uri and for redirects of a key
	// fetch. Without it all three must be https://. Redirects are followed
	// on the same host (and port) only, whatever AllowHTTP says.
	AllowHTTP bool `yaml:"allow_http"`
	// Algorithms are the accepted signature algorithms. Default RS256 and
	// ES256; none and HS* are never accepted.
	Algorithms []string `yaml:"algorithms"`
	// MaxTokenAge refuses JWTs issued (iat) longer ago. Default 1h.
	MaxTokenAge Duration `yaml:"max_token_age"`
	// IdentityClaims name the claims, besides sub, that say which workload
	// a JWT of this issuer stands for (a repository, a project): a robot's
	// trust policy must pin one of them, or sub, with a pattern that starts
	// with a literal. Each is a top-level claim name or a JSON pointer, as
	// in a condition. Absent, a known issuer's defaults apply
	// (DefaultIdentityClaims); [] leaves sub alone.
	IdentityClaims []string `yaml:"identity_claims"`
}

// Issuer URLs whose identity claims authserver knows.
const (
	// GitHubActionsURL is GitHub Actions' issuer; an enterprise that
	// customised its issuer has GitHubActionsURL + "/" + its slug.
	GitHubActionsURL = "https://token.actions.githubusercontent.com"
	// GitLabURL is GitLab.com's issuer (a self-managed GitLab's URL is its
	// own: set identity_claims for it).
	GitLabURL = "https://gitlab.com"
)

// DefaultIdentityClaims are the identity claims of a known issuer, by its
// URL: the repository or project a job runs for and its owner (names and
// the immutable ids); nil for any other issuer, whose JWTs are pinned by
// sub alone unless identity_claims says more.
func DefaultIdentityClaims(issuerURL string) []string {
	switch {
	case issuerURL == GitHubActionsURL || strings.HasPrefix(issuerURL, GitHubActionsURL+"/"):
		return []string{"repository", "repository_owner", "repository_id", "repository_owner_id"}
	case issuerURL == GitLabURL:
		return []string{"project_path", "namespace_path", "project_id", "namespace_id"}
	}
	return nil
}

// Identity lists the claims a trust policy of this issuer may pin a
// workload with: sub, then identity_claims (absent: the defaults of a
// known issuer).
func (f FederationIssuer) Identity() []string {
	claims := f.IdentityClaims
	if claims == nil {
		claims = DefaultIdentityClaims(f.URL)
	}
	return append([]string{"sub"}, claims...)
}

// VerifierClaims are the claims the verifier checks itself: iss exactly,
// aud against the issuer's audiences, exp, iat and nbf against the clock.
// A condition on one of them says nothing about which workload logs in (aud
// is the same for every job that asks for the registry's audience), so no
// trust policy may have one, and no issuer may call one an identity claim.
var VerifierClaims = []string{"iss", "aud", "exp", "iat", "nbf"}

// CheckClaimKey checks a claim's key as a trust policy's condition or an
// issuer's identity_claims names it: a top-level claim name or a JSON
// pointer ("/kubernetes.io/namespace"), without control characters, and
// not one of VerifierClaims (nor a pointer to one, "/aud").
func CheckClaimKey(key string) error {
	switch {
	case key == "" || key == "/":
		return errors.New("the claim name must not be empty")
	case strings.ContainsFunc(key, func(r rune) bool { return r < ' ' || r == 0x7f }):
		return fmt.Errorf("%q: control characters in the claim name", key)
	case slices.Contains(VerifierClaims, strings.TrimPrefix(key, "/")):
		return fmt.Errorf("%s is checked by the verifier (iss exactly, aud against the issuer's audiences, exp, iat and nbf "+
			"against the clock) and says nothing about which workload logs in", key)
	}
	return nil
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
		for _, c := range is.IdentityClaims {
			if err := CheckClaimKey(c); err != nil {
				bad("identity_claims: %v", err)
			}
		}
	}
	return errs
}
