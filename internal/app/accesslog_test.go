package app_test

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// TestAccessLogClipsRequestLine: a 60 KB path or method (the request line
// fits under the listener's 64 KiB header limit) writes an access log line
// of bounded size with the truncation marker, on the token endpoint's
// router, under /api and for an unknown method; the error body does not
// echo it either. The access log used to write the whole path, before any
// authentication.
func TestAccessLogClipsRequestLine(t *testing.T) {
	hs := newHardServer(t, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := hs.app.HTTPServer() // the production listener's limits
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	}()
	t.Cleanup(func() { _ = srv.Close() })
	base := "http://" + ln.Addr().String()

	long := strings.Repeat("a", 60<<10)
	tests := []struct {
		name, method, path string
		status             int
	}{
		{name: "unknown path", method: http.MethodGet, path: "/" + long, status: http.StatusNotFound},
		{name: "token endpoint subpath", method: http.MethodGet, path: "/service/token/" + long, status: http.StatusNotFound},
		{name: "api path", method: http.MethodGet, path: "/api/v2.0/projects/" + long, status: http.StatusBadRequest},
		{name: "method", method: strings.ToUpper(long), path: "/service/token", status: http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs.logs.Take()
			req, err := http.NewRequest(tt.method, base+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d; body %.200s", res.StatusCode, tt.status, body)
			}
			if len(body) > 1024 {
				t.Fatalf("error body of %d bytes echoes the request", len(body))
			}
			logs := hs.logs.Take()
			var access string
			for line := range strings.SplitSeq(strings.TrimSpace(logs), "\n") {
				if len(line) > 2048 {
					t.Fatalf("log line of %d bytes: %.200s…", len(line), line)
				}
				if strings.Contains(line, `"msg":"request"`) {
					access = line
				}
			}
			if access == "" || !strings.Contains(access, "…(truncated ") {
				t.Fatalf("no clipped access log line in:\n%.2000s", logs)
			}
		})
	}
}
