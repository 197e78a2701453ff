package ldap

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/flight"
)

// LDAP checks passwords against an LDAP directory or Active Directory and
// reads the user's groups from it.
//
// A cold login is three LDAP round trips on pooled connections: one search
// for the user's entry (as the search account), one bind as that entry with
// the password (on a separate connection that is only ever used for user
// binds, so a search never runs with a user's rights), and one search for
// all of the user's groups. A name with no entry costs the search and a
// dummy bind to a DN that does not exist, like a wrong password. With group_search.nested on a server other than
// Active Directory, each further level of nesting costs one more search.
// Verified logins are cached for cache_ttl (see loginCache).
//
// Used alone, Login's Identity has no UserID; Chain onboards LDAP users
// into the store and is what the server uses.
type Directory struct {
	cfg      config.LDAP
	log      *slog.Logger
	addr     string // host:port to dial
	ldaps    bool
	startTLS bool
	tls      *tls.Config
	timeout  time.Duration
	adminDN  *ldap.DN // nil when admin_group_dn is empty
	// noSuchDN is a random DN under user_search.base_dn that no entry has:
	// the dummy bind of a login whose search found no entry.
	noSuchDN string

	search *ldapPool // bound as the search account
	binds  *ldapPool // user binds only

	logins  *authn.LoginCache[authn.DirectoryUser] // nil when cache_ttl is 0
	lookups *authn.LoginCache[authn.DirectoryUser] // StillValid answers, same TTL
	flights flight.Group[authn.CacheKey, flightResult]

	// inChain is 1 once the server is known to be Active Directory (nested
	// groups in one search), -1 once known not to be, 0 before.
	inChain atomic.Int32

	obs           Observer     // metrics; nil records nothing
	requests      atomic.Int64 // per-login round trips: searches and binds
	setupRequests atomic.Int64 // StartTLS, search binds and the rootDSE read when dialing
	dials         atomic.Int64
}

var _ authn.PasswordAuthenticator = (*Directory)(nil)

// LDAPStats counts the authenticator's traffic since it was made.
type Stats struct {
	// Requests are the searches and binds made for logins, lookups and
	// group look-ups: the round trips a login costs.
	Requests int64
	// SetupRequests are made when a connection is opened (StartTLS, the
	// search bind, the rootDSE read) and are shared by later logins.
	SetupRequests int64
	// Dials counts connections opened.
	Dials int64
}

// maxUsernameLen bounds the username sent to the directory.
const maxUsernameLen = 256

// NewLDAP returns an LDAP authenticator for a validated configuration. It
// does not connect: the first login does, so authserver starts while the
// directory is down (LDAP logins then get 503 until it is back).
func New(cfg config.LDAP, log *slog.Logger) (*Directory, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("ldap: url: %w", err)
	}
	addr, err := cfg.Addr()
	if err != nil {
		return nil, fmt.Errorf("ldap: %w", err)
	}
	l := &Directory{
		cfg:      cfg,
		log:      log,
		addr:     addr,
		ldaps:    u.Scheme == "ldaps",
		startTLS: cfg.StartTLS,
		timeout:  cfg.Timeout.D(),
	}
	if l.timeout <= 0 {
		l.timeout = config.DefaultLDAPTimeout
	}
	if l.ldaps || l.startTLS {
		if l.tls, err = newTLSConfig(u.Hostname(), cfg.CAFile, cfg.InsecureSkipVerify); err != nil {
			return nil, err
		}
	}
	if cfg.AdminGroupDN != "" {
		if l.adminDN, err = ldap.ParseDN(cfg.AdminGroupDN); err != nil {
			return nil, fmt.Errorf("ldap: admin_group_dn: %w", err)
		}
	}
	var nonce [12]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, fmt.Errorf("ldap: %w", err)
	}
	l.noSuchDN = "cn=authserver-no-such-entry-" + hex.EncodeToString(nonce[:]) + "," + cfg.UserSearch.BaseDN
	l.search = newLDAPPool(ldapPoolSize, func(ctx context.Context) (*ldap.Conn, error) { return l.dial(ctx, true) })
	l.binds = newLDAPPool(ldapPoolSize, func(ctx context.Context) (*ldap.Conn, error) { return l.dial(ctx, false) })
	if ttl := cfg.CacheTTL.D(); ttl > 0 {
		if l.logins, err = authn.NewLoginCache[authn.DirectoryUser](ttl, authn.LoginCacheSize); err != nil {
			return nil, err
		}
		if l.lookups, err = authn.NewLoginCache[authn.DirectoryUser](ttl, authn.LoginCacheSize); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// Close closes idle connections. Logins still work afterwards (they dial).
func (l *Directory) Close() {
	l.search.close()
	l.binds.close()
}

// Stats returns the traffic counters.
func (l *Directory) Stats() Stats {
	return Stats{Requests: l.requests.Load(), SetupRequests: l.setupRequests.Load(), Dials: l.dials.Load()}
}

// Login implements PasswordAuthenticator with the directory alone: the
// Identity has the directory's name, groups and admin status but no
// UserID (Chain adds it).
func (l *Directory) Login(ctx context.Context, username, password string) (authn.Identity, bool, error) {
	u, ok, err := l.Authenticate(ctx, username, password)
	if err != nil || !ok {
		return authn.Identity{}, ok, err
	}
	return authn.Identity{Name: u.Name, Admin: u.Admin, GroupDNs: u.GroupDNs(), Method: authn.MethodLDAP, PasswordVerifiedAt: u.VerifiedAt}, true, nil
}

// Authenticate checks username and password against the directory, or
// answers from the login cache. A wrong password, an unknown or ambiguous
// username, or an empty password is (DirectoryUser{}, false, nil) and is
// never cached; an empty password is refused before any request. An error
// wraps ErrUnavailable: the directory could not be asked (down, too slow,
// TLS failure, search account refused), which must be 503, never 401.
func (l *Directory) Authenticate(ctx context.Context, username, password string) (authn.DirectoryUser, bool, error) {
	if username == "" || password == "" || len(username) > maxUsernameLen {
		return authn.DirectoryUser{}, false, nil
	}
	var key authn.CacheKey
	if l.logins != nil {
		key = l.logins.Key(username, password)
		u, ok := l.logins.Get(key)
		if l.obs != nil {
			l.obs.Cache("ldap", ok)
		}
		if ok {
			u.Cached = true
			return l.admit(username, u)
		}
	}
	// Identical logins in flight share one directory check (key is the
	// zero value without a cache: then nothing is shared).
	check := func(ctx context.Context) (flightResult, error) {
		u, ok, err := l.verify(ctx, username, password)
		if err == nil && ok && l.logins != nil {
			l.logins.Put(key, u)
		}
		return flightResult{u, ok}, err
	}
	var r flightResult
	var shared bool
	var err error
	if l.logins != nil {
		r, shared, err = l.flights.Do(ctx, key, check)
	} else {
		r, err = check(ctx)
	}
	if err != nil {
		return authn.DirectoryUser{}, false, fmt.Errorf("ldap login: %w: %w", authn.ErrUnavailable, err)
	}
	// A caller that only waited for another's check did not ask the
	// directory itself: like a cache hit, it need not be recorded again.
	r.user.Cached = shared
	if !r.ok {
		return authn.DirectoryUser{}, false, nil
	}
	return l.admit(username, r.user)
}

// admit refuses a verified login whose account state forbids it now (an
// account that expired while its login was cached, or a server that lets
// such accounts bind).
func (l *Directory) admit(username string, u authn.DirectoryUser) (authn.DirectoryUser, bool, error) {
	if reason := u.State.Refusal(time.Now()); reason != "" {
		l.log.Info("ldap login refused", "user", username, "reason", reason)
		return authn.DirectoryUser{}, false, nil
	}
	return u, true, nil
}

// verify asks the directory: find the entry, bind as it, read its groups.
func (l *Directory) verify(ctx context.Context, username, password string) (authn.DirectoryUser, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	var u authn.DirectoryUser
	var hits int
	err := l.search.with(ctx, func(c *ldap.Conn) (err error) {
		u, hits, err = l.findUser(c, username)
		return err
	})
	if err != nil {
		return authn.DirectoryUser{}, false, err
	}
	// The bind is the slow check of an LDAP login (the directory hashes
	// the password): it takes a slot like bcrypt does.
	if err := authn.SlowCheck(ctx); err != nil {
		return authn.DirectoryUser{}, false, err
	}
	if hits != 1 {
		// No (single) entry: bind anyway, to an entry that does not exist,
		// so an unknown name costs the same round trips as a wrong password.
		err = l.binds.with(ctx, func(c *ldap.Conn) error {
			_, _, err := l.bindUser(c, l.noSuchDN, password)
			return err
		})
		return authn.DirectoryUser{}, false, err
	}
	var ok bool
	var refusal string
	sent := time.Now()
	err = l.binds.with(ctx, func(c *ldap.Conn) (err error) {
		ok, refusal, err = l.bindUser(c, u.DN, password)
		return err
	})
	if err != nil || !ok {
		if refusal != "" && !strings.HasPrefix(refusal, "wrong password") {
			l.log.Info("ldap login refused", "user", username, "reason", refusal)
		}
		return authn.DirectoryUser{}, false, err
	}
	u.VerifiedAt = sent
	if err := l.fillGroups(ctx, &u, nil); err != nil {
		return authn.DirectoryUser{}, false, err
	}
	return u, true, nil
}

// Lookup finds a user and their groups with the search account alone (no
// password), for Chain.StillValid. found is false when no single entry
// matches. Found users are cached for cache_ttl (Cached set on hits).
func (l *Directory) Lookup(ctx context.Context, username string) (u authn.DirectoryUser, found bool, err error) {
	if username == "" || len(username) > maxUsernameLen {
		return authn.DirectoryUser{}, false, nil
	}
	var key authn.CacheKey
	if l.lookups != nil {
		key = l.lookups.Key(username, "")
		if u, ok := l.lookups.Get(key); ok {
			u.Cached = true
			return u, true, nil
		}
	}
	ctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	var hits int
	err = l.search.with(ctx, func(c *ldap.Conn) (err error) {
		u, hits, err = l.findUser(c, username)
		return err
	})
	found = hits == 1
	if err == nil && found {
		err = l.fillGroups(ctx, &u, nil)
	}
	if err != nil {
		return authn.DirectoryUser{}, false, fmt.Errorf("ldap lookup: %w: %w", authn.ErrUnavailable, err)
	}
	if found && l.lookups != nil {
		l.lookups.Put(key, u)
	}
	return u, found, nil
}

// fillGroups sets u.Groups and u.Admin from the group search.
func (l *Directory) fillGroups(ctx context.Context, u *authn.DirectoryUser, trace func(step string, took time.Duration, n int)) error {
	return l.search.with(ctx, func(c *ldap.Conn) (err error) {
		u.Groups, err = l.searchGroups(c, *u, trace)
		u.Admin = l.isAdmin(u.Groups)
		return err
	})
}

// isAdmin reports whether admin_group_dn is among groups (DNs compared
// as DNs: case and spacing do not matter).
func (l *Directory) isAdmin(groups []authn.DirectoryGroup) bool {
	if l.adminDN == nil {
		return false
	}
	for _, g := range groups {
		if dn, err := ldap.ParseDN(g.DN); err == nil && dn.EqualFold(l.adminDN) {
			return true
		}
	}
	return false
}

// errAmbiguous is logged when a username matches several entries.
var errAmbiguous = errors.New("username matches more than one entry")

// Ping checks that the directory answers: a base-scope read of the root
// DSE on a pooled search connection, bounded by the configured timeout.
// Used by /readyz (through a cache, so probes do not load the directory).
func (l *Directory) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	err := l.search.with(ctx, func(c *ldap.Conn) error {
		_, err := c.Search(ldap.NewSearchRequest("", ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, 0, false,
			"(objectClass=*)", []string{"1.1"}, nil))
		return err
	})
	if err != nil {
		return fmt.Errorf("ldap ping: %w", err)
	}
	return nil
}

// LDAPObserver receives every per-login LDAP operation ("search", "bind")
// with its error and latency, and credential-cache lookups (a
// *metrics.Metrics satisfies it).
type Observer interface {
	LDAP(op string, err error, seconds float64)
	Cache(cache string, hit bool)
}

// SetObserver installs o (before the LDAP client is used).
func (l *Directory) SetObserver(o Observer) { l.obs = o }

// doSearch is one counted, observed search round trip.
func (l *Directory) doSearch(c *ldap.Conn, req *ldap.SearchRequest) (*ldap.SearchResult, error) {
	l.requests.Add(1)
	start := time.Now()
	res, err := c.Search(req)
	if l.obs != nil {
		opErr := err
		if ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) {
			opErr = nil
		}
		l.obs.LDAP("search", opErr, time.Since(start).Seconds())
	}
	return res, err
}

// doBind is one counted, observed user bind. A refused password is not an
// operation error.
func (l *Directory) doBind(c *ldap.Conn, dn, password string) error {
	l.requests.Add(1)
	start := time.Now()
	err := c.Bind(dn, password)
	if l.obs != nil {
		opErr := err
		if ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
			opErr = nil
		}
		l.obs.LDAP("bind", opErr, time.Since(start).Seconds())
	}
	return err
}

// flightResult is what identical logins in flight share (flight.Group).
type flightResult struct {
	user authn.DirectoryUser
	ok   bool
}
