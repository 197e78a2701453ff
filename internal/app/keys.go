package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"sync/atomic"

	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/token"
)

// Keyring holds what SIGHUP re-reads: the signing key (inside the issuer),
// the previous certificates still published, and the HTTPS key pair.
type Keyring struct {
	cfg      config.Config
	issuer   *token.Issuer
	previous atomic.Pointer[[]*x509.Certificate]
	tlsCert  atomic.Pointer[tls.Certificate]
	log      *slog.Logger
}

// NewKeyring loads everything once (generating the key pair first with
// token.generate_key); a failure here stops the start.
func NewKeyring(cfg config.Config, log *slog.Logger) (*Keyring, error) {
	issuer, err := newIssuer(cfg, log)
	if err != nil {
		return nil, err
	}
	k := &Keyring{cfg: cfg, issuer: issuer, log: log}
	prev, err := PreviousCertificates(cfg)
	if err != nil {
		return nil, err
	}
	k.previous.Store(&prev)
	if cfg.Server.TLS.Cert != "" {
		pair, err := tls.LoadX509KeyPair(cfg.Server.TLS.Cert, cfg.Server.TLS.Key)
		if err != nil {
			return nil, fmt.Errorf("server.tls: %w", err)
		}
		k.tlsCert.Store(&pair)
	}
	return k, nil
}

// newIssuer loads (or, on the embedded default's first start, generates) the
// signing key and builds the token issuer.
func newIssuer(cfg config.Config, log *slog.Logger) (*token.Issuer, error) {
	if cfg.Token.GenerateKey {
		created, err := token.EnsureKeyPair(cfg.Token.Key, cfg.Token.Certificate)
		if err != nil {
			return nil, err
		}
		if created {
			log.Info("generated a new signing key", "key", cfg.Token.Key, "certificate", cfg.Token.Certificate)
		}
	}
	signer, err := LoadSigner(cfg.Token)
	if errors.Is(err, fs.ErrNotExist) {
		abs, _ := filepath.Abs(cfg.Token.Key)
		return nil, fmt.Errorf("%w\nthe signing key %s does not exist: make a key pair with `authserver keygen --dir %s` "+
			"(and give the registry its token.crt), or set token.generate_key: true to make one at the first start", err, abs, filepath.Dir(abs))
	}
	if err != nil {
		return nil, err
	}
	return NewIssuer(cfg, signer), nil
}

// NewIssuer is the token issuer of cfg signing with signer.
func NewIssuer(cfg config.Config, signer *token.Signer) *token.Issuer {
	return token.NewIssuer(signer, cfg.Token.Issuer, cfg.Token.Service, cfg.Token.Expiration.D())
}

// LoadSigner reads the signing key and certificate; with token.x5c: false
// the tokens carry kid only.
func LoadSigner(c config.Token) (*token.Signer, error) {
	mode, err := token.ParseKIDMode(c.KID)
	if err != nil {
		return nil, err
	}
	signer, err := token.NewSigner(c.Key, c.Certificate, mode)
	if err != nil || c.X5C {
		return signer, err
	}
	return signer.WithoutX5C()
}

// PreviousCertificates reads token.previous_certificates.
func PreviousCertificates(cfg config.Config) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for _, p := range cfg.Token.PreviousCertificates {
		certs, err := token.LoadCertificates(p)
		if err != nil {
			return nil, fmt.Errorf("token.previous_certificates: %w", err)
		}
		out = append(out, certs...)
	}
	return out, nil
}

// ConfigJWKS is the JWKS of cfg's current key and previous certificates.
func ConfigJWKS(cfg config.Config) ([]byte, error) {
	signer, err := LoadSigner(cfg.Token)
	if err != nil {
		return nil, err
	}
	prev, err := PreviousCertificates(cfg)
	if err != nil {
		return nil, err
	}
	return NewIssuer(cfg, signer).JWKS(prev...)
}

// ConfigBundle is the PEM bundle of certificates the registry must trust
// during a key rotation: cfg's current certificate first, then the
// previous ones.
func ConfigBundle(cfg config.Config) ([]byte, error) {
	if cfg.Token.Certificate == "" {
		return nil, fmt.Errorf("token.certificate is not set: there is no certificate to bundle")
	}
	certs, err := token.LoadCertificates(cfg.Token.Certificate)
	if err != nil {
		return nil, err
	}
	prev, err := PreviousCertificates(cfg)
	if err != nil {
		return nil, err
	}
	return token.CertBundlePEM(append(certs[:1:1], prev...)...), nil
}

// Issuer signs tokens with the current key.
func (k *Keyring) Issuer() *token.Issuer { return k.issuer }

// Previous returns the certificates of rotated-out keys.
func (k *Keyring) Previous() []*x509.Certificate { return *k.previous.Load() }

// JWKS publishes the current key and the previous certificates.
func (k *Keyring) JWKS() ([]byte, error) { return k.issuer.JWKS(k.Previous()...) }

// Reload re-reads every file. Each part is swapped only when it loads
// cleanly: a bad new key is refused with a log line and the old one stays.
// Requests in flight keep the signer they started with.
func (k *Keyring) Reload() {
	signer, err := LoadSigner(k.cfg.Token)
	if err != nil {
		k.log.Error("reload: new signing key refused; still signing with the old one", "err", err, "kid", k.issuer.Signer().KID())
	} else {
		old := k.issuer.Signer().KID()
		k.issuer.SetSigner(signer)
		k.log.Info("reload: signing key loaded", "kid", signer.KID(), "previous_kid", old)
	}
	if prev, err := PreviousCertificates(k.cfg); err != nil {
		k.log.Error("reload: previous certificates refused; keeping the old list", "err", err)
	} else {
		k.previous.Store(&prev)
	}
	if k.cfg.Server.TLS.Cert != "" {
		pair, err := tls.LoadX509KeyPair(k.cfg.Server.TLS.Cert, k.cfg.Server.TLS.Key)
		if err != nil {
			k.log.Error("reload: new TLS key pair refused; keeping the old one", "err", err)
		} else {
			k.tlsCert.Store(&pair)
			k.log.Info("reload: TLS key pair loaded")
		}
	}
}

// Reload is what SIGHUP does: the keyring's files (Keyring.Reload), then
// every federation issuer's jwks_file, each kept as it was when its new
// file is refused.
func (a *App) Reload(ctx context.Context) {
	a.Keys.Reload()
	if a.Federation == nil {
		return
	}
	reloaded, err := a.Federation.ReloadKeyFiles(ctx)
	if len(reloaded) > 0 {
		a.Log.Info("reload: jwks_file keys loaded", "issuers", reloaded)
	}
	if err != nil {
		a.Log.Error("reload: jwks_file refused; keeping the old keys", "err", err)
	}
}

// TLSConfig serves the current key pair, so a reload applies to new
// connections without a restart; nil without server.tls.
func (k *Keyring) TLSConfig() *tls.Config {
	if k.tlsCert.Load() == nil {
		return nil
	}
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return k.tlsCert.Load(), nil
		},
	}
}
