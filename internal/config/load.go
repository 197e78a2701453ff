package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// EnvFile names the environment variable holding the config path when
// --config is not given.
const EnvFile = "AUTHSERVER_CONFIG"

// EnvAddr names the environment variable that, when set, replaces
// server.addr (the container image sets it to 0.0.0.0:5001); `serve --addr`
// replaces both.
const EnvAddr = "AUTHSERVER_ADDR"

// Load reads the file at path (strictly: unknown keys are errors), applies
// defaults for keys it does not set, expands ${VAR} in string values and
// validates the result. Every problem is reported in one error. An empty
// path returns the embedded default.
func Load(path string) (Config, error) {
	if path == "" {
		cfg := Defaults()
		return cfg, cfg.Validate()
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	cfg, err := Parse(data)
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// Parse decodes and validates a YAML document. See Load.
func Parse(data []byte) (Config, error) {
	cfg := Defaults()
	// A file must ask for key generation explicitly: a mistyped key path
	// should be an error, not a fresh key the registry does not trust.
	cfg.Token.GenerateKey = false

	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	// A TypeError (unknown key, wrong type) still leaves every other field
	// decoded, so the values are validated too and every problem is
	// reported in one go. A syntax error stops here.
	var errs []error
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return Config{}, err
		}
		for _, e := range te.Errors {
			errs = append(errs, errors.New(e))
		}
	}
	var missing []string
	expandEnv(reflect.ValueOf(&cfg).Elem(), &missing)
	if len(missing) > 0 {
		errs = append(errs, fmt.Errorf("environment variables not set: %s", strings.Join(missing, ", ")))
	}
	errs = append(errs, cfg.Validate())
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// expandEnv replaces ${VAR} in every string field. Only the braced form is
// expanded, so values such as the robot prefix "robot$" are left alone.
func expandEnv(v reflect.Value, missing *[]string) {
	switch v.Kind() {
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				expandEnv(v.Field(i), missing)
			}
		}
	case reflect.Pointer:
		if !v.IsNil() {
			expandEnv(v.Elem(), missing)
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			expandEnv(v.Index(i), missing)
		}
	case reflect.String:
		s := envRef.ReplaceAllStringFunc(v.String(), func(ref string) string {
			name := envRef.FindStringSubmatch(ref)[1]
			val, ok := os.LookupEnv(name)
			if !ok {
				*missing = append(*missing, name)
			}
			return val
		})
		v.SetString(s)
	}
}

// Validate checks every value and reports all problems at once.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if _, _, err := net.SplitHostPort(c.Server.Addr); err != nil {
		bad("server.addr %q: want host:port", c.Server.Addr)
	}
	if c.Server.PublicURL != "" {
		if u, err := url.Parse(c.Server.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("server.public_url %q: want an http:// or https:// URL", c.Server.PublicURL)
		}
	}
	if c.Token.Issuer == "" {
		bad("token.issuer: must not be empty")
	}
	if c.Token.Service == "" {
		bad("token.service: must not be empty")
	}
	if c.Token.Expiration.D() < time.Minute {
		bad("token.expiration %s: must be at least 1m (clients treat shorter tokens as 60s)", c.Token.Expiration)
	}
	if c.Token.Key == "" {
		bad("token.key: must name the signing key file")
	}
	if d := c.Token.JWKSMaxAge.D(); d < 0 || d > time.Minute {
		bad("token.jwks_max_age %s: want 0 to 60s (verifiers must see a new key within a rotation step)", c.Token.JWKSMaxAge)
	}
	switch c.Token.KID {
	case "thumbprint", "libtrust":
	default:
		bad("token.kid %q: want thumbprint (registry 3.x) or libtrust (registry 2.x)", c.Token.KID)
	}
	if c.Token.X5C && c.Token.Certificate == "" {
		bad("token.x5c: true needs token.certificate (the x5c header carries it); set x5c: false to send kid only")
	}
	switch c.Storage.Driver {
	case "sqlite":
		if c.Storage.DSN == "" {
			bad("storage.dsn: must name the SQLite file")
		}
	case "postgres":
		if !strings.HasPrefix(c.Storage.DSN, "postgres://") && !strings.HasPrefix(c.Storage.DSN, "postgresql://") {
			bad("storage.dsn: want a postgres:// URL for the postgres driver")
		}
	default:
		bad("storage.driver %q: want sqlite or postgres", c.Storage.Driver)
	}
	if c.Passwords.BcryptCost < 4 || c.Passwords.BcryptCost > 31 {
		bad("passwords.bcrypt_cost %d: want 4 to 31", c.Passwords.BcryptCost)
	}
	if c.Passwords.MinLength < 8 || c.Passwords.MinLength > 72 {
		bad("passwords.min_length %d: want 8 to 72 (Harbor's policy needs at least 8; bcrypt reads at most 72 bytes)", c.Passwords.MinLength)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		bad("log.format %q: want text or json", c.Log.Format)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level %q: want debug, info, warn or error", c.Log.Level)
	}
	errs = append(errs, c.validateOps()...)
	errs = append(errs, c.validateLogin()...)
	errs = append(errs, c.validateCredentials()...)
	errs = append(errs, c.Federation.validate()...)
	errs = append(errs, c.validateAPI()...)
	errs = append(errs, c.validatePolicy()...)
	errs = append(errs, c.validateRegistry()...)
	errs = append(errs, c.validateOIDC()...)
	if c.LDAP != nil {
		errs = append(errs, c.LDAP.validate()...)
	}
	return errors.Join(errs...)
}

// RealmBase is the base URL of authserver as the registry and clients see it.
func (c *Config) RealmBase() string {
	if c.Server.PublicURL != "" {
		return strings.TrimRight(c.Server.PublicURL, "/")
	}
	host, port, err := net.SplitHostPort(c.Server.Addr)
	if err != nil {
		return "http://" + c.Server.Addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && (ip.IsLoopback() || ip.IsUnspecified())) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// Duration is a time.Duration that reads Go durations ("90s", "30m",
// "1h30m") and whole days ("90d").
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return FormatDuration(time.Duration(d)) }

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	v, err := ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// ParseDuration parses a Go duration or a number of days ("30d"). Units
// s, m, h and d are accepted; negative values are refused.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var v time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil {
			return 0, fmt.Errorf("duration %q: want a number of days such as 30d", s)
		}
		v = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if v, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("duration %q: want e.g. 90s, 30m, 12h or 30d", s)
		}
	}
	if v < 0 {
		return 0, fmt.Errorf("duration %q: must not be negative", s)
	}
	return v, nil
}

// FormatDuration prints whole days as "Nd" and anything else as Go does.
func FormatDuration(d time.Duration) string {
	if d != 0 && d%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	}
	return d.String()
}
