package metrics

import (
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestNames: Names lists every metric of authserver's own, samples or not,
// histograms as their three series, and each name a scrape shows is listed.
func TestNames(t *testing.T) {
	m := New("test")
	m.WatchPasswordChecks(func() int { return 1 }, 4)
	m.WatchSigningCertificate(func() (time.Time, bool) { return time.Unix(2000000000, 0), true })
	names := m.Names()
	for _, want := range []string{"authserver_logins_total", "authserver_token_request_duration_seconds_bucket",
		"authserver_token_request_duration_seconds_count", "authserver_password_checks_max",
		"authserver_signing_certificate_expiry_timestamp_seconds", "authserver_build_info"} {
		if !slices.Contains(names, want) {
			t.Errorf("Names lacks %s: %v", want, names)
		}
	}
	m.Token(ResultIssued, "password", 0.01)
	m.Login("token", "ok", "password")
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		name, _, _ := strings.Cut(line, "{")
		name, _, _ = strings.Cut(name, " ")
		if strings.HasPrefix(name, "authserver_") && !slices.Contains(names, name) {
			t.Errorf("scraped %s, which Names does not list", name)
		}
	}
	if !strings.Contains(rec.Body.String(), "authserver_signing_certificate_expiry_timestamp_seconds 2e+09") {
		t.Error("certificate expiry not published")
	}
}
