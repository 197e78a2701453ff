package admin_test

import (
	"errors"
	"testing"

	"github.com/authserver/authserver/internal/admin"
	"github.com/authserver/authserver/internal/store"
)

// roleFixture has project team (private) with one user per role, project
// open (public), and users outsider (no role) and creator.
type roleFixture struct {
	*fixture
	actors map[string]admin.Actor
}

func newRoleFixture(t *testing.T, opt func(*admin.Options)) *roleFixture {
	t.Helper()
	f := newFixture(t, nil)
	if opt != nil {
		// Rebuild the service with changed options on the same store.
		o := admin.Options{RobotPrefix: "robot$", BcryptCost: 4, Now: f.clock.now}
		opt(&o)
		f.adm = admin.New(f.st, o)
	}
	f.seed(t)
	ctx := t.Context()
	_, err := f.adm.CreateProject(ctx, root, admin.NewProject{Name: "open", Public: true})
	f.must(t, err)
	rf := &roleFixture{fixture: f, actors: map[string]admin.Actor{"anonymous": {}}}
	for _, who := range []string{"padmin", "maintainer", "developer", "guest", "outsider", "creator"} {
		u, err := f.adm.CreateUser(ctx, root, admin.NewUser{Name: who, Password: "Pass-word-1"})
		f.must(t, err)
		rf.actors[who] = admin.Actor{Name: who, UserID: u.ID}
	}
	for who, role := range map[string]string{"padmin": "projectAdmin", "maintainer": "maintainer", "developer": "developer", "guest": "guest"} {
		_, _, err := f.adm.AddMember(ctx, root, f.projectID("team"), admin.MemberRef{User: who}, role)
		f.must(t, err)
	}
	return rf
}

func TestDelegatedPermissions(t *testing.T) {
	f := newRoleFixture(t, nil)
	ctx := t.Context()
	type op struct {
		name string
		call func(who admin.Actor) error
	}
	ops := []op{
		{name: "read team", call: func(who admin.Actor) error { _, err := f.adm.GetProject(ctx, who, f.projectID("team")); return err }},
		{name: "read open", call: func(who admin.Actor) error { _, err := f.adm.GetProject(ctx, who, f.projectID("open")); return err }},
		{name: "members of team", call: func(who admin.Actor) error { _, err := f.adm.ListMembers(ctx, who, f.projectID("team")); return err }},
		{name: "add member", call: func(who admin.Actor) error {
			_, _, err := f.adm.AddMember(ctx, who, f.projectID("team"), admin.MemberRef{User: "creator"}, "guest")
			return err
		}},
		{name: "team robot", call: func(who admin.Actor) error {
			_, _, err := f.adm.CreateRobot(ctx, who, admin.NewRobot{Name: "r" + who.Name, Project: "team", Actions: []string{"pull", "delete"}})
			return err
		}},
		{name: "open robot", call: func(who admin.Actor) error {
			_, _, err := f.adm.CreateRobot(ctx, who, admin.NewRobot{Name: "r" + who.Name, Project: "open", Actions: []string{"pull"}})
			return err
		}},
		{name: "system robot", call: func(who admin.Actor) error {
			_, _, err := f.adm.CreateRobot(ctx, who, admin.NewRobot{Name: "s" + who.Name, Project: "*", Actions: []string{"pull"}})
			return err
		}},
		{name: "team visibility", call: func(who admin.Actor) error {
			_, err := f.adm.SetProjectPublic(ctx, who, f.projectID("team"), false)
			return err
		}},
		{name: "create project", call: func(who admin.Actor) error {
			_, err := f.adm.CreateProject(ctx, who, admin.NewProject{Name: "new-" + who.Name})
			return err
		}},
		{name: "list users", call: func(who admin.Actor) error { _, err := f.adm.ListUsers(ctx, who); return err }},
		{name: "create group", call: func(who admin.Actor) error { _, err := f.adm.CreateGroup(ctx, who, "g"+who.Name, ""); return err }},
		{name: "own profile", call: func(who admin.Actor) error { _, err := f.adm.GetUser(ctx, who, f.userID(who.Name)); return err }},
		{name: "other profile", call: func(who admin.Actor) error { _, err := f.adm.GetUser(ctx, who, f.userID("guest")); return err }},
	}
	const (
		ok   = "ok"
		nf   = "404"
		forb = "403"
	)
	want := map[string][]string{
		//            read team read open members add  robot  open-r sys  vis   create users group own  other
		"padmin":     {ok, ok, ok, ok, ok, forb, forb, ok, ok, forb, forb, ok, forb},
		"maintainer": {ok, ok, ok, forb, forb, forb, forb, forb, ok, forb, forb, ok, forb},
		"developer":  {ok, ok, ok, forb, forb, forb, forb, forb, ok, forb, forb, ok, forb},
		"guest":      {ok, ok, ok, forb, forb, forb, forb, forb, ok, forb, forb, ok, ok},
		"outsider":   {nf, ok, nf, nf, nf, forb, forb, nf, ok, forb, forb, ok, forb},
		"anonymous":  {nf, ok, nf, nf, nf, forb, forb, nf, forb, forb, forb, nf, forb}, // no own profile: no such user
	}
	for who, row := range want {
		for i, o := range ops {
			t.Run(who+"/"+o.name, func(t *testing.T) {
				err := o.call(f.actors[who])
				got := ok
				switch {
				case err == nil:
				case errors.Is(err, admin.ErrNotFound):
					got = nf
				case errors.Is(err, admin.ErrForbidden):
					got = forb
				default:
					got = err.Error()
				}
				if got != row[i] {
					t.Errorf("%s: got %s (%v), want %s", o.name, got, err, row[i])
				}
			})
		}
	}
	// A creator becomes the new project's projectAdmin.
	ms, err := f.adm.ListMembers(ctx, f.actors["outsider"], f.projectID("new-outsider"))
	if err != nil || len(ms) != 1 || ms[0].Name != "outsider" || ms[0].Role != store.RoleProjectAdmin {
		t.Errorf("members of a user's new project = %+v, %v", ms, err)
	}
	// A non-member lists only public projects and their own.
	ps, err := f.adm.ListProjects(ctx, f.actors["outsider"])
	var names []string
	for _, p := range ps {
		names = append(names, p.Name)
	}
	if err != nil || len(names) != 2 || names[0] != "new-outsider" || names[1] != "open" {
		t.Errorf("outsider's projects = %v, %v", names, err)
	}
}

func TestProjectCreationAdminOnly(t *testing.T) {
	f := newRoleFixture(t, func(o *admin.Options) { o.AdminOnlyProjects = true })
	_, err := f.adm.CreateProject(t.Context(), f.actors["padmin"], admin.NewProject{Name: "mine", Public: false})
	wantErr(t, err, admin.ErrForbidden, "padmin may not create projects: api.project_creation is adminonly: it takes a sysadmin")
	_, err = f.adm.CreateProject(t.Context(), root, admin.NewProject{Name: "mine", Public: false})
	wantErr(t, err, nil, "")
}

// TestRoleCaps: a projectAdmin manages every role and action, so the caps
// bite only through the store's roles as they are; a guest is refused
// before the cap, as Harbor does.
func TestRoleCaps(t *testing.T) {
	f := newRoleFixture(t, nil)
	ctx := t.Context()
	_, _, err := f.adm.AddMember(ctx, f.actors["padmin"], f.projectID("team"), admin.MemberRef{User: "outsider"}, "projectAdmin")
	wantErr(t, err, nil, "")
	_, _, err = f.adm.CreateRobot(ctx, f.actors["padmin"], admin.NewRobot{Name: "del", Project: "team", Actions: []string{"delete"}})
	wantErr(t, err, nil, "")
	_, err = f.adm.UpdateRobot(ctx, f.actors["guest"], f.robotID("team+ci"), admin.RobotChange{Actions: []string{"push"}})
	wantErr(t, err, admin.ErrForbidden, "")
}

func TestAdminAuditTrail(t *testing.T) {
	f := newRoleFixture(t, nil)
	ctx := t.Context()
	who := f.actors["padmin"]
	who.ClientIP = "192.0.2.7"
	_, _, err := f.adm.AddMember(ctx, who, f.projectID("team"), admin.MemberRef{User: "outsider"}, "guest")
	f.must(t, err)
	// A refused change is not recorded.
	_, _ = f.adm.CreateUser(ctx, who, admin.NewUser{Name: "x", Password: "Pass-word-1"})
	recs, err := f.st.ListAudit(ctx, store.AuditFilter{Kind: store.AuditKindAdmin, Limit: 1000})
	f.must(t, err)
	if len(recs) == 0 {
		t.Fatal("no admin records")
	}
	got := recs[0]
	if got.Subject != "padmin" || got.ClientIP != "192.0.2.7" || got.Action != "member.add" ||
		got.Target != "project team: user outsider as guest" || got.Time.IsZero() {
		t.Errorf("newest admin record = %+v", got)
	}
	// The CLI's changes are recorded too, as local.
	last := recs[len(recs)-1]
	if last.Subject != "root" || last.ClientIP != "local" || last.Action != "user.create" {
		t.Errorf("oldest admin record = %+v", last)
	}
}
