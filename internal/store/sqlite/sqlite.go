package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	sqlite3 "modernc.org/sqlite"
	sqlite3lib "modernc.org/sqlite/lib"

	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/store/sqldb"
)

// Store is a store.Store in one SQLite file, which several processes (server,
// admin commands) may share: WAL mode lets readers run alongside the single
// writer, and busy_timeout makes a writer wait for the lock, not fail.
type Store = sqldb.Store

// pragmas are applied by the driver to every new pooled connection. Every
// transaction starts with BEGIN IMMEDIATE (_txlock), so it takes the write
// lock up front and waits on busy_timeout rather than failing to upgrade a
// read lock mid-way; that lock also serialises migrating processes.
const pragmas = "_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)" +
	"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"

// dialect is SQLite's: times as sortable UTC text, lists as JSON text,
// bytewise ordering by default, every statement prepared once.
var dialect = sqldb.Dialect{
	Name:       "sqlite",
	TimeLayout: "2006-01-02T15:04:05.000000Z",
	MigrationBegin: `CREATE TABLE IF NOT EXISTS schema_migrations
		(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT`,
	AccessQuery: accessQuery,
	Sentinel: sqldb.Sentinels((*sqlite3.Error).Code, map[int]error{
		sqlite3lib.SQLITE_CONSTRAINT_UNIQUE: store.ErrAlreadyExists, sqlite3lib.SQLITE_CONSTRAINT_PRIMARYKEY: store.ErrAlreadyExists,
		sqlite3lib.SQLITE_CONSTRAINT_FOREIGNKEY: store.ErrNotFound,
	}),
	Prepare: true,
}

// accessQuery (see sqldb.Dialect): the first branch gives one row per
// existing project (with the direct role, or NULL), the second one row per
// group grant; each is an index lookup by (project, user) or (project,
// group), whatever the number of members a project has. The last four
// give the project's repository rules about the principal, one branch per
// kind of subject, each an index lookup by (subject, project) whatever the
// number of rules about others. Lists are JSON. Each branch walks the
// list of names (json_each, each name once: ProjectAccess removes
// duplicates) and finds each project by its unique name, rather than
// testing p.name IN (SELECT ... json_each): that built a temporary index
// per branch, and opening those was most of the query's time
// (BenchmarkAuthorize/sqlite: 0.8 × the CPU). No ORDER BY either:
// ProjectAccess puts the rows in order. INDEXED BY keeps the last branch
// on its partial index (the planner otherwise scans the project's rules),
// and CROSS JOIN the group branch on the projects asked for (else it
// walks every membership of the caller's groups: 20,000 for a group in
// 20,000 projects).
const accessQuery = `SELECT p.name, p.public, p.internal, m.role, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM json_each(?2) j JOIN projects p ON p.name = j.value LEFT JOIN members m ON m.project_id = p.id AND m.user_id = ?1
UNION ALL
SELECT p.name, p.public, p.internal, m.role, g.name, NULL, NULL, NULL, NULL, NULL, NULL
FROM json_each(?2) j CROSS JOIN projects p ON p.name = j.value CROSS JOIN members m ON m.project_id = p.id JOIN groups g ON g.id = m.group_id
WHERE m.group_id IN (SELECT ug.group_id FROM user_groups ug WHERE ug.user_id = ?1
                     UNION SELECT dg.id FROM groups dg WHERE dg.dn_norm IN (SELECT value FROM json_each(?3)))
UNION ALL
SELECT p.name, p.public, p.internal, NULL, NULL, r.id, r.pattern, r.actions, r.deny, 'user', u.name
FROM json_each(?2) j JOIN projects p ON p.name = j.value JOIN repository_rules r ON r.project_id = p.id AND r.user_id = ?1 JOIN users u ON u.id = r.user_id
UNION ALL
SELECT p.name, p.public, p.internal, NULL, NULL, r.id, r.pattern, r.actions, r.deny, 'group', g.name
FROM json_each(?2) j JOIN projects p ON p.name = j.value JOIN repository_rules r ON r.project_id = p.id AND r.group_id IN (SELECT ug.group_id FROM user_groups ug WHERE ug.user_id = ?1
    UNION SELECT dg.id FROM groups dg WHERE dg.dn_norm IN (SELECT value FROM json_each(?3))) JOIN groups g ON g.id = r.group_id
UNION ALL
SELECT p.name, p.public, p.internal, NULL, NULL, r.id, r.pattern, r.actions, r.deny, 'robot', rb.name
FROM json_each(?2) j JOIN projects p ON p.name = j.value JOIN repository_rules r ON r.project_id = p.id AND r.robot_id = ?4 JOIN robots rb ON rb.id = r.robot_id
UNION ALL
SELECT p.name, p.public, p.internal, NULL, NULL, r.id, r.pattern, r.actions, r.deny, 'authenticated', ''
FROM json_each(?2) j JOIN projects p ON p.name = j.value JOIN repository_rules r INDEXED BY repository_rules_authenticated_idx
  ON r.project_id = p.id AND r.authenticated = 1 AND ?5`

// Open opens the SQLite file at path dsn (creating it and its directory if
// missing) and checks that it can be read. Call Migrate before use.
func Open(ctx context.Context, dsn string) (*Store, error) {
	if dsn == "" || dsn == ":memory:" || strings.ContainsAny(dsn, "?#") || strings.HasPrefix(dsn, "file:") {
		return nil, fmt.Errorf("open sqlite: %q: want a plain file path", dsn)
	}
	if err := os.MkdirAll(filepath.Dir(dsn), 0o750); err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
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
	// One writer at a time anyway: a bounded pool, every connection kept (a
	// new one re-runs the pragmas and re-prepares the statements).
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", dsn, err)
	}
	return sqldb.Open(db, &dialect), nil
}

// Backup writes a consistent copy of st's database to the file to (a new
// file, created readable by its owner only), while st stays in use:
// SQLite's VACUUM INTO reads one snapshot, so writers carry on meanwhile
// and the copy holds every transaction committed before it began.
func Backup(ctx context.Context, st *Store, to string) error {
	f, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("sqlite backup: %w", err)
	}
	f.Close()
	if _, err := st.DB().ExecContext(ctx, `VACUUM INTO ?`, to); err != nil {
		os.Remove(to)
		return fmt.Errorf("sqlite backup to %s: %w", to, err)
	}
	return nil
}
