package server

import (
	"context"
	"encoding/json"
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
// when configured, LDAP), with the kid the replica signs with, 503
// otherwise, naming the failing check ("store", "ldap") and its fixed
// hint, if any, but never its error, which may hold addresses or DNs: the
// error goes to the log.
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
	ready := struct {
		Status string `json:"status"`
		// SigningKID is the kid this replica signs with: during a
		// rotation, each replica says whether it has switched.
		SigningKID string `json:"signing_kid,omitempty"`
	}{Status: "ready"}
	if s.opts.Issuer != nil {
		ready.SigningKID = s.opts.Issuer.Signer().KID()
	}
	_ = json.NewEncoder(w).Encode(ready)
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

// invalidHopPrefix marks a client identity taken from an X-Forwarded-For
// entry that is not an address; at most maxInvalidHop bytes of it are kept.
const (
	invalidHopPrefix = "invalid:"
	maxInvalidHop    = 64
)

// resolveClient resolves the caller's address: the TCP peer, or — only when the
// peer is a trusted proxy — the right-most address in X-Forwarded-For that
// is not itself a trusted proxy. Entries may be ip, ip:port, [v6] or
// [v6]:port. An entry that does not parse where the walk reaches it is not
// replaced by the proxy's address (which would lump every such client
// together with the proxy): it becomes the client's identity itself,
// "invalid:<first 64 bytes>", for the throttle, the log and the audit
// trail, and is logged (with requestID). X-Forwarded-For from a peer that is not a trusted
// proxy is ignored, counted and warned of (untrustedForward).
func (s *Server) resolveClient(r *http.Request, requestID string) string {
	peer := peerIP(r.RemoteAddr)
	client := peer.String()
	xff := r.Header.Values("X-Forwarded-For")
	switch {
	case len(xff) == 0:
	case len(s.opts.TrustedProxies) == 0 || !s.trusted(peer):
		s.untrustedForward(peer)
	default:
		hops := strings.Split(strings.Join(xff, ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			a, ok := parseHop(hops[i])
			if !ok {
				hop := strings.ToValidUTF8(strings.TrimSpace(hops[i]), "?")
				if len(hop) > maxInvalidHop {
					hop = strings.ToValidUTF8(hop[:maxInvalidHop], "")
				}
				client = invalidHopPrefix + hop
				s.log.Warn("X-Forwarded-For entry is not an address; it is taken as the client's identity",
					"entry", hop, "remote", r.RemoteAddr, "request_id", requestID)
				break
			}
			client = a.String()
			if !s.trusted(a) {
				break
			}
		}
	}
	return client
}

// untrustedWarnEvery is how often at most a process warns of
// X-Forwarded-For from untrusted peers (each one is counted).
const untrustedWarnEvery = time.Minute

// untrustedForward counts a request whose X-Forwarded-For is ignored
// because peer is not a trusted proxy, and warns (once a minute at most):
// behind a balancer missing from server.trusted_proxies every client looks
// like the balancer, so one guesser throttles everyone.
func (s *Server) untrustedForward(peer netip.Addr) {
	s.opts.Metrics.UntrustedForward()
	s.untrusted.mu.Lock()
	defer s.untrusted.mu.Unlock()
	now := time.Now()
	if !s.untrusted.last.IsZero() && now.Sub(s.untrusted.last) < untrustedWarnEvery {
		s.untrusted.suppressed++
		return
	}
	s.log.Warn("X-Forwarded-For from a peer outside server.trusted_proxies is ignored: if the peer is your load balancer, "+
		"add it to trusted_proxies, or every client is throttled as one (authserver_untrusted_forwarded_requests_total)",
		"peer", peer.String(), "since_last_warning", s.untrusted.suppressed)
	s.untrusted.last, s.untrusted.suppressed = now, 0
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
func ipOf(r *http.Request) string { return info(r).client }

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
func RequestID(r *http.Request) string { return info(r).id }
