//go:build integration

package testenv

import (
	"testing"
)

func TestMain(m *testing.M) { Main(m) }

func run(t *testing.T, dsn, sql string) error {
	t.Helper()
	return adminExec(dsn, sql)
}

func TestPostgresFreshDatabases(t *testing.T) {
	a, b := Postgres(t), Postgres(t)
	if a == b {
		t.Fatalf("same DSN twice: %s", a)
	}
	if err := run(t, a, "CREATE TABLE x (id int)"); err != nil {
		t.Fatalf("create in a: %v", err)
	}
	if err := run(t, b, "CREATE TABLE x (id int)"); err != nil {
		t.Fatalf("databases are not separate: %v", err)
	}
}

func TestPGServerStopStart(t *testing.T) {
	srv := NewPGServer(t)
	dsn := srv.CreateDatabase(t)
	if err := run(t, dsn, "CREATE TABLE kept (id int)"); err != nil {
		t.Fatalf("create: %v", err)
	}
	port := srv.Port
	srv.Stop()
	srv.Stop() // idempotent
	if err := run(t, dsn, "SELECT 1"); err == nil {
		t.Fatalf("server still answers after Stop")
	}
	if err := srv.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if srv.Port != port {
		t.Errorf("port changed: %d -> %d", port, srv.Port)
	}
	if err := run(t, dsn, "INSERT INTO kept VALUES (1)"); err != nil {
		t.Fatalf("data lost across restart: %v", err)
	}
}
