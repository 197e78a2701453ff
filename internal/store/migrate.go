package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Migration is one numbered schema file, e.g. "0002_refresh_tokens.sql".
type Migration struct {
	Version int    // the leading number, unique and > 0
	Name    string // the file name
	SQL     string // the file's statements, run as one script
}

// LoadMigrations reads the *.sql files of dir in fsys and returns them sorted
// by version. Every file must be named NNNN_description.sql; a malformed
// name, a duplicate version or an empty folder is an error, so a packaging
// mistake is caught at startup rather than leaving the schema half built.
func LoadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	var ms []Migration
	seen := map[int]string{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("load migrations: %s: name must be NNNN_description.sql", e.Name())
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("load migrations: %s and %s share version %d", prev, e.Name(), v)
		}
		seen[v] = e.Name()
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("load migrations: %w", err)
		}
		ms = append(ms, Migration{Version: v, Name: e.Name(), SQL: string(b)})
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("load migrations: no .sql files in %q", dir)
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	return ms, nil
}

// MigrationTx is one backend transaction as ApplyMigrations needs it. Begin
// (the function passed to ApplyMigrations) must start the transaction holding
// a lock that serialises migrators across processes (PostgreSQL:
// pg_advisory_xact_lock; SQLite: BEGIN IMMEDIATE) and make sure the
// schema_migrations table exists.
type MigrationTx interface {
	// Applied reports whether version is recorded in schema_migrations.
	Applied(ctx context.Context, version int) (bool, error)
	// Exec runs a whole migration script.
	Exec(ctx context.Context, script string) error
	// Record inserts m into schema_migrations.
	Record(ctx context.Context, m Migration) error
	Commit(ctx context.Context) error
	Rollback(ctx context.Context) error
}

// ApplyMigrations applies, in order, each migration not yet recorded, each in
// its own transaction. Checking and applying happen under the lock taken by
// begin, so two processes starting together apply every file exactly once,
// and running it again is a no-op.
func ApplyMigrations(ctx context.Context, ms []Migration, begin func(context.Context) (MigrationTx, error)) error {
	for _, m := range ms {
		if err := applyOne(ctx, m, begin); err != nil {
			return fmt.Errorf("migrate %s: %w", m.Name, err)
		}
	}
	return nil
}

func applyOne(ctx context.Context, m Migration, begin func(context.Context) (MigrationTx, error)) error {
	tx, err := begin(ctx)
	if err != nil {
		return err
	}
	done, err := tx.Applied(ctx, m.Version)
	if err == nil && !done {
		err = tx.Exec(ctx, m.SQL)
		if err == nil {
			err = tx.Record(ctx, m)
		}
	}
	if err != nil {
		return errors.Join(err, tx.Rollback(context.WithoutCancel(ctx)))
	}
	return tx.Commit(ctx)
}
