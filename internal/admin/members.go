package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/authserver/authserver/internal/authn/ldap"
	"github.com/authserver/authserver/internal/store"
)

// MemberRef names a member: a user by ID or name, or a group by ID, name
// or LDAP DN. Exactly one is set.
type MemberRef struct {
	UserID int64
	User   string
	// GroupID names a group by its ID; for a non-sysadmin only a group
	// they can see (one they belong to): any other is not found.
	GroupID int64
	Group   string
	// GroupName, with Group an LDAP DN, names the group to create when
	// neither authserver nor the directory knows that DN (Harbor's member
	// API creates the user group that way): a sysadmin's change only.
	GroupName string
}

// Onboarded is a user or group that AddMember created from the directory.
type Onboarded struct {
	Kind store.MemberKind
	Name string
	DN   string
}

// AddMember gives a user or group role in the project with id, where it
// holds no role yet (KindExists when it does: SetMemberRole changes a
// role), and returns the membership. With a Directory, a user or group
// authserver does not know yet is looked up there and created first, a
// change of its own in the audit trail (user.onboard, group.create); the
// result then says so in Onboarded, even when the membership itself then
// fails.
func (s *Service) AddMember(ctx context.Context, who Actor, projectID int64, ref MemberRef, role string) (store.Member, *Onboarded, error) {
	p, err := s.project(ctx, who, projectID, rightManageProject, "manage the members of project")
	if err != nil {
		return store.Member{}, nil, err
	}
	r, err := store.ParseRole(role)
	if err != nil {
		return store.Member{}, nil, invalid(err)
	}
	if err := s.capRole(ctx, who, p.Name, r); err != nil {
		return store.Member{}, nil, err
	}
	kind, name, onb, err := s.resolve(ctx, who, ref, true)
	if err != nil {
		return store.Member{}, onb, err
	}
	m := store.Member{Project: p.Name, Kind: kind, Name: name, Role: r}
	if err := s.change(ctx, who, "member.add", fmt.Sprintf("project %s: %s %s as %s", p.Name, kind, name, r), func(st store.Store) error {
		if _, err := projectInTx(ctx, st, projectID); err != nil {
			return err
		}
		return storeErr(st.AddMember(ctx, &m), "member", "",
			fmt.Sprintf("%s %s is already a member of project %s: change its role instead", kind, name, p.Name))
	}); err != nil {
		return store.Member{}, onb, err
	}
	return m, onb, nil
}

// member reads membership memberID of the project with id for who with
// right r.
func (s *Service) member(ctx context.Context, who Actor, projectID, memberID int64, r right, what string) (store.Member, error) {
	p, err := s.project(ctx, who, projectID, r, what)
	if err != nil {
		return store.Member{}, err
	}
	m, err := s.st.GetMember(ctx, memberID)
	if err == nil && m.Project != p.Name {
		err = store.ErrNotFound
	}
	return m, storeErr(err, "", fmt.Sprintf("member %d not found in project %s", memberID, p.Name), "")
}

// GetMember returns membership memberID of the project with id.
func (s *Service) GetMember(ctx context.Context, who Actor, projectID, memberID int64) (store.Member, error) {
	return s.member(ctx, who, projectID, memberID, rightReadProject, "read the members of project")
}

// FindMember returns the membership of the user or group ref names in the
// project with id: how a transport turns names into the membership, once.
func (s *Service) FindMember(ctx context.Context, who Actor, projectID int64, ref MemberRef) (store.Member, error) {
	ms, err := s.ListMembers(ctx, who, projectID)
	if err != nil {
		return store.Member{}, err
	}
	kind, name, _, err := s.resolve(ctx, who, ref, false)
	if err != nil {
		return store.Member{}, err
	}
	for _, m := range ms {
		if m.Kind == kind && m.Name == name {
			return m, nil
		}
	}
	p, err := s.GetProject(ctx, who, projectID)
	if err != nil {
		return store.Member{}, err
	}
	return store.Member{}, &Error{Kind: KindNotFound, Msg: fmt.Sprintf("%s %s is no member of project %s", kind, name, p.Name),
		Err: store.ErrNotFound}
}

// SetMemberRole changes the role of membership memberID of the project
// with id and returns the membership as written.
func (s *Service) SetMemberRole(ctx context.Context, who Actor, projectID, memberID int64, role string) (store.Member, error) {
	m, err := s.member(ctx, who, projectID, memberID, rightManageProject, "manage the members of project")
	if err != nil {
		return store.Member{}, err
	}
	r, err := store.ParseRole(role)
	if err != nil {
		return store.Member{}, invalid(err)
	}
	if err := s.capRole(ctx, who, m.Project, r); err != nil {
		return store.Member{}, err
	}
	m.Role = r
	if err := s.change(ctx, who, "member.set", fmt.Sprintf("project %s: %s %s as %s", m.Project, m.Kind, m.Name, r), func(st store.Store) error {
		if cur, err := st.GetMember(ctx, memberID); err != nil || cur.Project != m.Project || cur.Name != m.Name {
			return storeErr(cmpErr(err, store.ErrNotFound), "", fmt.Sprintf("member %d not found in project %s", memberID, m.Project), "")
		}
		return fromStore(st.SetMember(ctx, m), "member")
	}); err != nil {
		return store.Member{}, err
	}
	return m, nil
}

// cmpErr is err, or def when err is nil.
func cmpErr(err, def error) error {
	if err != nil {
		return err
	}
	return def
}

// RemoveMember takes membership memberID out of the project with id and
// returns it as it was.
func (s *Service) RemoveMember(ctx context.Context, who Actor, projectID, memberID int64) (store.Member, error) {
	m, err := s.member(ctx, who, projectID, memberID, rightManageProject, "manage the members of project")
	if err != nil {
		return store.Member{}, err
	}
	if err := s.change(ctx, who, "member.remove", fmt.Sprintf("project %s: %s %s", m.Project, m.Kind, m.Name), func(st store.Store) error {
		return fromStore(st.RemoveMember(ctx, m.Project, m.Kind, m.Name), fmt.Sprintf("membership of %s %s in project %s", m.Kind, m.Name, m.Project))
	}); err != nil {
		return store.Member{}, err
	}
	return m, nil
}

// ListMembers lists the members of the project with id, users first then
// groups.
func (s *Service) ListMembers(ctx context.Context, who Actor, projectID int64) ([]store.Member, error) {
	p, err := s.project(ctx, who, projectID, rightReadProject, "read the members of project")
	if err != nil {
		return nil, err
	}
	ms, err := s.st.ListMembers(ctx, p.Name)
	return ms, fromStore(err, "project "+p.Name)
}

// resolve finds the member ref names; a group may be named by its DN.
// With onboard and a Directory, one authserver does not know yet is
// looked up in the directory and created, a change of its own.
func (s *Service) resolve(ctx context.Context, who Actor, ref MemberRef, onboard bool) (store.MemberKind, string, *Onboarded, error) {
	users := ref.User != "" || ref.UserID != 0
	groups := ref.Group != "" || ref.GroupID != 0
	if users == groups || ref.User != "" && ref.UserID != 0 || ref.Group != "" && ref.GroupID != 0 {
		return "", "", nil, invalidf("a member is one user or one group")
	}
	switch {
	case ref.UserID != 0:
		u, err := s.st.GetUserByID(ctx, ref.UserID)
		return store.MemberUser, u.Name, nil, fromStore(err, fmt.Sprintf("user %d", ref.UserID))
	case ref.GroupID != 0:
		g, err := s.st.GetGroupByID(ctx, ref.GroupID)
		if err == nil {
			var seen bool
			if seen, err = s.groupVisible(ctx, who, g); err == nil && !seen {
				err = store.ErrNotFound
			}
		}
		return store.MemberGroup, g.Name, nil, fromStore(err, fmt.Sprintf("group %d", ref.GroupID))
	case ref.User != "":
		_, err := s.st.GetUser(ctx, ref.User)
		if errors.Is(err, store.ErrNotFound) && onboard && s.opt.Directory != nil {
			onb, err := s.userFromDirectory(ctx, who, ref.User)
			if err != nil {
				return "", "", nil, err
			}
			return store.MemberUser, ref.User, onb, nil
		}
		return store.MemberUser, ref.User, nil, fromStore(err, "user "+ref.User)
	}
	g, err := s.st.GetGroup(ctx, ref.Group)
	if dashed := dashedName(ref.Group); errors.Is(err, store.ErrNotFound) && dashed != ref.Group {
		// A directory group whose name has spaces was created under its
		// dashed name (groupFromDirectory): naming it again finds it.
		if dg, derr := s.st.GetGroup(ctx, dashed); derr == nil {
			g, err = dg, nil
		}
	}
	if errors.Is(err, store.ErrNotFound) && onboard && s.opt.Directory != nil {
		var created bool
		if g, created, err = s.groupFromDirectory(ctx, who, ref.Group); err != nil {
			return "", "", nil, err
		}
		if !created {
			return store.MemberGroup, g.Name, nil, nil
		}
		return store.MemberGroup, g.Name, &Onboarded{Kind: store.MemberGroup, Name: g.Name, DN: g.DN}, nil
	}
	if errors.Is(err, store.ErrNotFound) && onboard && ref.GroupName != "" {
		// A group neither authserver nor a directory knows: only a
		// sysadmin may make one up (others name existing groups).
		if err := s.allow(ctx, who, rightSystem, "", "create groups"); err != nil {
			return "", "", nil, err
		}
		if g, err = s.CreateGroup(ctx, who, ref.GroupName, ref.Group); err != nil {
			return "", "", nil, err
		}
		return store.MemberGroup, g.Name, &Onboarded{Kind: store.MemberGroup, Name: g.Name, DN: g.DN}, nil
	}
	if err != nil {
		return "", "", nil, fromStore(err, "group "+ref.Group)
	}
	return store.MemberGroup, g.Name, nil, nil
}

// seesGroup reports whether who may learn of group g by its ID: a
// sysadmin every group, anyone else the groups they are in (a local
// group's user, a directory group of their login).
func (s *Service) seesGroup(ctx context.Context, who Actor, g store.Group) bool {
	if who.Admin {
		return true
	}
	if g.DN != "" && slices.ContainsFunc(who.GroupDNs, func(dn string) bool { return store.NormalizeDN(dn) == store.NormalizeDN(g.DN) }) {
		return true
	}
	if who.Name == "" {
		return false
	}
	names, err := s.st.UserGroups(ctx, who.Name)
	return err == nil && slices.Contains(names, g.Name)
}

// userFromDirectory onboards a directory user before their first login,
// recorded as at a login, so that they can be given a role.
func (s *Service) userFromDirectory(ctx context.Context, who Actor, name string) (*Onboarded, error) {
	if IsBootstrapAdmin(name) {
		return nil, &Error{Kind: KindNotFound, Msg: fmt.Sprintf("user %s not found (%q is always a local account)", name, name)}
	}
	du, found, err := s.opt.Directory.Lookup(ctx, name)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, &Error{Kind: KindNotFound,
			Msg: fmt.Sprintf("user %s not found, neither in authserver nor (as exactly one entry) in the directory", name)}
	}
	if du.Name != name {
		return nil, invalidf(fmt.Sprintf("user %s is spelled %q in the directory: use that name", name, du.Name))
	}
	var u store.User
	err = s.change(ctx, who, "user.onboard", "user "+name+" from "+du.DN, func(st store.Store) (err error) {
		u, err = st.SyncLDAPUser(ctx, store.LDAPUser{Name: du.Name, Email: du.Email, DisplayName: du.DisplayName,
			DN: du.DN, EntryID: du.EntryID, GroupDNs: du.GroupDNs(), Admin: du.Admin})
		return fromStore(err, "user "+name)
	})
	if err != nil {
		return nil, err
	}
	return &Onboarded{Kind: store.MemberUser, Name: u.Name, DN: du.DN}, nil
}

// groupFromDirectory looks a group authserver does not know yet up in the
// directory (by DN, or by name) and creates it with the directory's name
// and DN, an admin change with its own audit record (group.create). A name
// with spaces (Active Directory's "Domain Admins") becomes the authserver
// name with each run of spaces replaced by "-"; naming the directory group
// again finds the group made from it (created false).
func (s *Service) groupFromDirectory(ctx context.Context, who Actor, nameOrDN string) (_ store.Group, created bool, _ error) {
	dg, err := s.opt.Directory.FindGroup(ctx, nameOrDN)
	if errors.Is(err, ldap.ErrGroupNotFound) {
		return store.Group{}, false, &Error{Kind: KindNotFound, Err: err, Msg: fmt.Sprintf(
			"group %s not found, neither in authserver nor in the directory (under %s, matching %s)",
			nameOrDN, s.opt.GroupBaseDN, s.opt.GroupFilter)}
	}
	if err != nil {
		return store.Group{}, false, err
	}
	name := dg.Name
	if dashed := dashedName(name); ValidName(name) != nil && ValidName(dashed) == nil {
		name = dashed
	}
	if err := ValidName(name); err != nil {
		return store.Group{}, false, invalidf(fmt.Sprintf("directory group %s: %v; create it with `authserver group create NAME --dn %q`", dg.DN, err, dg.DN))
	}
	if g, err := s.st.GetGroup(ctx, name); err == nil && strings.EqualFold(g.DN, dg.DN) {
		return g, false, nil
	}
	g := store.Group{Name: name, DN: dg.DN}
	err = s.change(ctx, who, "group.create", "group "+g.Name+" from the directory", func(st store.Store) error {
		return st.CreateGroup(ctx, &g)
	})
	if err != nil {
		if errors.Is(err, store.ErrAlreadyExists) {
			return store.Group{}, false, &Error{Kind: KindExists, Err: err, Msg: fmt.Sprintf(
				"directory group %s is named %q, but that name (or DN) is taken in authserver; "+
					"create it under another name with `authserver group create NAME --dn %q`", dg.DN, name, dg.DN)}
		}
		return store.Group{}, false, err
	}
	return g, true, nil
}

// dashedName is the authserver name of a directory group whose name has
// spaces: each run of spaces replaced by "-" ("Domain Admins" →
// "Domain-Admins").
func dashedName(name string) string { return strings.Join(strings.Fields(name), "-") }
