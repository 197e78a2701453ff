package admin_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/authserver/authserver/internal/admin"
	"github.com/authserver/authserver/internal/registry"
	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/testenv/sqlitetest"
)

// fakeRegistry holds repositories by name; del, when set, is what a
// deletion answers.
type fakeRegistry struct {
	repos []string
	del   error
	list  error
}

func (r *fakeRegistry) Repositories(_ context.Context, project string) ([]string, error) {
	var out []string
	for _, n := range r.repos {
		if strings.HasPrefix(n, project+"/") {
			out = append(out, n)
		}
	}
	return out, r.list
}

func (r *fakeRegistry) DeleteRepository(_ context.Context, repo string) error {
	if r.del != nil {
		return r.del
	}
	if !slices.Contains(r.repos, repo) {
		return fmt.Errorf("fake: %w", registry.ErrNotFound)
	}
	r.repos = slices.DeleteFunc(r.repos, func(n string) bool { return n == repo })
	return nil
}

// TestRegistry: with a registry, deleting a project is refused
// (KindPrecondition, 412) while it holds repositories, a projectAdmin
// deletes them (an admin audit record each through the change path), a
// registry that refuses deletes is a precondition too, a registry that
// fails is an error of its own (503), and the emptied project's name is
// not reserved.
func TestRegistry(t *testing.T) {
	ctx := t.Context()
	st := sqlitetest.Open(t)
	reg := &fakeRegistry{repos: []string{"team/app", "team/tools/lint", "team-x/app"}}
	adm := admin.New(st, admin.Options{RobotPrefix: "robot$", BcryptCost: 4, Registry: reg})
	_, err := adm.CreateUser(ctx, root, admin.NewUser{Name: "owner", Password: "Pass-word-1"})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := st.GetUser(ctx, "owner")
	owner := admin.Actor{Name: "owner", UserID: u.ID}
	p, err := adm.CreateProject(ctx, owner, admin.NewProject{Name: "team"})
	if err != nil {
		t.Fatal(err)
	}
	if repos, err := adm.Repositories(ctx, owner, p.ID); err != nil || !slices.Equal(repos, []string{"team/app", "team/tools/lint"}) {
		t.Errorf("Repositories = %v, %v", repos, err)
	}
	_, err = adm.DeleteProject(ctx, owner, p.ID)
	var ae *admin.Error
	if !errors.As(err, &ae) || ae.Kind != admin.KindPrecondition || !strings.Contains(ae.Msg, "team/app") {
		t.Fatalf("DeleteProject with repositories = %v, want KindPrecondition naming them", err)
	}
	wantErr(t, adm.DeleteRepository(ctx, owner, p.ID, "team-x/app"), admin.ErrInvalid, "")
	wantErr(t, adm.DeleteRepository(ctx, admin.Actor{Name: "nobody", UserID: 999}, p.ID, "team/app"), admin.ErrNotFound, "")
	wantErr(t, adm.DeleteRepository(ctx, owner, p.ID, "team/gone"), admin.ErrNotFound, "repository team/gone not found")

	reg.del = fmt.Errorf("fake: %w", registry.ErrDeleteDisabled)
	err = adm.DeleteRepository(ctx, owner, p.ID, "team/app")
	if !errors.As(err, &ae) || ae.Kind != admin.KindPrecondition || !strings.Contains(ae.Msg, "storage.delete.enabled") {
		t.Errorf("DeleteRepository on a registry refusing deletes = %v", err)
	}
	reg.del = fmt.Errorf("fake: %w", registry.ErrUnavailable)
	if err := adm.DeleteRepository(ctx, owner, p.ID, "team/app"); !errors.Is(err, registry.ErrUnavailable) || errors.As(err, &ae) {
		t.Errorf("DeleteRepository on a failing registry = %v, want registry.ErrUnavailable", err)
	}
	reg.del = nil
	for _, repo := range []string{"team/app", "team/tools/lint"} {
		if err := adm.DeleteRepository(ctx, owner, p.ID, repo); err != nil {
			t.Fatal(err)
		}
	}
	reg.list = fmt.Errorf("fake: %w", registry.ErrUnavailable)
	if _, err := adm.DeleteProject(ctx, owner, p.ID); !errors.Is(err, registry.ErrUnavailable) {
		t.Errorf("DeleteProject when the registry fails = %v", err)
	}
	reg.list = nil
	if _, err := adm.DeleteProject(ctx, owner, p.ID); err != nil {
		t.Fatalf("DeleteProject emptied: %v", err)
	}
	if reserved, err := st.ProjectNameReserved(ctx, "team"); err != nil || reserved {
		t.Errorf("with a registry the name is reserved: %v, %v", reserved, err)
	}
	recs, err := st.ListAudit(ctx, store.AuditFilter{Kind: store.AuditKindAdmin, Subject: "owner"})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, r := range recs {
		actions = append(actions, r.Action+" "+r.Target)
	}
	for _, want := range []string{"repository.delete repository team/app", "repository.delete repository team/tools/lint", "project.delete project team"} {
		if !slices.Contains(actions, want) {
			t.Errorf("audit trail %v lacks %q", actions, want)
		}
	}
}
