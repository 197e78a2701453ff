package api

import (
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// browserSafe refuses, before any credential is checked, what a web page of
// another site can make a browser send with the user's credentials (Basic
// credentials the browser remembers for this origin):
//
//   - an unsafe method (anything but GET, HEAD, OPTIONS) that the browser
//     marks Sec-Fetch-Site cross-site or same-site (or any value but
//     same-origin and none), or whose Origin is not the server's own
//     (Options.PublicURL): 403 FORBIDDEN;
//   - a body that is not Content-Type: application/json (the types a form
//     or a no-preflight fetch can send are text/plain, form-urlencoded and
//     multipart): 415 UNSUPPORTED_MEDIA_TYPE.
//
// Programs (Harbor's Go client, terraform, curl) send neither header and
// JSON bodies, and are not affected.
func (a *API) browserSafe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if unsafeMethod(r.Method) {
			if msg := a.crossSite(r); msg != "" {
				writeError(w, http.StatusForbidden, "FORBIDDEN", msg)
				return
			}
		}
		if r.ContentLength != 0 && !isJSON(r) { // -1: a body of unknown length
			writeError(w, http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", errUnsupportedMedia.Error())
			return
		}
		next.ServeHTTP(w, r)
	})
}

func unsafeMethod(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions
}

// crossSite says why r looks sent by another site's page, or "".
func (a *API) crossSite(r *http.Request) string {
	switch site := r.Header.Get("Sec-Fetch-Site"); site {
	case "", "same-origin", "none":
	default:
		return fmt.Sprintf("cross-site request refused (Sec-Fetch-Site: %.32s): "+
			"the API changes nothing for a page of another site", site)
	}
	origins := r.Header.Values("Origin")
	if len(origins) == 0 {
		return ""
	}
	own := publicOrigin(a.opt.PublicURL)
	if len(origins) > 1 || own == "" || headerOrigin(origins[0]) != own {
		if own == "" {
			own = "its own (none configured)"
		}
		return fmt.Sprintf("request from origin %.64q refused: the API changes nothing for a page of another origin than %s",
			strings.Join(origins, ", "), own)
	}
	return ""
}

// publicOrigin is the origin of the server's public URL (its path dropped),
// "" when it is not an http(s) URL.
func publicOrigin(publicURL string) string {
	u, err := url.Parse(publicURL)
	if err != nil {
		return ""
	}
	return origin(u)
}

// headerOrigin is the origin an Origin header names, "" when it is not
// one (such as "null", or anything with a path).
func headerOrigin(h string) string {
	u, err := url.Parse(h)
	if err != nil || u.Path != "" || u.Opaque != "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return ""
	}
	return origin(u)
}

// origin is scheme://host[:port] of an http(s) URL in lower case without
// the scheme's default port, "" for other schemes or no host.
func origin(u *url.URL) string {
	scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	switch {
	case host == "":
		return ""
	case scheme == "http":
		host = strings.TrimSuffix(host, ":80")
	case scheme == "https":
		host = strings.TrimSuffix(host, ":443")
	default:
		return ""
	}
	return scheme + "://" + host
}

// isJSON reports whether r says its body is JSON (application/json,
// parameters such as charset allowed). The one home of the rule: the
// middleware applies it to every request with a body, decode to every
// body it reads.
func isJSON(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/json"
}
