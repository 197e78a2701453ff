package storetest

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/store"
)

// testAtomically checks Atomically as internal/admin uses it: a change and
// its audit record are both kept, or neither.
func testAtomically(t *testing.T, s store.Store) {
	ctx := t.Context()
	rec := func(action, target string) []store.AuditRecord {
		return []store.AuditRecord{{Time: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), Subject: "root", ClientIP: "local",
			Kind: store.AuditKindAdmin, Action: action, Target: target, Result: store.AuditDone}}
	}
	// change makes a change with do and, when it succeeds, its record.
	change := func(action string, do func(tx store.Store) error) error {
		return s.Atomically(ctx, func(tx store.Store) error {
			if err := do(tx); err != nil {
				return err
			}
			return tx.AppendAudit(ctx, rec(action, "target of "+action))
		})
	}
	actions := func() []string {
		t.Helper()
		recs, err := s.ListAudit(ctx, store.AuditFilter{Kind: store.AuditKindAdmin})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range recs {
			out = append(out, r.Action)
		}
		return out
	}

	// Kept: the change and its record, and writes that run in their own
	// transaction otherwise (CreateRobot, ModifyUser) join this one.
	err := change("user.create", func(tx store.Store) error {
		u := store.User{Name: "bob", PasswordHash: "h"}
		if err := tx.CreateUser(ctx, &u); err != nil {
			return err
		}
		if _, err := s.GetUser(ctx, "bob"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("outside the transaction, before commit: GetUser = %v, want not found", err)
		}
		if err := tx.CreateProject(ctx, &store.Project{Name: "team"}); err != nil {
			return err
		}
		if err := tx.CreateRobot(ctx, &store.Robot{Name: "team+ci", Project: "team", SecretHash: "s",
			Permissions: []store.RobotPermission{{Project: "team", Actions: []string{"pull"}}}}); err != nil {
			return err
		}
		_, err := tx.ModifyUser(ctx, "bob", func(u store.User) (store.User, error) { u.Email = "b@x"; return u, nil })
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if u, err := s.GetUser(ctx, "bob"); err != nil || u.Email != "b@x" {
		t.Fatalf("after commit: %+v, %v", u, err)
	}
	if _, err := s.GetRobot(ctx, "team+ci"); err != nil {
		t.Fatal(err)
	}
	if got := actions(); len(got) != 1 || got[0] != "user.create" {
		t.Fatalf("records %v, want [user.create]", got)
	}

	// A change that fails writes no record, and its error comes back unchanged.
	wantErr(t, "create an existing user", change("user.create", func(tx store.Store) error {
		return tx.CreateUser(ctx, &store.User{Name: "bob", PasswordHash: "h"})
	}), store.ErrAlreadyExists)
	wantErr(t, "delete a missing project", change("project.delete", func(tx store.Store) error {
		return tx.DeleteProject(ctx, "ghost")
	}), store.ErrNotFound)
	// An error after the record and a change (or in a nested Atomically)
	// discards both.
	errBoom := errors.New("boom")
	err = s.Atomically(ctx, func(tx store.Store) error {
		return tx.Atomically(ctx, func(tx store.Store) error {
			if err := tx.CreateGroup(ctx, &store.Group{Name: "devs"}); err != nil {
				return err
			}
			if err := tx.AppendAudit(ctx, rec("group.create", "group devs")); err != nil {
				return err
			}
			return errBoom
		})
	})
	if err != errBoom {
		t.Fatalf("Atomically = %v, want fn's error unchanged", err)
	}
	if _, err := s.GetGroup(ctx, "devs"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("group of a failed transaction: %v", err)
	}
	if got := actions(); len(got) != 1 {
		t.Fatalf("records %v after failed changes, want [user.create]", got)
	}

	// A record that cannot be written fails the change: nothing is kept.
	breakAudit(t, s)
	err = change("project.create", func(tx store.Store) error { return tx.CreateProject(ctx, &store.Project{Name: "lost"}) })
	if err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("change with an unwritable audit trail: %v, want a plain error", err)
	}
	if _, err := s.GetProject(ctx, "lost"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the change landed without its record: GetProject = %v", err)
	}
}

// breakAudit makes every audit insert fail, as a lost table or a revoked
// grant would: it drops audit_log through the backend's database handle.
func breakAudit(t *testing.T, s store.Store) {
	t.Helper()
	h, ok := s.(interface{ DB() *sql.DB })
	if !ok {
		t.Fatalf("%T has no DB method to break the audit table with", s)
	}
	if _, err := h.DB().ExecContext(context.WithoutCancel(t.Context()), `DROP TABLE audit_log`); err != nil {
		t.Fatal(err)
	}
}
