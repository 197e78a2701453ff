package admin_test

import (
	"context"
	"strings"
	"testing"

	"github.com/authserver/authserver/internal/admin"
	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/authn/ldap"
	"github.com/authserver/authserver/internal/store"
)

// directory is a fake admin.Directory.
type directory struct {
	users  map[string]authn.DirectoryUser
	groups map[string]authn.DirectoryGroup
	asked  []string
}

func (d *directory) Lookup(_ context.Context, name string) (authn.DirectoryUser, bool, error) {
	d.asked = append(d.asked, name)
	for k, u := range d.users {
		if strings.EqualFold(k, name) {
			return u, true, nil
		}
	}
	return authn.DirectoryUser{}, false, nil
}

func (d *directory) FindGroup(_ context.Context, nameOrDN string) (authn.DirectoryGroup, error) {
	if g, ok := d.groups[nameOrDN]; ok {
		return g, nil
	}
	return authn.DirectoryGroup{}, ldap.ErrGroupNotFound
}

func TestMemberOnboarding(t *testing.T) {
	dir := &directory{
		users: map[string]authn.DirectoryUser{"erin": {Name: "erin", DN: "uid=erin,dc=x", EntryID: "entryUUID:e1", Groups: []authn.DirectoryGroup{{DN: "cn=devs,dc=x"}}}},
		groups: map[string]authn.DirectoryGroup{"devs": {Name: "devs", DN: "cn=devs,dc=x"},
			"Platform Team": {Name: "Platform Team", DN: "CN=Platform Team,dc=x"}},
	}
	f := newFixture(t, dir)
	f.seed(t)
	ctx := t.Context()
	tests := []struct {
		name    string
		ref     admin.MemberRef
		onboard *admin.Onboarded
		kind    error
		msg     string
	}{
		{name: "known user", ref: admin.MemberRef{User: "bob"}},
		{name: "directory user", ref: admin.MemberRef{User: "erin"},
			onboard: &admin.Onboarded{Kind: store.MemberUser, Name: "erin", DN: "uid=erin,dc=x"}},
		{name: "directory group", ref: admin.MemberRef{Group: "devs"},
			onboard: &admin.Onboarded{Kind: store.MemberGroup, Name: "devs", DN: "cn=devs,dc=x"}},
		{name: "known group by DN, a member already", ref: admin.MemberRef{Group: "CN=devs,dc=x"}, kind: admin.ErrExists,
			msg: "group devs is already a member of project team: change its role instead"},
		// Active Directory's names have spaces; an authserver name has none.
		{name: "directory group with spaces", ref: admin.MemberRef{Group: "Platform Team"},
			onboard: &admin.Onboarded{Kind: store.MemberGroup, Name: "Platform-Team", DN: "CN=Platform Team,dc=x"}},
		{name: "the same again finds the same group, a member already", ref: admin.MemberRef{Group: "Platform Team"}, kind: admin.ErrExists,
			msg: "group Platform-Team is already a member of project team: change its role instead"},
		{name: "spelled otherwise", ref: admin.MemberRef{User: "ERIN"}, kind: admin.ErrInvalid,
			msg: `user ERIN is spelled "erin" in the directory: use that name`},
		{name: "nowhere", ref: admin.MemberRef{User: "zed"}, kind: admin.ErrNotFound,
			msg: "user zed not found, neither in authserver nor (as exactly one entry) in the directory"},
		{name: "bootstrap admin in any spelling", ref: admin.MemberRef{User: "Admin"}, kind: admin.ErrNotFound,
			msg: `user Admin not found ("Admin" is always a local account)`},
		{name: "group nowhere", ref: admin.MemberRef{Group: "ops"}, kind: admin.ErrNotFound,
			msg: "group ops not found, neither in authserver nor in the directory (under ou=groups,dc=x, matching (objectClass=groupOfNames))"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, onb, err := f.adm.AddMember(ctx, root, f.projectID("team"), tt.ref, "Developer")
			wantErr(t, err, tt.kind, tt.msg)
			if (onb == nil) != (tt.onboard == nil) || onb != nil && *onb != *tt.onboard {
				t.Errorf("onboarded %+v, want %+v", onb, tt.onboard)
			}
			if err == nil && m.Role != store.RoleDeveloper {
				t.Errorf("member %+v", m)
			}
		})
	}
	for _, name := range dir.asked {
		if admin.IsBootstrapAdmin(name) {
			t.Errorf("the directory was asked about %q", name)
		}
	}
	// Onboarding records the directory entry as a login would.
	if lu, err := f.st.GetLDAPUser(ctx, "erin"); err != nil || lu.EntryID != "entryUUID:e1" {
		t.Errorf("onboarded erin's record = %+v, %v; want entry id entryUUID:e1", lu, err)
	}
	ms, err := f.adm.ListMembers(ctx, root, f.projectID("team"))
	if err != nil || len(ms) != 4 {
		t.Errorf("members %+v, %v", ms, err)
	}
	m, err := f.adm.RemoveMember(ctx, root, f.projectID("team"), f.memberID("team", admin.MemberRef{Group: "cn=devs,dc=x"}))
	if err != nil || m.Name != "devs" || m.Kind != store.MemberGroup {
		t.Errorf("RemoveMember by DN = %+v, %v", m, err)
	}
}
