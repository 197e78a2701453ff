package config

import (
	"crypto/x509"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"
)

// Registry is the registry whose tokens authserver signs, as authserver
// itself reaches it through the registry's API: to refuse deleting a
// project while the registry holds repositories under it (Harbor's 412),
// to list a project's repositories and to delete them (terraform's
// force_destroy). authserver shows the registry tokens it signs for itself
// (token.issuer, token.key; subject "authserver", valid 60s) granting the
// catalog or one repository's pull and delete. Deleting needs the
// registry's storage.delete.enabled: true.
type Registry struct {
	// URL is the registry's address as authserver reaches it
	// ("http://registry:5000"); empty: authserver asks no registry, a
	// project has no repositories, and a deleted project's name stays
	// reserved (only a sysadmin may create it again). /systeminfo reports
	// it as registry_url.
	URL string `yaml:"url"`
	// CAFile is a PEM bundle trusted, beside the system's roots, for an
	// https URL.
	CAFile string `yaml:"ca_file"`
	// Timeout bounds each request to the registry. Default 10s.
	Timeout Duration `yaml:"timeout"`
	// PublicHost is the registry as people name it in `docker login`
	// ("registry.example.org", with a port if it has one). The SSO pages
	// show it in their login lines; empty: the host of URL when that is
	// set, else the placeholder REGISTRY.
	PublicHost string `yaml:"public_host"`
}

// LoginHost is the registry host a person types in `docker login` and
// `authserver login`: public_host, else url's host, else "REGISTRY".
func (r Registry) LoginHost() string {
	if r.PublicHost != "" {
		return r.PublicHost
	}
	if u, err := url.Parse(r.URL); err == nil && u.Host != "" {
		return u.Host
	}
	return "REGISTRY"
}

// DefaultRegistryTimeout is registry.timeout's default.
const DefaultRegistryTimeout = 10 * time.Second

func (c *Config) validateRegistry() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	r := c.Registry
	if r.URL != "" {
		u, err := url.Parse(r.URL)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			bad("registry.url %q: want the registry's http:// or https:// URL", r.URL)
		case u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/"):
			bad("registry.url %q: want scheme, host and port only (the registry's API is at /v2/)", r.URL)
		case r.CAFile != "" && u.Scheme != "https":
			bad("registry.ca_file: set for an http:// registry.url")
		}
	} else if r.CAFile != "" {
		bad("registry.ca_file: set without registry.url")
	}
	if r.CAFile != "" {
		if pem, err := os.ReadFile(r.CAFile); err != nil {
			bad("registry.ca_file: %v", err)
		} else if !x509.NewCertPool().AppendCertsFromPEM(pem) {
			bad("registry.ca_file %s: no PEM certificate in it", r.CAFile)
		}
	}
	if h := r.PublicHost; h != "" {
		if u, err := url.Parse("https://" + h); err != nil || u.Host != h || strings.ContainsAny(h, "/@?#") {
			bad("registry.public_host %q: want a host name, with a port if it has one (registry.example.org:5000)", h)
		}
	}
	if r.Timeout.D() < time.Second || r.Timeout.D() > 5*time.Minute {
		bad("registry.timeout %s: want 1s to 5m", r.Timeout)
	}
	return errs
}
