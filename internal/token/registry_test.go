package token

import (
	"crypto/x509"
	"net/http"
	"testing"
	"time"
)

// What the tests against the registries' own verifiers (registry_*_test.go)
// share.

// bearer is a GET of url as a registry receives it: with a token that s
// signs for subject and access (testIssuer, testService, a minute).
func bearer(t testing.TB, s *Signer, subject string, access []ResourceActions, url string) *http.Request {
	t.Helper()
	tok, err := NewIssuer(s, testIssuer, testService, time.Minute).Issue(subject, access)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok.Raw)
	return req
}

// certPool holds certs, as a verifier's roots.
func certPool(certs []*x509.Certificate) *x509.CertPool {
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool
}
