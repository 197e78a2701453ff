//go:build integration

package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/store/postgres"
	"github.com/authserver/authserver/internal/store/storetest"
	"github.com/authserver/authserver/internal/testenv"
	"github.com/authserver/authserver/internal/testenv/pgtest"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func open(t *testing.T, dsn string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// migrated opens a fresh, migrated database.
func migrated(t *testing.T) store.Store { return pgtest.Open(t) }

func TestConformance(t *testing.T) { storetest.Run(t, migrated) }

func TestOrphanRobots(t *testing.T) {
	storetest.RunOrphanRobots(t, migrated, func(t *testing.T, s store.Store, robot string) {
		if _, err := s.(*postgres.Store).Pool().Exec(t.Context(), `UPDATE robots SET project_id = NULL WHERE name = $1`, robot); err != nil {
			t.Fatal(err)
		}
	})
}

func TestSharedDatabase(t *testing.T) {
	dsn := testenv.Postgres(t)
	storetest.RunSharedDatabase(t, func(t *testing.T) store.Store { return open(t, dsn) })
}

// TestOutage checks that after a successful Open an outage gives errors (not
// panics, not sentinels) and that the store recovers without a restart.
func TestOutage(t *testing.T) {
	srv := testenv.NewPGServer(t)
	s := open(t, srv.CreateDatabase(t))
	ctx := t.Context()
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	if err := s.CreateUser(ctx, &store.User{Name: "alice"}); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}

	srv.Stop()
	calls := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{name: "Ping", call: s.Ping},
		{name: "GetUser", call: func(ctx context.Context) error { _, err := s.GetUser(ctx, "alice"); return err }},
		{name: "ProjectAccess", call: func(ctx context.Context) error {
			_, err := s.ProjectAccess(ctx, store.Principal{UserID: 1}, []string{"p"})
			return err
		}},
		{name: "SetMember", call: func(ctx context.Context) error {
			return s.SetMember(ctx, store.Member{Project: "p", Kind: store.MemberUser, Name: "alice", Role: store.RoleGuest})
		}},
	}
	for _, c := range calls {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := c.call(cctx)
		cancel()
		if err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrAlreadyExists) {
			t.Errorf("%s during outage: error = %v, want a backend error", c.name, err)
		}
	}
	if _, err := postgres.Open(ctx, srv.DSN("postgres")); err == nil {
		t.Errorf("Open with the server down: no error")
	}

	if err := srv.Start(); err != nil {
		t.Fatalf("restart: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := s.GetUser(ctx, "alice")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery after restart: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestCredentialMigration(t *testing.T) {
	dsn := testenv.Postgres(t)
	storetest.RunCredentialMigration(t, "postgres", func(t *testing.T) storetest.MigratingStore { return open(t, dsn) })
}
