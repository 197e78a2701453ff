package app

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/authserver/authserver/internal/admin"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/registry"
	"github.com/authserver/authserver/internal/token"
)

var _ admin.Registry = (*registry.Client)(nil)

// newRegistry is the registry of registry.url, asked with tokens sign
// signs (the server's issuer, which follows key rotation); nil without
// registry.url.
func newRegistry(cfg config.Config, sign registry.Signer) (admin.Registry, error) {
	rc := cfg.Registry
	if rc.URL == "" {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if rc.CAFile != "" {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		pem, err := os.ReadFile(rc.CAFile)
		if err != nil || !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("registry.ca_file %s: no PEM certificate in it (%v)", rc.CAFile, err)
		}
		tc.RootCAs = pool
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tc
	tr.Proxy = nil // the registry as authserver itself reaches it, not through a proxy for clients
	c, err := registry.New(rc.URL, &http.Client{Transport: tr, Timeout: rc.Timeout.D()}, sign)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// lazyIssuer signs with the config's key, loaded at the first token: a CLI
// command that never asks the registry never reads the key.
type lazyIssuer struct {
	cfg  config.Config
	once sync.Once
	is   *token.Issuer
	err  error
}

func (l *lazyIssuer) IssueUntil(subject string, access []token.ResourceActions, notAfter time.Time) (token.Token, error) {
	l.once.Do(func() {
		cfg := l.cfg
		cfg.Token.GenerateKey = false // the CLI never makes the server's key
		l.is, l.err = newIssuer(cfg, slog.New(slog.DiscardHandler))
	})
	if l.err != nil {
		return token.Token{}, l.err
	}
	return l.is.IssueUntil(subject, access, notAfter)
}
