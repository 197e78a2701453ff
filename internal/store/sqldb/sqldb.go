package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/migrations"
)

// Store is a store.Store on a database/sql handle, in one Dialect.
type Store struct {
	db    *sql.DB
	run   runner  // db, or tx
	tx    *sql.Tx // set in the Store of one transaction (see in)
	d     *Dialect
	text  []string                   // statement texts for d, indexed by query
	stmts []atomic.Pointer[sql.Stmt] // prepared lazily on run (Dialect.Prepare), never before Migrate
	outer *Store                     // the Store of the database, in the Store of one transaction
	dyn   *dynamic                   // assembled statements (list.go), shared with transactions
}

// runner runs statements: a *sql.DB, or a *sql.Tx.
type runner interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

var _ store.Store = (*Store)(nil)

// Open returns a Store on db, which must already answer (the caller pings
// it with its own error message). Call Migrate before use.
func Open(db *sql.DB, d *Dialect) *Store {
	text := d.build()
	text[accessQ] = d.AccessQuery
	return &Store{db: db, run: db, d: d, text: text, stmts: make([]atomic.Pointer[sql.Stmt], len(text)), dyn: &dynamic{}}
}

// in is s in transaction tx: its statements run (and are prepared, closed with it) there.
func (s *Store) in(tx *sql.Tx) *Store {
	return &Store{db: s.db, run: tx, tx: tx, d: s.d, text: s.text, stmts: make([]atomic.Pointer[sql.Stmt], len(s.text)), outer: s, dyn: s.dyn}
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

// Close closes the database handle, and with its connections the statements
// prepared on them.
func (s *Store) Close() error { return s.db.Close() }

var (
	migrationAppliedQ = q(`SELECT count(*) FROM schema_migrations WHERE version = ?`)
	migrationRecordQ  = q(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`)
)

// BeginMigration starts a migration transaction under the dialect's lock:
// one per pending migration (a test may apply a prefix through it).
func (s *Store) BeginMigration(ctx context.Context) (store.MigrationTx, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, s.d.MigrationBegin); err != nil {
		tx.Rollback()
		return nil, err
	}
	return txn{s.in(tx)}, nil
}

// txn, the Store in a migration transaction, is a store.MigrationTx.
type txn struct{ *Store }

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
	_, err := t.exec(ctx, migrationRecordQ, mig.Version, mig.Name, t.time(now()))
	return err
}

func (t txn) Commit(context.Context) error   { return t.tx.Commit() }
func (t txn) Rollback(context.Context) error { return t.tx.Rollback() }

// wrap maps driver errors to the store's sentinels and prefixes op; nil stays nil.
func (s *Store) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	switch sentinel := s.d.Sentinel(err); {
	case errors.Is(err, sql.ErrNoRows):
		err = store.ErrNotFound
	case sentinel != nil:
		err = fmt.Errorf("%w: %v", sentinel, err)
	case !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrAlreadyExists) && !errors.Is(err, store.ErrUnavailable):
		err = fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

func quote(v string) string { return strconv.Quote(v) }

// scanner is *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// stmt returns q prepared, or nil when the dialect does not prepare or
// preparing failed (running q unprepared then reports why). In a
// transaction, a statement already prepared on the database is used on
// the transaction's connection (database/sql keeps it prepared per
// connection), so a transaction does not parse it again.
func (s *Store) stmt(ctx context.Context, q query) *sql.Stmt {
	if st := s.stmts[q].Load(); st != nil || !s.d.Prepare {
		return st
	}
	var st *sql.Stmt
	var err error
	if outer := s.outer; outer != nil && outer.tx == nil {
		// Only one already prepared: preparing it now would need a
		// second connection while this one holds the write lock.
		if ps := outer.stmts[q].Load(); ps != nil {
			st = s.tx.StmtContext(ctx, ps)
		}
	}
	if st == nil {
		if st, err = s.run.PrepareContext(ctx, s.text[q]); err != nil {
			return nil
		}
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
	return s.run.ExecContext(ctx, s.text[q], args...)
}

func (s *Store) query(ctx context.Context, q query, args ...any) (*sql.Rows, error) {
	if st := s.stmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return s.run.QueryContext(ctx, s.text[q], args...)
}

func (s *Store) queryRow(ctx context.Context, q query, args ...any) scanner {
	if st := s.stmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return s.run.QueryRowContext(ctx, s.text[q], args...)
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

func (s *Store) Atomically(ctx context.Context, fn func(tx store.Store) error) error {
	return s.inTx(ctx, func(tx *Store) error { return fn(tx) })
}

func (s *Store) Exclusively(ctx context.Context, name string, fn func(tx store.Store) error) error {
	if s.tx != nil {
		return fmt.Errorf("exclusively %s: already in a transaction", name)
	}
	return s.inTx(ctx, func(tx *Store) error {
		if s.d.Lock != "" {
			h := fnv.New64a()
			h.Write([]byte("authserver lock " + name))
			if _, err := tx.run.ExecContext(ctx, s.d.Lock, int64(h.Sum64())); err != nil {
				return s.wrap("lock "+name, err)
			}
		}
		return fn(tx)
	})
}

// inTx runs fn in a transaction committed when fn returns nil, or in s's own.
func (s *Store) inTx(ctx context.Context, fn func(tx *Store) error) error {
	if s.tx != nil {
		return fn(s)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(s.in(tx)); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
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

// table is one kind of row: scan reads one into a T, what names it in
// errors (`get user "alice"`, "list users"; a token, hashed, is not named
// by its hash), and its statements (a kind leaves some unused) find a row
// by name or hash (byKey) or id, list rows (a user's tokens by user id),
// delete by name, touch a token by id and look a named row's id up.
type table[T any] struct {
	what                             string
	hashed                           bool
	scan                             func(scanner) (T, error)
	byKey, byID, all, del, touch, id query
}

// named is the table of what+"s" whose columns sel (SELECT ... FROM it)
// reads, found by name (where: `name = ?` but for groups), by id, listed
// in name order and deleted by name.
func named[T any](what, sel, where string, scan func(scanner) (T, error)) *table[T] {
	return &table[T]{what: what, scan: scan, byKey: q(sel + ` WHERE ` + where), byID: q(sel + ` WHERE id = ?`),
		all: q(sel + ` ORDER BY name{collate}`), del: q(`DELETE FROM ` + what + `s WHERE name = ?`),
		id: q(`SELECT id FROM ` + what + `s WHERE name = ?`)}
}

// columns is the scan function of a kind whose columns dest lists.
func columns[T any](dest func(v *T) []any) func(scanner) (T, error) {
	return func(row scanner) (v T, err error) {
		err = row.Scan(dest(&v)...)
		return
	}
}

// get reads the row q finds with args. Its error names the row by args[0]
// (not a token's hash) and is built only on failure: the token path reads
// users and robots.
func (t *table[T]) get(ctx context.Context, s *Store, q query, args ...any) (T, error) {
	v, err := t.scan(s.queryRow(ctx, q, args...))
	switch {
	case err == nil:
		return v, nil
	case t.hashed:
		return v, s.wrap("get "+t.what, err)
	}
	return v, s.wrap(fmt.Sprintf("get %s %#v", t.what, args[0]), err) // `user "alice"`, `user 7`
}

// idOf returns the id of the row named name, or ErrNotFound saying what is
// missing. A row deleted after its lookup fails the statement using its id
// as a foreign-key violation: ErrNotFound too (Dialect.Sentinel).
func (t *table[T]) idOf(ctx context.Context, s *Store, name string) (int64, error) {
	var id int64
	err := s.queryRow(ctx, t.id, name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("%s %q: %w", t.what, name, store.ErrNotFound)
	}
	return id, err
}

func (t *table[T]) list(ctx context.Context, s *Store, args ...any) ([]T, error) {
	out, err := collect(ctx, s, t.scan, t.all, args...)
	return out, s.wrap("list "+t.what+"s", err)
}

// ofUser lists the tokens of user.
func (t *table[T]) ofUser(ctx context.Context, s *Store, user string) ([]T, error) {
	var out []T
	uid, err := users.idOf(ctx, s, user)
	if err == nil {
		out, err = collect(ctx, s, t.scan, t.all, uid)
	}
	return out, s.wrap("list "+t.what+"s of "+quote(user), err)
}

func (t *table[T]) delete(ctx context.Context, s *Store, name string) error {
	return s.change(ctx, "delete "+t.what+" "+quote(name), t.del, name)
}

func (t *table[T]) touchAt(ctx context.Context, s *Store, id int64, when time.Time) error {
	return s.change(ctx, "touch "+t.what, t.touch, s.time(at(when)), id)
}

// modify reads the row lock (ending in {for_update}) finds by name, calls fn
// with it and writes what fn returns with put, in one transaction that keeps
// the row locked. An error from fn is returned unchanged, others wrapped.
func (t *table[T]) modify(ctx context.Context, s *Store, lock query, name string, fn func(T) (T, error),
	put func(tx *Store, old T, v *T) error) (T, error) {
	var out, zero T
	var fnErr error
	err := s.inTx(ctx, func(tx *Store) error {
		old, err := t.scan(tx.queryRow(ctx, lock, name))
		if err == nil {
			if out, fnErr = fn(old); fnErr != nil {
				return fnErr
			}
			err = put(tx, old, &out)
		}
		return err
	})
	switch {
	case fnErr != nil:
		return zero, fnErr
	case err != nil:
		return zero, s.wrap("modify "+t.what+" "+quote(name), err)
	}
	return out, nil
}
