package storetest

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/store"
)

// testPages checks the listings ListQuery pages: each of Harbor's q forms
// on each kind of field, sorting, offset and limit with the total that
// meets the filters, a viewer's projects, and fields or values a listing
// does not have (plain errors).
func testPages(t *testing.T, s store.Store) {
	ctx := t.Context()
	for i, name := range []string{"carol", "alice", "Bob", "dave_x", "dave%y"} {
		u := store.User{Name: name, Email: name + "@example.org", Admin: i == 0, Comment: "c-" + name}
		if err := s.CreateUser(ctx, &u); err != nil {
			t.Fatal(err)
		}
	}
	names := func(us []store.User) []string {
		out := []string{}
		for _, u := range us {
			out = append(out, u.Name)
		}
		return out
	}
	f := func(field string, m store.Match, vals ...string) store.Filter {
		return store.Filter{Field: field, Match: m, Values: vals}
	}
	all, _, err := s.PageUsers(ctx, store.ListQuery{})
	if err != nil {
		t.Fatal(err)
	}
	id := map[string]int64{}
	for _, u := range all {
		id[u.Name] = u.ID
	}
	users := []struct {
		name  string
		q     store.ListQuery
		want  []string
		total int
	}{
		{name: "all by name", q: store.ListQuery{}, want: []string{"Bob", "alice", "carol", "dave%y", "dave_x"}, total: 5},
		{name: "exact", q: store.ListQuery{Filters: []store.Filter{f(store.FieldName, store.MatchExact, "alice")}}, want: []string{"alice"}, total: 1},
		{name: "exact is case-sensitive", q: store.ListQuery{Filters: []store.Filter{f(store.FieldName, store.MatchExact, "bob")}}, want: []string{}},
		{name: "fuzzy in any case", q: store.ListQuery{Filters: []store.Filter{f(store.FieldName, store.MatchFuzzy, "O")}}, want: []string{"Bob", "carol"}, total: 2},
		{name: "fuzzy _ is literal", q: store.ListQuery{Filters: []store.Filter{f(store.FieldName, store.MatchFuzzy, "_")}}, want: []string{"dave_x"}, total: 1},
		{name: "fuzzy % is literal", q: store.ListQuery{Filters: []store.Filter{f(store.FieldName, store.MatchFuzzy, "e%")}}, want: []string{"dave%y"}, total: 1},
		{name: "fuzzy email", q: store.ListQuery{Filters: []store.Filter{f(store.FieldEmail, store.MatchFuzzy, "ALICE@")}}, want: []string{"alice"}, total: 1},
		{name: "set", q: store.ListQuery{Filters: []store.Filter{f(store.FieldName, store.MatchSet, "alice", "carol", "nobody")}}, want: []string{"alice", "carol"}, total: 2},
		{name: "id range", q: store.ListQuery{Filters: []store.Filter{f(store.FieldID, store.MatchRange, fmt.Sprint(id["alice"]), fmt.Sprint(id["dave_x"]))}},
			want: []string{"Bob", "alice", "dave_x"}, total: 3},
		{name: "open range", q: store.ListQuery{Filters: []store.Filter{f(store.FieldID, store.MatchRange, fmt.Sprint(id["dave_x"]), "")}},
			want: []string{"dave%y", "dave_x"}, total: 2},
		{name: "text range", q: store.ListQuery{Filters: []store.Filter{f(store.FieldName, store.MatchRange, "a", "d")}}, want: []string{"alice", "carol"}, total: 2},
		{name: "bool", q: store.ListQuery{Filters: []store.Filter{f(store.FieldAdmin, store.MatchExact, "true")}}, want: []string{"carol"}, total: 1},
		{name: "two filters", q: store.ListQuery{Filters: []store.Filter{f(store.FieldName, store.MatchFuzzy, "dave"), f(store.FieldAdmin, store.MatchExact, "false")}},
			want: []string{"dave%y", "dave_x"}, total: 2},
		{name: "sort descending", q: store.ListQuery{Sort: []store.Sort{{Field: store.FieldName, Desc: true}}}, want: []string{"dave_x", "dave%y", "carol", "alice", "Bob"}, total: 5},
		{name: "sort by creation", q: store.ListQuery{Sort: []store.Sort{{Field: store.FieldCreated}}}, want: []string{"carol", "alice", "Bob", "dave_x", "dave%y"}, total: 5},
		{name: "page 2 of 2", q: store.ListQuery{Offset: 2, Limit: 2}, want: []string{"carol", "dave%y"}, total: 5},
		{name: "last page", q: store.ListQuery{Offset: 4, Limit: 2}, want: []string{"dave_x"}, total: 5},
		{name: "past the end", q: store.ListQuery{Offset: 10, Limit: 2}, want: []string{}, total: 5},
		{name: "filtered page", q: store.ListQuery{Filters: []store.Filter{f(store.FieldName, store.MatchFuzzy, "a")}, Offset: 1, Limit: 2},
			want: []string{"carol", "dave%y"}, total: 4},
	}
	for _, tt := range users {
		t.Run("users/"+tt.name, func(t *testing.T) {
			got, total, err := s.PageUsers(ctx, tt.q)
			if err != nil || !slices.Equal(names(got), tt.want) || total != tt.total {
				t.Errorf("PageUsers = %v (total %d), %v; want %v (total %d)", names(got), total, err, tt.want, tt.total)
			}
		})
	}
	if got, _, err := s.PageUsers(ctx, store.ListQuery{Filters: []store.Filter{f(store.FieldName, store.MatchExact, "alice")}}); err != nil ||
		len(got) != 1 || got[0].Comment != "c-alice" || got[0].Email != "alice@example.org" {
		t.Errorf("a page's user = %+v, %v", got, err)
	}
	bad := []errCase{
		{name: "unknown field", call: func() error {
			_, _, err := s.PageUsers(ctx, store.ListQuery{Filters: []store.Filter{f("password_hash", store.MatchExact, "x")}})
			return err
		}, want: errPlain},
		{name: "unknown sort", call: func() error {
			_, _, err := s.PageUsers(ctx, store.ListQuery{Sort: []store.Sort{{Field: "password_hash"}}})
			return err
		}, want: errPlain},
		{name: "not an integer", call: func() error {
			_, _, err := s.PageUsers(ctx, store.ListQuery{Filters: []store.Filter{f(store.FieldID, store.MatchExact, "1 OR 1=1")}})
			return err
		}, want: errPlain},
		{name: "not a bool", call: func() error {
			_, _, err := s.PageUsers(ctx, store.ListQuery{Filters: []store.Filter{f(store.FieldAdmin, store.MatchExact, "yes")}})
			return err
		}, want: errPlain},
		{name: "fuzzy integer", call: func() error {
			_, _, err := s.PageUsers(ctx, store.ListQuery{Filters: []store.Filter{f(store.FieldID, store.MatchFuzzy, "1")}})
			return err
		}, want: errPlain},
		{name: "time filter", call: func() error {
			_, _, err := s.PageUsers(ctx, store.ListQuery{Filters: []store.Filter{f(store.FieldCreated, store.MatchExact, "1")}})
			return err
		}, want: errPlain},
		{name: "range of one", call: func() error {
			_, _, err := s.PageUsers(ctx, store.ListQuery{Filters: []store.Filter{f(store.FieldID, store.MatchRange, "1")}})
			return err
		}, want: errPlain},
		{name: "members of a missing project", call: func() error {
			_, _, err := s.PageMembers(ctx, "missing", store.ListQuery{})
			return err
		}, want: store.ErrNotFound},
	}
	wantErrs(t, bad)

	// Projects: a viewer sees the public ones and those they hold a role
	// in, directly, through a local group or a directory group.
	mustGroup(t, s, "devs", "", "alice")
	mustGroup(t, s, "ldap-devs", "CN=Devs,DC=example")
	mustProject(t, s, "pub", true)
	mustProject(t, s, "direct", false, userAs("alice", store.RoleGuest))
	mustProject(t, s, "local-group", false, groupAs("devs", store.RoleDeveloper))
	mustProject(t, s, "dir-group", false, groupAs("ldap-devs", store.RoleDeveloper))
	mustProject(t, s, "hidden", false, userAs("Bob", store.RoleProjectAdmin))
	owned := store.Project{Name: "owned", OwnerID: id["carol"]}
	if err := s.CreateProject(ctx, &owned); err != nil {
		t.Fatal(err)
	}
	pnames := func(ps []store.Project) []string {
		out := []string{}
		for _, p := range ps {
			out = append(out, p.Name)
		}
		return out
	}
	alice := &store.Principal{UserID: id["alice"], GroupDNs: []string{"cn=devs,dc=EXAMPLE"}}
	projects := []struct {
		name   string
		viewer *store.Principal
		q      store.ListQuery
		want   []string
	}{
		{name: "every project", q: store.ListQuery{}, want: []string{"dir-group", "direct", "hidden", "local-group", "owned", "pub"}},
		{name: "alice's", viewer: alice, want: []string{"dir-group", "direct", "local-group", "pub"}},
		{name: "alice's without her directory groups", viewer: &store.Principal{UserID: id["alice"]}, want: []string{"direct", "local-group", "pub"}},
		{name: "anonymous", viewer: &store.Principal{}, want: []string{"pub"}},
		{name: "alice's private ones", viewer: alice, q: store.ListQuery{Filters: []store.Filter{f(store.FieldPublic, store.MatchExact, "false")}},
			want: []string{"dir-group", "direct", "local-group"}},
		{name: "by owner", q: store.ListQuery{Filters: []store.Filter{f(store.FieldOwner, store.MatchExact, "carol")}}, want: []string{"owned"}},
		{name: "by owner id", q: store.ListQuery{Filters: []store.Filter{f(store.FieldOwnerID, store.MatchExact, fmt.Sprint(id["carol"]))}}, want: []string{"owned"}},
		{name: "fuzzy name, second page", viewer: alice, q: store.ListQuery{Filters: []store.Filter{f(store.FieldName, store.MatchFuzzy, "d")},
			Sort: []store.Sort{{Field: store.FieldName, Desc: true}}, Offset: 1, Limit: 1}, want: []string{"dir-group"}},
	}
	for _, tt := range projects {
		t.Run("projects/"+tt.name, func(t *testing.T) {
			got, total, err := s.PageProjects(ctx, tt.viewer, tt.q)
			wantTotal := len(tt.want)
			if tt.q.Limit > 0 {
				wantTotal = 2 // direct, dir-group
			}
			if err != nil || !slices.Equal(pnames(got), tt.want) || total != wantTotal {
				t.Errorf("PageProjects = %v (total %d), %v; want %v (total %d)", pnames(got), total, err, tt.want, wantTotal)
			}
		})
	}
	if got, _, err := s.PageProjects(ctx, nil, store.ListQuery{Filters: []store.Filter{f(store.FieldName, store.MatchExact, "owned")}}); err != nil ||
		len(got) != 1 || got[0].OwnerName != "carol" || got[0].ID != owned.ID {
		t.Errorf("a page's project = %+v, %v", got, err)
	}

	// Metadata of a page of projects, in one call.
	pub, err := s.GetProject(ctx, "pub")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetProjectMetadata(ctx, pub.ID, map[string]string{"severity": "low", "auto_scan": "true"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetProjectMetadata(ctx, owned.ID, map[string]string{"severity": "high"}); err != nil {
		t.Fatal(err)
	}
	md, err := s.ProjectsMetadata(ctx, []int64{pub.ID, owned.ID, 1 << 40})
	if err != nil || len(md) != 2 || !maps.Equal(md[pub.ID], map[string]string{"severity": "low", "auto_scan": "true"}) ||
		!maps.Equal(md[owned.ID], map[string]string{"severity": "high"}) {
		t.Errorf("ProjectsMetadata = %v, %v", md, err)
	}
	if md, err := s.ProjectsMetadata(ctx, nil); err != nil || len(md) != 0 {
		t.Errorf("ProjectsMetadata(none) = %v, %v", md, err)
	}

	// Groups, members and the projects of a group.
	gs, total, err := s.PageGroups(ctx, store.ListQuery{Filters: []store.Filter{f(store.FieldDN, store.MatchFuzzy, "cn=DEVS")}})
	if err != nil || total != 1 || len(gs) != 1 || gs[0].Name != "ldap-devs" || gs[0].DN != "CN=Devs,DC=example" {
		t.Errorf("PageGroups(dn=~cn=DEVS) = %+v (total %d), %v", gs, total, err)
	}
	if gs, _, err := s.PageGroups(ctx, store.ListQuery{Filters: []store.Filter{f(store.FieldDN, store.MatchExact, "cn=devs,dc=EXAMPLE")}}); err != nil || len(gs) != 1 {
		t.Errorf("PageGroups(dn=DN in another case) = %+v, %v", gs, err)
	}
	mustMember(t, s, "direct", store.MemberUser, "carol", store.RoleMaintainer)
	mustMember(t, s, "direct", store.MemberGroup, "devs", store.RoleGuest)
	ms, total, err := s.PageMembers(ctx, "direct", store.ListQuery{})
	var mnames []string
	for _, m := range ms {
		mnames = append(mnames, fmt.Sprintf("%s:%s:%s", m.Kind, m.Name, m.Role))
	}
	if err != nil || total != 3 || !slices.Equal(mnames, []string{"user:alice:guest", "user:carol:maintainer", "group:devs:guest"}) ||
		ms[0].Project != "direct" || ms[0].EntityID != id["alice"] || ms[0].ID == 0 {
		t.Errorf("PageMembers = %v (total %d), %v", mnames, total, err)
	}
	if ms, total, err := s.PageMembers(ctx, "direct", store.ListQuery{Filters: []store.Filter{f(store.FieldRole, store.MatchExact, "guest")},
		Limit: 1, Offset: 1}); err != nil || total != 2 || len(ms) != 1 || ms[0].Name != "devs" {
		t.Errorf("PageMembers(role=guest, second) = %+v (total %d), %v", ms, total, err)
	}
	devs, err := s.GetGroup(ctx, "devs")
	if err != nil {
		t.Fatal(err)
	}
	if ps, err := s.GroupProjects(ctx, devs.ID); err != nil || !slices.Equal(ps, []string{"direct", "local-group"}) {
		t.Errorf("GroupProjects(devs) = %v, %v", ps, err)
	}
	if ps, err := s.GroupProjects(ctx, 1<<40); err != nil || len(ps) != 0 {
		t.Errorf("GroupProjects(missing) = %v, %v", ps, err)
	}

	// Robots by level and project.
	for _, r := range []store.Robot{
		{Name: "direct+ci", Project: "direct", SecretHash: "h", Permissions: store.OneProject("direct", "pull")},
		{Name: "pub+ci", Project: "pub", SecretHash: "h", Permissions: store.OneProject("pub", "pull")},
		{Name: "scanner", Project: store.SystemRobotProject, SecretHash: "h", Permissions: store.OneProject("*", "pull")},
	} {
		if err := s.CreateRobot(ctx, &r); err != nil {
			t.Fatal(err)
		}
	}
	direct, err := s.GetProject(ctx, "direct")
	if err != nil {
		t.Fatal(err)
	}
	rnames := func(q store.ListQuery) string {
		rs, total, err := s.PageRobots(ctx, q)
		out := fmt.Sprint(total, err)
		for _, r := range rs {
			out += " " + r.Name
		}
		return out
	}
	for _, tt := range []struct {
		name string
		q    store.ListQuery
		want string
	}{
		{"all", store.ListQuery{}, "3 <nil> direct+ci pub+ci scanner"},
		{"system", store.ListQuery{Filters: []store.Filter{f(store.FieldSystem, store.MatchExact, "true")}}, "1 <nil> scanner"},
		{"project robots", store.ListQuery{Filters: []store.Filter{f(store.FieldSystem, store.MatchExact, "false")}}, "2 <nil> direct+ci pub+ci"},
		{"of a project", store.ListQuery{Filters: []store.Filter{f(store.FieldProject, store.MatchExact, fmt.Sprint(direct.ID))}}, "1 <nil> direct+ci"},
		{"by name", store.ListQuery{Filters: []store.Filter{f(store.FieldName, store.MatchFuzzy, "+CI")}, Sort: []store.Sort{{Field: store.FieldName, Desc: true}}},
			"2 <nil> pub+ci direct+ci"},
	} {
		if got := rnames(tt.q); got != tt.want {
			t.Errorf("PageRobots(%s) = %s; want %s", tt.name, got, tt.want)
		}
	}
	rs, _, err := s.PageRobots(ctx, store.ListQuery{Filters: []store.Filter{f(store.FieldName, store.MatchExact, "direct+ci")}})
	if err != nil || len(rs) != 1 || rs[0].Project != "direct" || !slices.Equal(rs[0].Permissions[0].Actions, []string{"pull"}) {
		t.Errorf("a page's robot = %+v, %v", rs, err)
	}

	// Audit: a page and the count.
	var recs []store.AuditRecord
	t0 := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	for i := range 5 {
		recs = append(recs, store.AuditRecord{Time: t0.Add(time.Duration(i) * time.Minute), Subject: "pager", Kind: store.AuditKindAdmin,
			Result: store.AuditDone, Action: fmt.Sprintf("a%d", i)})
	}
	if err := s.AppendAudit(ctx, recs); err != nil {
		t.Fatal(err)
	}
	pageOf := store.AuditFilter{Subject: "pager", Limit: 2, Offset: 2}
	got, err := s.ListAudit(ctx, pageOf)
	n, cerr := s.CountAudit(ctx, pageOf)
	if err != nil || cerr != nil || n != 5 || len(got) != 2 || got[0].Action != "a2" || got[1].Action != "a1" {
		t.Errorf("audit page = %+v (count %d, %v), %v", got, n, cerr, err)
	}
	if n, err := s.CountAudit(ctx, store.AuditFilter{Subject: "nobody"}); err != nil || n != 0 {
		t.Errorf("CountAudit(nobody) = %d, %v", n, err)
	}
}
