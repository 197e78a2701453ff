package admin

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/store"
)

// MemberRef names a member: a user, or a group by name or LDAP DN.
// Exactly one is set.
type MemberRef struct {
	User  string
	Group string
	// GroupName, with Group an LDAP DN, names the group to create when
	// neither authserver nor the directory knows that DN (Harbor's member
	// API creates the user group that way).
	GroupName string
}

// Onboarded is a user or group that AddMember created from the directory.
type Onboarded struct {
	Kind store.MemberKind
	Name string
	DN   string
}

// AddMember gives a user or group role in project, replacing its role
// there. With a Directory, a user or group authserver does not know yet
// is looked up there and created first; the result then says so in
// Onboarded, even when the membership itself then fails.
func (s *Service) AddMember(ctx context.Context, who Actor, project string, ref MemberRef, role string) (store.Member, *Onboarded, error) {
	if err := s.allow(ctx, who, rightManageProject, project, "manage the members of project "+project); err != nil {
		return store.Member{}, nil, err
	}
	r, err := store.ParseRole(role)
	if err != nil {
		return store.Member{}, nil, invalid(err)
	}
	if _, err := s.st.GetProject(ctx, project); err != nil {
		return store.Member{}, nil, fromStore(err, "project "+project)
	}
	if err := s.capRole(ctx, who, project, r); err != nil {
		return store.Member{}, nil, err
	}
	kind, name, onb, err := s.resolve(ctx, ref, true)
	if err != nil {
		return store.Member{}, onb, err
	}
	m := store.Member{Project: project, Kind: kind, Name: name, Role: r}
	if err := s.change(ctx, who, "member.set", fmt.Sprintf("project %s: %s %s as %s", project, kind, name, r), func(st store.Store) error {
		return fromStore(st.SetMember(ctx, m), "member")
	}); err != nil {
		return store.Member{}, onb, err
	}
	return m, onb, nil
}

// RemoveMember takes a user or group out of project and returns whom.
func (s *Service) RemoveMember(ctx context.Context, who Actor, project string, ref MemberRef) (store.Member, error) {
	if err := s.allow(ctx, who, rightManageProject, project, "manage the members of project "+project); err != nil {
		return store.Member{}, err
	}
	kind, name, _, err := s.resolve(ctx, ref, false)
	if err != nil {
		return store.Member{}, err
	}
	if err := s.change(ctx, who, "member.remove", fmt.Sprintf("project %s: %s %s", project, kind, name), func(st store.Store) error {
		return fromStore(st.RemoveMember(ctx, project, kind, name), fmt.Sprintf("membership of %s %s in project %s", kind, name, project))
	}); err != nil {
		return store.Member{}, err
	}
	return store.Member{Project: project, Kind: kind, Name: name}, nil
}

// ListMembers lists a project's members, users first then groups.
func (s *Service) ListMembers(ctx context.Context, who Actor, project string) ([]store.Member, error) {
	if err := s.allow(ctx, who, rightReadProject, project, "read the members of project "+project); err != nil {
		return nil, err
	}
	ms, err := s.st.ListMembers(ctx, project)
	return ms, fromStore(err, "project "+project)
}

// resolve finds the member ref names; a group may be named by its DN.
// With onboard and a Directory, one authserver does not know yet is
// looked up in the directory and created.
func (s *Service) resolve(ctx context.Context, ref MemberRef, onboard bool) (store.MemberKind, string, *Onboarded, error) {
	if (ref.User == "") == (ref.Group == "") {
		return "", "", nil, invalidf("a member is one user or one group")
	}
	if ref.User != "" {
		_, err := s.st.GetUser(ctx, ref.User)
		if errors.Is(err, store.ErrNotFound) && onboard && s.opt.Directory != nil {
			onb, err := s.userFromDirectory(ctx, ref.User)
			if err != nil {
				return "", "", nil, err
			}
			return store.MemberUser, ref.User, onb, nil
		}
		if err != nil {
			return "", "", nil, fromStore(err, "user "+ref.User)
		}
		return store.MemberUser, ref.User, nil, nil
	}
	g, err := s.st.GetGroup(ctx, ref.Group)
	if errors.Is(err, store.ErrNotFound) && onboard && s.opt.Directory != nil {
		var created bool
		if g, created, err = s.groupFromDirectory(ctx, ref.Group); err != nil {
			return "", "", nil, err
		}
		if !created {
			return store.MemberGroup, g.Name, nil, nil
		}
		return store.MemberGroup, g.Name, &Onboarded{Kind: store.MemberGroup, Name: g.Name, DN: g.DN}, nil
	}
	if errors.Is(err, store.ErrNotFound) && onboard && ref.GroupName != "" {
		if err := ValidName(ref.GroupName); err != nil {
			return "", "", nil, err
		}
		g = store.Group{Name: ref.GroupName, DN: ref.Group}
		if err := s.st.CreateGroup(ctx, &g); err != nil {
			return "", "", nil, fromStore(err, "group "+ref.GroupName)
		}
		return store.MemberGroup, g.Name, &Onboarded{Kind: store.MemberGroup, Name: g.Name, DN: g.DN}, nil
	}
	if err != nil {
		return "", "", nil, fromStore(err, "group "+ref.Group)
	}
	return store.MemberGroup, g.Name, nil, nil
}

// userFromDirectory onboards a directory user before their first login,
// recorded as at a login, so that they can be given a role.
func (s *Service) userFromDirectory(ctx context.Context, name string) (*Onboarded, error) {
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
	u, err := s.st.SyncLDAPUser(ctx, store.LDAPUser{Name: du.Name, Email: du.Email, DisplayName: du.DisplayName,
		DN: du.DN, EntryID: du.EntryID, GroupDNs: du.GroupDNs(), Admin: du.Admin})
	if err != nil {
		return nil, fromStore(err, "user "+name)
	}
	return &Onboarded{Kind: store.MemberUser, Name: u.Name, DN: du.DN}, nil
}

// groupFromDirectory looks a group authserver does not know yet up in the
// directory (by DN, or by name) and creates it with the directory's name
// and DN. A name with spaces (Active Directory's "Domain Admins") becomes
// the authserver name with each run of spaces replaced by "-"; naming the
// directory group again finds the group made from it (created false).
func (s *Service) groupFromDirectory(ctx context.Context, nameOrDN string) (_ store.Group, created bool, _ error) {
	dg, err := s.opt.Directory.FindGroup(ctx, nameOrDN)
	if errors.Is(err, authn.ErrGroupNotFound) {
		return store.Group{}, false, &Error{Kind: KindNotFound, Err: err, Msg: fmt.Sprintf(
			"group %s not found, neither in authserver nor in the directory (under %s, matching %s)",
			nameOrDN, s.opt.GroupBaseDN, s.opt.GroupFilter)}
	}
	if err != nil {
		return store.Group{}, false, err
	}
	name := dg.Name
	if dashed := strings.Join(strings.Fields(name), "-"); ValidName(name) != nil && ValidName(dashed) == nil {
		name = dashed
	}
	if err := ValidName(name); err != nil {
		return store.Group{}, false, invalidf(fmt.Sprintf("directory group %s: %v; create it with `authserver group create NAME --dn %q`", dg.DN, err, dg.DN))
	}
	if g, err := s.st.GetGroup(ctx, name); err == nil && strings.EqualFold(g.DN, dg.DN) {
		return g, false, nil
	}
	g := store.Group{Name: name, DN: dg.DN}
	if err := s.st.CreateGroup(ctx, &g); err != nil {
		if errors.Is(err, store.ErrAlreadyExists) {
			return store.Group{}, false, &Error{Kind: KindExists, Err: err, Msg: fmt.Sprintf(
				"directory group %s is named %q, but that name (or DN) is taken in authserver; "+
					"create it under another name with `authserver group create NAME --dn %q`", dg.DN, name, dg.DN)}
		}
		return store.Group{}, false, err
	}
	return g, true, nil
}
