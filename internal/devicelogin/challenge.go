package devicelogin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// TokenPath is the path of authserver's token endpoint under its public URL:
// a realm ending in it names the authserver's base URL.
const TokenPath = "/service/token"

// Challenge is the registry's Bearer challenge: where to get tokens.
type Challenge struct {
	Realm   string // the token endpoint, <public_url>/service/token
	Service string
}

// Base is the authserver's public URL: the realm without TokenPath.
func (c Challenge) Base() (string, error) {
	u, err := url.Parse(c.Realm)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("realm %q is not an http(s) URL", c.Realm)
	}
	base, ok := strings.CutSuffix(strings.TrimRight(u.Path, "/"), TokenPath)
	if !ok {
		return "", fmt.Errorf("realm %q does not end in %s: is this registry's token server an authserver? (give its URL with --authserver)", c.Realm, TokenPath)
	}
	u.Path, u.RawQuery, u.Fragment = base, "", ""
	return u.String(), nil
}

// RegistryURL is the base URL of a registry named as docker names it
// ("host:port", or with a scheme): plain http for a loopback host or when
// insecure, else https.
func RegistryURL(registry string, insecure bool) (string, error) {
	host := registry
	if u, err := url.Parse(registry); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		if u.Host == "" {
			return "", fmt.Errorf("registry %q: no host", registry)
		}
		return u.Scheme + "://" + u.Host, nil
	}
	host = strings.TrimSuffix(host, "/")
	if host == "" || strings.ContainsAny(host, "/?#@ ") {
		return "", fmt.Errorf("registry %q: want a host[:port] such as registry.example.org", registry)
	}
	if insecure || IsLoopback(host) {
		return "http://" + host, nil
	}
	return "https://" + host, nil
}

// IsLoopback reports whether host[:port] names this machine.
func IsLoopback(hostport string) bool {
	h := hostport
	if hh, _, err := net.SplitHostPort(hostport); err == nil {
		h = hh
	}
	h = strings.Trim(h, "[]")
	if strings.EqualFold(h, "localhost") || strings.HasSuffix(strings.ToLower(h), ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// Discover asks the registry's /v2/ for its Bearer challenge.
func Discover(ctx context.Context, c *http.Client, registryURL string) (Challenge, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, registryURL+"/v2/", nil)
	if err != nil {
		return Challenge{}, fmt.Errorf("discover: %w", err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return Challenge{}, fmt.Errorf("discover: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		hint := ""
		if resp.StatusCode == http.StatusNotFound {
			hint = " (name the registry, not the authserver: the registry's challenge says where its authserver is)"
		}
		return Challenge{}, fmt.Errorf("discover: GET %s/v2/ answered %s, want 401 with a Bearer challenge%s", registryURL, resp.Status, hint)
	}
	for _, h := range resp.Header.Values("WWW-Authenticate") {
		scheme, params := ParseChallenge(h)
		if strings.EqualFold(scheme, "bearer") && params["realm"] != "" {
			return Challenge{Realm: params["realm"], Service: params["service"]}, nil
		}
	}
	return Challenge{}, errors.New("discover: the registry sent no Bearer challenge with a realm (does it use token authentication?)")
}

// ParseChallenge splits one WWW-Authenticate value into its scheme and
// auth-params (RFC 9110 11.2: tokens or quoted strings with \-escapes).
func ParseChallenge(h string) (scheme string, params map[string]string) {
	h = strings.TrimSpace(h)
	scheme, rest, _ := strings.Cut(h, " ")
	params = map[string]string{}
	for {
		rest = strings.TrimLeft(rest, " \t,")
		if rest == "" {
			return scheme, params
		}
		eq := strings.IndexByte(rest, '=')
		if eq <= 0 {
			return scheme, params
		}
		key := strings.ToLower(strings.TrimSpace(rest[:eq]))
		rest = strings.TrimLeft(rest[eq+1:], " \t")
		var val string
		if strings.HasPrefix(rest, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(rest) && rest[i] != '"'; i++ {
				if rest[i] == '\\' && i+1 < len(rest) {
					i++
				}
				b.WriteByte(rest[i])
			}
			val, rest = b.String(), rest[min(i+1, len(rest)):]
		} else {
			end := strings.IndexAny(rest, ", \t")
			if end < 0 {
				end = len(rest)
			}
			val, rest = rest[:end], rest[end:]
		}
		params[key] = val
	}
}
