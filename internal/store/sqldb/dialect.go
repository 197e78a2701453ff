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
	// Name is the driver's name and the migrations folder (migrations/<Name>).
	Name string
	// Numbered rewrites each ? placeholder to $1, $2, ... (PostgreSQL), once, at Open.
	Numbered bool
	// TimeLayout, when set, stores times as UTC text in this RFC 3339 layout
	// (SQLite); when empty, times go to the driver as time.Time.
	TimeLayout string
	// ArrayToJSON, when set, says lists are text[] (PostgreSQL): they go to
	// the driver as []string and are read as JSON text through this
	// function, which replaces {list} in front of a list column's
	// parenthesized name ("to_json"). When empty, lists are text: JSON
	// (group DNs, parameters) or space-joined (audit scopes).
	ArrayToJSON string
	// Collate makes an ORDER BY on names bytewise, e.g. ` COLLATE "C"`.
	Collate string
	// ForUpdate ends a SELECT of a row about to be written, e.g. " FOR UPDATE".
	// SQLite needs none: its transactions hold the write lock from BEGIN IMMEDIATE.
	ForUpdate string
	// MigrationBegin runs first in each migration transaction: it serialises
	// migrating processes where the dialect must (a lock) and creates
	// schema_migrations. It may hold several statements.
	MigrationBegin string
	// Relaxed, when set, runs first in a transaction whose writes may be
	// lost in a crash of the database server itself (the throttle's holds
	// and counts): its commit does not wait for the disk ("SET LOCAL
	// synchronous_commit TO OFF"; PostgreSQL still writes it within a
	// fraction of a second). SQLite's commits in WAL mode do not wait for
	// the disk anyway (synchronous=NORMAL).
	Relaxed string
	// Lock, when set, runs first in an Exclusively transaction with the
	// lock's key (an int64) as its one argument and holds the lock to the
	// transaction's end (pg_advisory_xact_lock). SQLite needs none: its
	// transactions hold the write lock from BEGIN IMMEDIATE.
	Lock string
	// AccessQuery is the permission query of ProjectAccess, which is tuned
	// per database. Args: user id, project names (a list), normalized
	// group DNs (a list), robot id, authenticated. Rows: project name,
	// public, internal, role or NULL, group name or NULL, then for a rule
	// row (role NULL): rule id, pattern, actions, deny, subject kind,
	// subject name (all NULL on grant rows). Rows may come in any order
	// (ProjectAccess puts each project's grants and rules in order: the
	// direct grant first, then groups by name; rules by id), and the list
	// of names holds each name once.
	AccessQuery string
	// Sentinel maps a driver error to store.ErrAlreadyExists (unique
	// violation) or store.ErrNotFound (foreign-key violation: a referenced
	// row vanished meanwhile), else nil. See Sentinels.
	Sentinel func(err error) error
	// Prepare keeps every statement prepared on each pooled connection and in each
	// transaction (SQLite); PostgreSQL leaves it to pgx's statement cache.
	Prepare bool
	// CopyFrom, when set, bulk-inserts rows through the driver connection of
	// (*sql.Conn).Raw (PostgreSQL COPY); when nil, or inside Atomically,
	// AppendAudit uses an INSERT in a transaction.
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

// query names one statement of queries, the templates (with ? placeholders,
// {collate}, {for_update} and {list}) that Open builds per dialect.
type query int

var queries []string

func q(template string) query {
	queries = append(queries, template)
	return query(len(queries) - 1)
}

// build makes the statement texts for d, once, at Open: it fills in the
// templates and numbers the ? placeholders when the dialect wants it (no
// statement has a ? in a string literal).
func (d *Dialect) build() []string {
	out := make([]string, len(queries))
	for i, t := range queries {
		out[i] = d.rewrite(t)
	}
	return out
}

// rewrite is one template's statement text for d.
func (d *Dialect) rewrite(t string) string {
	t = strings.NewReplacer("{collate}", d.Collate, "{for_update}", d.ForUpdate, "{list}", d.ArrayToJSON).Replace(t)
	if !d.Numbered {
		return t
	}
	var b strings.Builder
	n := 0
	for _, part := range strings.SplitAfter(t, "?") {
		if p, ok := strings.CutSuffix(part, "?"); ok {
			n++
			part = p + "$" + strconv.Itoa(n)
		}
		b.WriteString(part)
	}
	return b.String()
}
