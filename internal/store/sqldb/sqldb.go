package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"

	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/migrations"
)

// Store is a store.Store on a database/sql handle, in one Dialect.
type Store struct {
	db    *sql.DB
	d     *Dialect
	text  []string                   // statement texts for d, indexed by query
	stmts []atomic.Pointer[sql.Stmt] // prepared lazily (Dialect.Prepare), never before Migrate
}

var _ store.Store = (*Store)(nil)

// Open returns a Store on db, which must already answer (the caller pings
// it with its own error message). Call Migrate before use.
func Open(db *sql.DB, d *Dialect) *Store {
	text := d.build()
	text[accessQ] = d.AccessQuery
	return &Store{db: db, d: d, text: text, stmts: make([]atomic.Pointer[sql.Stmt], len(text))}
}

// DB returns the database handle, for bulk tools only (bench/seed): the
// store.Store methods are what keep the schema's invariants.
func (s *Store) DB() *sql.DB { return s.db }

// Migrate brings the schema up to date. It is safe to run from several
// processes at once and a no-op when nothing is pending.
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := store.LoadMigrations(migrations.FS, s.d.Name)
	if err != nil {
		return err
	}
	return store.ApplyMigrations(ctx, ms, s.BeginMigration)
}

func (s *Store) Ping(ctx context.Context) error {
	return s.wrap("ping "+s.d.Name, s.db.PingContext(ctx))
}

func (s *Store) Close() error {
	for i := range s.stmts {
		if st := s.stmts[i].Swap(nil); st != nil {
			st.Close()
		}
	}
	return s.db.Close()
}

var (
	migrationAppliedQ = q(`SELECT count(*) FROM schema_migrations WHERE version = ?`)
	migrationRecordQ  = q(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`)
)

// BeginMigration starts a migration transaction under the dialect's lock:
// one per pending migration (a test may apply a prefix through it).
func (s *Store) BeginMigration(ctx context.Context) (store.MigrationTx, error) {
	tx, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	if err := tx.Exec(ctx, s.d.MigrationBegin); err != nil {
		tx.tx.Rollback()
		return nil, err
	}
	return tx, nil
}

// Applied, Exec, Record, Commit and Rollback make a txn a store.MigrationTx.
func (t txn) Applied(ctx context.Context, version int) (bool, error) {
	var n int
	err := t.queryRow(ctx, migrationAppliedQ, version).Scan(&n)
	return n > 0, err
}

func (t txn) Exec(ctx context.Context, script string) error {
	_, err := t.tx.ExecContext(ctx, script) // no arguments: several statements allowed
	return err
}

func (t txn) Record(ctx context.Context, mig store.Migration) error {
	_, err := t.exec(ctx, migrationRecordQ, mig.Version, mig.Name, t.s.time(now()))
	return err
}

func (t txn) Commit(context.Context) error   { return t.tx.Commit() }
func (t txn) Rollback(context.Context) error { return t.tx.Rollback() }

// wrap maps driver errors to the store's sentinels and prefixes op; nil stays nil.
func (s *Store) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	} else if sentinel := s.d.Sentinel(err); sentinel != nil {
		err = fmt.Errorf("%w: %v", sentinel, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

func quote(v string) string { return strconv.Quote(v) }

// scanner is *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// stmt returns q prepared, or nil when the dialect does not prepare or
// preparing failed (running q unprepared then reports why).
func (s *Store) stmt(ctx context.Context, q query) *sql.Stmt {
	if st := s.stmts[q].Load(); st != nil || !s.d.Prepare {
		return st
	}
	st, err := s.db.PrepareContext(ctx, s.text[q])
	if err != nil {
		return nil
	}
	if !s.stmts[q].CompareAndSwap(nil, st) { // another caller prepared it first
		st.Close()
		return s.stmts[q].Load()
	}
	return st
}

func (s *Store) exec(ctx context.Context, q query, args ...any) (sql.Result, error) {
	if st := s.stmt(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return s.db.ExecContext(ctx, s.text[q], args...)
}

func (s *Store) query(ctx context.Context, q query, args ...any) (*sql.Rows, error) {
	if st := s.stmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return s.db.QueryContext(ctx, s.text[q], args...)
}

func (s *Store) queryRow(ctx context.Context, q query, args ...any) scanner {
	if st := s.stmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return s.db.QueryRowContext(ctx, s.text[q], args...)
}

// change runs q and wants it to change a row: store.ErrNotFound otherwise.
func (s *Store) change(ctx context.Context, op string, q query, args ...any) error {
	n, err := affected(s.exec(ctx, q, args...))
	if err == nil && n == 0 {
		err = store.ErrNotFound
	}
	return s.wrap(op, err)
}

func affected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// txn is a write transaction; its statements are not prepared.
type txn struct {
	tx *sql.Tx
	s  *Store
}

func (t txn) exec(ctx context.Context, q query, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(ctx, t.s.text[q], args...)
}

func (t txn) queryRow(ctx context.Context, q query, args ...any) scanner {
	return t.tx.QueryRowContext(ctx, t.s.text[q], args...)
}

func (s *Store) begin(ctx context.Context) (txn, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	return txn{tx, s}, err
}

func (s *Store) inTx(ctx context.Context, fn func(tx txn) error) error {
	tx, err := s.begin(ctx)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.tx.Rollback()
		return err
	}
	return tx.tx.Commit()
}

// collect runs q and scans every row it returns.
func collect[T any](ctx context.Context, s *Store, scan func(scanner) (T, error), q query, args ...any) ([]T, error) {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
