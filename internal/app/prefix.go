package app

import (
	"net/http"
	"net/url"
	"strings"
)

// pathPrefix is the path of server.public_url ("https://host/auth" →
// "/auth"), "" when it has none: the realm authserver advertises then lives
// under it.
func pathPrefix(publicURL string) string {
	u, err := url.Parse(publicURL)
	if err != nil {
		return ""
	}
	return strings.TrimRight(u.Path, "/")
}

// withPathPrefix serves h under prefix as well as at the root: behind a
// proxy that passes the public path on (https://host/auth/service/token →
// /auth/service/token) the advertised realm works, and a proxy that strips
// it, probes and local clients reach the same handler without it.
func withPathPrefix(prefix string, h http.Handler) http.Handler {
	if prefix == "" {
		return h
	}
	stripped := http.StripPrefix(prefix, h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == prefix || strings.HasPrefix(r.URL.Path, prefix+"/") {
			stripped.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}
