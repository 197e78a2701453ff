package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvPostgresDSN names the environment variable that points tests at an
// existing PostgreSQL server (any database on it that the user may connect
// to; the user must be allowed to CREATE DATABASE). When unset, the first
// call to Postgres starts a private server for the test process.
const EnvPostgresDSN = "AUTHSERVER_TEST_PG_DSN"

var shared struct {
	once sync.Once
	srv  *PGServer
	dsn  string // admin DSN of the server databases are created through
	err  error
}

// Main runs the package's tests and then stops the PostgreSQL servers and
// slapds they started. Use it from TestMain in every package that calls
// Postgres, NewPGServer, Slapd, NewSlapd or Samba:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
func Main(m *testing.M) { MainThen(m, nil) }

// MainThen is Main with after, when set, run once the tests passed (before
// the servers stop): a check of the whole run (every operation of a
// document exercised) whose non-zero code fails it.
func MainThen(m *testing.M, after func() int) {
	code := m.Run()
	if code == 0 && after != nil {
		code = after()
	}
	removeAll()
	os.Exit(code)
}

// Postgres returns the DSN of a new, empty database, dropped when the test
// ends. The server is the one named by AUTHSERVER_TEST_PG_DSN or else one
// private server per test process, started on first use. If no server can
// be had the test fails with the server's log; it is never skipped.
func Postgres(tb testing.TB) string {
	tb.Helper()
	shared.once.Do(func() {
		if dsn := os.Getenv(EnvPostgresDSN); dsn != "" {
			shared.dsn = dsn
			return
		}
		shared.srv, shared.err = StartPGServer()
		if shared.err == nil {
			shared.dsn = shared.srv.DSN("postgres")
		}
	})
	if shared.err != nil {
		tb.Fatalf("testenv: start PostgreSQL: %v", shared.err)
	}
	return createDatabase(tb, shared.dsn)
}

// createDatabase creates a uniquely named database through adminDSN and
// returns adminDSN pointed at it. The database is dropped at cleanup.
func createDatabase(tb testing.TB, adminDSN string) string {
	tb.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	name := "authserver_test_" + hex.EncodeToString(b)
	if err := adminExec(adminDSN, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("testenv: create database: %v", err)
	}
	tb.Cleanup(func() {
		// FORCE (PostgreSQL 13+) closes connections a test left open.
		if err := adminExec(adminDSN, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Logf("testenv: drop database %s: %v", name, err)
		}
	})
	dsn, err := withDatabase(adminDSN, name)
	if err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	return dsn
}

func adminExec(dsn, sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// withDatabase returns dsn (URL or key=value form) with its database
// replaced by name.
func withDatabase(dsn, name string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("parse %s: %w", EnvPostgresDSN, err)
		}
		u.Path = "/" + name
		return u.String(), nil
	}
	// key=value: a later key wins.
	return dsn + " dbname=" + name, nil
}
