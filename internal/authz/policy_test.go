package authz

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/authserver/authserver/internal/store"
)

func TestMatchRepos(t *testing.T) {
	tests := []struct {
		name, pattern, path string
		want                bool
	}{
		{"literal", "app", "app", true},
		{"literal other", "app", "apps", false},
		{"star one segment", "app-*", "app-1", true},
		{"star empty run", "app-*", "app-", true},
		{"star not across slash", "app-*", "app-1/web", false},
		{"star alone", "*", "web", true},
		{"star alone not deeper", "*", "a/b", false},
		{"star inside", "a*z", "abcz", true},
		{"star inside no", "a*z", "abc", false},
		{"two stars", "*-*", "a-b-c", true},
		{"double star any depth", "base/**", "base/x", true},
		{"double star deeper", "base/**", "base/x/y/z", true},
		{"double star needs one", "base/**", "base", false},
		{"double star other prefix", "base/**", "other/x", false},
		{"double star everything", "**", "a/b/c", true},
		{"double star middle", "a/**/z", "a/b/c/z", true},
		{"double star middle one", "a/**/z", "a/b/z", true},
		{"double star middle needs one", "a/**/z", "a/z", false},
		{"double star then star", "**/app-*", "x/y/app-1", true},
		{"star segment then literal", "*/web", "team/web", true},
		{"star segment then literal no", "*/web", "team/api", false},
		{"shorter path", "a/b", "a", false},
		{"longer path", "a", "a/b", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MatchRepos(tt.pattern, tt.path); got != tt.want {
				t.Errorf("MatchRepos(%q, %q) = %v, want %v", tt.pattern, tt.path, got, tt.want)
			}
		})
	}
}

func TestValidRepoPattern(t *testing.T) {
	for _, p := range []string{"app", "app-*", "*", "**", "base/**", "a/**/z", "release/*", "*.io", "a__b*"} {
		if err := ValidRepoPattern(p); err != nil {
			t.Errorf("ValidRepoPattern(%q) = %v, want nil", p, err)
		}
	}
	for _, p := range []string{"", "App", "a//b", "/a", "a/", "a**", "a b", "-*", "a/***", strings.Repeat("a", 256), "a?b"} {
		if err := ValidRepoPattern(p); err == nil {
			t.Errorf("ValidRepoPattern(%q) = nil, want an error", p)
		}
	}
}

func TestPersonalProject(t *testing.T) {
	tests := []struct {
		name, template, user, want string
		ok                         bool
	}{
		{"off", "", "bob", "", false},
		{"prefix", "u-{username}", "bob", "u-bob", true},
		{"lower-cased", "u-{username}", "Bob", "u-bob", true},
		{"not a project name", "u-{username}", "bob@example.org", "", false},
		{"no user", "u-{username}", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := PersonalProject(tt.template, tt.user)
			if got != tt.want || ok != tt.ok {
				t.Errorf("PersonalProject(%q, %q) = %q, %v; want %q, %v", tt.template, tt.user, got, ok, tt.want, tt.ok)
			}
		})
	}
	if ValidPersonalTemplate("u-{username}") != nil || ValidPersonalTemplate("") != nil ||
		ValidPersonalTemplate("fixed") == nil || ValidPersonalTemplate("U-{username}") == nil {
		t.Error("ValidPersonalTemplate accepts or refuses the wrong templates")
	}
}

func TestRuleActions(t *testing.T) {
	if got, err := RuleActions([]string{"push"}, false); err != nil || !reflect.DeepEqual(got, []string{"pull", "push"}) {
		t.Errorf("allow push = %v, %v; want pull,push", got, err)
	}
	if got, err := RuleActions([]string{"push", "delete"}, true); err != nil || !reflect.DeepEqual(got, []string{"push", "delete"}) {
		t.Errorf("deny push,delete = %v, %v", got, err)
	}
	for _, bad := range [][]string{nil, {"*"}, {"write"}} {
		if _, err := RuleActions(bad, false); err == nil {
			t.Errorf("RuleActions(%v) = nil error", bad)
		}
	}
}

// policyAccess answers ProjectAccess as the store does: grants for user 1,
// the rules whose subject is the principal.
type policyAccess struct {
	projects map[string]store.ProjectAccess
	rules    map[string][]ruleFor
	calls    int
}

type ruleFor struct {
	user, robot int64 // the principal the rule is about; both 0: every authenticated caller
	rule        store.RuleGrant
}

func (f *policyAccess) ProjectAccess(_ context.Context, p store.Principal, names []string) (map[string]store.ProjectAccess, error) {
	f.calls++
	out := map[string]store.ProjectAccess{}
	for _, n := range names {
		pa, ok := f.projects[n]
		if !ok {
			continue
		}
		if p.UserID != 1 {
			pa.Grants = nil
		}
		pa.Rules = nil
		for _, r := range f.rules[n] {
			switch {
			case r.user == 0 && r.robot == 0 && p.Authenticated,
				r.user != 0 && r.user == p.UserID, r.robot != 0 && r.robot == p.RobotID:
				pa.Rules = append(pa.Rules, r.rule)
			}
		}
		out[n] = pa
	}
	return out, nil
}

// fakeCreator records the projects it creates into f.
type fakeCreator struct {
	f       *policyAccess
	refuse  string
	created []string
}

func (c *fakeCreator) CreateOnPush(_ context.Context, subj Subject, project string, personal bool) (string, error) {
	if c.refuse != "" && !personal {
		return c.refuse, nil
	}
	c.created = append(c.created, project)
	c.f.projects[project] = store.ProjectAccess{Name: project}
	c.f.rules = map[string][]ruleFor{}
	// The creator becomes projectAdmin: user 1 in this fake.
	pa := c.f.projects[project]
	pa.Grants = []store.Grant{{Role: store.RoleProjectAdmin}}
	c.f.projects[project] = pa
	return "", nil
}

func TestAuthorizePolicy(t *testing.T) {
	rule := func(id int64, repos string, deny bool, subject store.RuleSubject, name string, actions ...string) store.RuleGrant {
		return store.RuleGrant{ID: id, Repos: repos, Deny: deny, Subject: subject, Name: name, Actions: actions}
	}
	newAccess := func() *policyAccess {
		return &policyAccess{
			projects: map[string]store.ProjectAccess{
				"team":    {Name: "team", Grants: []store.Grant{{Role: store.RoleDeveloper}}},
				"inside":  {Name: "inside", Internal: true},
				"pub":     {Name: "pub", Public: true},
				"private": {Name: "private"},
			},
			rules: map[string][]ruleFor{
				"team": {
					{user: 2, rule: rule(1, "app-*", false, store.RuleUser, "outsider", "pull", "push")},
					{user: 1, rule: rule(2, "release/*", true, store.RuleUser, "dev", "push")},
					{robot: 7, rule: rule(3, "tools/**", false, store.RuleRobot, "team+ci", "pull")},
					{rule: rule(4, "secret", true, store.RuleAuthenticated, "", "pull", "push", "delete")},
				},
				"private": {{user: 2, rule: rule(5, "**", true, store.RuleUser, "outsider", "pull")}},
			},
		}
	}
	dev := Subject{Name: "dev", UserID: 1}
	outsider := Subject{Name: "outsider", UserID: 2}
	anon := Subject{Anonymous: true}
	admin := Subject{Name: "admin", UserID: 9, Admin: true}
	robot := func(project string, repos ...string) Subject {
		return Subject{Name: "robot$" + project + "+ci", Robot: &RobotPermissions{ID: 7,
			Permissions: store.OneProject(project, "pull", "push"), Repos: repos}}
	}
	otherRobot := Subject{Name: "robot$pub+ci", Robot: &RobotPermissions{ID: 8, Permissions: store.OneProject("pub", "pull")}}
	tests := []struct {
		name   string
		subj   Subject
		scope  string
		want   []string
		reason string // a reason that must be given
	}{
		{"allow rule for a non-member", outsider, "repository:team/app-1:pull,push", []string{"pull", "push"}, "rule 1 (allow user outsider on app-*"},
		{"allow rule does not match", outsider, "repository:team/other:pull,push", []string{}, "not a member"},
		{"allow rule one segment only", outsider, "repository:team/app-1/web:pull,push", []string{}, ""},
		{"deny beats role", dev, "repository:team/release/v1:pull,push", []string{"pull"}, "rule 2 (deny user dev on release/*: push) removes push"},
		{"deny elsewhere does nothing", dev, "repository:team/app:pull,push", []string{"pull", "push"}, "role developer"},
		{"deny for every authenticated caller", dev, "repository:team/secret:pull,push", []string{}, "rule 4"},
		{"sysadmin exempt from deny", admin, "repository:team/secret:pull,push,delete", []string{"pull", "push", "delete"}, "sysadmin"},
		{"deny beats public pull", outsider, "repository:private/x:pull", []string{}, ""},
		{"internal: signed-in non-member pulls", outsider, "repository:inside/app:pull,push", []string{"pull"}, "internal"},
		{"internal: anonymous does not", anon, "repository:inside/app:pull", []string{}, "is internal and the request is anonymous"},
		{"internal: robot of another project does not", otherRobot, "repository:inside/app:pull", []string{}, ""},
		{"internal: system robot on every project does", Subject{Name: "robot$all", Robot: &RobotPermissions{
			Permissions: store.OneProject(store.SystemRobotProject, "pull")}}, "repository:inside/app:pull", []string{"pull"}, "internal"},
		{"robot limited to app-*", robot("team", "app-*"), "repository:team/app-1:pull,push", []string{"pull", "push"}, ""},
		{"robot limited refused elsewhere", robot("team", "app-*"), "repository:team/other:pull,push", []string{}, "limited to repositories app-*"},
		{"robot rule grants beyond its patterns", robot("team", "app-*"), "repository:team/tools/x/y:pull", []string{"pull"}, "rule 3"},
		{"robot unlimited", robot("team"), "repository:team/other:pull,push", []string{"pull", "push"}, ""},
		{"robot of another project ignores authenticated deny", otherRobot, "repository:team/secret:pull", []string{}, ""},
		{"robot of its project gets the authenticated deny", robot("team"), "repository:team/secret:pull,push", []string{}, "rule 4"},
		{"host prefix", outsider, "repository:localhost:5000/team/app-2:push", []string{"push"}, "rule 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newAccess()
			a := NewWith(f, Options{})
			scopes, err := ParseScopes([]string{tt.scope})
			if err != nil {
				t.Fatal(err)
			}
			d, err := a.Authorize(context.Background(), tt.subj, scopes)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(d[0].Granted, tt.want) {
				t.Errorf("granted %v, want %v (reasons %q)", d[0].Granted, tt.want, d[0].Reasons)
			}
			if tt.reason != "" && !strings.Contains(strings.Join(d[0].Reasons, "; "), tt.reason) {
				t.Errorf("reasons %q lack %q", d[0].Reasons, tt.reason)
			}
			if f.calls > 1 {
				t.Errorf("%d store queries, want at most 1", f.calls)
			}
		})
	}
}

func TestCreateOnPush(t *testing.T) {
	dev := Subject{Name: "dev", UserID: 1}
	tests := []struct {
		name        string
		opt         Options
		subj        Subject
		scope       string
		refuse      string
		want        []string
		wantCreated []string
		reason      string
	}{
		{"created and granted", Options{CreateOnPush: true}, dev, "repository:fresh/app:pull,push",
			"", []string{"pull", "push"}, []string{"fresh"}, "created on push (projects.create_on_push)"},
		{"off", Options{}, dev, "repository:fresh/app:pull,push", "", []string{}, nil, "does not exist"},
		{"pull only creates nothing", Options{CreateOnPush: true}, dev, "repository:fresh/app:pull", "", []string{}, nil, ""},
		{"refused creator", Options{CreateOnPush: true}, dev, "repository:fresh/app:push", "only sysadmins create projects",
			[]string{}, nil, "not created on push: only sysadmins"},
		{"robot never creates", Options{CreateOnPush: true}, Subject{Name: "robot$x", Robot: &RobotPermissions{
			Permissions: store.OneProject(store.SystemRobotProject, "push")}}, "repository:fresh/app:push", "", []string{}, nil, ""},
		{"anonymous never creates", Options{CreateOnPush: true}, Subject{Anonymous: true}, "repository:fresh/app:push", "", []string{}, nil, ""},
		{"personal project", Options{PersonalTemplate: "u-{username}"}, dev, "repository:u-dev/app:pull,push",
			"", []string{"pull", "push"}, []string{"u-dev"}, "personal project"},
		{"personal project despite a refusal", Options{PersonalTemplate: "u-{username}", CreateOnPush: true}, dev, "repository:u-dev/app:push",
			"adminonly", []string{"push"}, []string{"u-dev"}, ""},
		{"another's personal project", Options{PersonalTemplate: "u-{username}"}, dev, "repository:u-bob/app:push", "", []string{}, nil, ""},
		{"another's personal project is not created on push", Options{PersonalTemplate: "u-{username}", CreateOnPush: true}, dev,
			"repository:u-bob/app:push", "", []string{}, nil, "another user's personal project"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &policyAccess{projects: map[string]store.ProjectAccess{}}
			c := &fakeCreator{f: f, refuse: tt.refuse}
			tt.opt.Creator = c
			scopes, _ := ParseScopes([]string{tt.scope})
			d, err := NewWith(f, tt.opt).Authorize(context.Background(), tt.subj, scopes)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(d[0].Granted, tt.want) || !reflect.DeepEqual(c.created, tt.wantCreated) {
				t.Errorf("granted %v, created %v; want %v, %v (reasons %q)", d[0].Granted, c.created, tt.want, tt.wantCreated, d[0].Reasons)
			}
			if tt.reason != "" && !strings.Contains(strings.Join(d[0].Reasons, "; "), tt.reason) {
				t.Errorf("reasons %q lack %q", d[0].Reasons, tt.reason)
			}
		})
	}
	t.Run("explain creates nothing", func(t *testing.T) {
		f := &policyAccess{projects: map[string]store.ProjectAccess{}}
		scopes, _ := ParseScopes([]string{"repository:fresh/app:push"})
		d, err := NewWith(f, Options{CreateOnPush: true}).Authorize(context.Background(), dev, scopes)
		if err != nil || len(d[0].Granted) != 0 || !strings.Contains(strings.Join(d[0].Reasons, ";"), "would be created on push") {
			t.Errorf("%+v, %v", d, err)
		}
	})
	t.Run("creator failure is unavailable", func(t *testing.T) {
		f := &policyAccess{projects: map[string]store.ProjectAccess{}}
		scopes, _ := ParseScopes([]string{"repository:fresh/app:push"})
		_, err := NewWith(f, Options{CreateOnPush: true, Creator: failingCreator{}}).Authorize(context.Background(), dev, scopes)
		if !errors.Is(err, ErrUnavailable) {
			t.Errorf("err = %v, want ErrUnavailable", err)
		}
	})
}

type failingCreator struct{}

func (failingCreator) CreateOnPush(context.Context, Subject, string, bool) (string, error) {
	return "", errors.New("database down")
}
