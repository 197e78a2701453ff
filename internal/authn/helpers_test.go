package authn_test

import (
	"context"
	"errors"
	"testing"

	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/store"
)

func addLocal(t testing.TB, st store.Store, name, pass string, admin bool) {
	t.Helper()
	hash, err := authn.HashPassword(pass, 4)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateUser(context.Background(), &store.User{Name: name, PasswordHash: hash, Admin: admin}); err != nil {
		t.Fatal(err)
	}
}

// disableUser marks the stored user name disabled, as an operator would.
func disableUser(t testing.TB, st store.Store, name string) {
	t.Helper()
	ctx := context.Background()
	u, err := st.GetUser(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	u.Disabled = true
	if err := st.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
}

// newChain is the server's authenticator: local users first, then dir.
func newChain(t testing.TB, st store.Store, dir authn.DirectoryAuthenticator) *authn.Chain {
	t.Helper()
	local, err := authn.NewLocal(st, 4)
	if err != nil {
		t.Fatal(err)
	}
	return authn.NewChain(st, local, dir, nil)
}

// mustMember gives a group (created with dn when missing) or user a role.
func mustMember(t testing.TB, st store.Store, project string, kind store.MemberKind, name, dn string, role store.Role) {
	t.Helper()
	ctx := context.Background()
	if _, err := st.GetProject(ctx, project); errors.Is(err, store.ErrNotFound) {
		if err := st.CreateProject(ctx, &store.Project{Name: project}); err != nil {
			t.Fatal(err)
		}
	}
	if kind == store.MemberGroup {
		if _, err := st.GetGroup(ctx, name); errors.Is(err, store.ErrNotFound) {
			if err := st.CreateGroup(ctx, &store.Group{Name: name, DN: dn}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := st.SetMember(ctx, store.Member{Project: project, Kind: kind, Name: name, Role: role}); err != nil {
		t.Fatal(err)
	}
}
