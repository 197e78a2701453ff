package server

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// handleHealthz answers 200 while the process serves.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
}

// handleReadyz answers 200 only when every backend answers (the store and,
// when configured, LDAP), 503 otherwise, naming the failing check ("store",
// "ldap") and its fixed hint, if any, but never its error, which may hold
// addresses or DNs: the error goes to the log.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	if s.opts.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		if err := s.opts.Ready(ctx); err != nil {
			msg := "not ready"
			var ce *CheckError
			if errors.As(err, &ce) {
				msg += ": " + ce.Check
				if ce.Hint != "" {
					msg += ": " + ce.Hint
				}
			}
			s.logFor(r).Warn("not ready", "err", err)
			writeError(w, http.StatusServiceUnavailable, "UNAVAILABLE", msg)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"status":"ready"}` + "\n"))
}

// CheckError is a failed readiness check: Check names it for /readyz
// ("store", "ldap"); Err is logged, never answered.
type CheckError struct {
	Check string
	// Hint is a fixed text that tells the operator what to do, safe to
	// answer ("the server requires TLS: use ldaps:// or start_tls").
	Hint string
	Err  error
}

func (e *CheckError) Error() string { return e.Check + ": " + e.Err.Error() }
func (e *CheckError) Unwrap() error { return e.Err }

// CachedProbe runs check at most once per ttl and returns its last result,
// so readiness probes from several sources do not load a backend.
func CachedProbe(ttl time.Duration, check func(context.Context) error) func(context.Context) error {
	var (
		mu   sync.Mutex
		at   time.Time
		last error
	)
	return func(ctx context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		if !at.IsZero() && time.Since(at) < ttl {
			return last
		}
		last, at = check(ctx), time.Now()
		return last
	}
}

const clientIPKey ctxKey = iota + 100

// invalidHopPrefix marks a client identity taken from an X-Forwarded-For
// entry that is not an address; at most maxInvalidHop bytes of it are kept.
const (
	invalidHopPrefix = "invalid:"
	maxInvalidHop    = 64
)

// clientIP resolves the caller's address: the TCP peer, or — only when the
// peer is a trusted proxy — the right-most address in X-Forwarded-For that
// is not itself a trusted proxy. Entries may be ip, ip:port, [v6] or
// [v6]:port. An entry that does not parse where the walk reaches it is not
// replaced by the proxy's address (which would lump every such client
// together with the proxy): it becomes the client's identity itself,
// "invalid:<first 64 bytes>", for the throttle, the log and the audit
// trail, and is logged.
func (s *Server) clientIP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		peer := peerIP(r.RemoteAddr)
		client := peer.String()
		if len(s.opts.TrustedProxies) > 0 && s.trusted(peer) {
			if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
				hops := strings.Split(strings.Join(xff, ","), ",")
				for i := len(hops) - 1; i >= 0; i-- {
					a, ok := parseHop(hops[i])
					if !ok {
						hop := strings.ToValidUTF8(strings.TrimSpace(hops[i]), "?")
						if len(hop) > maxInvalidHop {
							hop = strings.ToValidUTF8(hop[:maxInvalidHop], "")
						}
						client = invalidHopPrefix + hop
						s.logFor(r).Warn("X-Forwarded-For entry is not an address; it is taken as the client's identity",
							"entry", hop, "remote", r.RemoteAddr)
						break
					}
					client = a.String()
					if !s.trusted(a) {
						break
					}
				}
			}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), clientIPKey, client)))
	})
}

// parseHop reads one X-Forwarded-For entry: ip, ip:port, [v6] or [v6]:port.
func parseHop(hop string) (netip.Addr, bool) {
	hop = strings.TrimSpace(hop)
	if a, err := netip.ParseAddr(hop); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(hop); err == nil {
		return ap.Addr().Unmap(), true
	}
	if inner, ok := strings.CutPrefix(hop, "["); ok {
		if inner, ok := strings.CutSuffix(inner, "]"); ok {
			if a, err := netip.ParseAddr(inner); err == nil && a.Is6() {
				return a.Unmap(), true
			}
		}
	}
	return netip.Addr{}, false
}

func (s *Server) trusted(ip netip.Addr) bool {
	for _, p := range s.opts.TrustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func peerIP(remote string) netip.Addr {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

// ClientIP returns the client address of a request served by New's
// handler, after trusted-proxy resolution (for handlers mounted on it).
func ClientIP(r *http.Request) string { return ipOf(r) }

// ipOf returns the resolved client IP of r.
func ipOf(r *http.Request) string {
	if ip, ok := r.Context().Value(clientIPKey).(string); ok {
		return ip
	}
	return peerIP(r.RemoteAddr).String()
}

// ParseTrustedProxies turns config CIDRs (or bare addresses) into prefixes.
func ParseTrustedProxies(cidrs []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, c := range cidrs {
		if p, err := netip.ParsePrefix(c); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(c)
		if err != nil {
			return nil, err
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// RequestID returns the id of a request served by New's handler (from
// X-Request-Id, or made up), for handlers mounted on it.
func RequestID(r *http.Request) string {
	id, _ := r.Context().Value(requestIDKey).(string)
	return id
}
