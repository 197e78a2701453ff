//go:build integration

package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/store/postgres"
)

// TestPolicyVersionNoDeadlock: two transactions that write the tables
// behind the policy version in opposite orders (a membership then a user,
// and that user alone) both commit, one after the other, and the version
// moves past both. With the counter bumped at the end of each statement,
// the first held the counter's row and waited for the user's row while the
// second held the user's row and waited for the counter: PostgreSQL
// aborted one as a deadlock (migration 0061 bumps at commit).
func TestPolicyVersionNoDeadlock(t *testing.T) {
	ctx := t.Context()
	s := migrated(t)
	for _, err := range []error{
		s.CreateUser(ctx, &store.User{Name: "ann"}),
		s.CreateProject(ctx, &store.Project{Name: "team"}),
		s.SetMember(ctx, store.Member{Project: "team", Kind: store.MemberUser, Name: "ann", Role: store.RoleGuest}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	before, err := s.PolicyVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pool := s.(*postgres.Store).Pool()
	a, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Rollback(context.Background())
	b, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Rollback(context.Background())
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := a.Exec(tctx, `UPDATE members SET role = 'developer' WHERE user_id = (SELECT id FROM users WHERE name = 'ann')`); err != nil {
		t.Fatalf("a: members: %v", err)
	}
	bDone := make(chan error, 1)
	go func() {
		_, err := b.Exec(tctx, `UPDATE users SET email = 'b@example.org' WHERE name = 'ann'`)
		if err == nil {
			err = b.Commit(tctx)
		}
		bDone <- err
	}()
	time.Sleep(200 * time.Millisecond) // b holds ann's row (and has committed, unless it waits for a)
	_, aErr := a.Exec(tctx, `UPDATE users SET email = 'a@example.org' WHERE name = 'ann'`)
	if aErr == nil {
		aErr = a.Commit(tctx)
	}
	if bErr := <-bDone; aErr != nil || bErr != nil {
		t.Fatalf("a: %v; b: %v (want both committed)", aErr, bErr)
	}
	after, err := s.PolicyVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after < before+2 {
		t.Fatalf("policy version %d → %d after two committed transactions: want two bumps", before, after)
	}
	u, err := s.GetUser(ctx, "ann")
	if err != nil || u.Email != "a@example.org" {
		t.Fatalf("ann after both: %+v, %v", u, err)
	}
}
