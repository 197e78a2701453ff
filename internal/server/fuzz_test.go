package server

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Seed corpora live in testdata/fuzz/<FuzzName>/; `make fuzz` runs each
// target for $(FUZZTIME) on top of them.

func FuzzParseBasic(f *testing.F) {
	f.Add("Basic ZGV2OnNlY3JldA==", "dev", "secret")
	f.Fuzz(func(t *testing.T, header, user, pass string) {
		u, p, present, err := parseBasic(header)
		switch {
		case header == "" && (present || err != nil):
			t.Fatalf("no header: present %v, err %v", present, err)
		case header != "" && !present:
			t.Fatalf("header %q reported absent", header)
		case err != nil && (u != "" || p != ""):
			t.Fatalf("header %q: error %v with credentials %q:%q", header, err, u, p)
		case strings.Contains(u, ":"):
			t.Fatalf("header %q: user %q holds a colon", header, u)
		}
		// Whatever net/http accepts as Basic, parseBasic reads the same.
		req := httptest.NewRequest(http.MethodGet, "/service/token", nil)
		req.Header.Set("Authorization", header)
		if hu, hp, ok := req.BasicAuth(); ok && (err != nil || u != hu || p != hp) {
			t.Fatalf("header %q: net/http reads %q:%q, parseBasic %q:%q (%v)", header, hu, hp, u, p, err)
		}

		// Round trip: a user name cannot hold a colon in Basic credentials.
		if strings.Contains(user, ":") {
			return
		}
		enc := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
		for _, h := range []string{"Basic " + enc, "basic " + enc, "BASIC  " + enc + " "} {
			u, p, present, err := parseBasic(h)
			if err != nil || !present || u != user || p != pass {
				t.Fatalf("%q: got %q:%q present %v err %v, want %q:%q", h, u, p, present, err, user, pass)
			}
		}
	})
}
