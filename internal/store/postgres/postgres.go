package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/store/sqldb"
)

// Store is a store.Store backed by a pgx connection pool. After a successful
// Open, a database outage makes methods return errors (never panic) and the
// pool reconnects by itself once the server is back: idle connections are
// pinged before reuse and broken ones are discarded.
type Store struct {
	*sqldb.Store
	pool *pgxpool.Pool
}

// dialect is PostgreSQL's: $n placeholders, native times, text[] lists (read as JSON),
// bytewise ("C") order, row locks, an advisory migration lock ("authserver" in
// ASCII) and advisory locks for Exclusively, COPY, and pgx's statement cache
// instead of database/sql's.
var dialect = sqldb.Dialect{
	Name:        "postgres",
	Numbered:    true,
	ArrayToJSON: "to_json",
	Collate:     ` COLLATE "C"`,
	ForUpdate:   " FOR UPDATE",
	MigrationBegin: `SELECT pg_advisory_xact_lock(27432215569982834); -- 0x61757468736572
		CREATE TABLE IF NOT EXISTS schema_migrations
		(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
	Lock:        `SELECT pg_advisory_xact_lock($1)`,
	Relaxed:     `SET LOCAL synchronous_commit TO OFF`,
	AccessQuery: accessQuery,
	Sentinel: sqldb.Sentinels(func(e *pgconn.PgError) string { return e.Code }, map[string]error{
		"23505": store.ErrAlreadyExists, "23503": store.ErrNotFound, // unique_violation, foreign_key_violation
	}),
	CopyFrom: copyFrom,
}

// accessQuery (see sqldb.Dialect) keeps the direct and the group grants in
// separate branches so each is an index lookup by (project, user) or
// (project, group): with one OR over the members of a project, PostgreSQL
// reads every member and filters, and the query slows as projects grow.
// The repository rules about the principal come in one branch per kind
// of subject, each an index lookup by (subject, project).
const accessQuery = `WITH ps AS (SELECT id, name, public, internal FROM projects WHERE name = ANY($2::text[])),
gids AS (SELECT ug.group_id AS id FROM user_groups ug WHERE ug.user_id = $1
         UNION SELECT dg.id FROM groups dg WHERE dg.dn_norm = ANY($3::text[])),
grants AS (
    SELECT m.project_id, m.role, NULL::text AS gname
    FROM ps JOIN members m ON m.project_id = ps.id AND m.user_id = $1
  UNION ALL
    SELECT m.project_id, m.role, g.name
    FROM ps JOIN members m ON m.project_id = ps.id JOIN groups g ON g.id = m.group_id
    WHERE m.group_id IN (SELECT id FROM gids))
SELECT * FROM (
SELECT ps.name AS pname, ps.public, ps.internal, gr.role, gr.gname, NULL::bigint AS rid, NULL::text, NULL::text,
  NULL::boolean, NULL::text, NULL::text
FROM ps LEFT JOIN grants gr ON gr.project_id = ps.id
UNION ALL
SELECT ps.name, ps.public, ps.internal, NULL, NULL, r.id, r.pattern, r.actions, r.deny, 'user', u.name
FROM ps JOIN repository_rules r ON r.project_id = ps.id AND r.user_id = $1 JOIN users u ON u.id = r.user_id
UNION ALL
SELECT ps.name, ps.public, ps.internal, NULL, NULL, r.id, r.pattern, r.actions, r.deny, 'group', g.name
FROM ps JOIN repository_rules r ON r.project_id = ps.id AND r.group_id IN (SELECT id FROM gids) JOIN groups g ON g.id = r.group_id
UNION ALL
SELECT ps.name, ps.public, ps.internal, NULL, NULL, r.id, r.pattern, r.actions, r.deny, 'robot', rb.name
FROM ps JOIN repository_rules r ON r.project_id = ps.id AND r.robot_id = $4 JOIN robots rb ON rb.id = r.robot_id
UNION ALL
SELECT ps.name, ps.public, ps.internal, NULL, NULL, r.id, r.pattern, r.actions, r.deny, 'authenticated', ''
FROM ps JOIN repository_rules r ON r.project_id = ps.id AND r.authenticated AND $5::boolean
) x ORDER BY pname, rid NULLS FIRST, gname COLLATE "C" NULLS FIRST`

// Open connects to PostgreSQL with dsn (URL or key=value form), failing if the
// server cannot be reached now. Call Migrate before use.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 { // pool defaults, unless the DSN sets them
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		cfg.MaxConns = 10
	}
	// Every statement is prepared once per connection (pgx's cache) and is a
	// few index probes: a generic plan is right. Left to "auto", PostgreSQL
	// keeps re-planning the permission query on a large directory.
	if _, set := cfg.ConnConfig.RuntimeParams["plan_cache_mode"]; !set {
		cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_generic_plan"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err == nil {
		if err = pool.Ping(ctx); err != nil {
			pool.Close()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("open postgres %s:%d/%s: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database, err)
	}
	// database/sql on pgxpool's connections (and statement caches), kept idle
	// (pinged after 1s unused): handing one back per statement costs more.
	db := stdlib.OpenDBFromPool(pool)
	db.SetMaxOpenConns(int(cfg.MaxConns))
	db.SetMaxIdleConns(int(cfg.MaxConns))
	db.SetConnMaxIdleTime(cfg.MaxConnIdleTime)
	return &Store{Store: sqldb.Open(db, &dialect), pool: pool}, nil
}

func (s *Store) Close() error {
	err := s.Store.Close()
	s.pool.Close()
	return err
}

// Pool returns the connection pool, for bulk tools only (bench/seed's COPY):
// the store.Store methods are what keep the schema's invariants.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// copyFrom runs COPY on the pgx connection under database/sql.
func copyFrom(ctx context.Context, driverConn any, table string, cols []string, rows [][]any) error {
	conn, ok := driverConn.(*stdlib.Conn)
	if !ok {
		return fmt.Errorf("copy into %s: unexpected driver connection %T", table, driverConn)
	}
	_, err := conn.Conn().CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows))
	return err
}
