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

// accessQuery (see sqldb.Dialect) finds the projects asked for once (ps,
// an index lookup per name) and drives every branch from them, so that
// each is a few index probes per project whatever the size of the
// directory, under the generic plan every connection uses (see Open),
// which knows nothing of the arguments:
//   - the direct role is a scalar subquery per project: one probe of
//     (project, user), never a walk through the caller's memberships;
//   - the caller's groups (local ones and those the DNs name) are put in
//     one array (gids), and the group grants and group rules are LATERAL
//     subqueries per project probing (group, project) with it. OFFSET 0
//     keeps the planner from flattening them. Unfenced (or with the
//     groups a set joined by IN, as before), the generic plan walked
//     every membership of the caller's groups (5,000 rows for a group in
//     5,000 projects) or, on a freshly analyzed database, the whole
//     members index with the array as a filter (224,000 rows, 150 ms).
//     cardinality > 0 skips both for a caller in no group (anonymous,
//     robots);
//   - rules about the user, the robot and every authenticated caller are
//     lookups by (subject, project) and the partial index by project.
//
// No ORDER BY: ProjectAccess puts each project's grants and rules in
// order. docs/PERFORMANCE.md ("PostgreSQL's permission query") has the
// plans and times before and after.
const accessQuery = `WITH ps AS (SELECT p.id, p.name, p.public, p.internal FROM projects p WHERE p.name = ANY($2::text[])),
gids AS (SELECT ARRAY(SELECT ug.group_id FROM user_groups ug WHERE ug.user_id = $1
         UNION SELECT dg.id FROM groups dg WHERE dg.dn_norm = ANY($3::text[])) AS ids)
SELECT ps.name, ps.public, ps.internal, (SELECT m.role FROM members m WHERE m.project_id = ps.id AND m.user_id = $1),
  NULL::text, NULL::bigint, NULL::text, NULL::text, NULL::boolean, NULL::text, NULL::text
FROM ps
UNION ALL
SELECT ps.name, ps.public, ps.internal, x.role, x.name, NULL, NULL, NULL, NULL, NULL, NULL
FROM ps CROSS JOIN gids CROSS JOIN LATERAL (SELECT m.role, (SELECT g.name FROM groups g WHERE g.id = m.group_id) AS name FROM members m
  WHERE m.project_id = ps.id AND m.group_id = ANY(gids.ids) OFFSET 0) x
WHERE cardinality(gids.ids) > 0
UNION ALL
SELECT ps.name, ps.public, ps.internal, NULL, NULL, r.id, r.pattern, r.actions, r.deny, 'user', u.name
FROM ps JOIN repository_rules r ON r.project_id = ps.id AND r.user_id = $1 JOIN users u ON u.id = r.user_id
UNION ALL
SELECT ps.name, ps.public, ps.internal, NULL, NULL, x.id, x.pattern, x.actions, x.deny, 'group', x.name
FROM ps CROSS JOIN gids CROSS JOIN LATERAL (SELECT r.id, r.pattern, r.actions, r.deny, (SELECT g.name FROM groups g WHERE g.id = r.group_id) AS name
  FROM repository_rules r WHERE r.project_id = ps.id AND r.group_id = ANY(gids.ids) OFFSET 0) x
WHERE cardinality(gids.ids) > 0
UNION ALL
SELECT ps.name, ps.public, ps.internal, NULL, NULL, r.id, r.pattern, r.actions, r.deny, 'robot', rb.name
FROM ps JOIN repository_rules r ON r.project_id = ps.id AND r.robot_id = $4 JOIN robots rb ON rb.id = r.robot_id
UNION ALL
SELECT ps.name, ps.public, ps.internal, NULL, NULL, r.id, r.pattern, r.actions, r.deny, 'authenticated', ''
FROM ps JOIN repository_rules r ON r.project_id = ps.id AND r.authenticated AND $5::boolean`

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
