package config

import (
	"fmt"
	"net/netip"
	"time"
)

// Cache tunes the verified-credential cache: a successful password check is
// remembered (as an HMAC of username and password under a per-process key,
// never the password) so repeated logins skip bcrypt or LDAP.
type Cache struct {
	// CredentialsTTL is how long a verified login is reused; 0 disables.
	CredentialsTTL Duration `yaml:"credentials_ttl"`
	// CredentialsMax bounds the number of cached logins (LRU).
	CredentialsMax int `yaml:"credentials_max"`
	// PublicProjects is how often at most the token endpoint asks the
	// store whether any project was created, deleted, or made public or
	// private (one primary-key read of a version counter), while it
	// answers anonymous requests from what it knows of the projects they
	// name: a project made private stops anonymous pulls within this time,
	// on every replica. 0 reads the projects on every request.
	PublicProjects Duration `yaml:"public_projects"`
	// StoreReads bounds the user rows and permission answers an
	// authenticated token request may take from memory
	// (internal/store/readcache): each request reads the version counter
	// once and uses them only when nothing changed since they were read,
	// so every change is honoured by the next request. 0 reads the store
	// for every request.
	StoreReads int `yaml:"store_reads"`
}

// Audit configures the audit trail of token requests.
type Audit struct {
	// Enabled records every issued token and failed login in the store.
	Enabled bool `yaml:"enabled"`
	// Retention is how long records are kept; 0 keeps them forever.
	Retention Duration `yaml:"retention"`
	// Buffer is how many records may wait to be written; past it records
	// of refusals are dropped (and counted) rather than holding up
	// anything, and issued tokens wait (sync) or their records are dropped
	// (async).
	Buffer int `yaml:"buffer"`
	// Mode is when an issued token's answer is sent: "sync" (the default)
	// only once its record is committed — requests waiting at the same
	// time share one transaction (group commit), a failed write is
	// retried, and a record that cannot be written within SyncWait makes
	// the request fail with 503 rather than hand out an unrecorded token;
	// "async" at once, the record written in the background within about a
	// second (Buffer, a batch interval): a crash or a database outage then
	// loses the records still waiting.
	Mode string `yaml:"mode"`
	// SyncWait bounds how long an issued token waits for its record (mode
	// sync), retries included. Default 5s.
	SyncWait Duration `yaml:"sync_wait"`
}

// Audit modes (audit.mode).
const (
	AuditSync  = "sync"
	AuditAsync = "async"
)

// Throttle configures brute-force throttling. Counters live in memory, per
// instance, or in the database, shared by every replica (Store).
type Throttle struct {
	Enabled bool `yaml:"enabled"`
	// Store is where the counters and the attempts in flight live:
	// "memory" (this process: behind a balancer with N replicas an
	// attacker gets N times the limits, and a restart forgets them) or
	// "database" (every replica on the database counts together, and a
	// restart keeps them). Empty: database on PostgreSQL, memory on SQLite
	// (Config.EffectiveThrottleStore).
	Store string `yaml:"store"`
	// ReservationTTL bounds how long an attempt in flight counts in the
	// database (store: database) when its replica dies before settling it.
	// Default (and 0) 1m; it must outlast the slowest check (the wait for a slot,
	// a bcrypt, an LDAP bind).
	ReservationTTL Duration `yaml:"reservation_ttl"`
	// UserIPFailures is how many failed logins one username may have from
	// one client IP before further tries from there are refused with 429.
	UserIPFailures int `yaml:"user_ip_failures"`
	// IPFailures is the same limit for one client IP over all usernames.
	IPFailures int `yaml:"ip_failures"`
	// BaseDelay is the first refusal period; it doubles with each further
	// failure, up to MaxDelay.
	BaseDelay Duration `yaml:"base_delay"`
	MaxDelay  Duration `yaml:"max_delay"`
	// Forget drops a counter this long after its last failure.
	Forget Duration `yaml:"forget"`
	// MaxEntries bounds the memory used by counters (store: memory; the
	// database drops counters Forget after their last failure).
	MaxEntries int `yaml:"max_entries"`
	// IPv6Prefix and IPv4Prefix are the prefix lengths a client address is
	// aggregated to before it is counted (default 64 and 32): one host
	// usually holds a whole IPv6 /64, so counting single addresses would let
	// a guesser rotate through them. Only the throttle aggregates: logs and
	// the audit trail keep the full address. Usernames are counted trimmed
	// and case-folded, so local names that differ only in case share a
	// counter.
	IPv6Prefix int `yaml:"ipv6_prefix"`
	IPv4Prefix int `yaml:"ipv4_prefix"`
}

// validateOps checks the operational sections.
func (c *Config) validateOps() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	for _, p := range c.Server.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err != nil {
			if _, err := netip.ParseAddr(p); err != nil {
				bad("server.trusted_proxies %q: want a CIDR such as 10.0.0.0/8", p)
			}
		}
	}
	if (c.Server.TLS.Cert == "") != (c.Server.TLS.Key == "") {
		bad("server.tls: set both cert and key, or neither")
	}
	if c.Server.ShutdownTimeout.D() <= 0 {
		bad("server.shutdown_timeout: must be positive")
	}
	for name, d := range map[string]Duration{"read_timeout": c.Server.ReadTimeout, "write_timeout": c.Server.WriteTimeout, "idle_timeout": c.Server.IdleTimeout} {
		if d.D() <= 0 {
			bad("server.%s: must be positive", name)
		}
	}
	if c.Cache.CredentialsMax < 0 {
		bad("cache.credentials_max: must not be negative")
	}
	if c.Cache.CredentialsTTL.D() > 0 && c.Cache.CredentialsMax == 0 {
		bad("cache.credentials_max: must be positive when cache.credentials_ttl is set")
	}
	if c.Cache.StoreReads < 0 {
		bad("cache.store_reads: must not be negative (0 reads the store for every request)")
	}
	if c.Cache.PublicProjects.D() < 0 || c.Cache.PublicProjects.D() > time.Minute {
		bad("cache.public_projects: want 0 (off) to 1m")
	}
	if c.Audit.Buffer < 0 {
		bad("audit.buffer: must not be negative")
	}
	switch c.Audit.Mode {
	case AuditSync, AuditAsync:
	default:
		bad("audit.mode %q: want sync or async", c.Audit.Mode)
	}
	if d := c.Audit.SyncWait.D(); d < 100*time.Millisecond || d > time.Minute {
		bad("audit.sync_wait %s: want 100ms to 1m", c.Audit.SyncWait)
	}
	if t := c.Throttle; t.Enabled {
		if t.UserIPFailures < 0 || t.IPFailures < 0 {
			bad("throttle: failure limits must not be negative")
		}
		if t.BaseDelay.D() <= 0 || t.MaxDelay.D() < t.BaseDelay.D() {
			bad("throttle: want 0 < base_delay <= max_delay")
		}
		if t.MaxEntries <= 0 {
			bad("throttle.max_entries: must be positive")
		}
		switch t.Store {
		case "", ThrottleMemory, ThrottleDatabase:
		default:
			bad("throttle.store %q: want memory or database", t.Store)
		}
		if d := t.ReservationTTL.D(); d != 0 && (d < 10*time.Second || d > time.Hour) {
			bad("throttle.reservation_ttl %s: want 10s to 1h (0: the default, 1m)", t.ReservationTTL)
		}
	}
	if v := c.Throttle.IPv6Prefix; v <= 0 || v > 128 {
		bad("throttle.ipv6_prefix %d: want 1 to 128", v)
	}
	if v := c.Throttle.IPv4Prefix; v <= 0 || v > 32 {
		bad("throttle.ipv4_prefix %d: want 1 to 32", v)
	}
	return errs
}

// Throttle stores (throttle.store).
const (
	ThrottleMemory   = "memory"
	ThrottleDatabase = "database"
)

// EffectiveThrottleStore is where the throttle counts: throttle.store, or when it
// is empty the database on PostgreSQL (replicas share it) and memory on
// SQLite (one process).
func (c Config) EffectiveThrottleStore() string {
	switch {
	case c.Throttle.Store != "":
		return c.Throttle.Store
	case c.Storage.Driver == "postgres":
		return ThrottleDatabase
	}
	return ThrottleMemory
}

// EffectiveReuseWindow is token.reuse_window capped below the token
// lifetime minus 60 s, so a reused token always has at least a minute left.
func (c *Config) EffectiveReuseWindow() time.Duration {
	w := c.Token.ReuseWindow.D()
	if limit := c.Token.Expiration.D() - time.Minute; w > limit {
		w = limit
	}
	if w < 0 {
		return 0
	}
	return w
}
