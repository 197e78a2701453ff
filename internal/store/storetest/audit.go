package storetest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/store"
)

func testAudit(t *testing.T, s store.Store) {
	ctx := t.Context()
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var batch []store.AuditRecord
	for i := 0; i < 5; i++ {
		batch = append(batch, store.AuditRecord{
			Time: base.Add(time.Duration(i) * time.Minute), Subject: fmt.Sprintf("user%d", i%2), Method: "password",
			ClientIP: "10.0.0.1", UserAgent: "crane/0.22", Service: "harbor-registry",
			Requested: []string{"repository:team/app:pull,push", "registry:catalog:*"},
			Granted:   []string{"repository:team/app:pull"},
			Result:    store.AuditIssued, ClientID: "docker", RequestID: fmt.Sprintf("req%d", i),
		})
	}
	batch[4].Result, batch[4].Granted = store.AuditUnauthorized, nil
	batch[2].Method, batch[2].FederatedIssuer, batch[2].FederatedSubject = "federated", "https://issuer.example", "repo:org/app:ref:refs/heads/main"
	batch[2].Endpoint = "token"
	for i := range 4 {
		batch[i].JTI = fmt.Sprintf("jti-%d", i%3) // req3 has req0's jti: a reused token
	}
	if err := s.AppendAudit(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendAudit(ctx, nil); err != nil {
		t.Fatalf("empty batch: %v", err)
	}

	tests := []struct {
		name string
		f    store.AuditFilter
		want []string // request ids, newest first
	}{
		{name: "all", f: store.AuditFilter{}, want: []string{"req4", "req3", "req2", "req1", "req0"}},
		{name: "limit", f: store.AuditFilter{Limit: 2}, want: []string{"req4", "req3"}},
		{name: "subject", f: store.AuditFilter{Subject: "user1"}, want: []string{"req3", "req1"}},
		{name: "since", f: store.AuditFilter{Since: base.Add(3 * time.Minute)}, want: []string{"req4", "req3"}},
		{name: "result", f: store.AuditFilter{Result: store.AuditUnauthorized}, want: []string{"req4"}},
		{name: "jti", f: store.AuditFilter{JTI: "jti-0"}, want: []string{"req3", "req0"}},
		{name: "jti and subject", f: store.AuditFilter{JTI: "jti-0", Subject: "user0"}, want: []string{"req0"}},
		{name: "none", f: store.AuditFilter{Subject: "nobody"}, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.ListAudit(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, r := range got {
				ids = append(ids, r.RequestID)
			}
			if !reflect.DeepEqual(ids, tt.want) {
				t.Fatalf("got %v, want %v", ids, tt.want)
			}
		})
	}

	got, err := s.ListAudit(ctx, store.AuditFilter{Limit: 1, Subject: "user0", Result: store.AuditIssued})
	if err != nil || len(got) != 1 {
		t.Fatalf("%v %v", got, err)
	}
	r := got[0]
	want := batch[2]
	want.ID = r.ID
	want.Kind = store.AuditKindToken // empty is stored as token
	if !r.Time.Equal(want.Time) {
		t.Fatalf("time %v, want %v", r.Time, want.Time)
	}
	r.Time = want.Time
	if !reflect.DeepEqual(r, want) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", r, want)
	}
	unauth, _ := s.ListAudit(ctx, store.AuditFilter{Result: store.AuditUnauthorized})
	if len(unauth) != 1 || len(unauth[0].Granted) != 0 {
		t.Fatalf("empty granted list: %+v", unauth)
	}

	n, err := s.PruneAudit(ctx, base.Add(2*time.Minute))
	if err != nil || n != 2 {
		t.Fatalf("pruned %d, %v; want 2", n, err)
	}
	left, _ := s.ListAudit(ctx, store.AuditFilter{})
	if len(left) != 3 {
		t.Fatalf("%d left after prune, want 3", len(left))
	}
}

// testAdminAudit checks admin records: kind, action and target round-trip,
// token records read back as kind token, and the kind filter.
func testAdminAudit(t *testing.T, s store.Store) {
	ctx := t.Context()
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	recs := []store.AuditRecord{
		{Time: base, Subject: "bob", Method: "password", Result: store.AuditIssued, RequestID: "tok"},
		{Time: base.Add(time.Minute), Subject: "alice", ClientIP: "10.0.0.2", Result: store.AuditDone,
			Kind: store.AuditKindAdmin, Action: "project.create", Target: "project team", RequestID: "adm"},
	}
	if err := s.AppendAudit(ctx, recs); err != nil {
		t.Fatal(err)
	}
	got, err := s.ListAudit(ctx, store.AuditFilter{Kind: store.AuditKindAdmin})
	if err != nil || len(got) != 1 {
		t.Fatalf("ListAudit(admin) = %+v, %v", got, err)
	}
	if a := got[0]; a.Kind != store.AuditKindAdmin || a.Action != "project.create" || a.Target != "project team" ||
		a.Subject != "alice" || a.ClientIP != "10.0.0.2" || a.Result != store.AuditDone {
		t.Errorf("admin record = %+v", a)
	}
	got, err = s.ListAudit(ctx, store.AuditFilter{Kind: store.AuditKindToken})
	if err != nil || len(got) != 1 || got[0].RequestID != "tok" || got[0].Kind != store.AuditKindToken {
		t.Errorf("ListAudit(token) = %+v, %v", got, err)
	}
	got, err = s.ListAudit(ctx, store.AuditFilter{Kind: store.AuditKindAdmin, Subject: "bob"})
	if err != nil || len(got) != 0 {
		t.Errorf("ListAudit(admin, bob) = %+v, %v", got, err)
	}
}

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

// testAuditLargeBatch: a batch of many records (written in chunks of
// several rows per statement) is written whole, every field of every
// record in place.
func testAuditLargeBatch(t *testing.T, s store.Store) {
	ctx := t.Context()
	base := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	var batch []store.AuditRecord
	for i := range 37 { // two chunks of 16 and 5 single rows
		batch = append(batch, store.AuditRecord{
			Time: base.Add(time.Duration(i) * time.Second), Subject: fmt.Sprintf("u%02d", i), Method: "password",
			ClientIP: fmt.Sprintf("10.0.0.%d", i), UserAgent: fmt.Sprintf("agent/%d", i), Service: "harbor-registry",
			Requested: []string{fmt.Sprintf("repository:p%d/app:pull", i)}, Granted: []string{fmt.Sprintf("repository:p%d/app:pull", i)},
			Result: store.AuditIssued, ClientID: fmt.Sprintf("c%d", i), RequestID: fmt.Sprintf("big%02d", i),
			Kind: store.AuditKindToken, Endpoint: "token", JTI: fmt.Sprintf("jti-big-%d", i),
		})
	}
	if err := s.AppendAudit(ctx, batch); err != nil {
		t.Fatal(err)
	}
	got, err := s.ListAudit(ctx, store.AuditFilter{Since: base, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(batch) {
		t.Fatalf("%d records listed, want %d", len(got), len(batch))
	}
	for i, r := range got { // newest first
		want := batch[len(batch)-1-i]
		r.ID = 0
		if !r.Time.Equal(want.Time) {
			t.Fatalf("record %d: time %v, want %v", i, r.Time, want.Time)
		}
		r.Time = want.Time
		if !reflect.DeepEqual(r, want) {
			t.Fatalf("record %d:\n got %+v\nwant %+v", i, r, want)
		}
	}
}
