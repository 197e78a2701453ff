package sqldb

import (
	"context"
	"errors"
	"strconv"
	"strings"
)

// Dialect is what one database does differently. The sqlite and postgres
// packages each define one value; everything else is written once here.
type Dialect struct {
	// Name is the driver's name: it names the migrations folder
	// (migrations/<Name>) and prefixes connection errors.
	Name string
	// Numbered rewrites each ? placeholder to $1, $2, ... (PostgreSQL). The
	// rewrite happens once, when Open builds the statements.
	Numbered bool
	// TimeLayout, when set, stores times as UTC text in this layout, a
	// form of RFC 3339 (SQLite); when empty, times go to the driver as
	// time.Time.
	TimeLayout string
	// Array, when set, makes a scan destination for a native text[] column
	// (PostgreSQL); lists are then passed to the driver as []string. When
	// nil, lists are stored as text: JSON (group DNs, parameters) or
	// space-joined (audit scopes).
	Array func(dst *[]string) any
	// Collate is appended to ORDER BY on names so that every database sorts
	// them bytewise, e.g. ` COLLATE "C"`.
	Collate string
	// ForUpdate is appended to a SELECT that reads a row it will then
	// write, e.g. " FOR UPDATE". SQLite needs none: every transaction
	// starts with BEGIN IMMEDIATE and holds the write lock.
	ForUpdate string
	// MigrationLock, when set, is run first in each migration transaction
	// to serialise migrating processes (pg_advisory_xact_lock).
	MigrationLock string
	// MigrationTable creates schema_migrations if missing.
	MigrationTable string
	// AccessQuery is the permission query of ProjectAccess, which is tuned
	// per database. Args: user id, project names (a list), normalized
	// group DNs (a list). Rows: project name, public, role or NULL, group
	// name or NULL; the direct grant first, then groups by name.
	AccessQuery string
	// Sentinel maps a driver error to store.ErrAlreadyExists (unique
	// violation) or store.ErrNotFound (foreign-key violation: a referenced
	// row vanished meanwhile), else nil. See Sentinels.
	Sentinel func(err error) error
	// Prepare keeps every statement prepared on each pooled connection
	// (SQLite would otherwise parse and plan it on every call). PostgreSQL
	// leaves it to pgx's own statement cache.
	Prepare bool
	// CopyFrom, when set, bulk-inserts rows through the driver connection
	// handed out by (*sql.Conn).Raw (PostgreSQL COPY). When nil, rows go
	// through one prepared INSERT in a transaction.
	CopyFrom func(ctx context.Context, driverConn any, table string, cols []string, rows [][]any) error
}

// Sentinels returns a Dialect.Sentinel for a driver whose errors are E:
// code reads an E's code, which sentinels maps to the store's error.
func Sentinels[E error, C comparable](code func(E) C, sentinels map[C]error) func(error) error {
	return func(err error) error {
		var e E
		if errors.As(err, &e) {
			return sentinels[code(e)]
		}
		return nil
	}
}

// query names one statement; its text is built per dialect by Open.
type query int

// queries holds the statement templates, indexed by query. Templates use ?
// placeholders, {collate} and {for_update}.
var queries []string

// q registers a statement template and returns its name.
func q(template string) query {
	queries = append(queries, template)
	return query(len(queries) - 1)
}

// build returns the text of every registered statement for d.
func (d *Dialect) build() []string {
	r := strings.NewReplacer("{collate}", d.Collate, "{for_update}", d.ForUpdate)
	out := make([]string, len(queries))
	for i, t := range queries {
		out[i] = d.rebind(r.Replace(t))
	}
	return out
}

// rebind numbers the ? placeholders of s when the dialect wants it (no
// statement has a ? in a string literal). It runs once per statement, at Open.
func (d *Dialect) rebind(s string) string {
	for n := 1; d.Numbered && strings.Contains(s, "?"); n++ {
		s = strings.Replace(s, "?", "$"+strconv.Itoa(n), 1)
	}
	return s
}
