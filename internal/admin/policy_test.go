package admin_test

import (
	"strings"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/admin"
	"github.com/authserver/authserver/internal/authz"
	"github.com/authserver/authserver/internal/store"
)

// TestRules covers who may add rules, what a rule may say, and the audit
// record of each change.
func TestRules(t *testing.T) {
	f := newFixture(t, nil)
	f.seed(t)
	ctx := t.Context()
	_, err := f.adm.CreateUser(ctx, root, admin.NewUser{Name: "alice", Password: "Pass-word-1"})
	f.must(t, err)
	_, err = f.adm.CreateProject(ctx, root, admin.NewProject{Name: "other"})
	f.must(t, err)
	_, _, err = f.adm.CreateRobot(ctx, root, admin.NewRobot{Name: "ci", Project: "other", Actions: []string{"pull"}, Lifetime: time.Hour})
	f.must(t, err)
	rule := func(mod func(*admin.NewRule)) admin.NewRule {
		nr := admin.NewRule{Project: "team", Repos: "app-*", Subject: admin.RuleUser, Name: "bob", Actions: []string{"push"}}
		mod(&nr)
		return nr
	}
	tests := []struct {
		name string
		who  admin.Actor
		nr   admin.NewRule
		kind error
	}{
		{"allow", root, rule(func(*admin.NewRule) {}), nil},
		{"same again", root, rule(func(*admin.NewRule) {}), admin.ErrExists},
		{"deny for a group", root, rule(func(r *admin.NewRule) { r.Subject, r.Name, r.Deny = admin.RuleGroup, "nobody", true }), admin.ErrNotFound},
		{"every authenticated caller", root, rule(func(r *admin.NewRule) { r.Subject, r.Name = admin.RuleAuthenticated, "" }), nil},
		{"authenticated names no one", root, rule(func(r *admin.NewRule) { r.Subject = admin.RuleAuthenticated }), admin.ErrInvalid},
		{"its own robot, by login", root, rule(func(r *admin.NewRule) { r.Subject, r.Name = admin.RuleRobot, "robot$team+ci" }), nil},
		{"another project's robot", root, rule(func(r *admin.NewRule) { r.Subject, r.Name = admin.RuleRobot, "other+ci" }), admin.ErrInvalid},
		{"bad pattern", root, rule(func(r *admin.NewRule) { r.Repos = "App/*" }), admin.ErrInvalid},
		{"bad action", root, rule(func(r *admin.NewRule) { r.Actions = []string{"write"} }), admin.ErrInvalid},
		{"bad subject", root, rule(func(r *admin.NewRule) { r.Subject = "everyone" }), admin.ErrInvalid},
		{"missing project", root, rule(func(r *admin.NewRule) { r.Project = "ghost" }), admin.ErrNotFound},
		{"a non-member", alice, rule(func(r *admin.NewRule) { r.Repos = "x" }), admin.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.adm.AddRule(ctx, tt.who, tt.nr)
			wantErr(t, err, tt.kind, "")
		})
	}
	rs, err := f.adm.ListRules(ctx, root, "team")
	if err != nil || len(rs) != 3 || !strings.Contains(f.adm.RuleText(rs[0]), "allow user bob pull,push on team/app-*") {
		t.Fatalf("rules %+v, %v", rs, err)
	}
	if _, err := f.adm.RemoveRule(ctx, root, "other", rs[0].ID); err == nil {
		t.Error("removed team's rule through project other")
	}
	if _, err := f.adm.RemoveRule(ctx, root, "team", rs[0].ID); err != nil {
		t.Fatal(err)
	}
	recs, err := f.adm.ListAudit(ctx, root, store.AuditFilter{Kind: store.AuditKindAdmin, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, r := range recs {
		actions = append(actions, r.Action+" "+r.Target)
	}
	all := strings.Join(actions, "\n")
	for _, want := range []string{"rule.add rule 1 of project team (allow user bob pull,push on team/app-*)",
		"rule.remove rule 1 of project team"} {
		if !strings.Contains(all, want) {
			t.Errorf("audit lacks %q:\n%s", want, all)
		}
	}
}

// TestRobotPolicy covers a robot's repository patterns, networks and
// token lifetime: validated, capped by token.max_expiration, changed.
func TestRobotPolicy(t *testing.T) {
	f := newFixture(t, nil)
	f.seed(t)
	ctx := t.Context()
	adm := admin.New(f.st, admin.Options{RobotPrefix: "robot$", MaxTokenLifetime: 4 * time.Hour})
	nr := func(mod func(*admin.NewRobot)) admin.NewRobot {
		r := admin.NewRobot{Name: "x", Project: "team", Actions: []string{"push"}, Lifetime: time.Hour}
		mod(&r)
		return r
	}
	for _, tt := range []struct {
		name string
		nr   admin.NewRobot
		kind error
	}{
		{"longer than max_expiration", nr(func(r *admin.NewRobot) { r.TokenLifetime = 5 * time.Hour }), admin.ErrInvalid},
		{"shorter than a minute", nr(func(r *admin.NewRobot) { r.TokenLifetime = time.Second }), admin.ErrInvalid},
		{"bad network", nr(func(r *admin.NewRobot) { r.AllowFrom = []string{"10.0.0.0/33"} }), admin.ErrInvalid},
		{"bad pattern", nr(func(r *admin.NewRobot) { r.Repos = []string{"a//b"} }), admin.ErrInvalid},
		{"patterns on a system robot", nr(func(r *admin.NewRobot) { r.Project, r.Repos = "*", []string{"a"} }), admin.ErrInvalid},
		{"all of it", nr(func(r *admin.NewRobot) {
			r.TokenLifetime, r.AllowFrom, r.Repos = 2*time.Hour, []string{"127.0.0.2", "10.1.2.3/8"}, []string{"app-*"}
		}), nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := adm.CreateRobot(ctx, root, tt.nr)
			wantErr(t, err, tt.kind, "")
		})
	}
	r, err := adm.FindRobot(ctx, root, "team+x")
	if err != nil || strings.Join(r.AllowFrom, " ") != "127.0.0.2/32 10.0.0.0/8" || r.TokenLifetime != 2*time.Hour {
		t.Fatalf("robot %+v, %v", r.Robot, err)
	}
	none := []string{}
	r, err = adm.UpdateRobot(ctx, root, r.ID, admin.RobotChange{AllowFrom: &none})
	if err != nil || r.AllowFrom != nil || len(r.Repos) != 1 {
		t.Errorf("after clearing allow_from: %+v, %v", r.Robot, err)
	}
}

// TestCreateOnPush: a project created on push is its creator's, with an
// admin audit record; a refusal says why; a personal project ignores
// api.project_creation.
func TestCreateOnPush(t *testing.T) {
	f := newFixture(t, nil)
	f.seed(t)
	ctx := t.Context()
	bob, err := f.st.GetUser(ctx, "bob")
	f.must(t, err)
	subj := authz.Subject{Name: "bob", UserID: bob.ID, ClientIP: "192.0.2.1"}
	if why, err := f.adm.CreateOnPush(ctx, subj, "fresh", false); why != "" || err != nil {
		t.Fatalf("CreateOnPush = %q, %v", why, err)
	}
	ms, err := f.st.ListMembers(ctx, "fresh")
	if err != nil || len(ms) != 1 || ms[0].Name != "bob" || ms[0].Role != store.RoleProjectAdmin {
		t.Errorf("members %+v, %v", ms, err)
	}
	recs, _ := f.adm.ListAudit(ctx, root, store.AuditFilter{Kind: store.AuditKindAdmin, Subject: "bob"})
	if len(recs) != 1 || recs[0].Action != "project.create" || recs[0].Method != admin.MethodToken || recs[0].ClientIP != "192.0.2.1" {
		t.Errorf("audit %+v", recs)
	}
	if why, err := f.adm.CreateOnPush(ctx, subj, "fresh", false); why != "" || err != nil {
		t.Errorf("again: %q, %v (exists: no refusal)", why, err)
	}
	only := admin.New(f.st, admin.Options{AdminOnlyProjects: true})
	if why, err := only.CreateOnPush(ctx, subj, "other", false); !strings.Contains(why, "adminonly") || err != nil {
		t.Errorf("adminonly: %q, %v", why, err)
	}
	if why, err := only.CreateOnPush(ctx, subj, "u-bob", true); why != "" || err != nil {
		t.Errorf("personal under adminonly: %q, %v", why, err)
	}
	robot := authz.Subject{Name: "robot$team+ci", Robot: &authz.RobotPermissions{}}
	if why, _ := f.adm.CreateOnPush(ctx, robot, "r", false); why == "" {
		t.Error("a robot created a project")
	}
}

// TestVisibility: internal projects through the CLI's and the API's ways.
func TestVisibility(t *testing.T) {
	f := newFixture(t, nil)
	f.seed(t)
	ctx := t.Context()
	p, err := f.adm.CreateProject(ctx, root, admin.NewProject{Name: "inside", Internal: true})
	if err != nil || admin.ProjectVisibility(p) != admin.VisibilityInternal {
		t.Fatalf("create internal: %+v, %v", p, err)
	}
	_, err = f.adm.CreateProject(ctx, root, admin.NewProject{Name: "both", Internal: true, Public: true})
	wantErr(t, err, admin.ErrInvalid, "")
	md, err := f.adm.ProjectMetadata(ctx, root, p.ID)
	if err != nil || md["visibility"] != "internal" || md["public"] != "false" {
		t.Errorf("metadata %v, %v", md, err)
	}
	p, err = f.adm.SetProjectVisibility(ctx, root, p.ID, admin.VisibilityPublic)
	if err != nil || !p.Public || p.Internal {
		t.Errorf("public: %+v, %v", p, err)
	}
	_, err = f.adm.SetProjectVisibility(ctx, root, p.ID, "secret")
	wantErr(t, err, admin.ErrInvalid, "")
	team, _ := f.st.GetProject(ctx, "team")
	md, _ = f.adm.ProjectMetadata(ctx, root, team.ID)
	if len(md) != 1 {
		t.Errorf("a private project's metadata reads as in Harbor: %v", md)
	}
}

// TestApply covers policy as code: a dry run changes nothing, an apply
// makes everything in one go, again changes nothing, export reproduces
// it, prune removes what the file does not name, and a bad document
// changes nothing at all.
func TestApply(t *testing.T) {
	f := newFixture(t, nil)
	f.seed(t)
	ctx := t.Context()
	doc, err := admin.DecodePolicy(strings.NewReader(`version: 1
groups:
  - name: builders
    users: [bob]
projects:
  - name: web
    visibility: internal
    members:
      - {user: bob, role: developer}
      - {group: builders, role: guest}
    rules:
      - {repos: "release/*", group: builders, actions: [push], effect: deny}
      - {repos: "tools/**", robot: deploy, actions: [delete]}
    robots:
      - {name: deploy, actions: [push], repos: ["app-*"], allow_from: [10.0.0.0/8], token_lifetime: 2h}
`))
	f.must(t, err)
	ops := func(res admin.ApplyResult) string {
		var out []string
		for _, c := range res.Changes {
			out = append(out, c.Op+" "+c.What)
		}
		return strings.Join(out, "\n")
	}
	res, err := f.adm.Apply(ctx, root, doc, admin.ApplyOptions{DryRun: true})
	if err != nil || len(res.Changes) != 8 || len(res.Secrets) != 0 {
		t.Fatalf("dry run: %v\n%s", err, ops(res))
	}
	if _, err := f.st.GetProject(ctx, "web"); err == nil {
		t.Fatal("a dry run created project web")
	}
	res, err = f.adm.Apply(ctx, root, doc, admin.ApplyOptions{})
	if err != nil || len(res.Changes) != 8 || len(res.Secrets) != 1 || res.Secrets[0].Login != "robot$web+deploy" {
		t.Fatalf("apply: %v, %+v\n%s", err, res.Secrets, ops(res))
	}
	res, err = f.adm.Apply(ctx, root, doc, admin.ApplyOptions{})
	if err != nil || len(res.Changes) != 0 {
		t.Fatalf("again: %v\n%s", err, ops(res))
	}
	exported, err := f.adm.Export(ctx, root)
	f.must(t, err)
	var buf strings.Builder
	f.must(t, admin.EncodePolicy(&buf, exported))
	if strings.Contains(buf.String(), "secret") {
		t.Errorf("export holds a secret:\n%s", buf.String())
	}
	back, err := admin.DecodePolicy(strings.NewReader(buf.String()))
	f.must(t, err)
	if res, err = f.adm.Apply(ctx, root, back, admin.ApplyOptions{Prune: true}); err != nil || len(res.Changes) != 0 {
		t.Fatalf("export applied with prune: %v\n%s\n%s", err, ops(res), buf.String())
	}
	// A document naming only web removes team (and its robot) and builders.
	only, err := admin.DecodePolicy(strings.NewReader("version: 1\nprojects:\n  - name: web\n    visibility: internal\n"))
	f.must(t, err)
	res, err = f.adm.Apply(ctx, root, only, admin.ApplyOptions{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	got := ops(res)
	for _, want := range []string{"removed project web: user bob", "removed rule", "removed robot robot$web+deploy",
		"removed project team", "removed group builders"} {
		if !strings.Contains(got, want) {
			t.Errorf("prune lacks %q:\n%s", want, got)
		}
	}
	// One bad entry fails the whole document: nothing is made.
	bad, err := admin.DecodePolicy(strings.NewReader("version: 1\nprojects:\n  - name: made\n  - name: also\n    members:\n      - {user: ghost, role: guest}\n"))
	f.must(t, err)
	if _, err := f.adm.Apply(ctx, root, bad, admin.ApplyOptions{}); err == nil {
		t.Fatal("a member who does not exist was applied")
	}
	if _, err := f.st.GetProject(ctx, "made"); err == nil {
		t.Error("a failed apply left project made behind")
	}
	if _, err := f.adm.Apply(ctx, alice, only, admin.ApplyOptions{}); err == nil {
		t.Error("a non-sysadmin applied a policy")
	}
	for _, text := range []string{"", "version: 2\n", "version: 1\nprojects:\n  - name: x\n    visibilty: public\n",
		"version: 1\nprojects:\n  - name: x\n  - name: x\n", "version: 1\n---\nversion: 1\n",
		"version: 1\nprojects:\n  - name: x\n    rules:\n      - {repos: a, user: u, group: g, actions: [pull]}\n"} {
		if _, err := admin.DecodePolicy(strings.NewReader(text)); err == nil {
			t.Errorf("DecodePolicy(%q) = nil error", text)
		}
	}
}
