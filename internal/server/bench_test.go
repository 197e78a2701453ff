package server

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/testenv"
	"github.com/authserver/authserver/internal/token"
)

// BenchmarkParsePostLimits parses the worst POST bodies an unauthenticated
// client may send (1 MiB): one scope repeating 16 actions, and 1 MiB of
// distinct actions (refused at the 17th). Neither reaches authentication.
func BenchmarkParsePostLimits(b *testing.B) {
	s := &Server{opts: Options{Issuer: token.NewIssuer(testenv.Signer(b), "i", "bench-registry", time.Hour)}}
	acts := make([]string, 16)
	for i := range acts {
		acts[i] = "a" + strconv.Itoa(i)
	}
	act16 := strings.Join(acts, ",")
	body := func(scope string, fill int) string {
		form := url.Values{"grant_type": {"password"}, "username": {"dev"}, "password": {"x"}}
		pre := form.Encode() + "&scope=repository%3Ateam%2Fapp%3A"
		var sb strings.Builder
		sb.WriteString(pre)
		for sb.Len() < fill {
			sb.WriteString(scope)
		}
		return sb.String()
	}
	repeats := body(url.QueryEscape(act16+","), MaxFormBytes-200)
	var distinct strings.Builder
	distinct.WriteString(body("", 0))
	for i := 0; distinct.Len() < MaxFormBytes-20; i++ {
		distinct.WriteString("b" + strconv.Itoa(i) + "%2C")
	}
	cases := []struct {
		name, body string
		ok         bool
	}{
		{"1MiB-repeated-actions", repeats, true},
		{"1MiB-distinct-actions", distinct.String(), false},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/service/token", strings.NewReader(c.body))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				_, rerr := s.parsePost(httptest.NewRecorder(), req)
				if (rerr == nil) != c.ok {
					b.Fatalf("parse: %v", rerr)
				}
			}
		})
	}
}
