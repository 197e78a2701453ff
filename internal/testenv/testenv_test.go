package testenv

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { Main(m) }

func run(t *testing.T, dsn, sql string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
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

func TestWithDatabase(t *testing.T) {
	tests := []struct {
		name, dsn, want string
	}{
		{name: "url", dsn: "postgres://u:p@h:5432/postgres?sslmode=disable", want: "postgres://u:p@h:5432/db1?sslmode=disable"},
		{name: "url without db", dsn: "postgresql://h", want: "postgresql://h/db1"},
		{name: "key value", dsn: "host=h user=u dbname=postgres", want: "host=h user=u dbname=postgres dbname=db1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := withDatabase(tt.dsn, "db1")
			if err != nil || got != tt.want {
				t.Errorf("withDatabase = %q, %v; want %q", got, err, tt.want)
			}
			cfg, err := pgx.ParseConfig(got)
			if err != nil || cfg.Database != "db1" {
				t.Errorf("parsed database = %v, %v; want db1", cfg, err)
			}
		})
	}
}
