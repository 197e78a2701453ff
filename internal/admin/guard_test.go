package admin_test

import (
	"testing"

	"github.com/authserver/authserver/internal/admin"
)

// TestLastSysadmin: the last enabled sysadmin cannot be deleted, demoted
// or disabled (409, saying what to do), by the API's actors or the CLI,
// unless the CLI forces it; with a second sysadmin all three work. Nobody
// does any of them to themselves (403); --force is the CLI's alone.
func TestLastSysadmin(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	cli := admin.Actor{Name: "cli", Admin: true, Method: admin.MethodCLI}
	_, err := f.adm.CreateUser(ctx, root, admin.NewUser{Name: "boss", Password: "Pass-word-1", Admin: true})
	f.must(t, err)
	boss := f.userID("boss")
	const last = "user boss is the last sysadmin: make another user sysadmin first"
	refusals := []struct {
		name string
		who  admin.Actor
		call func(who admin.Actor) error
	}{
		{"delete", root, func(who admin.Actor) error { _, err := f.adm.DeleteUser(ctx, who, boss, false); return err }},
		{"demote", root, func(who admin.Actor) error {
			_, err := f.adm.UpdateUser(ctx, who, boss, admin.UserChange{Admin: ptr(false)})
			return err
		}},
		{"disable", root, func(who admin.Actor) error {
			_, err := f.adm.UpdateUser(ctx, who, boss, admin.UserChange{Disabled: ptr(true)})
			return err
		}},
	}
	for _, r := range refusals {
		wantErr(t, r.call(root), admin.ErrExists, last)
		wantErr(t, r.call(cli), admin.ErrExists, last+" (or give --force)")
		wantErr(t, r.call(admin.Actor{Name: "boss", Admin: true, UserID: boss}), admin.ErrForbidden,
			"boss may not "+r.name+" themselves: ask another sysadmin")
	}
	_, err = f.adm.DeleteUser(ctx, root, boss, true)
	wantErr(t, err, admin.ErrInvalid, "--force is the CLI's")

	// A second sysadmin: boss may go.
	_, err = f.adm.CreateUser(ctx, root, admin.NewUser{Name: "second", Password: "Pass-word-1", Admin: true})
	f.must(t, err)
	_, err = f.adm.UpdateUser(ctx, root, boss, admin.UserChange{Disabled: ptr(true)})
	f.must(t, err)
	// second is now the last enabled one; the CLI forces it out.
	_, err = f.adm.UpdateUser(ctx, cli, f.userID("second"), admin.UserChange{Admin: ptr(false)})
	wantErr(t, err, admin.ErrExists, "user second is the last sysadmin: make another user sysadmin first (or give --force)")
	_, err = f.adm.UpdateUser(ctx, cli, f.userID("second"), admin.UserChange{Admin: ptr(false), Force: true})
	f.must(t, err)
	_, err = f.adm.DeleteUser(ctx, cli, boss, false) // disabled: not counted, may go
	f.must(t, err)
}
