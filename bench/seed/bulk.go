package main

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// bulk is what the seeder needs from a database: name lookups and fast
// batched inserts. Table and column names are constants of this package,
// never user input.
type bulk interface {
	// ids returns, for the seeded names 0…n-1 of k, the id of each row that
	// exists (0 where it does not).
	ids(ctx context.Context, k kind, n int) ([]int64, error)
	// insert writes rows 0…n-1 into table (cols), batch rows per
	// transaction; row(i, dst) fills dst with row i's values. With
	// skipExisting, rows that clash with a unique key are skipped instead of
	// failing. It returns the number of rows written.
	insert(ctx context.Context, table string, cols []string, n, batch int, skipExisting bool, row func(i int, dst []any)) (int64, error)
	// count returns the number of rows of table.
	count(ctx context.Context, table string) (int64, error)
	// timeValue is how a timestamp is passed for a created_at column.
	timeValue(t time.Time) any
	// analyze refreshes the planner's statistics after the load.
	analyze(ctx context.Context) error
}

// idRows are (id, name) rows as database/sql and pgx both return them.
type idRows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// readIDs runs query for the seeded names of k between lo and hi and
// fills ids from its rows, keeping only exact seeded names; done releases
// the rows.
func readIDs(k kind, n int, query func(lo, hi string) (rows idRows, done func(), err error)) ([]int64, error) {
	if n == 0 {
		return nil, nil
	}
	rows, done, err := query(k.bounds(n))
	if err != nil {
		return nil, fmt.Errorf("read %s ids: %w", k.table, err)
	}
	defer done()
	ids := make([]int64, n)
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, fmt.Errorf("read %s ids: %w", k.table, err)
		}
		if i, mine := k.index(name, n); mine {
			ids[i] = id
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s ids: %w", k.table, err)
	}
	return ids, nil
}

// scanCount reads the count(*) of table from row.
func scanCount(table string, row interface{ Scan(dest ...any) error }) (int64, error) {
	var n int64
	if err := row.Scan(&n); err != nil {
		return 0, fmt.Errorf("count %s: %w", table, err)
	}
	return n, nil
}

// --- SQLite -----------------------------------------------------------------

// sqliteMaxVars stays under SQLite's default limit of 32,766 bound
// parameters per statement.
const sqliteMaxVars = 32_000

// sqliteTimeLayout is the store's text form of times (internal/store/sqlite).
const sqliteTimeLayout = "2006-01-02T15:04:05.000000Z"

type sqliteBulk struct{ db *sql.DB }

func (b sqliteBulk) timeValue(t time.Time) any { return t.UTC().Format(sqliteTimeLayout) }

func (b sqliteBulk) ids(ctx context.Context, k kind, n int) ([]int64, error) {
	return readIDs(k, n, func(lo, hi string) (idRows, func(), error) {
		rows, err := b.db.QueryContext(ctx, `SELECT id, name FROM `+k.table+` WHERE name BETWEEN ? AND ?`, lo, hi)
		return rows, func() { rows.Close() }, err
	})
}

// valuesSQL is "INSERT INTO table (cols) VALUES (?,…),(?,…)…" for rows rows.
func valuesSQL(table string, cols []string, rows int, skipExisting bool) string {
	var sb strings.Builder
	sb.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ")
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",") + ")"
	for i := range rows {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(tuple)
	}
	if skipExisting {
		sb.WriteString(" ON CONFLICT DO NOTHING")
	}
	return sb.String()
}

func (b sqliteBulk) insert(ctx context.Context, table string, cols []string, n, batch int, skipExisting bool, row func(int, []any)) (int64, error) {
	per := min(batch, sqliteMaxVars/len(cols))
	full, err := b.db.PrepareContext(ctx, valuesSQL(table, cols, per, skipExisting))
	if err != nil {
		return 0, fmt.Errorf("insert %s: %w", table, err)
	}
	defer full.Close()
	args := make([]any, per*len(cols))
	var written int64
	for start := 0; start < n; start += batch {
		end := min(start+batch, n)
		tx, err := b.db.BeginTx(ctx, nil)
		if err != nil {
			return written, fmt.Errorf("insert %s: %w", table, err)
		}
		stmt := tx.StmtContext(ctx, full)
		var inTx int64
		for s := start; s < end; s += per {
			m := min(per, end-s)
			a := args[:m*len(cols)]
			for j := range m {
				row(s+j, a[j*len(cols):(j+1)*len(cols)])
			}
			var res sql.Result
			if m == per {
				res, err = stmt.ExecContext(ctx, a...)
			} else {
				res, err = tx.ExecContext(ctx, valuesSQL(table, cols, m, skipExisting), a...)
			}
			if err != nil {
				tx.Rollback()
				return written, fmt.Errorf("insert %s rows %d-%d: %w", table, s, s+m-1, err)
			}
			k, _ := res.RowsAffected()
			inTx += k
		}
		if err := tx.Commit(); err != nil {
			return written, fmt.Errorf("insert %s: commit: %w", table, err)
		}
		written += inTx
	}
	return written, nil
}

func (b sqliteBulk) count(ctx context.Context, table string) (int64, error) {
	return scanCount(table, b.db.QueryRowContext(ctx, `SELECT count(*) FROM `+table))
}

func (b sqliteBulk) analyze(ctx context.Context) error {
	if _, err := b.db.ExecContext(ctx, `ANALYZE`); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	return nil
}

// --- PostgreSQL ---------------------------------------------------------------

type pgBulk struct{ pool *pgxpool.Pool }

func (b pgBulk) timeValue(t time.Time) any { return t.UTC() }

func (b pgBulk) ids(ctx context.Context, k kind, n int) ([]int64, error) {
	return readIDs(k, n, func(lo, hi string) (idRows, func(), error) {
		rows, err := b.pool.Query(ctx, `SELECT id, name FROM `+k.table+` WHERE name BETWEEN $1 AND $2`, lo, hi)
		return rows, func() { rows.Close() }, err
	})
}

// genSource feeds rows [i, end) to CopyFrom without materialising them.
type genSource struct {
	i, end int
	row    func(int, []any)
	vals   []any
}

func (s *genSource) Next() bool {
	if s.i >= s.end {
		return false
	}
	s.row(s.i, s.vals)
	s.i++
	return true
}

func (s *genSource) Values() ([]any, error) { return s.vals, nil }
func (s *genSource) Err() error             { return nil }

// insert COPYs each batch straight into table; with skipExisting it COPYs
// into a temporary table first and moves the rows over with
// INSERT … ON CONFLICT DO NOTHING.
func (b pgBulk) insert(ctx context.Context, table string, cols []string, n, batch int, skipExisting bool, row func(int, []any)) (int64, error) {
	var written int64
	vals := make([]any, len(cols))
	for start := 0; start < n; start += batch {
		src := &genSource{i: start, end: min(start+batch, n), row: row, vals: vals}
		var k int64
		err := pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
			if !skipExisting {
				var err error
				k, err = tx.CopyFrom(ctx, pgx.Identifier{table}, cols, src)
				return err
			}
			list := strings.Join(cols, ", ")
			if _, err := tx.Exec(ctx, `CREATE TEMP TABLE seed_stage ON COMMIT DROP AS SELECT `+list+` FROM `+table+` WITH NO DATA`); err != nil {
				return err
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"seed_stage"}, cols, src); err != nil {
				return err
			}
			tag, err := tx.Exec(ctx, `INSERT INTO `+table+` (`+list+`) SELECT `+list+` FROM seed_stage ON CONFLICT DO NOTHING`)
			k = tag.RowsAffected()
			return err
		})
		if err != nil {
			return written, fmt.Errorf("copy %s rows %d-%d: %w", table, start, src.end-1, err)
		}
		written += k
	}
	return written, nil
}

func (b pgBulk) count(ctx context.Context, table string) (int64, error) {
	return scanCount(table, b.pool.QueryRow(ctx, `SELECT count(*) FROM `+table))
}

func (b pgBulk) analyze(ctx context.Context) error {
	if _, err := b.pool.Exec(ctx, `ANALYZE users, projects, groups, user_groups, members`); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	return nil
}
