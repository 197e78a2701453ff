package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/migrations"
)

// Store is a store.Store on a database/sql handle, in one Dialect.
type Store struct {
	db   *sql.DB
	d    *Dialect
	text []string // statement texts for d, indexed by query
	// stmts holds the prepared statements (Dialect.Prepare), one per
	// query, prepared lazily so that none is prepared against a database
	// not yet migrated. database/sql re-prepares each on every pooled
	// connection as needed.
	stmts  []atomic.Pointer[sql.Stmt]
	stmtMu sync.Mutex // held while preparing
}

var _ store.Store = (*Store)(nil)

// Open returns a Store on db, which must already answer (the caller pings
// it with its own error message). Call Migrate before use.
func Open(db *sql.DB, d *Dialect) *Store {
	text := d.build()
	text[accessQ] = d.AccessQuery
	return &Store{db: db, d: d, text: text, stmts: make([]atomic.Pointer[sql.Stmt], len(text))}
}

// DB returns the underlying database handle. It is for bulk tools only
// (bench/seed fills millions of rows with multi-row INSERTs): everything
// else goes through the store.Store methods, which keep the schema's
// invariants.
func (s *Store) DB() *sql.DB { return s.db }

// Migrate brings the schema up to date. It is safe to run from several
// processes at once and a no-op when nothing is pending.
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := store.LoadMigrations(migrations.FS, s.d.Name)
	if err != nil {
		return err
	}
	return store.ApplyMigrations(ctx, ms, s.beginMigration)
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s: %w", s.d.Name, err)
	}
	return nil
}

// Close releases the statements and connections.
func (s *Store) Close() error {
	s.stmtMu.Lock()
	for i := range s.stmts {
		if st := s.stmts[i].Swap(nil); st != nil {
			st.Close()
		}
	}
	s.stmtMu.Unlock()
	return s.db.Close()
}

var (
	migrationAppliedQ = q(`SELECT count(*) FROM schema_migrations WHERE version = ?`)
	migrationRecordQ  = q(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`)
)

func (s *Store) beginMigration(ctx context.Context) (store.MigrationTx, error) {
	tx, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	if s.d.MigrationLock != "" {
		_, err = tx.tx.ExecContext(ctx, s.d.MigrationLock)
	}
	if err == nil {
		_, err = tx.tx.ExecContext(ctx, s.d.MigrationTable)
	}
	if err != nil {
		tx.tx.Rollback()
		return nil, err
	}
	return migrationTx{tx}, nil
}

// migrationTx implements store.MigrationTx.
type migrationTx struct{ t txn }

func (m migrationTx) Applied(ctx context.Context, version int) (bool, error) {
	var n int
	err := m.t.queryRow(ctx, migrationAppliedQ, version).Scan(&n)
	return n > 0, err
}

func (m migrationTx) Exec(ctx context.Context, script string) error {
	_, err := m.t.tx.ExecContext(ctx, script) // no arguments: several statements allowed
	return err
}

func (m migrationTx) Record(ctx context.Context, mig store.Migration) error {
	_, err := m.t.exec(ctx, migrationRecordQ, mig.Version, mig.Name, m.t.s.time(now()))
	return err
}

func (m migrationTx) Commit(context.Context) error   { return m.t.tx.Commit() }
func (m migrationTx) Rollback(context.Context) error { return m.t.tx.Rollback() }

// now is the store's clock, at the precision both databases keep.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// at returns t at stored precision, or now when t is zero.
func at(t time.Time) time.Time {
	if t.IsZero() {
		return now()
	}
	return t.UTC().Truncate(time.Microsecond)
}

// at0 is at for optional times: the zero time stays zero.
func at0(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return at(t)
}

// time is the stored form of t.
func (s *Store) time(t time.Time) any {
	if s.d.TimeLayout != "" {
		return t.UTC().Format(s.d.TimeLayout)
	}
	return t.UTC()
}

// optTime is the stored form of an optional time: NULL when zero.
func (s *Store) optTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return s.time(at(t))
}

// timeCol scans a stored time, text or native; NULL is the zero time.
type timeCol struct {
	t      *time.Time
	layout string
}

func (s *Store) timeCol(t *time.Time) timeCol { return timeCol{t, s.d.TimeLayout} }

func (tc timeCol) Scan(src any) error {
	var err error
	switch v := src.(type) {
	case nil:
		*tc.t = time.Time{}
	case time.Time:
		*tc.t = v.UTC()
	case string:
		*tc.t, err = time.Parse(tc.layout, v)
	case []byte:
		*tc.t, err = time.Parse(tc.layout, string(v))
	default:
		err = fmt.Errorf("unexpected %T", src)
	}
	if err != nil {
		return fmt.Errorf("scan time: %w", err)
	}
	return nil
}

// mapErr turns driver errors into the store's sentinels.
func (s *Store) mapErr(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	if sentinel := s.d.Sentinel(err); sentinel != nil {
		return fmt.Errorf("%w: %v", sentinel, err)
	}
	return err
}

// wrap prefixes err with op after mapping it; nil stays nil.
func (s *Store) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", op, s.mapErr(err))
}

func quote(v string) string { return strconv.Quote(v) }

// scanner is *sql.Row, *sql.Rows or errRow.
type scanner interface{ Scan(dest ...any) error }

// errRow is a row whose statement failed before it ran.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// runner runs the store's statements: the Store itself, or a txn.
type runner interface {
	exec(ctx context.Context, q query, args ...any) (sql.Result, error)
	query(ctx context.Context, q query, args ...any) (*sql.Rows, error)
	queryRow(ctx context.Context, q query, args ...any) scanner
}

// stmt returns q prepared, or nil when the dialect does not prepare.
func (s *Store) stmt(ctx context.Context, q query) (*sql.Stmt, error) {
	if !s.d.Prepare {
		return nil, nil
	}
	if st := s.stmts[q].Load(); st != nil {
		return st, nil
	}
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	if st := s.stmts[q].Load(); st != nil {
		return st, nil
	}
	st, err := s.db.PrepareContext(ctx, s.text[q])
	if err != nil {
		return nil, err
	}
	s.stmts[q].Store(st)
	return st, nil
}

func (s *Store) exec(ctx context.Context, q query, args ...any) (sql.Result, error) {
	st, err := s.stmt(ctx, q)
	if err != nil || st != nil {
		if err != nil {
			return nil, err
		}
		return st.ExecContext(ctx, args...)
	}
	return s.db.ExecContext(ctx, s.text[q], args...)
}

func (s *Store) query(ctx context.Context, q query, args ...any) (*sql.Rows, error) {
	st, err := s.stmt(ctx, q)
	if err != nil || st != nil {
		if err != nil {
			return nil, err
		}
		return st.QueryContext(ctx, args...)
	}
	return s.db.QueryContext(ctx, s.text[q], args...)
}

func (s *Store) queryRow(ctx context.Context, q query, args ...any) scanner {
	st, err := s.stmt(ctx, q)
	if err != nil {
		return errRow{err}
	}
	if st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return s.db.QueryRowContext(ctx, s.text[q], args...)
}

// txn is a write transaction; its statements are not prepared.
type txn struct {
	tx *sql.Tx
	s  *Store
}

func (t txn) exec(ctx context.Context, q query, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(ctx, t.s.text[q], args...)
}

func (t txn) query(ctx context.Context, q query, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(ctx, t.s.text[q], args...)
}

func (t txn) queryRow(ctx context.Context, q query, args ...any) scanner {
	return t.tx.QueryRowContext(ctx, t.s.text[q], args...)
}

func (s *Store) begin(ctx context.Context) (txn, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	return txn{tx, s}, err
}

// inTx runs fn in a write transaction.
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

// lookupQ finds a row's id by name, per table.
var lookupQ = map[string]query{
	"users":    q(`SELECT id FROM users WHERE name = ?`),
	"projects": q(`SELECT id FROM projects WHERE name = ?`),
	"groups":   q(`SELECT id FROM groups WHERE name = ?`),
}

// lookupID returns the id of the row of table with the given name, or an
// error wrapping store.ErrNotFound that says what is missing.
func lookupID(ctx context.Context, r runner, table, what, name string) (int64, error) {
	var id int64
	err := r.queryRow(ctx, lookupQ[table], name).Scan(&id)
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

// listText is how a list is kept in a dialect without arrays.
type listText int

const (
	jsonList  listText = iota // a JSON array (group DNs, list parameters)
	wordsList                 // space-joined words (audit scopes)
)

// list is the stored (or parameter) form of v.
func (s *Store) list(v []string, enc listText) (any, error) {
	v = nonNil(v)
	switch {
	case s.d.Array != nil:
		return v, nil
	case enc == wordsList:
		return strings.Join(v, " "), nil
	}
	b, err := json.Marshal(v)
	return string(b), err
}

// listCol is a scan destination for a list stored by list.
func (s *Store) listCol(dst *[]string, enc listText) any {
	if s.d.Array != nil {
		return s.d.Array(dst)
	}
	return listScanner{dst, enc}
}

type listScanner struct {
	dst *[]string
	enc listText
}

func (ls listScanner) Scan(src any) error {
	var text string
	switch v := src.(type) {
	case string:
		text = v
	case []byte:
		text = string(v)
	default:
		return fmt.Errorf("scan list: unexpected %T", src)
	}
	if ls.enc == wordsList {
		*ls.dst = strings.Fields(text)
		return nil
	}
	return json.Unmarshal([]byte(text), ls.dst)
}

// nonNil returns v, or an empty list for nil.
func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

// collect scans every row of rows (closing it) with scan.
func collect[T any](rows *sql.Rows, err error, scan func(scanner) (T, error)) ([]T, error) {
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
