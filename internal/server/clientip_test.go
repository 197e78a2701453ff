package server

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/authserver/authserver/internal/metrics"
	"github.com/authserver/authserver/internal/testenv"
)

func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	tests := []struct {
		name   string
		remote string
		xff    []string
		want   string
	}{
		{name: "no proxy", remote: "198.51.100.1:5000", want: "198.51.100.1"},
		{name: "untrusted peer's header ignored", remote: "198.51.100.1:5000", xff: []string{"203.0.113.5"}, want: "198.51.100.1"},
		{name: "ip", remote: "10.0.0.1:5000", xff: []string{"203.0.113.5"}, want: "203.0.113.5"},
		{name: "ip:port", remote: "10.0.0.1:5000", xff: []string{"203.0.113.5:41000"}, want: "203.0.113.5"},
		{name: "v6", remote: "10.0.0.1:5000", xff: []string{"2001:db8::7"}, want: "2001:db8::7"},
		{name: "[v6]", remote: "10.0.0.1:5000", xff: []string{"[2001:db8::7]"}, want: "2001:db8::7"},
		{name: "[v6]:port", remote: "10.0.0.1:5000", xff: []string{"[2001:db8::7]:443"}, want: "2001:db8::7"},
		{name: "v4-mapped", remote: "10.0.0.1:5000", xff: []string{"::ffff:203.0.113.5"}, want: "203.0.113.5"},
		{name: "right-most untrusted hop", remote: "10.0.0.1:5000", xff: []string{"1.2.3.4, 203.0.113.5", "10.0.0.2, [fd00::1]:80"}, want: "203.0.113.5"},
		{name: "spoofed garbage left of the client ignored", remote: "10.0.0.1:5000", xff: []string{"garbage, 203.0.113.5"}, want: "203.0.113.5"},
		{name: "unparsable entry is the identity", remote: "10.0.0.1:5000", xff: []string{"unknown"}, want: "invalid:unknown"},
		{name: "unparsable behind a trusted hop", remote: "10.0.0.1:5000", xff: []string{"1.2.3.4, _hidden, 10.0.0.9"}, want: "invalid:_hidden"},
		{name: "empty entry", remote: "10.0.0.1:5000", xff: []string{"203.0.113.5,"}, want: "invalid:"},
		{name: "long unparsable entry cut", remote: "10.0.0.1:5000", xff: []string{strings.Repeat("z", 500)},
			want: "invalid:" + strings.Repeat("z", maxInvalidHop)},
		{name: "only trusted hops", remote: "10.0.0.1:5000", xff: []string{"10.0.0.3, 10.0.0.2"}, want: "10.0.0.3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := &testenv.Buffer{}
			s := &Server{opts: Options{TrustedProxies: trusted}, log: slog.New(slog.NewTextHandler(logs, nil))}
			var got string
			h := s.frame(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = ipOf(r) }))
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			h.ServeHTTP(httptest.NewRecorder(), req)
			if got != tt.want {
				t.Fatalf("client %q, want %q", got, tt.want)
			}
			if logged := strings.Contains(logs.String(), "not an address"); logged != strings.HasPrefix(tt.want, invalidHopPrefix) {
				t.Fatalf("warning logged: %v; log %q", logged, logs.String())
			}
		})
	}
}

// TestUntrustedForwardedFor: X-Forwarded-For from a peer outside
// trusted_proxies (none configured: the default) is ignored, counted in
// authserver_untrusted_forwarded_requests_total and warned of once a
// minute at most; from a trusted peer, or without the header, nothing.
func TestUntrustedForwardedFor(t *testing.T) {
	for _, tt := range []struct {
		name    string
		trusted []netip.Prefix
	}{
		{name: "no trusted proxies"},
		{name: "balancer missing from the list", trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			logs := &testenv.Buffer{}
			m := metrics.New("test")
			s := &Server{opts: Options{TrustedProxies: tt.trusted, Metrics: m}, log: slog.New(slog.NewTextHandler(logs, nil))}
			h := s.frame(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			send := func(remote string, xff bool) {
				req := httptest.NewRequest(http.MethodGet, "/", nil)
				req.RemoteAddr = remote
				if xff {
					req.Header.Set("X-Forwarded-For", "203.0.113.5")
				}
				h.ServeHTTP(httptest.NewRecorder(), req)
			}
			for range 5 {
				send("192.0.2.10:5000", true)
			}
			send("192.0.2.10:5000", false)
			if len(tt.trusted) > 0 {
				send("10.0.0.1:5000", true)
			}
			if got := testutil.ToFloat64(m.UntrustedForwarded); got != 5 {
				t.Fatalf("counted %v, want 5", got)
			}
			if n := strings.Count(logs.String(), "outside server.trusted_proxies"); n != 1 || !strings.Contains(logs.String(), "peer=192.0.2.10") {
				t.Fatalf("%d warnings, want 1 naming the peer: %s", n, logs)
			}
		})
	}
}
