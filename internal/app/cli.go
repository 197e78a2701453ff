package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/authserver/authserver/internal/admin"
	"github.com/authserver/authserver/internal/authn/ldap"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/credprovider"
	"github.com/authserver/authserver/internal/harborimport"
	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/token"
)

// What cmd/authserver needs beyond internal/admin, so that it imports
// internal/admin and internal/app only: the config, the parts built from
// it, and the tools that are not administrative operations.

// Config is the configuration file (internal/config).
type Config = config.Config

// ConfigEnv names the environment variable holding the config path when
// --config is not given.
const ConfigEnv = config.EnvFile

// AddrEnv names the environment variable that replaces server.addr.
const AddrEnv = config.EnvAddr

// LoadConfig reads and validates the config at path; "" is the embedded
// default.
func LoadConfig(path string) (Config, error) { return config.Load(path) }

// ParseDuration reads a duration with the config's units ("30d", "12h").
func ParseDuration(s string) (time.Duration, error) { return config.ParseDuration(s) }

// Admin is the administrator operations on the store of a config, for one
// CLI command.
type Admin struct {
	*admin.Service
	st  store.Store
	dir interface{ Close() }
}

// Close releases the store and the directory.
func (a *Admin) Close() error {
	if a.dir != nil {
		a.dir.Close()
	}
	return a.st.Close()
}

// OpenAdmin opens the store of cfg (migrating it) and returns the admin
// operations on it. With directory and an ldap: section, users and groups
// authserver does not know yet are looked up in the directory (member add,
// explain).
func OpenAdmin(ctx context.Context, cfg Config, directory bool) (*Admin, error) {
	if err := databaseExists(cfg); err != nil {
		return nil, err
	}
	return openAdmin(ctx, cfg, directory)
}

// CreateAdmin is OpenAdmin for the commands that may make the database:
// `migrate`, and `import harbor` into a new installation.
func CreateAdmin(ctx context.Context, cfg Config) (*Admin, error) { return openAdmin(ctx, cfg, false) }

// DatabaseName names the database of cfg for people: the SQLite file's
// absolute path, or the PostgreSQL host and database (never the password).
func DatabaseName(cfg Config) string {
	if cfg.Storage.Driver == "sqlite" {
		if abs, err := filepath.Abs(cfg.Storage.DSN); err == nil {
			return abs
		}
		return cfg.Storage.DSN
	}
	if u, err := url.Parse(cfg.Storage.DSN); err == nil {
		return "postgres://" + u.Host + u.Path
	}
	return "postgres"
}

// databaseExists refuses to work on a SQLite file that does not exist: an
// admin command run with the wrong config (or from another directory, with
// the embedded default's relative ./data) would create an empty database
// and answer from it as if nothing were wrong.
func databaseExists(cfg Config) error {
	if cfg.Storage.Driver != "sqlite" {
		return nil
	}
	name := DatabaseName(cfg)
	if _, err := os.Stat(name); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no database at %s (storage.dsn): `authserver serve` or `authserver migrate` creates it; "+
			"run this command with your server's config (--config or $%s)", name, ConfigEnv)
	}
	return nil
}

func openAdmin(ctx context.Context, cfg Config, directory bool) (*Admin, error) {
	st, err := OpenStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	out := &Admin{st: st}
	var dir admin.Directory
	if directory && cfg.LDAP != nil {
		d, err := NewDirectory(cfg)
		if err != nil {
			st.Close()
			return nil, err
		}
		out.dir, dir = d, d
	}
	if out.Service, err = NewAdmin(cfg, st, dir); err != nil {
		out.Close()
		return nil, err
	}
	return out, nil
}

// ServeBootstrap is serve's Options.Bootstrap: the first sysadmin
// (BootstrapAdmin).
func ServeBootstrap(cfg Config) func(context.Context, store.Store, *slog.Logger) error {
	return func(ctx context.Context, st store.Store, log *slog.Logger) error {
		return BootstrapAdmin(ctx, cfg, st, log)
	}
}

// RS256 is keygen's default algorithm.
const RS256 = token.RS256

// GenerateKeyPair writes a signing key, its certificate and a JWKS to dir
// (token.GenerateKeyPair).
func GenerateKeyPair(dir, alg string, bits int, force bool) (key, cert, jwks string, err error) {
	return token.GenerateKeyPair(dir, alg, bits, force)
}

// CredentialProvider answers the kubelet's request read from in
// (internal/credprovider).
func CredentialProvider(in io.Reader, robot string, now time.Time) (any, error) {
	return credprovider.Answer(in, robot, now)
}

// CredentialProviderAnnotation is the service-account annotation naming
// the robot.
const CredentialProviderAnnotation = credprovider.RobotAnnotation

// The Harbor import (internal/harborimport), as `import harbor` runs it.
type (
	ImportReport = harborimport.Report
	ImportItem   = harborimport.Item
)

// ImportKinds are what an import can bring, in order; ImportActions what
// it does with each item.
var (
	ImportKinds   = harborimport.Kinds
	ImportActions = []string{harborimport.Created, harborimport.Updated, harborimport.Unchanged, harborimport.Skipped}
)

// ImportOptions are `import harbor`'s flags.
type ImportOptions struct {
	DSN, Only, KeyDir           string
	DryRun, ReplaceAdmin, Merge bool
}

// ImportHarbor reads Harbor's database at opt.DSN and brings it into the
// store of cfg as who (the CLI), copying Harbor's token key pair from
// opt.KeyDir when set. It returns the report (nil when nothing ran) and
// the key files written.
func ImportHarbor(ctx context.Context, cfg Config, who admin.Actor, opt ImportOptions) (*ImportReport, []string, error) {
	kinds, err := harborimport.ParseKinds(opt.Only)
	if err != nil {
		return nil, nil, admin.Invalidf("--only %v", err)
	}
	snap, err := harborimport.Read(ctx, opt.DSN, kinds)
	if err != nil {
		return nil, nil, err
	}
	adm, err := CreateAdmin(ctx, cfg) // a new installation starts with the import
	if err != nil {
		return nil, nil, err
	}
	defer adm.Close()
	var keys []string
	if opt.KeyDir != "" {
		if keys, err = harborimport.CopyKeys(opt.KeyDir, cfg.Token.Key, cfg.Token.Certificate, opt.DryRun); err != nil {
			return nil, nil, err
		}
	}
	rep, err := harborimport.Run(ctx, adm.Service, who, snap, harborimport.Options{
		Only: kinds, DryRun: opt.DryRun, ReplaceAdmin: opt.ReplaceAdmin, RobotPrefix: cfg.Robots.Prefix, MergeExisting: opt.Merge})
	return rep, keys, err
}

// Directory is the LDAP directory of cfg for `ldap test`, or an error
// saying there is no ldap: section.
func Directory(cfg Config) (*ldap.Directory, error) {
	if cfg.LDAP == nil {
		return nil, admin.Invalidf("no ldap: section in the configuration")
	}
	return NewDirectory(cfg)
}
