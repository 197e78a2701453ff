package config

import (
	"time"
)

// Config is the whole configuration file. Every key is documented in
// config.example.yaml; Defaults() gives the embedded default used when no file
// is named.
type Config struct {
	Server    Server    `yaml:"server"`
	Token     Token     `yaml:"token"`
	Storage   Storage   `yaml:"storage"`
	Passwords Passwords `yaml:"passwords"`
	Log       Log       `yaml:"log"`
	// LDAP, when set, sends logins of users that are not local to an LDAP
	// directory or Active Directory (see ldap.go).
	LDAP *LDAP `yaml:"ldap"`
	// Cache tunes the verified-credential cache (ops.go).
	Cache Cache `yaml:"cache"`
	// Audit configures the audit trail (ops.go).
	Audit Audit `yaml:"audit"`
	// Throttle configures brute-force throttling (ops.go).
	Throttle Throttle `yaml:"throttle"`
	// RefreshTokens configures refresh tokens (credentials.go).
	RefreshTokens RefreshTokens `yaml:"refresh_tokens"`
	// Robots configures robot accounts (credentials.go).
	Robots Robots `yaml:"robots"`
	// Federation lists the OIDC issuers federated robots trust (federation.go).
	Federation Federation `yaml:"federation"`
	// API configures the admin REST API (api.go).
	API API `yaml:"api"`
	// Import configures what `authserver import harbor` brought (login.go).
	Import Import `yaml:"import"`
	// Registry is the registry as authserver reaches it (registry.go).
	Registry Registry `yaml:"registry"`
	// OIDC, when set, lets people sign in with their company's SSO at
	// /login and mint registry credentials (oidc.go, docs/SSO.md).
	OIDC *OIDC `yaml:"oidc"`
	// Projects configures projects created on push and personal projects
	// (projects.go).
	Projects Projects `yaml:"projects"`
}

// Server is the HTTP listener.
type Server struct {
	// Addr is host:port to listen on.
	Addr string `yaml:"addr"`
	// PublicURL is the URL clients and the registry use to reach authserver,
	// used to build the realm printed by registry-config; its origin is the
	// only Origin the admin API accepts on a change (internal/server/api,
	// browser.go). Empty means
	// "http://" + Addr with a loopback IP replaced by localhost (clients
	// refuse realms at loopback IP literals).
	PublicURL string `yaml:"public_url"`
	// MetricsAddr, when set, serves /metrics on a separate listener (e.g.
	// an address only Prometheus reaches). Empty: /metrics is on Addr.
	MetricsAddr string `yaml:"metrics_addr"`
	// TrustedProxies are CIDRs of reverse proxies whose X-Forwarded-For is
	// believed. A client IP is taken from X-Forwarded-For only when the
	// direct peer is in one of them.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// TLS, when cert and key are set, serves HTTPS (minimum TLS 1.2).
	TLS ServerTLS `yaml:"tls"`
	// ShutdownTimeout bounds graceful shutdown on SIGTERM/SIGINT.
	ShutdownTimeout Duration `yaml:"shutdown_timeout"`
	// ReadTimeout, WriteTimeout and IdleTimeout bound each connection.
	ReadTimeout  Duration `yaml:"read_timeout"`
	WriteTimeout Duration `yaml:"write_timeout"`
	IdleTimeout  Duration `yaml:"idle_timeout"`
	// MaxPasswordChecksSet is server.max_password_checks: the most slow
	// credential checks (bcrypt, Harbor's PBKDF2, an LDAP bind) that run
	// at once; 0 means two per CPU (MaxPasswordChecks). Credential-cache
	// hits and the fast hashes of robot secrets, personal access tokens and
	// refresh tokens take no slot.
	MaxPasswordChecksSet int `yaml:"max_password_checks"`
	// PasswordChecksPerNetwork is how many of them one client network
	// (throttle.ipv4_prefix / ipv6_prefix) may hold at once. Default 2.
	PasswordChecksPerNetwork int `yaml:"password_checks_per_network"`
	// PasswordCheckWait is how long a login waits for a free slot before
	// it is answered 503 with Retry-After. Default 2s.
	PasswordCheckWait Duration `yaml:"password_check_wait"`
}

// ServerTLS is the HTTPS key pair, re-read on SIGHUP.
type ServerTLS struct {
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

// Token configures the JWTs handed to clients.
type Token struct {
	// Issuer is the iss claim; the registry's auth.token.issuer must match.
	Issuer string `yaml:"issuer"`
	// Service is the aud claim; a request naming another service gets 400.
	Service string `yaml:"service"`
	// Expiration is the token lifetime (at least 60s).
	Expiration Duration `yaml:"expiration"`
	// PushExpiration is the lifetime of a token that grants push or
	// delete (a multi-GB push outlives a short token); 0, the default,
	// is Expiration.
	PushExpiration Duration `yaml:"push_expiration"`
	// MaxExpiration caps every lifetime, a robot's own (robot
	// --token-lifetime) included; at least Expiration and PushExpiration.
	// 0 (the default) is the longest of 24h, Expiration and
	// PushExpiration (MaxTokenLifetime).
	MaxExpiration Duration `yaml:"max_expiration"`
	// Key is the PEM private key used to sign (RSA → RS256, EC → ES256).
	Key string `yaml:"key"`
	// Certificate is the PEM certificate of Key, sent in the x5c header and
	// given to the registry as rootcertbundle. Optional.
	Certificate string `yaml:"certificate"`
	// KID is how the kid header is computed: "thumbprint" (RFC 7638, registry
	// 3.x) or "libtrust" (registry 2.x).
	KID string `yaml:"kid"`
	// X5C puts Certificate in the tokens' x5c header (default true): both
	// registry generations then verify the chain against rootcertbundle and
	// ignore kid. false sends kid only, for verifiers that must find the key
	// by kid: registry 3.x trusting only auth.token.jwks (it fails a token
	// whose x5c chain it cannot verify) and zot (which ignores x5c). true
	// needs Certificate.
	X5C bool `yaml:"x5c"`
	// GenerateKey creates Key and Certificate on first start when Key is
	// missing. On in the embedded default; off otherwise so a wrong path is an
	// error rather than a silently new key.
	GenerateKey bool `yaml:"generate_key"`
	// PreviousCertificates are PEM certificates of keys that signed tokens
	// before a rotation. They are published in the JWKS and printed by
	// registry-config as part of the bundle, so tokens they signed stay valid
	// until they expire.
	PreviousCertificates []string `yaml:"previous_certificates"`
	// JWKSMaxAge is the Cache-Control max-age of /.well-known/jwks.json
	// (0 to 60s, default 60s): how long a verifier may keep the key set
	// before it asks again. A rotation across replicas waits at least this
	// long between publishing a key and signing with it
	// (docs/KEY-ROTATION.md).
	JWKSMaxAge Duration `yaml:"jwks_max_age"`
	// ReuseWindow: when the same subject is granted exactly the same access
	// for the same service within this window of a token already signed for
	// it, that token is answered again (with what is left of its lifetime)
	// instead of signing a new one. 0 disables.
	ReuseWindow Duration `yaml:"reuse_window"`
}

// Storage selects the database.
type Storage struct {
	// Driver is "sqlite" or "postgres".
	Driver string `yaml:"driver"`
	// DSN is a file path for sqlite, a postgres:// URL for postgres.
	DSN string `yaml:"dsn"`
}

// Passwords configures local passwords: their policy and their hashing.
type Passwords struct {
	// BcryptCost is the bcrypt work factor for new hashes (4–31, default 10).
	BcryptCost int `yaml:"bcrypt_cost"`
	// MinLength is the fewest characters a chosen password (or robot
	// secret) may have: 8 (Harbor's, the default) to 72. The rest of the
	// policy is fixed: an upper-case letter, a lower-case letter, a digit,
	// and at most 72 bytes (all bcrypt reads).
	MinLength int `yaml:"min_length"`
}

// Log configures the process logger.
type Log struct {
	// Format is "text" or "json".
	Format string `yaml:"format"`
	// Level is "debug", "info", "warn" or "error".
	Level string `yaml:"level"`
}

// Defaults returns the embedded default: SQLite and a generated key under
// ./data, listening on 127.0.0.1:5001 with Harbor's issuer and service names.
func Defaults() Config {
	return Config{
		Server: Server{Addr: "127.0.0.1:5001", ShutdownTimeout: Duration(25 * time.Second),
			ReadTimeout: Duration(30 * time.Second), WriteTimeout: Duration(30 * time.Second), IdleTimeout: Duration(2 * time.Minute),
			PasswordChecksPerNetwork: DefaultPasswordChecksPerNetwork, PasswordCheckWait: Duration(DefaultPasswordCheckWait)},
		Token: Token{
			Issuer:      "harbor-token-issuer",
			Service:     "harbor-registry",
			Expiration:  Duration(30 * time.Minute),
			Key:         "./data/token.key",
			Certificate: "./data/token.crt",
			KID:         "thumbprint",
			X5C:         true,
			GenerateKey: true,
			ReuseWindow: Duration(30 * time.Second),
			JWKSMaxAge:  Duration(time.Minute),
		},
		Storage:   Storage{Driver: "sqlite", DSN: "./data/authserver.db"},
		Passwords: Passwords{BcryptCost: 10, MinLength: 8},
		Cache:     Cache{CredentialsTTL: Duration(5 * time.Minute), CredentialsMax: 100000, PublicProjects: Duration(time.Second), StoreReads: 50000},
		Audit: Audit{Enabled: true, Retention: Duration(30 * 24 * time.Hour), Buffer: 10000, Mode: AuditSync,
			SyncWait: Duration(5 * time.Second)},
		Throttle: Throttle{Enabled: true, UserIPFailures: 5, IPFailures: 50, BaseDelay: Duration(time.Second),
			MaxDelay: Duration(15 * time.Minute), Forget: Duration(time.Hour), MaxEntries: 100000,
			IPv6Prefix: 64, IPv4Prefix: 32, ReservationTTL: Duration(time.Minute)},
		Log:           Log{Format: "text", Level: "info"},
		RefreshTokens: defaultRefreshTokens(),
		Robots:        defaultRobots(),
		API:           defaultAPI(),
		Registry:      Registry{Timeout: Duration(DefaultRegistryTimeout)},
	}
}
