// Package authntest builds the pieces of the login stack tests share: stored users and robots, the chain, the server's stack (internal/authn/stack), role grants.
package authntest

import (
	"context"
	"errors"
	"testing"

	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/authn/secret"
	"github.com/authserver/authserver/internal/authn/stack"
	"github.com/authserver/authserver/internal/authz"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/store"
)

// AddLocal stores a local user with a bcrypt (cost 4) hash of pass.
func AddLocal(t testing.TB, st store.Store, name, pass string, admin bool) {
	t.Helper()
	hash, err := secret.HashPassword(pass, 4)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateUser(context.Background(), &store.User{Name: name, PasswordHash: hash, Admin: admin}); err != nil {
		t.Fatal(err)
	}
}

// DisableUser marks the stored user name disabled, as an operator would.
func DisableUser(t testing.TB, st store.Store, name string) {
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

// NewChain is the server's authenticator: local users first, then dir.
func NewChain(t testing.TB, st store.Store, dir authn.DirectoryAuthenticator) *authn.Chain {
	t.Helper()
	local, err := secret.NewLocal(st, 4)
	if err != nil {
		t.Fatal(err)
	}
	return authn.NewChain(st, local, dir, nil)
}

// MustMember gives a group (created with dn when missing) or user a role.
func MustMember(t testing.TB, st store.Store, project string, kind store.MemberKind, name, dn string, role store.Role) {
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

// AddRobot stores a robot with the hash of secret.
func AddRobot(t testing.TB, st store.Store, name, project, sec string) {
	t.Helper()
	if err := st.CreateRobot(context.Background(), &store.Robot{Name: name, Project: project, Permissions: store.OneProject(project, "pull"),
		SecretHash: secret.Hash(sec)}); err != nil {
		t.Fatal(err)
	}
}

// Granted is what id may do on scope, as the authorizer judges it.
func Granted(t *testing.T, st store.Store, id authn.Identity, scope string) []string {
	t.Helper()
	scopes, err := authz.ParseScopes([]string{scope})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := authz.New(st).Authorize(t.Context(), authz.Subject{Name: id.Name, UserID: id.UserID, Admin: id.Admin, GroupDNs: id.GroupDNs}, scopes)
	if err != nil {
		t.Fatal(err)
	}
	return ds[0].Granted
}

// Config is the embedded default config as far as the login stack reads
// it, made for tests: bcrypt cost 4 and no credential cache.
func Config() config.Config {
	cfg := config.Defaults()
	cfg.Passwords.BcryptCost = 4
	cfg.Cache.CredentialsTTL = 0
	return cfg
}

// NewStack is the login stack the server builds from cfg (internal/authn/stack)
// over st; its directory, if any, is closed when the test ends.
func NewStack(t testing.TB, st store.Store, cfg config.Config, o stack.Options) *stack.Stack {
	t.Helper()
	s, err := stack.New(cfg, st, o)
	if err != nil {
		t.Fatal(err)
	}
	if s.Directory != nil {
		t.Cleanup(s.Directory.Close)
	}
	return s
}

// Stack is the password stack the server builds (robots → PATs → local,
// or the chain of local users and the directory of dir when dir is set)
// and its dummy comparison.
func Stack(t *testing.T, st store.Store, cost int, dir *config.LDAP) (authn.PasswordAuthenticator, *authn.Dummy) {
	t.Helper()
	cfg := Config()
	cfg.Passwords.BcryptCost = cost
	cfg.LDAP = dir
	s := NewStack(t, st, cfg, stack.Options{})
	return s.Passwords, s.Passwords.(*secret.Robots).Dummy()
}
