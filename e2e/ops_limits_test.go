//go:build integration

package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/testenv"
)

// TestOpsThrottle: a burst of bad passwords from one address is answered
// 429 with Retry-After, while the same user with the right password from
// another address gets a token. X-Forwarded-For counts only from a trusted
// proxy (127.0.0.3 here).
func TestOpsThrottle(t *testing.T) {
	t.Parallel()
	o := newOpsServer(t, opsOptions{
		server: "  trusted_proxies: [127.0.0.3/32]\n",
		extra:  "throttle:\n  user_ip_failures: 3\n  ip_failures: 50\n  base_delay: 10s\n  max_delay: 1m\n",
	})
	o.start(t)
	tests := []struct {
		name     string
		user     string
		from     string             // source address of the bad tries
		xff      func(i int) string // X-Forwarded-For of the i-th request from there ("" none)
		goodFrom string             // another address: the right password works there
		goodXFF  string
		auditIP  string // client IP recorded for the throttled tries
	}{
		{"direct peer", "dev", "127.0.0.1", func(int) string { return "" }, "127.0.0.2", "", "127.0.0.1"},
		{"X-Forwarded-For from a trusted proxy", "carol", "127.0.0.3",
			func(int) string { return "10.0.0.1" }, "127.0.0.3", "10.0.0.2", "10.0.0.1"},
		// Were X-Forwarded-For believed, every try would come from a new
		// address and none would be throttled.
		{"X-Forwarded-For from an untrusted peer ignored", "mallory", "127.0.0.1",
			func(i int) string { return "10.9.0." + strconv.Itoa(i+1) }, "127.0.0.2", "", "127.0.0.1"},
	}
	var throttled int
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pass := "Pw-" + tc.user + "-right-1"
			o.addUser(t, tc.user, pass)
			try := func(from, xff, pass string) reply {
				req := newRequest(t, http.MethodGet, "http://"+o.addr+"/service/token?service=harbor-registry", nil)
				req.SetBasicAuth(tc.user, pass)
				if xff != "" {
					req.Header.Set("X-Forwarded-For", xff)
				}
				return send(t, clientFrom(from), req)
			}
			want := []int{401, 401, 401, 429, 429}
			for i, w := range want {
				r := try(tc.from, tc.xff(i), "wrong-password")
				if r.status != w {
					t.Fatalf("bad try %d: status %d, want %d; body %s", i+1, r.status, w, r.body)
				}
				if w == http.StatusTooManyRequests {
					throttled++
					wantErrcode(t, "throttled try", r.status, r.body, 429, "TOOMANYREQUESTS")
					if ra, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || ra < 1 || ra > 10 {
						t.Errorf("Retry-After %q, want 1..10 seconds", r.header.Get("Retry-After"))
					}
				}
			}
			if r := try(tc.goodFrom, tc.goodXFF, pass); r.status != http.StatusOK {
				t.Errorf("right password from another address: status %d, want 200; body %s", r.status, r.body)
			}
			// From the throttled address even the right password waits.
			r := try(tc.from, tc.xff(len(want)), pass)
			wantErrcode(t, "right password from the throttled address", r.status, r.body, 429, "TOOMANYREQUESTS")
			throttled++

			// Audit records are written within a second or so.
			var recs []auditRecord
			for deadline := time.Now().Add(10 * time.Second); len(recs) < 3 && time.Now().Before(deadline); {
				time.Sleep(200 * time.Millisecond)
				recs = o.auditList(t, "--result", "throttled", "--user", tc.user)
			}
			if len(recs) != 3 {
				t.Fatalf("audit list --result throttled --user %s: %d records, want 3: %+v", tc.user, len(recs), recs)
			}
			for _, rec := range recs {
				if rec.ClientIP != tc.auditIP || rec.Result != "throttled" || rec.Method != "password" {
					t.Errorf("audit record %+v: want client_ip %s, result throttled, method password", rec, tc.auditIP)
				}
			}
		})
	}
	_, body := getBody(t, o.url+"/metrics")
	v, ok := metricValue(string(body), "authserver_token_requests_total", `method="password",result="throttled"`)
	if !ok || int(v) != throttled {
		t.Errorf("authserver_token_requests_total{method=password,result=throttled} = %v (found %v), want %d", v, ok, throttled)
	}
}

// TestOpsMetricsAndLimits checks /metrics on the main listener and on
// server.metrics_addr, and the request size limits.
func TestOpsMetricsAndLimits(t *testing.T) {
	t.Parallel()
	metricsPort := testenv.FreePort(t)
	split := newOpsServer(t, opsOptions{server: fmt.Sprintf("  metrics_addr: 127.0.0.1:%d\n", metricsPort)})
	split.start(t)
	o := newOpsServer(t, opsOptions{})
	o.start(t)
	// Counted before the answer completes: read a whole one from each.
	for _, a := range []*opsServer{o, split} {
		wantToken(t, a.getToken(t, "", "", "service=harbor-registry"))
	}

	wantMetrics := func(t *testing.T, url string) {
		t.Helper()
		r := send(t, http.DefaultClient, newRequest(t, http.MethodGet, url, nil))
		if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
			t.Fatalf("GET %s: %d %s, want 200 text/plain", url, r.status, r.header.Get("Content-Type"))
		}
		for _, want := range []string{
			"# TYPE authserver_token_requests_total counter",
			`authserver_token_requests_total{method="anonymous",result="issued"} `,
			`authserver_token_request_duration_seconds_bucket{result="issued",le="0.005"} `,
			"authserver_build_info{",
		} {
			if !strings.Contains(string(r.body), want) {
				t.Errorf("GET %s lacks %q", url, want)
			}
		}
	}
	t.Run("metrics on the main listener", func(t *testing.T) { wantMetrics(t, o.url+"/metrics") })
	t.Run("metrics on metrics_addr only", func(t *testing.T) {
		wantMetrics(t, fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort))
		status, body := getBody(t, split.url+"/metrics")
		wantErrcode(t, "GET /metrics on the main listener", status, body, http.StatusNotFound, "NOT_FOUND")
	})

	scopes := func(n int) []string {
		var s []string
		for i := range n {
			s = append(s, "repository:p/r"+strconv.Itoa(i)+":pull")
		}
		return s
	}
	getScopes := func(n int) *http.Request {
		q := url.Values{"service": {"harbor-registry"}, "scope": scopes(n)}
		return newRequest(t, http.MethodGet, o.url+"/service/token?"+q.Encode(), nil)
	}
	postForm := func(body string) *http.Request {
		req := newRequest(t, http.MethodPost, o.url+"/service/token", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return req
	}
	tests := []struct {
		name   string
		req    *http.Request
		status int
		code   string // errcode; "" for 200 or a non-JSON answer from net/http
	}{
		{"100 scopes", getScopes(100), http.StatusOK, ""},
		{"101 distinct scopes", getScopes(101), http.StatusBadRequest, "INVALID_REQUEST"},
		{"101 distinct scopes by POST", postForm(url.Values{"grant_type": {"password"}, "username": {"admin"},
			"password": {"x"}, "scope": scopes(101)}.Encode()), http.StatusBadRequest, "INVALID_REQUEST"},
		{"POST body over 1 MiB", postForm("grant_type=password&username=admin&password=" + strings.Repeat("a", 1<<20)),
			http.StatusRequestEntityTooLarge, "INVALID_REQUEST"},
		{"header over 64 KiB", func() *http.Request {
			req := getScopes(1)
			req.Header.Set("X-Padding", strings.Repeat("p", 80<<10))
			return req
		}(), http.StatusRequestHeaderFieldsTooLarge, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := send(t, http.DefaultClient, tc.req)
			if tc.code != "" {
				wantErrcode(t, tc.name, r.status, r.body, tc.status, tc.code)
			} else if r.status != tc.status {
				t.Errorf("status %d, want %d; body %.200s", r.status, tc.status, r.body)
			}
		})
	}
	_, body := getBody(t, o.url+"/metrics")
	if v, _ := metricValue(string(body), "authserver_token_requests_total", `method="",result="bad_request"`); v < 3 {
		t.Errorf("authserver_token_requests_total{result=bad_request} = %v, want at least 3", v)
	}
}
