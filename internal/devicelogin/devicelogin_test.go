package devicelogin

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestParseChallenge(t *testing.T) {
	tests := []struct {
		name, in, scheme string
		want             map[string]string
	}{
		{name: "registry", in: `Bearer realm="http://localhost:5001/service/token",service="harbor-registry"`,
			scheme: "Bearer", want: map[string]string{"realm": "http://localhost:5001/service/token", "service": "harbor-registry"}},
		{name: "scope with commas and spaces", in: `Bearer realm="https://a/service/token", service="s", scope="repository:x:pull,push"`,
			scheme: "Bearer", want: map[string]string{"realm": "https://a/service/token", "service": "s", "scope": "repository:x:pull,push"}},
		{name: "escapes and tokens", in: `bearer realm="a\"b",Service=plain`,
			scheme: "bearer", want: map[string]string{"realm": `a"b`, "service": "plain"}},
		{name: "basic", in: `Basic realm="x"`, scheme: "Basic", want: map[string]string{"realm": "x"}},
		{name: "unterminated", in: `Bearer realm="abc`, scheme: "Bearer", want: map[string]string{"realm": "abc"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			scheme, params := ParseChallenge(tc.in)
			if scheme != tc.scheme || len(params) != len(tc.want) {
				t.Fatalf("got %q %v, want %q %v", scheme, params, tc.scheme, tc.want)
			}
			for k, v := range tc.want {
				if params[k] != v {
					t.Fatalf("%s = %q, want %q", k, params[k], v)
				}
			}
		})
	}
}

func TestBaseAndRegistryURL(t *testing.T) {
	for _, tc := range []struct{ realm, want, err string }{
		{realm: "http://localhost:5001/service/token", want: "http://localhost:5001"},
		{realm: "https://auth.example.org/prefix/service/token/", want: "https://auth.example.org/prefix"},
		{realm: "https://auth.example.org/token", err: "does not end in /service/token"},
		{realm: "ftp://x/service/token", err: "not an http(s) URL"},
	} {
		got, err := Challenge{Realm: tc.realm}.Base()
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Base(%q) = %q, %v; want error %q", tc.realm, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Base(%q) = %q, %v; want %q", tc.realm, got, err, tc.want)
		}
	}
	for _, tc := range []struct {
		in       string
		insecure bool
		want     string
	}{
		{in: "localhost:5000", want: "http://localhost:5000"},
		{in: "127.0.0.1:5000", want: "http://127.0.0.1:5000"},
		{in: "[::1]:5000", want: "http://[::1]:5000"},
		{in: "registry.example.org", want: "https://registry.example.org"},
		{in: "registry.example.org", insecure: true, want: "http://registry.example.org"},
		{in: "https://registry.example.org/", want: "https://registry.example.org"},
	} {
		got, err := RegistryURL(tc.in, tc.insecure)
		if err != nil || got != tc.want {
			t.Errorf("RegistryURL(%q, %v) = %q, %v; want %q", tc.in, tc.insecure, got, err, tc.want)
		}
	}
	if _, err := RegistryURL("a/b", false); err == nil {
		t.Error("RegistryURL accepted a path")
	}
}

func TestDiscover(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v2/":
			w.Header().Add("WWW-Authenticate", `Basic realm="ignored"`)
			w.Header().Add("WWW-Authenticate", `Bearer realm="http://localhost:1/service/token",service="harbor-registry"`)
			w.WriteHeader(http.StatusUnauthorized)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	ch, err := Discover(context.Background(), srv.Client(), srv.URL)
	if err != nil || ch.Realm != "http://localhost:1/service/token" || ch.Service != "harbor-registry" {
		t.Fatalf("Discover = %+v, %v", ch, err)
	}
	open := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer open.Close()
	if _, err := Discover(context.Background(), open.Client(), open.URL); err == nil || !strings.Contains(err.Error(), "want 401") {
		t.Fatalf("an open registry: %v", err)
	}
	// The authserver's own address given instead of the registry's.
	notRegistry := httptest.NewServer(http.NotFoundHandler())
	defer notRegistry.Close()
	if _, err := Discover(context.Background(), notRegistry.Client(), notRegistry.URL); err == nil || !strings.Contains(err.Error(), "name the registry, not the authserver") {
		t.Fatalf("not a registry: %v", err)
	}
}

// fakeAS is an RFC 8628 authorization server: the token endpoint answers
// the scripted replies in turn and records every poll.
type fakeAS struct {
	t       *testing.T
	replies []reply
	device  reply

	mu    sync.Mutex
	polls int
	forms []map[string]string
}

type reply struct {
	status int
	body   string
}

func (f *fakeAS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		f.t.Error(err)
	}
	form := map[string]string{}
	for k := range r.PostForm {
		form[k] = r.PostForm.Get(k)
	}
	var rep reply
	switch r.URL.Path {
	case "/oauth/device/code":
		rep = f.device
		if rep.status == 0 {
			rep = reply{200, `{"device_code":"dc-1","user_code":"BCDF-GHJK","verification_uri":"http://as/device",` +
				`"verification_uri_complete":"http://as/device?user_code=BCDF-GHJK","expires_in":600,"interval":5}`}
		}
		if form["client_id"] != ClientID || form["service"] != "harbor-registry" {
			f.t.Errorf("device code request form %v", form)
		}
	case "/service/token":
		f.mu.Lock()
		f.forms = append(f.forms, form)
		if f.polls < len(f.replies) {
			rep = f.replies[f.polls]
		} else {
			rep = reply{400, `{"error":"authorization_pending"}`}
		}
		f.polls++
		f.mu.Unlock()
	default:
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rep.status)
	w.Write([]byte(rep.body))
}

func jwtWithSub(sub string) string {
	enc := base64.RawURLEncoding.EncodeToString
	p, _ := json.Marshal(map[string]string{"sub": sub})
	return enc([]byte(`{"alg":"RS256"}`)) + "." + enc(p) + ".sig"
}

var success = reply{200, `{"token":"` + jwtWithSub("alice") + `","access_token":"` + jwtWithSub("alice") +
	`","expires_in":300,"issued_at":"2026-01-01T00:00:00Z","refresh_token":"asr_refresh"}`}

// TestPoll runs the device grant against the fake server for every answer
// RFC 8628 3.5 defines, with a fake clock that records the waits.
func TestPoll(t *testing.T) {
	pending := reply{400, `{"error":"authorization_pending"}`}
	tests := []struct {
		name      string
		replies   []reply
		expiresIn int
		wantErr   error
		wantText  string
		wantWaits []time.Duration
	}{
		{name: "pending then approved", replies: []reply{pending, pending, success},
			wantWaits: []time.Duration{5 * time.Second, 5 * time.Second, 5 * time.Second}},
		{name: "slow_down adds 5 seconds each time", replies: []reply{{400, `{"error":"slow_down"}`}, {400, `{"error":"slow_down"}`}, pending, success},
			wantWaits: []time.Duration{5 * time.Second, 10 * time.Second, 15 * time.Second, 15 * time.Second}},
		{name: "expired_token", replies: []reply{pending, {400, `{"error":"expired_token"}`}}, wantErr: ErrExpired, wantText: "expired before it was approved"},
		{name: "access_denied", replies: []reply{{400, `{"error":"access_denied"}`}}, wantErr: ErrDenied, wantText: "denied in the browser"},
		{name: "code outlives its expiry", replies: nil, expiresIn: 12, wantErr: ErrExpired, wantText: "not approved within 12s"},
		{name: "another error is fatal", replies: []reply{{400, `{"error":"invalid_grant","error_description":"unknown device code"}`}}, wantText: "unknown device code"},
		{name: "errcode body", replies: []reply{{401, `{"errors":[{"code":"UNAUTHORIZED","message":"no"}]}`}}, wantText: "UNAUTHORIZED: no"},
		{name: "an outage is waited out", replies: []reply{{503, `{"errors":[{"code":"UNAVAILABLE","message":"db"}]}`}, success},
			wantWaits: []time.Duration{5 * time.Second, 5 * time.Second}},
		{name: "success without a refresh token", replies: []reply{{200, `{"access_token":"x"}`}}, wantText: "no refresh_token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			as := &fakeAS{t: t, replies: tc.replies}
			srv := httptest.NewServer(as)
			defer srv.Close()
			now := time.Unix(1_000_000, 0)
			var waits []time.Duration
			c := &Client{HTTP: srv.Client(), Base: srv.URL, Service: "harbor-registry",
				Now: func() time.Time { return now },
				Sleep: func(ctx context.Context, d time.Duration) error {
					waits = append(waits, d)
					now = now.Add(d)
					if len(waits) > 50 {
						t.Fatal("polling does not stop")
					}
					return nil
				}}
			dc, err := c.Start(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if tc.expiresIn != 0 {
				dc.ExpiresIn = tc.expiresIn
			}
			tok, err := c.Poll(context.Background(), dc)
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if tc.wantText != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantText) {
					t.Fatalf("err = %v, want it to say %q", err, tc.wantText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tok.RefreshToken != "asr_refresh" || tok.Subject() != "alice" {
				t.Fatalf("token = %+v (subject %q)", tok, tok.Subject())
			}
			if len(waits) != len(tc.wantWaits) {
				t.Fatalf("waits = %v, want %v", waits, tc.wantWaits)
			}
			for i := range waits {
				if waits[i] != tc.wantWaits[i] {
					t.Fatalf("waits = %v, want %v", waits, tc.wantWaits)
				}
			}
			f := as.forms[0]
			if f["grant_type"] != DeviceGrantType || f["device_code"] != "dc-1" || f["client_id"] != ClientID || f["service"] != "harbor-registry" {
				t.Fatalf("poll form = %v", f)
			}
		})
	}
}

func TestStartErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		rep  reply
		want string
	}{
		{name: "no device flow", rep: reply{404, "404 page not found"}, want: "does not offer device sign-in"},
		{name: "oauth error", rep: reply{400, `{"error":"invalid_client"}`}, want: "invalid_client"},
		{name: "incomplete answer", rep: reply{200, `{"device_code":"x"}`}, want: "lacks"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(&fakeAS{t: t, device: tc.rep})
			defer srv.Close()
			_, err := (&Client{HTTP: srv.Client(), Base: srv.URL, Service: "harbor-registry"}).Start(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestPollCancelled: an interrupt (the context) ends the wait.
func TestPollCancelled(t *testing.T) {
	srv := httptest.NewServer(&fakeAS{t: t})
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := (&Client{HTTP: srv.Client(), Base: srv.URL}).Poll(ctx, DeviceCode{DeviceCode: "dc-1", Interval: 1, ExpiresIn: 60})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}
