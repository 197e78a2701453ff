package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/token"
)

// keyring holds what SIGHUP re-reads: the signing key (inside the issuer),
// the previous certificates still published, and the HTTPS key pair.
type keyring struct {
	cfg      config.Config
	issuer   *token.Issuer
	previous atomic.Pointer[[]*x509.Certificate]
	tlsCert  atomic.Pointer[tls.Certificate]
	log      *slog.Logger
}

// newKeyring loads everything once; a failure here stops the start.
func newKeyring(cfg config.Config, log *slog.Logger) (*keyring, error) {
	issuer, err := newIssuer(cfg, log)
	if err != nil {
		return nil, err
	}
	k := &keyring{cfg: cfg, issuer: issuer, log: log}
	prev, err := loadPrevious(cfg)
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

func loadPrevious(cfg config.Config) ([]*x509.Certificate, error) {
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

// Previous returns the certificates of rotated-out keys.
func (k *keyring) Previous() []*x509.Certificate { return *k.previous.Load() }

// JWKS publishes the current key and the previous certificates.
func (k *keyring) JWKS() ([]byte, error) { return k.issuer.JWKS(k.Previous()...) }

// reload re-reads every file. Each part is swapped only when it loads
// cleanly: a bad new key is refused with a log line and the old one stays.
// Requests in flight keep the signer they started with.
func (k *keyring) reload() {
	signer, err := loadSigner(k.cfg.Token)
	if err != nil {
		k.log.Error("reload: new signing key refused; still signing with the old one", "err", err, "kid", k.issuer.Signer().KID())
	} else {
		old := k.issuer.Signer().KID()
		k.issuer.SetSigner(signer)
		k.log.Info("reload: signing key loaded", "kid", signer.KID(), "previous_kid", old)
	}
	if prev, err := loadPrevious(k.cfg); err != nil {
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

// tlsConfig serves the current key pair, so a reload applies to new
// connections without a restart.
func (k *keyring) tlsConfig() *tls.Config {
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
