package config

import (
	"net"
	"net/url"
	"os"
	"strings"
)

// Warnings lists settings that work but leave a secret or a connection
// unprotected; serve logs each at start-up. They are not errors: a lab or a
// sidecar database may be meant that way. No warning holds a secret.
//
//   - LDAP over plain ldap:// without StartTLS: every login's password
//     crosses the network in clear text.
//   - A PostgreSQL DSN (URL or key=value form) whose sslmode does not
//     verify the server (anything but verify-full or verify-ca; libpq's
//     default is prefer) while a host is not loopback or a Unix socket.
//   - SSO sign-in (oidc:) on an http:// server.public_url that is not
//     loopback: the session cookie cannot be Secure and crosses the
//     network in clear text.
func (c *Config) Warnings() []string {
	var out []string
	if l := c.LDAP; l != nil {
		if u, err := url.Parse(l.URL); err == nil && u.Scheme == "ldap" && !l.StartTLS {
			out = append(out, "ldap.url "+u.Scheme+"://"+u.Host+" without start_tls: passwords cross the network in clear text; use ldaps:// or start_tls: true")
		}
	}
	if c.OIDC != nil {
		if u, err := url.Parse(c.Server.PublicURL); err == nil && u.Scheme == "http" && !localHost(u.Hostname()) {
			out = append(out, "oidc: server.public_url "+u.Scheme+"://"+u.Host+" is not https: the session cookie is sent in clear text and cannot be Secure; serve the sign-in pages over https")
		}
	}
	if c.Storage.Driver == "postgres" {
		if w := postgresTLSWarning(c.Storage.DSN); w != "" {
			out = append(out, w)
		}
	}
	return out
}

// postgresTLSWarning says why dsn does not verify its server, or "".
func postgresTLSWarning(dsn string) string {
	params, hosts, ok := parseDSN(dsn)
	if !ok {
		return "storage.dsn: cannot be read to check sslmode; make sure it says sslmode=verify-full"
	}
	if h, ok := params["host"]; ok {
		hosts = strings.Split(h, ",")
	}
	remote := ""
	for _, h := range hosts {
		if !localHost(h) {
			remote = h
			break
		}
	}
	if remote == "" {
		return ""
	}
	mode, ok := params["sslmode"]
	if !ok {
		mode = os.Getenv("PGSSLMODE")
	}
	if mode == "verify-full" || mode == "verify-ca" {
		return ""
	}
	if mode == "" {
		mode = "prefer (the default)"
	}
	return "storage.dsn: sslmode=" + mode + " does not verify the PostgreSQL server " + remote +
		": anyone on the path can impersonate it; use sslmode=verify-full with sslrootcert"
}

// parseDSN reads a postgres:// URL or a key=value DSN into its parameters
// and the hosts it names (without ports).
func parseDSN(dsn string) (map[string]string, []string, bool) {
	dsn = strings.TrimSpace(dsn)
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return nil, nil, false
		}
		params := map[string]string{}
		for k, v := range u.Query() {
			params[k] = v[len(v)-1]
		}
		var hosts []string
		for _, hp := range strings.Split(u.Host, ",") {
			hosts = append(hosts, stripPort(hp))
		}
		return params, hosts, true
	}
	params, ok := parseKeyValues(dsn)
	if !ok {
		return nil, nil, false
	}
	return params, []string{""}, true
}

// parseKeyValues reads libpq's key=value form: values may be single-quoted
// with backslash escapes; spaces around '=' are allowed.
func parseKeyValues(s string) (map[string]string, bool) {
	out := map[string]string{}
	for {
		s = strings.TrimLeft(s, " \t\n\r")
		if s == "" {
			return out, true
		}
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return nil, false
		}
		key := strings.TrimSpace(s[:eq])
		s = strings.TrimLeft(s[eq+1:], " \t")
		var val strings.Builder
		if strings.HasPrefix(s, "'") {
			s = s[1:]
			closed := false
			for len(s) > 0 {
				c := s[0]
				s = s[1:]
				if c == '\\' && len(s) > 0 {
					val.WriteByte(s[0])
					s = s[1:]
					continue
				}
				if c == '\'' {
					closed = true
					break
				}
				val.WriteByte(c)
			}
			if !closed {
				return nil, false
			}
		} else {
			end := strings.IndexAny(s, " \t\n\r")
			if end < 0 {
				end = len(s)
			}
			val.WriteString(s[:end])
			s = s[end:]
		}
		out[key] = val.String()
	}
}

func stripPort(hp string) string {
	if h, _, err := net.SplitHostPort(hp); err == nil {
		return h
	}
	return strings.Trim(hp, "[]")
}

// localHost: empty (libpq's default, a Unix socket), a socket path,
// localhost or a loopback address.
func localHost(h string) bool {
	h = strings.TrimSpace(h)
	if h == "" || strings.HasPrefix(h, "/") || strings.HasPrefix(h, "@") || strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
