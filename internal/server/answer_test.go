package server

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"strconv"
	"testing"
)

// TestWriteTokenMatchesEncodingJSON: the token answer written by hand is
// byte for byte what json.NewEncoder(w).Encode writes for it, with the
// headers of a token answer and its length.
func TestWriteTokenMatchesEncodingJSON(t *testing.T) {
	tests := []struct {
		name string
		resp tokenResponse
	}{
		{name: "GET", resp: tokenResponse{Token: "a.b.c", AccessToken: "a.b.c", ExpiresIn: 1800, IssuedAt: "2026-12-06T09:00:00Z"}},
		{name: "POST with refresh", resp: tokenResponse{Token: "x.y.z", AccessToken: "x.y.z", TokenType: "Bearer", ExpiresIn: 60,
			IssuedAt: "2026-12-06T09:00:00Z", Scope: "repository:team/app:pull,push registry:catalog:*", RefreshToken: "rt_abc-123"}},
		{name: "escapes", resp: tokenResponse{Token: `"<&>\`, AccessToken: "\u2028ü\x01", Scope: "a b", ExpiresIn: -1}},
		{name: "zero", resp: tokenResponse{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want bytes.Buffer
			if err := json.NewEncoder(&want).Encode(tt.resp); err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			writeToken(rec, &tt.resp)
			if got := rec.Body.String(); got != want.String() {
				t.Fatalf("body\n got %s\nwant %s", got, want.String())
			}
			h := rec.Result().Header
			for k, v := range map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store", "Pragma": "no-cache",
				"Content-Length": strconv.Itoa(want.Len())} {
				if h.Get(k) != v {
					t.Errorf("%s: %q, want %q", k, h.Get(k), v)
				}
			}
		})
	}
}
