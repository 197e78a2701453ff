// Package storetest is the conformance suite that every store.Store backend must pass.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/authserver/authserver/internal/store"
)

// Migrator is implemented by backends whose schema is brought up to date by
// Migrate (all of them today).
type Migrator interface {
	Migrate(ctx context.Context) error
}

// Run runs the whole suite. newStore must return a migrated, empty store
// that is independent of every other store it returned (and closed by the
// caller's t.Cleanup). Each subtest gets its own store.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{name: "Ping", fn: testPing},
		{name: "MigrateTwice", fn: testMigrateTwice},
		{name: "Users", fn: testUsers},
		{name: "UserErrors", fn: testUserErrors},
		{name: "Projects", fn: testProjects},
		{name: "Groups", fn: testGroups},
		{name: "GroupUsers", fn: testGroupUsers},
		{name: "Members", fn: testMembers},
		{name: "MemberErrors", fn: testMemberErrors},
		{name: "Cascade", fn: testCascade},
		{name: "ProjectAccess", fn: testProjectAccess},
		{name: "PolicyVersion", fn: testPolicyVersion},
		{name: "RefreshTokens", fn: testRefreshTokens},
		{name: "RefreshRevocation", fn: testRefreshRevocation},
		{name: "RefreshTokenCap", fn: testRefreshTokenCap},
		{name: "Robots", fn: testRobots},
		{name: "TrustedRobots", fn: testTrustedRobots},
		{name: "RobotPermissions", fn: testRobotPermissions},
		{name: "PersonalTokens", fn: testPersonalTokens},
		{name: "LDAPUsers", fn: testLDAPUsers},
		{name: "LDAPUserAccess", fn: testLDAPUserAccess},
		{name: "LDAPEntryReplaced", fn: testLDAPEntryReplaced},
		{name: "OIDCUsers", fn: testOIDCUsers},
		{name: "SignIns", fn: testSignIns},
		{name: "DeviceCodes", fn: testDeviceCodes},
		{name: "PendingLogins", fn: testPendingLogins},
		{name: "Audit", fn: testAudit},
		{name: "AuditLargeBatch", fn: testAuditLargeBatch},
		{name: "AdminAudit", fn: testAdminAudit},
		{name: "Atomically", fn: testAtomically},
		{name: "ByID", fn: testByID},
		{name: "AddMember", fn: testAddMember},
		{name: "Owners", fn: testOwners},
		{name: "Metadata", fn: testMetadata},
		{name: "Pages", fn: testPages},
		{name: "ModifyUser", fn: testModifyUser},
		{name: "ModifyRobot", fn: testModifyRobot},
		{name: "ModifyConcurrent", fn: testModifyConcurrent},
		{name: "Throttles", fn: testThrottles},
		{name: "Exclusively", fn: testExclusively},
		{name: "Rules", fn: testRules},
		{name: "Visibility", fn: testVisibility},
		{name: "CredentialConditions", fn: testCredentialConditions},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore(t)) })
	}
}

// RunSharedDatabase checks that several handles on the SAME database (the
// server and admin CLI processes) can migrate at once and then write
// concurrently. open must return a new, unmigrated handle on one fresh
// database each time it is called (closed by the caller's t.Cleanup).
func RunSharedDatabase(t *testing.T, open func(t *testing.T) store.Store) {
	const handles, writers, perWriter = 3, 4, 10
	ctx := t.Context()
	stores := make([]store.Store, handles)
	for i := range stores {
		stores[i] = open(t)
	}
	var wg sync.WaitGroup
	errs := make(chan error, handles+2*handles*writers*perWriter)
	for _, s := range stores {
		wg.Go(func() {
			m, ok := s.(Migrator)
			if !ok {
				errs <- fmt.Errorf("%T has no Migrate method", s)
				return
			}
			errs <- m.Migrate(ctx)
		})
	}
	wg.Wait()
	for i, s := range stores {
		for w := range writers {
			wg.Go(func() {
				for n := range perWriter {
					u := &store.User{Name: fmt.Sprintf("u%d-%d-%d", i, w, n)}
					if err := s.CreateUser(ctx, u); err != nil {
						errs <- err
						continue
					}
					errs <- s.SetProjectPublic(ctx, "missing", true) // a write that finds nothing
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Errorf("concurrent use: %v", err)
		}
	}
	for i, s := range stores {
		n, err := s.CountUsers(ctx)
		if err != nil || n != handles*writers*perWriter {
			t.Errorf("handle %d: CountUsers = %d, %v; want %d", i, n, err, handles*writers*perWriter)
		}
	}
}

func testPing(t *testing.T, s store.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func testMigrateTwice(t *testing.T, s store.Store) {
	ctx := t.Context()
	m, ok := s.(Migrator)
	if !ok {
		t.Fatalf("%T has no Migrate method", s)
	}
	mustUser(t, s, "alice")
	for i := range 2 {
		if err := m.Migrate(ctx); err != nil {
			t.Fatalf("Migrate #%d: %v", i+2, err)
		}
	}
	if _, err := s.GetUser(ctx, "alice"); err != nil {
		t.Fatalf("user lost after re-migrating: %v", err)
	}
}

// errPlain, as the want of wantErr, asks for an error that is neither
// sentinel (invalid input).
var errPlain = errors.New("any non-sentinel error")

// wantErr checks err against a sentinel; want nil means success.
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	switch {
	case want == errPlain:
		if err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrAlreadyExists) {
			t.Errorf("%s: error = %v, want a plain error", what, err)
		}
	case want == nil && err != nil:
		t.Errorf("%s: unexpected error %v", what, err)
	case want != nil && !errors.Is(err, want):
		t.Errorf("%s: error = %v, want %v", what, err, want)
	case want != nil && err.Error() == want.Error():
		t.Errorf("%s: error %q is not wrapped with the operation", what, err)
	}
}

// errCase is a call and the error wantErr expects of it.
type errCase struct {
	name string
	call func() error
	want error
}

// wantErrs runs each case as a subtest.
func wantErrs(t *testing.T, cases []errCase) {
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) { wantErr(t, tt.name, tt.call(), tt.want) })
	}
}

// wantCascade deletes an owner with del and wants get, a read of
// something the owner held (what), to fail: nothing survives its owner.
func wantCascade(t *testing.T, what, owner string, del, get func() error) {
	t.Helper()
	if err := del(); err != nil {
		t.Fatal(err)
	}
	if get() == nil {
		t.Errorf("%s survived its %s's deletion", what, owner)
	}
}

func mustUser(t *testing.T, s store.Store, name string) store.User {
	t.Helper()
	u := store.User{Name: name, Email: name + "@example.org"}
	if err := s.CreateUser(t.Context(), &u); err != nil {
		t.Fatalf("CreateUser(%s): %v", name, err)
	}
	return u
}

// mustProject creates a project and then its members, in order.
func mustProject(t *testing.T, s store.Store, name string, public bool, members ...member) {
	t.Helper()
	if err := s.CreateProject(t.Context(), &store.Project{Name: name, Public: public}); err != nil {
		t.Fatalf("CreateProject(%s): %v", name, err)
	}
	for _, m := range members {
		mustMember(t, s, name, m.kind, m.name, m.role)
	}
}

// member is a membership for mustProject: a user or group with a role.
type member struct {
	kind store.MemberKind
	name string
	role store.Role
}

func userAs(name string, role store.Role) member  { return member{store.MemberUser, name, role} }
func groupAs(name string, role store.Role) member { return member{store.MemberGroup, name, role} }

func mustGroup(t *testing.T, s store.Store, name, dn string, users ...string) {
	t.Helper()
	if err := s.CreateGroup(t.Context(), &store.Group{Name: name, DN: dn}); err != nil {
		t.Fatalf("CreateGroup(%s): %v", name, err)
	}
	for _, u := range users {
		if err := s.AddGroupUser(t.Context(), name, u); err != nil {
			t.Fatalf("AddGroupUser(%s, %s): %v", name, u, err)
		}
	}
}

func mustMember(t *testing.T, s store.Store, project string, kind store.MemberKind, name string, role store.Role) {
	t.Helper()
	m := store.Member{Project: project, Kind: kind, Name: name, Role: role}
	if err := s.SetMember(t.Context(), m); err != nil {
		t.Fatalf("SetMember(%+v): %v", m, err)
	}
}
