// Package sqlite is the embedded, pure-Go SQLite implementation of store.Store.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	sqlite3 "modernc.org/sqlite"
	sqlite3lib "modernc.org/sqlite/lib"

	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/migrations"
)

// Store is a store.Store kept in one SQLite file. Several processes (the
// server and admin CLI commands) may use the same file at once: WAL mode lets
// readers run alongside the single writer, and busy_timeout makes a writer
// wait for the lock instead of failing.
type Store struct {
	db *sql.DB
	// stmts holds the prepared statements of the token hot path (user
	// lookup, permission query), keyed by their SQL: SQLite would otherwise
	// parse and plan them again on every request.
	stmts sync.Map // string → *sql.Stmt
}

var _ store.Store = (*Store)(nil)

// pragmas are applied by the driver to every new pooled connection. Every
// transaction starts with BEGIN IMMEDIATE (_txlock), so it takes the write
// lock up front and waits on busy_timeout rather than failing to upgrade a
// read lock mid-way.
const pragmas = "_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)" +
	"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"

// timeLayout is how times are stored: UTC, microseconds, sortable text.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// Open opens (creating it and its parent directory if missing) the SQLite
// database file at path dsn and checks that it can be read. Call Migrate
// before use.
func Open(ctx context.Context, dsn string) (*Store, error) {
	if dsn == "" || dsn == ":memory:" || strings.ContainsAny(dsn, "?#") || strings.HasPrefix(dsn, "file:") {
		return nil, fmt.Errorf("open sqlite: %q: want a plain file path", dsn)
	}
	if dir := filepath.Dir(dsn); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
	}
	// The file holds password hashes: create it readable by its owner only.
	// SQLite gives the -wal and -shm files the same mode.
	if f, err := os.OpenFile(dsn, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		f.Close()
	} else if !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("open sqlite %s: %w", dsn, err)
	}
	db, err := sql.Open("sqlite", dsn+"?"+pragmas)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", dsn, err)
	}
	// One writer at a time anyway; a bounded pool keeps file handles in check.
	db.SetMaxOpenConns(8)
	// Keep every connection: a new one re-runs the pragmas and re-prepares
	// the hot-path statements, which under load costs more than it saves.
	db.SetMaxIdleConns(8)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", dsn, err)
	}
	return &Store{db: db}, nil
}

// Migrate brings the schema up to date. It is safe to run from several
// processes at once and a no-op when nothing is pending.
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := store.LoadMigrations(migrations.FS, "sqlite")
	if err != nil {
		return err
	}
	return store.ApplyMigrations(ctx, ms, s.beginMigration)
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("ping sqlite: %w", err)
	}
	return nil
}

// Close releases the connections.
func (s *Store) Close() error {
	s.stmts.Range(func(_, v any) bool {
		v.(*sql.Stmt).Close()
		return true
	})
	return s.db.Close()
}

// prepared returns q prepared once (lazily, so it is never prepared
// against a database not yet migrated). database/sql re-prepares it on
// each pooled connection as needed.
func (s *Store) prepared(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := s.stmts.Load(q); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := s.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if prev, loaded := s.stmts.LoadOrStore(q, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// migrationTx implements store.MigrationTx; BEGIN IMMEDIATE (see pragmas)
// holds the database write lock, which serialises migrating processes.
type migrationTx struct{ tx *sql.Tx }

func (s *Store) beginMigration(ctx context.Context) (store.MigrationTx, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	_, err = tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at TEXT NOT NULL
	) STRICT`)
	if err != nil {
		tx.Rollback()
		return nil, err
	}
	return migrationTx{tx}, nil
}

func (m migrationTx) Applied(ctx context.Context, version int) (bool, error) {
	var n int
	err := m.tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n)
	return n > 0, err
}

func (m migrationTx) Exec(ctx context.Context, script string) error {
	_, err := m.tx.ExecContext(ctx, script)
	return err
}

func (m migrationTx) Record(ctx context.Context, mig store.Migration) error {
	_, err := m.tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		mig.Version, mig.Name, fmtTime(now()))
	return err
}

func (m migrationTx) Commit(context.Context) error   { return m.tx.Commit() }
func (m migrationTx) Rollback(context.Context) error { return m.tx.Rollback() }

// now is the store's clock, at the precision both backends keep.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

func fmtTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// timeText scans a stored time.
type timeText struct{ t *time.Time }

func (tt timeText) Scan(src any) error {
	var s string
	switch v := src.(type) {
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return fmt.Errorf("scan time: unexpected %T", src)
	}
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return fmt.Errorf("scan time: %w", err)
	}
	*tt.t = t
	return nil
}

// mapErr turns driver errors into the store's sentinels.
func mapErr(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	var se *sqlite3.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3lib.SQLITE_CONSTRAINT_UNIQUE, sqlite3lib.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w: %v", store.ErrAlreadyExists, err)
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

func quote(s string) string { return strconv.Quote(s) }

// scanner is *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// lookupID returns the id of the row of table with the given name, or an
// error wrapping store.ErrNotFound that says what is missing.
func lookupID(ctx context.Context, q querier, table, what, name string) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `SELECT id FROM `+table+` WHERE name = ?`, name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("%s %q: %w", what, name, store.ErrNotFound)
	}
	return id, err
}

// affected returns store.ErrNotFound when res changed no row.
func affected(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// inTx runs fn in a write transaction.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// modify is ModifyUser and ModifyRobot: it reads a row with get, applies
// fn and writes the result with put, in one transaction that begins
// IMMEDIATE (see pragmas) and so holds the write lock from the read to the
// write. An error from fn is returned unchanged.
func modify[T any](ctx context.Context, s *Store, op string, fn func(T) (T, error),
	get func(*sql.Tx) (T, error), put func(tx *sql.Tx, old T, v *T) error) (T, error) {
	var out, zero T
	var fnErr error
	err := s.inTx(ctx, func(tx *sql.Tx) error {
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
