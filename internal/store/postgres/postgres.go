// Package postgres is the PostgreSQL (pgx) implementation of store.Store.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/migrations"
)

// Store is a store.Store backed by a pgx connection pool. After a successful
// Open, a database outage makes methods return errors (never panic) and the
// pool reconnects by itself once the server is back: idle connections are
// pinged before reuse and broken ones are discarded.
type Store struct {
	pool *pgxpool.Pool
}

var _ store.Store = (*Store)(nil)

// Pool defaults, used unless the DSN sets them (connect_timeout,
// pool_max_conns, ...).
const (
	defaultConnectTimeout = 5 * time.Second
	defaultMaxConns       = 10
)

// migrationLockKey is the pg_advisory_xact_lock key that serialises
// migrating processes ("authserver" in ASCII).
const migrationLockKey int64 = 0x61757468736572

// Open connects to PostgreSQL with dsn (URL or key=value form) and fails,
// with a clear error, if the server cannot be reached now. Call Migrate
// before use.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = defaultConnectTimeout
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		cfg.MaxConns = defaultMaxConns
	}
	// Every statement is prepared once per connection (pgx's statement
	// cache) and is a handful of index probes, so a generic plan is always
	// right. Left to "auto", PostgreSQL keeps re-planning the permission
	// query on a large directory (its custom plans look cheaper), which
	// costs more than running it.
	if _, set := cfg.ConnConfig.RuntimeParams["plan_cache_mode"]; !set {
		cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_generic_plan"
	}
	where := fmt.Sprintf("%s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres %s: %w", where, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres %s: %w", where, err)
	}
	return &Store{pool: pool}, nil
}

// Migrate brings the schema up to date. It is safe to run from several
// processes at once and a no-op when nothing is pending.
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := store.LoadMigrations(migrations.FS, "postgres")
	if err != nil {
		return err
	}
	return store.ApplyMigrations(ctx, ms, s.beginMigration)
}

// Ping checks that the server answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping postgres: %w", err)
	}
	return nil
}

// Close releases the connections.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// migrationTx implements store.MigrationTx.
type migrationTx struct{ tx pgx.Tx }

func (s *Store) beginMigration(ctx context.Context) (store.MigrationTx, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	_, err = tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLockKey)
	if err == nil {
		_, err = tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER PRIMARY KEY,
			name       TEXT NOT NULL,
			applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
		)`)
	}
	if err != nil {
		tx.Rollback(ctx)
		return nil, err
	}
	return migrationTx{tx}, nil
}

func (m migrationTx) Applied(ctx context.Context, version int) (bool, error) {
	var ok bool
	err := m.tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, version).Scan(&ok)
	return ok, err
}

func (m migrationTx) Exec(ctx context.Context, script string) error {
	_, err := m.tx.Exec(ctx, script) // no arguments: simple protocol, several statements allowed
	return err
}

func (m migrationTx) Record(ctx context.Context, mig store.Migration) error {
	_, err := m.tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, mig.Version, mig.Name)
	return err
}

func (m migrationTx) Commit(ctx context.Context) error   { return m.tx.Commit(ctx) }
func (m migrationTx) Rollback(ctx context.Context) error { return m.tx.Rollback(ctx) }

// now is the store's clock, at the precision PostgreSQL keeps.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

func quote(s string) string { return strconv.Quote(s) }

// mapErr turns driver errors into the store's sentinels.
func mapErr(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505": // unique_violation
			return fmt.Errorf("%w: %s", store.ErrAlreadyExists, pe.ConstraintName)
		case "23503": // foreign_key_violation: a referenced row vanished meanwhile
			return fmt.Errorf("%w: %s", store.ErrNotFound, pe.ConstraintName)
		}
	}
	return err
}

// wrap prefixes err with op after mapping it; nil stays nil.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", op, mapErr(err))
}

// scanner is a pgx.Row or pgx.Rows.
type scanner interface{ Scan(dest ...any) error }

// querier is what the pool and a transaction share.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// lookupID returns the id of the row of table with the given name, or an
// error wrapping store.ErrNotFound that says what is missing.
func lookupID(ctx context.Context, q querier, table, what, name string) (int64, error) {
	var id int64
	err := q.QueryRow(ctx, `SELECT id FROM `+table+` WHERE name = $1`, name).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("%s %q: %w", what, name, store.ErrNotFound)
	}
	return id, err
}

// affected returns store.ErrNotFound when tag reports no row changed.
func affected(tag pgconn.CommandTag, err error) error {
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

// inTx runs fn in a transaction.
func (s *Store) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, fn)
}

// modify is ModifyUser and ModifyRobot: it reads a row with get (which
// must lock it: SELECT ... FOR UPDATE), applies fn and writes the result
// with put, in one transaction. An error from fn is returned unchanged.
func modify[T any](ctx context.Context, s *Store, op string, fn func(T) (T, error),
	get func(pgx.Tx) (T, error), put func(tx pgx.Tx, old T, v *T) error) (T, error) {
	var out, zero T
	var fnErr error
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		old, err := get(tx)
		if err != nil {
			return err
		}
		if out, fnErr = fn(old); fnErr != nil {
			return fnErr
		}
		return put(tx, old, &out)
	})
	if fnErr != nil {
		return zero, fnErr
	}
	if err != nil {
		return zero, wrap(op, err)
	}
	return out, nil
}
