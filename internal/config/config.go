// Package config loads, defaults and validates authserver's YAML configuration.
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
}

// Server is the HTTP listener.
type Server struct {
	// Addr is host:port to listen on.
	Addr string `yaml:"addr"`
	// PublicURL is the URL clients and the registry use to reach authserver,
	// used to build the realm printed by registry-config. Empty means
	// "http://" + Addr with a loopback IP replaced by localhost (clients
	// refuse realms at loopback IP literals).
	PublicURL string `yaml:"public_url"`
}

// Token configures the JWTs handed to clients.
type Token struct {
	// Issuer is the iss claim; the registry's auth.token.issuer must match.
	Issuer string `yaml:"issuer"`
	// Service is the aud claim; a request naming another service gets 400.
	Service string `yaml:"service"`
	// Expiration is the token lifetime (at least 60s).
	Expiration Duration `yaml:"expiration"`
	// Key is the PEM private key used to sign (RSA → RS256, EC → ES256).
	Key string `yaml:"key"`
	// Certificate is the PEM certificate of Key, sent in the x5c header and
	// given to the registry as rootcertbundle. Optional.
	Certificate string `yaml:"certificate"`
	// KID is how the kid header is computed: "thumbprint" (RFC 7638, registry
	// 3.x) or "libtrust" (registry 2.x).
	KID string `yaml:"kid"`
	// GenerateKey creates Key and Certificate on first start when Key is
	// missing. On in the embedded default; off otherwise so a wrong path is an
	// error rather than a silently new key.
	GenerateKey bool `yaml:"generate_key"`
}

// Storage selects the database.
type Storage struct {
	// Driver is "sqlite" or "postgres".
	Driver string `yaml:"driver"`
	// DSN is a file path for sqlite, a postgres:// URL for postgres.
	DSN string `yaml:"dsn"`
}

// Passwords configures local password hashing.
type Passwords struct {
	// BcryptCost is the bcrypt work factor for new hashes (4–31, default 10).
	BcryptCost int `yaml:"bcrypt_cost"`
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
		Server: Server{Addr: "127.0.0.1:5001"},
		Token: Token{
			Issuer:      "harbor-token-issuer",
			Service:     "harbor-registry",
			Expiration:  Duration(30 * time.Minute),
			Key:         "./data/token.key",
			Certificate: "./data/token.crt",
			KID:         "thumbprint",
			GenerateKey: true,
		},
		Storage:   Storage{Driver: "sqlite", DSN: "./data/authserver.db"},
		Passwords: Passwords{BcryptCost: 10},
		Log:       Log{Format: "text", Level: "info"},
	}
}
