package ldap

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// Connection pool limits. Each LDAP authenticator has two pools: one bound
// as the search account, one used only for user binds.
const (
	ldapPoolSize    = 8
	ldapMaxIdleTime = 4 * time.Minute // below common server idle cut-offs (AD: 15 min)
)

// ldapPool is a bounded set of LDAP connections. At most size are open at
// once; get waits for a free slot (or ctx). Idle connections that the
// server closed, or that sat idle too long, are dropped on the way out.
type ldapPool struct {
	dial func(ctx context.Context) (*ldap.Conn, error)
	sem  chan struct{}

	mu   sync.Mutex
	idle []idleConn // LIFO: the most recently used first
}

type idleConn struct {
	c     *ldap.Conn
	since time.Time
}

func newLDAPPool(size int, dial func(ctx context.Context) (*ldap.Conn, error)) *ldapPool {
	return &ldapPool{dial: dial, sem: make(chan struct{}, size)}
}

// get returns a connection and whether it was reused from the pool.
func (p *ldapPool) get(ctx context.Context) (*ldap.Conn, bool, error) {
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, false, fmt.Errorf("wait for an ldap connection: %w", ctx.Err())
	}
	p.mu.Lock()
	for len(p.idle) > 0 {
		ic := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if ic.c.IsClosing() || time.Since(ic.since) > ldapMaxIdleTime {
			ic.c.Close()
			continue
		}
		p.mu.Unlock()
		return ic.c, true, nil
	}
	p.mu.Unlock()
	c, err := p.dial(ctx)
	if err != nil {
		<-p.sem
		return nil, false, err
	}
	return c, false, nil
}

// put returns c to the pool, or closes it when it is no longer healthy.
func (p *ldapPool) put(c *ldap.Conn, healthy bool) {
	if healthy && !c.IsClosing() {
		p.mu.Lock()
		p.idle = append(p.idle, idleConn{c: c, since: time.Now()})
		p.mu.Unlock()
	} else {
		c.Close()
	}
	<-p.sem
}

// close closes the idle connections.
func (p *ldapPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, ic := range p.idle {
		ic.c.Close()
	}
	p.idle = nil
}

// with runs fn on a pooled connection. The connection is closed instead of
// pooled when fn fails at the connection level; if that happens on a
// reused connection (one the server may have dropped while it sat idle),
// fn runs once more on a fresh one. Cancelling ctx closes the connection,
// which makes a waiting operation return at once.
func (p *ldapPool) with(ctx context.Context, fn func(c *ldap.Conn) error) error {
	for attempt := 0; ; attempt++ {
		c, reused, err := p.get(ctx)
		if err != nil {
			return err
		}
		stop := context.AfterFunc(ctx, func() { c.Close() })
		err = fn(c)
		if !stop() {
			err = errors.Join(err, ctx.Err())
		}
		broken := connBroken(err)
		p.put(c, !broken)
		if broken && reused && attempt == 0 && ctx.Err() == nil {
			continue
		}
		return err
	}
}

// connBroken reports whether err means the connection can no longer be
// used (network failure, timeout, protocol trouble), as opposed to an LDAP
// result such as invalidCredentials that leaves the connection usable.
func connBroken(err error) bool {
	if err == nil {
		return false
	}
	var le *ldap.Error
	if !errors.As(err, &le) {
		return true
	}
	switch le.ResultCode {
	case ldap.ErrorNetwork, ldap.ErrorUnexpectedMessage, ldap.ErrorUnexpectedResponse, ldap.LDAPResultUnavailable:
		return true
	}
	return false
}

// newTLSConfig builds the client TLS configuration: ServerName from the URL
// host, trust from caFile (else the system roots), TLS 1.2 at least.
func newTLSConfig(host, caFile string, insecure bool) (*tls.Config, error) {
	tc := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12, InsecureSkipVerify: insecure}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("ldap ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ldap ca_file %s: no PEM certificate in it", caFile)
		}
		tc.RootCAs = pool
	}
	return tc, nil
}

// dial opens a connection: TCP, then TLS for ldaps:// or StartTLS when
// configured, then (asService) the search bind. Everything is bounded by
// the configured timeout and by ctx. Requests made here are counted as
// setup, not as per-login round trips.
func (l *Directory) dial(ctx context.Context, asService bool) (*ldap.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	l.dials.Add(1)
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", l.addr)
	if err != nil {
		return nil, fmt.Errorf("ldap dial %s: %w", l.addr, err)
	}
	// The deadline bounds the TLS handshakes and the setup requests below;
	// closing on ctx covers cancellation. Both are lifted before returning.
	deadline, _ := ctx.Deadline()
	_ = raw.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	fail := func(c *ldap.Conn, format string, err error) (*ldap.Conn, error) {
		stop()
		if c != nil {
			c.Close()
		}
		raw.Close()
		if ctx.Err() != nil {
			err = errors.Join(err, ctx.Err())
		}
		return nil, fmt.Errorf(format, l.addr, err)
	}

	var nc net.Conn = raw
	if l.ldaps {
		tc := tls.Client(raw, l.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			return fail(nil, "ldaps %s: tls handshake: %w", err)
		}
		nc = tc
	}
	c := ldap.NewConn(nc, l.ldaps)
	c.Start()
	c.SetTimeout(l.timeout)
	if l.startTLS {
		l.setupRequests.Add(1)
		if err := c.StartTLS(l.tls); err != nil {
			return fail(c, "ldap %s: starttls: %w", err)
		}
	}
	if asService && l.cfg.BindDN != "" {
		l.setupRequests.Add(1)
		if err := c.Bind(l.cfg.BindDN, l.cfg.BindPassword); err != nil {
			if ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
				err = fmt.Errorf("search account refused (check ldap.bind_dn and ldap.bind_password): %w", err)
			}
			err = tlsRequired(err)
			return fail(c, "ldap %s: search bind: %w", err)
		}
	}
	if !stop() {
		return fail(c, "ldap %s: %w", errors.New("dial cancelled"))
	}
	_ = raw.SetDeadline(time.Time{})
	return c, nil
}
