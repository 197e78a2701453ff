package federation_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/authn/authntest"
	"github.com/authserver/authserver/internal/authn/federation"
	"github.com/authserver/authserver/internal/authn/secret"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/oidctest"
	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/testenv/sqlitetest"
)

// TestFederatedKeyFetchRules: the keys every login trusts come from the
// issuer's own host, over https. A discovery document naming an http://
// jwks_uri is refused unless the issuer sets allow_http; a redirect of the
// discovery document or of the JWKS to another host is not followed (an
// attacker on 127.0.0.2 serving its own keys, with a JWT signed by them
// under the real issuer's iss); a redirect on the same host is. A refused
// fetch is an outage (503), never a login with the other keys.
func TestFederatedKeyFetchRules(t *testing.T) {
	claims := oidctest.GitHub("org/app", "refs/heads/main")
	tests := []struct {
		name  string
		setup func(t *testing.T) (is *oidctest.Issuer, allowHTTP bool, jwt string)
		why   string // in the error; "" = the login works
	}{
		{name: "https issuer, http jwks_uri", why: `jwks_uri "http://127.0.0.2`, setup: func(t *testing.T) (*oidctest.Issuer, bool, string) {
			is := oidctest.NewWith(t, oidctest.Options{TLS: true})
			evil := oidctest.NewWith(t, oidctest.Options{Host: "127.0.0.2"})
			is.SetDiscovery(map[string]any{"jwks_uri": evil.URL + "/jwks"})
			return is, false, evil.Mint(aud, with(claims, "iss", is.URL))
		}},
		{name: "http jwks_uri with allow_http", setup: func(t *testing.T) (*oidctest.Issuer, bool, string) {
			is := oidctest.NewWith(t, oidctest.Options{TLS: true})
			keys := oidctest.New(t)
			is.SetDiscovery(map[string]any{"jwks_uri": keys.URL + "/jwks"})
			return is, true, keys.Mint(aud, with(claims, "iss", is.URL))
		}},
		{name: "https jwks_uri on another host", setup: func(t *testing.T) (*oidctest.Issuer, bool, string) {
			// Allowed: jwks_uri is the issuer's word (Google's is on another
			// host). Both hosts share a certificate here.
			is := oidctest.NewWith(t, oidctest.Options{TLS: true})
			keys := oidctest.NewWith(t, oidctest.Options{TLS: true, Host: "127.0.0.2", Like: is})
			is.SetDiscovery(map[string]any{"jwks_uri": keys.URL + "/jwks"})
			return is, false, keys.Mint(aud, with(claims, "iss", is.URL))
		}},
		{name: "JWKS redirected to another host", why: "to another host (127.0.0.2:", setup: func(t *testing.T) (*oidctest.Issuer, bool, string) {
			is := oidctest.New(t)
			evil := oidctest.NewWith(t, oidctest.Options{Host: "127.0.0.2"})
			is.Redirect("/jwks", evil.URL+"/jwks")
			return is, true, evil.Mint(aud, with(claims, "iss", is.URL))
		}},
		{name: "discovery redirected to another host", why: "to another host (127.0.0.2:", setup: func(t *testing.T) (*oidctest.Issuer, bool, string) {
			is := oidctest.New(t)
			evil := oidctest.NewWith(t, oidctest.Options{Host: "127.0.0.2"})
			evil.SetDiscovery(map[string]any{"issuer": is.URL})
			is.Redirect("/.well-known/openid-configuration", evil.URL+"/.well-known/openid-configuration")
			return is, true, evil.Mint(aud, with(claims, "iss", is.URL))
		}},
		{name: "https JWKS redirected to http on the same host", why: "redirect to http:// refused", setup: func(t *testing.T) (*oidctest.Issuer, bool, string) {
			is := oidctest.NewWith(t, oidctest.Options{TLS: true})
			is.Redirect("/jwks", "http://"+strings.TrimPrefix(is.URL, "https://")+"/jwks")
			return is, false, is.Mint(aud, claims)
		}},
		{name: "redirects on the same host are followed", setup: func(t *testing.T) (*oidctest.Issuer, bool, string) {
			is := oidctest.NewWith(t, oidctest.Options{TLS: true})
			is.Redirect("/.well-known/openid-configuration", "/.well-known/openid-configuration?moved=1")
			is.Redirect("/jwks", "/jwks?moved=1")
			return is, false, is.Mint(aud, claims)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			is, allowHTTP, jwt := tt.setup(t)
			st := sqlitetest.Open(t)
			if err := st.CreateRobot(t.Context(), &store.Robot{Name: "gh", Project: store.SystemRobotProject,
				Permissions: store.OneProject(store.SystemRobotProject, "pull"),
				Trust:       &store.TrustPolicy{Issuer: "github", Conditions: conds("repository", "org/app")}}); err != nil {
				t.Fatal(err)
			}
			c := issuerConfig("github", is)
			c.AllowHTTP = allowHTTP
			fed, err := federation.New(config.Federation{Issuers: []config.FederationIssuer{c}},
				federation.Options{HTTPClient: is.Client()})
			if err != nil {
				t.Fatal(err)
			}
			robots := secret.NewRobots(st, "robot$", authntest.NewChain(t, st, nil), nil, nil)
			robots.SetFederation(fed, nil)
			_, ok, err := robots.Login(t.Context(), "robot$gh", jwt)
			if tt.why == "" {
				if !ok || err != nil {
					t.Fatalf("login: %v %v; want it to work", ok, err)
				}
				return
			}
			if ok || !errors.Is(err, authn.ErrUnavailable) || !strings.Contains(err.Error(), tt.why) {
				t.Fatalf("login: ok %v, err %v; want refused keys (ErrUnavailable, 503) naming %q", ok, err, tt.why)
			}
		})
	}
}
