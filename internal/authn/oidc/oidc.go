package oidc

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/store"
)

// Store is what the provider reads and writes.
type Store interface {
	SyncOIDCUser(ctx context.Context, u store.OIDCUser) (store.User, store.OIDCSync, error)
	CreatePendingLogin(ctx context.Context, l store.PendingLogin) error
	TakePendingLogin(ctx context.Context, stateHash string, at time.Time) (store.PendingLogin, error)
	CreateSignIn(ctx context.Context, s *store.SignIn) error
	GetSignIn(ctx context.Context, id int64) (store.SignIn, error)
	RecheckedSignIn(ctx context.Context, id int64, providerRefresh []byte, at time.Time) error
	DeleteSignIn(ctx context.Context, id int64) error
	GetUser(ctx context.Context, name string) (store.User, error)
}

// Options are New's.
type Options struct {
	Config config.OIDC
	// PublicURL is server.public_url: the redirect URI is PublicURL +
	// /login/callback.
	PublicURL string
	Store     Store
	Logger    *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// HTTPClient asks the provider (default: 10 s timeout, ca_file trusted).
	HTTPClient *http.Client
}

// ErrProvider marks a provider that could not be asked (down, a bad
// discovery document, a token endpoint answering 5xx): it wraps
// authn.ErrUnavailable, so the caller answers 503, never 401.
var ErrProvider = fmt.Errorf("%w: the SSO provider cannot be reached", authn.ErrUnavailable)

// Refusal is a sign-in refused for a reason the person may read: a bad or
// replayed state, an ID token that does not verify, a user outside
// allowed_groups, a name that belongs to another account.
type Refusal struct {
	// Reason is shown on the page and logged.
	Reason string
	// User is the name the sign-in was for, when known.
	User string
}

func (r *Refusal) Error() string { return "sign-in refused: " + r.Reason }

func refuse(user, format string, args ...any) error {
	return &Refusal{Reason: fmt.Sprintf(format, args...), User: user}
}

// Provider is one configured OpenID provider. Discovery happens at the
// first sign-in (and again after a failure), so authserver starts while
// the provider is down; sign-ins then get 503 until it is back.
type Provider struct {
	cfg      config.OIDC
	redirect string
	st       Store
	log      *slog.Logger
	now      func() time.Time
	client   *http.Client
	seal     *sealer // nil without client_secret

	mu       sync.Mutex
	disc     *gooidc.Provider
	verifier *gooidc.IDTokenVerifier
}

var _ authn.SignInChecker = (*Provider)(nil)

// New returns a provider for a validated configuration. It does not
// connect.
func New(o Options) (*Provider, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.HTTPClient == nil {
		c, err := httpClient(o.Config.CAFile)
		if err != nil {
			return nil, err
		}
		o.HTTPClient = c
	}
	p := &Provider{cfg: o.Config, redirect: o.Config.RedirectURL(o.PublicURL), st: o.Store, log: o.Logger,
		now: o.Now, client: o.HTTPClient}
	if o.Config.ClientSecret != "" {
		s, err := newSealer(o.Config.ClientSecret)
		if err != nil {
			return nil, err
		}
		p.seal = s
	}
	return p, nil
}

func httpClient(caFile string) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("oidc: ca_file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("oidc: ca_file %s: no PEM certificate", caFile)
		}
		cfg.RootCAs = pool
	}
	tr.TLSClientConfig = cfg
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}, nil
}

// Issuer is the configured issuer URL.
func (p *Provider) Issuer() string { return p.cfg.Issuer }

// RedirectURL is the callback registered at the provider.
func (p *Provider) RedirectURL() string { return p.redirect }

// ctx carries the provider's HTTP client to go-oidc and oauth2.
func (p *Provider) ctx(ctx context.Context) context.Context {
	return context.WithValue(gooidc.ClientContext(ctx, p.client), oauth2.HTTPClient, p.client)
}

// discover returns the discovery document and verifier, fetching them on
// first use. A failure is ErrProvider and is retried at the next call.
func (p *Provider) discover(ctx context.Context) (*gooidc.Provider, *gooidc.IDTokenVerifier, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.disc != nil {
		return p.disc, p.verifier, nil
	}
	dctx, cancel := context.WithTimeout(p.ctx(ctx), 10*time.Second)
	defer cancel()
	d, err := gooidc.NewProvider(dctx, p.cfg.Issuer)
	if err != nil {
		return nil, nil, fmt.Errorf("oidc discovery of %s: %w: %w", p.cfg.Issuer, ErrProvider, err)
	}
	if d.Endpoint().AuthURL == "" || d.Endpoint().TokenURL == "" {
		return nil, nil, fmt.Errorf("oidc discovery of %s: %w: no authorization_endpoint or token_endpoint", p.cfg.Issuer, ErrProvider)
	}
	p.disc = d
	// Keys are fetched with this context's client; go-oidc ignores its
	// cancellation.
	p.verifier = d.VerifierContext(p.ctx(context.Background()), &gooidc.Config{ClientID: p.cfg.ClientID, Now: p.now})
	return p.disc, p.verifier, nil
}

// oauth2Config is the client as the provider knows it.
func (p *Provider) oauth2Config(d *gooidc.Provider) *oauth2.Config {
	return &oauth2.Config{ClientID: p.cfg.ClientID, ClientSecret: p.cfg.ClientSecret, Endpoint: d.Endpoint(),
		RedirectURL: p.redirect, Scopes: p.cfg.Scopes}
}

// providerError sorts an error of the token endpoint: an answer the
// provider gave (a 4xx OAuth error: the code or grant is not good) is a
// refusal; no answer, or a 5xx, is ErrProvider.
func providerError(user, op string, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode >= 400 && re.Response.StatusCode < 500 {
		code := re.ErrorCode
		if code == "" {
			code = fmt.Sprintf("HTTP %d", re.Response.StatusCode)
		}
		return refuse(user, "the provider refused the %s (%s)", op, code)
	}
	return fmt.Errorf("oidc %s: %w: %w", op, ErrProvider, err)
}
