package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/store/sqlite"
	"github.com/authserver/authserver/internal/throttle"
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
			logs := &syncBuffer{}
			s := &Server{opts: Options{TrustedProxies: trusted}, log: slog.New(slog.NewTextHandler(logs, nil))}
			var got string
			h := s.clientIP(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = ipOf(r) }))
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

// TestThrottleHolds: 120 guesses rotating through the addresses of one IPv6
// /64 and through spellings of the name meet 429, directly and through a
// trusted proxy, while the real owner from another network still gets in.
func TestThrottleHolds(t *testing.T) {
	hs := newHardServer(t, func(o *Options, _ *sqlite.Store) {
		o.Throttle = throttle.New(throttle.Config{UserIPLimit: 5, IPLimit: 50, BaseDelay: time.Minute,
			MaxDelay: time.Hour, Forget: time.Hour}, nil)
		o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	})
	q := url.Values{"scope": {"repository:team/app:pull"}}
	spellings := []string{"dev", "DEV", " dev", "Dev\t"}
	throttled := 0
	for i := range 120 {
		req := getReq(q, spellings[i%len(spellings)], fmt.Sprintf("guess%d", i))
		remote := fmt.Sprintf("[2001:db8:bad:1:%x::%x]:4000", i, i+1)
		if i%2 == 1 { // every other guess through the proxy
			req.Header.Set("X-Forwarded-For", fmt.Sprintf("[2001:db8:bad:1::%x]:5555", i))
			remote = "10.0.0.1:4000"
		}
		rec := hs.serve(req, remote)
		switch rec.Code {
		case http.StatusTooManyRequests:
			throttled++
			if rec.Header().Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
		case http.StatusUnauthorized:
		default:
			t.Fatalf("guess %d: status %d", i, rec.Code)
		}
	}
	if throttled < 100 {
		t.Fatalf("%d of 120 guesses throttled, want all but the first few", throttled)
	}
	if n := hs.logins.calls.Load(); n > 5 {
		t.Fatalf("%d password checks for 120 guesses", n)
	}
	owner := hs.serve(getReq(q, "dev", "dev-secret"), "[2001:db8:600d:7::1]:4000")
	if owner.Code != http.StatusOK {
		t.Fatalf("owner from another network: %d %s", owner.Code, owner.Body)
	}
	// The log keeps full addresses, not the /64.
	if logs := hs.logs.String(); !strings.Contains(logs, "2001:db8:bad:1:") || strings.Contains(logs, "/64") {
		t.Fatal("log does not carry the full client addresses")
	}
}

// TestReadyzNamesCheckOnly: /readyz says which check failed, never the
// error (addresses, DNs); the error is logged.
func TestReadyzNamesCheckOnly(t *testing.T) {
	secret := errors.New("ldap: dial tcp 10.1.2.3:389: bind cn=svc,dc=corp refused")
	tests := []struct {
		name string
		err  error
		want string
	}{
		{name: "store", err: &CheckError{Check: "store", Err: errors.New("open /var/lib/x.db: disk I/O error")}, want: "not ready: store"},
		{name: "ldap wrapped", err: fmt.Errorf("probe: %w", &CheckError{Check: "ldap", Err: secret}), want: "not ready: ldap"},
		{name: "unnamed", err: secret, want: "not ready"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := &syncBuffer{}
			h := New(Options{Logger: slog.New(slog.NewTextHandler(logs, nil)), Ready: func(context.Context) error { return tt.err }})
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
			wantErrcode(t, rec, http.StatusServiceUnavailable)
			var eb errorBody
			_ = json.Unmarshal(rec.Body.Bytes(), &eb)
			if eb.Errors[0].Message != tt.want {
				t.Fatalf("message %q, want %q", eb.Errors[0].Message, tt.want)
			}
			if !strings.Contains(logs.String(), "refused") && !strings.Contains(logs.String(), "disk I/O error") {
				t.Fatalf("error not logged: %q", logs.String())
			}
		})
	}
}
