package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefaultsValid(t *testing.T) {
	cfg, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.Addr != "127.0.0.1:5001" || cfg.Token.Issuer != "harbor-token-issuer" ||
		cfg.Token.Service != "harbor-registry" || cfg.Token.Expiration.D() != 30*time.Minute ||
		cfg.Storage.Driver != "sqlite" || !cfg.Token.GenerateKey {
		t.Fatalf("unexpected defaults: %+v", cfg)
	}
	if got := cfg.RealmBase(); got != "http://localhost:5001" {
		t.Fatalf("realm base %q", got)
	}
}

func TestParse(t *testing.T) {
	t.Setenv("AS_TEST_DSN", "postgres://u:p@db:5432/auth")
	runParse(t, func(c Config) Config { return c }, []parseCase[Config]{
		{name: "empty file keeps defaults", yaml: "",
			check: func(t *testing.T, c Config) {
				if c.Token.Service != "harbor-registry" || c.Token.GenerateKey {
					t.Fatalf("%+v", c.Token)
				}
			}},
		{name: "overrides and env", yaml: `
server: {addr: "0.0.0.0:8443", public_url: "https://auth.example.org"}
token: {issuer: me, service: reg, expiration: 1h, kid: libtrust, key: /k, certificate: /c}
storage: {driver: postgres, dsn: "${AS_TEST_DSN}"}
passwords: {bcrypt_cost: 12}
log: {format: json, level: debug}
`,
			check: func(t *testing.T, c Config) {
				if c.Storage.DSN != "postgres://u:p@db:5432/auth" || c.Token.Expiration.D() != time.Hour ||
					c.Token.KID != "libtrust" || c.Passwords.BcryptCost != 12 || c.RealmBase() != "https://auth.example.org" {
					t.Fatalf("%+v", c)
				}
			}},
		{name: "days", yaml: "token: {expiration: 2d}",
			check: func(t *testing.T, c Config) {
				if c.Token.Expiration.D() != 48*time.Hour {
					t.Fatal(c.Token.Expiration)
				}
			}},
		{name: "unknown keys all reported", yaml: "server: {adr: x}\ntokn: {}\n",
			wantErr: []string{"adr", "tokn"}},
		{name: "bad values all reported", yaml: `
token: {kid: jwk, expiration: 10s, service: ""}
storage: {driver: mysql}
passwords: {bcrypt_cost: 40}
log: {format: xml}
`,
			wantErr: []string{"token.kid", "token.expiration", "token.service", "storage.driver", "bcrypt_cost", "log.format"}},
		{name: "unknown keys and bad values together", yaml: "server: {adr: x}\ntoken: {kid: jwk}\nstorage: {driver: mysql}\n",
			wantErr: []string{"adr", "token.kid", "storage.driver"}},
		{name: "bad duration", yaml: "token: {expiration: soon}", wantErr: []string{"duration \"soon\""}},
		{name: "postgres needs url", yaml: "storage: {driver: postgres, dsn: ./x.db}", wantErr: []string{"postgres://"}},
		{name: "missing env var", yaml: "storage: {dsn: \"${AS_TEST_NOT_SET_ANYWHERE}\"}", wantErr: []string{"AS_TEST_NOT_SET_ANYWHERE"}},
		{name: "bad addr", yaml: "server: {addr: nowhere}", wantErr: []string{"server.addr"}},
		{name: "throttle prefixes", yaml: "throttle: {ipv6_prefix: 56, ipv4_prefix: 24}",
			check: func(t *testing.T, c Config) {
				if c.Throttle.IPv6Prefix != 56 || c.Throttle.IPv4Prefix != 24 {
					t.Fatalf("%+v", c.Throttle)
				}
			}},
		{name: "throttle prefix defaults", yaml: "",
			check: func(t *testing.T, c Config) {
				if c.Throttle.IPv6Prefix != 64 || c.Throttle.IPv4Prefix != 32 {
					t.Fatalf("%+v", c.Throttle)
				}
			}},
		{name: "bad throttle prefixes all reported", yaml: "throttle: {ipv6_prefix: 0, ipv4_prefix: 33, ipv_prefix: 1}",
			wantErr: []string{"throttle.ipv6_prefix 0", "throttle.ipv4_prefix 33", "ipv_prefix"}},
		{name: "throttle prefix too long", yaml: "throttle: {ipv6_prefix: 129, ipv4_prefix: -1}",
			wantErr: []string{"throttle.ipv6_prefix 129", "throttle.ipv4_prefix -1"}},
		{name: "throttle store follows the driver", yaml: "storage: {driver: postgres, dsn: 'postgres://db/auth'}",
			check: func(t *testing.T, c Config) {
				if got := c.EffectiveThrottleStore(); got != ThrottleDatabase || Defaults().EffectiveThrottleStore() != ThrottleMemory {
					t.Fatalf("postgres: %s; sqlite: %s", got, Defaults().EffectiveThrottleStore())
				}
			}},
		{name: "throttle store chosen", yaml: "throttle: {store: database, reservation_ttl: 30s}",
			check: func(t *testing.T, c Config) {
				if c.EffectiveThrottleStore() != ThrottleDatabase || c.Throttle.ReservationTTL.D() != 30*time.Second {
					t.Fatalf("%+v", c.Throttle)
				}
			}},
		{name: "bad throttle store and reservation ttl", yaml: "throttle: {store: redis, reservation_ttl: 1s}",
			wantErr: []string{"throttle.store \"redis\"", "throttle.reservation_ttl 1s"}},
		{name: "jwks max-age", yaml: "token: {jwks_max_age: 0s}",
			check: func(t *testing.T, c Config) {
				if c.Token.JWKSMaxAge.D() != 0 || Defaults().Token.JWKSMaxAge.D() != time.Minute {
					t.Fatalf("%+v", c.Token)
				}
			}},
		{name: "jwks max-age too long", yaml: "token: {jwks_max_age: 5m}", wantErr: []string{"token.jwks_max_age 5m"}},
		{name: "audit sync by default", yaml: "",
			check: func(t *testing.T, c Config) {
				if c.Audit.Mode != AuditSync || c.Audit.SyncWait.D() != 5*time.Second {
					t.Fatalf("%+v", c.Audit)
				}
			}},
		{name: "bad audit mode and wait", yaml: "audit: {mode: later, sync_wait: 2h}",
			wantErr: []string{"audit.mode \"later\"", "audit.sync_wait 2h"}},
		{name: "registry", yaml: "registry: {url: \"http://registry:5000\", timeout: 30s}",
			check: func(t *testing.T, c Config) {
				if c.Registry.URL != "http://registry:5000" || c.Registry.Timeout.D() != 30*time.Second {
					t.Fatalf("%+v", c.Registry)
				}
			}},
		{name: "registry by default", yaml: "",
			check: func(t *testing.T, c Config) {
				if c.Registry.URL != "" || c.Registry.Timeout.D() != DefaultRegistryTimeout || c.Registry.LoginHost() != "REGISTRY" {
					t.Fatalf("%+v", c.Registry)
				}
			}},
		{name: "registry login host", yaml: "registry: {url: \"http://registry:5000\"}",
			check: func(t *testing.T, c Config) {
				if got := c.Registry.LoginHost(); got != "registry:5000" {
					t.Fatalf("login host %q, want url's host", got)
				}
				c.Registry.PublicHost = "registry.example.org"
				if got := c.Registry.LoginHost(); got != "registry.example.org" {
					t.Fatalf("login host %q, want public_host", got)
				}
			}},
		{name: "bad registry public host", yaml: "registry: {public_host: \"https://r.example.org/v2\"}",
			wantErr: []string{"registry.public_host \"https://r.example.org/v2\": want a host name"}},
		{name: "bad registry all reported", yaml: "registry: {url: \"ftp://r\", timeout: 0s, ca_file: /nonexistent.pem}",
			wantErr: []string{"registry.url \"ftp://r\"", "registry.timeout 0s", "registry.ca_file: open /nonexistent.pem"}},
		{name: "registry with a path or credentials", yaml: "registry: {url: \"https://u:p@r/v2\"}",
			wantErr: []string{"registry.url \"https://u:p@r/v2\": want scheme, host and port only"}},
		{name: "registry ca_file without url", yaml: "registry: {ca_file: /x.pem}",
			wantErr: []string{"registry.ca_file: set without registry.url"}},
		{name: "x5c defaults to true", yaml: "token: {kid: thumbprint}",
			check: func(t *testing.T, c Config) {
				if !c.Token.X5C {
					t.Fatal("x5c is off by default")
				}
			}},
		{name: "x5c off, certificate kept for the JWKS", yaml: "token: {x5c: false}",
			check: func(t *testing.T, c Config) {
				if c.Token.X5C || c.Token.Certificate == "" {
					t.Fatalf("%+v", c.Token)
				}
			}},
		{name: "x5c off without certificate", yaml: "token: {x5c: false, certificate: \"\"}",
			check: func(t *testing.T, c Config) {
				if c.Token.X5C || c.Token.Certificate != "" {
					t.Fatalf("%+v", c.Token)
				}
			}},
		{name: "x5c needs a certificate, with the other problems", yaml: "token: {certificate: \"\", kid: jwk}\nlog: {format: xml}\n",
			wantErr: []string{"token.x5c", "token.certificate", "token.kid", "log.format"}},
		{name: "x5c must be a bool", yaml: "token: {x5c: sometimes}", wantErr: []string{"sometimes"}},
		{name: "password minimum length defaults to Harbor's 8", yaml: "passwords: {bcrypt_cost: 12}",
			check: func(t *testing.T, c Config) {
				if c.Passwords.MinLength != 8 {
					t.Fatal(c.Passwords.MinLength)
				}
			}},
		{name: "password minimum length raised", yaml: "passwords: {min_length: 14}",
			check: func(t *testing.T, c Config) {
				if c.Passwords.MinLength != 14 {
					t.Fatal(c.Passwords.MinLength)
				}
			}},
		{name: "password minimum length below Harbor's, with the other problems", yaml: "passwords: {min_length: 6}\nlog: {format: xml}\n",
			wantErr: []string{"passwords.min_length 6", "log.format"}},
		{name: "password minimum length beyond bcrypt", yaml: "passwords: {min_length: 73}", wantErr: []string{"passwords.min_length 73: want 8 to 72"}},
		{name: "dollar without braces kept", yaml: "token: {issuer: robot$x}",
			check: func(t *testing.T, c Config) {
				if c.Token.Issuer != "robot$x" {
					t.Fatal(c.Token.Issuer)
				}
			}},
	})
}

// parseCase is one case of a Parse table about the part T of the config:
// yaml, and either a check of T or what the one error must say.
type parseCase[T any] struct {
	name    string
	yaml    string
	check   func(t *testing.T, v T)
	wantErr []string // every substring must appear in the one error
}

// runParse runs a Parse table, handing each check the part of the parsed
// config that pick picks.
func runParse[T any](t *testing.T, pick func(Config) T, tests []parseCase[T]) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if c, ok := parsed(t, tt.yaml, tt.wantErr); ok {
				tt.check(t, pick(c))
			}
		})
	}
}

// parsed parses yaml for a table test. With wantErr it checks that Parse
// fails with an error naming every entry and returns false; without, it
// fails the test on any error and returns the config and true.
func parsed(t *testing.T, yaml string, wantErr []string) (Config, bool) {
	t.Helper()
	c, err := Parse([]byte(yaml))
	if len(wantErr) > 0 {
		if err == nil {
			t.Fatalf("no error; want %v", wantErr)
		}
		for _, w := range wantErr {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error lacks %q:\n%v", w, err)
			}
		}
		return c, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return c, true
}

func TestExampleConfigIsValid(t *testing.T) {
	path := filepath.Join("..", "..", "config.example.yaml")
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("config.example.yaml: %v", err)
	}
	t.Setenv("POSTGRES_PASSWORD", "x")
	if _, err := Load(path); err != nil {
		t.Fatalf("config.example.yaml does not load: %v", err)
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want time.Duration
		err  bool
	}{
		{"seconds", "90s", 90 * time.Second, false},
		{"minutes", "30m", 30 * time.Minute, false},
		{"days", "30d", 30 * 24 * time.Hour, false},
		{"mixed go", "1h30m", 90 * time.Minute, false},
		{"negative", "-1h", 0, true},
		{"junk days", "xd", 0, true},
		{"junk", "forever", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDuration(tt.in)
			if (err != nil) != tt.err || got != tt.want {
				t.Fatalf("ParseDuration(%q) = %v, %v", tt.in, got, err)
			}
		})
	}
	if FormatDuration(48*time.Hour) != "2d" || FormatDuration(90*time.Second) != "1m30s" {
		t.Fatal("FormatDuration")
	}
}

func TestPolicyConfig(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		wantErr []string
		check   func(t *testing.T, c Config)
	}{
		{name: "defaults", yaml: "", check: func(t *testing.T, c Config) {
			if c.Token.PushLifetime() != 30*time.Minute || c.Token.MaxTokenLifetime() != DefaultMaxExpiration ||
				c.Projects.CreateOnPush || c.Projects.PersonalTemplate != "" {
				t.Errorf("defaults %+v %+v", c.Token, c.Projects)
			}
		}},
		{name: "set", yaml: "token: {push_expiration: 2h, max_expiration: 4h}\nprojects: {create_on_push: true, personal_template: \"u-{username}\"}\n",
			check: func(t *testing.T, c Config) {
				if c.Token.PushLifetime() != 2*time.Hour || c.Token.MaxTokenLifetime() != 4*time.Hour || !c.Projects.CreateOnPush {
					t.Errorf("set %+v %+v", c.Token, c.Projects)
				}
			}},
		{name: "a long expiration raises the default cap", yaml: "token: {expiration: 2d}", check: func(t *testing.T, c Config) {
			if c.Token.MaxTokenLifetime() != 48*time.Hour {
				t.Errorf("cap %v", c.Token.MaxTokenLifetime())
			}
		}},
		{name: "push longer than the cap", yaml: "token: {push_expiration: 5h, max_expiration: 4h}", wantErr: []string{"token.push_expiration"}},
		{name: "push too short", yaml: "token: {push_expiration: 10s}", wantErr: []string{"token.push_expiration 10s"}},
		{name: "template without placeholder", yaml: "projects: {personal_template: fixed}", wantErr: []string{"projects.personal_template"}},
		{name: "unknown key", yaml: "projects: {create_on_pushh: true}", wantErr: []string{"create_on_pushh"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.yaml))
			if len(tt.wantErr) > 0 {
				for _, w := range tt.wantErr {
					if err == nil || !strings.Contains(err.Error(), w) {
						t.Errorf("err %v, want %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}
