package admin

import (
	"context"
	"fmt"
	"slices"

	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/authz"
	"github.com/authserver/authserver/internal/store"
)

// right is what an operation needs of its actor.
type right int

const (
	// rightSystem: users, groups, system robots, explain (Harbor: sysadmin only).
	rightSystem right = iota
	// rightCreateProject: create a project (Harbor's default lets every
	// user, who then becomes its projectAdmin).
	rightCreateProject
	// rightManageProject: members, robots, visibility, deletion of one
	// project (Harbor: projectAdmin).
	rightManageProject
	// rightReadProject: see a project and its members (Harbor: members,
	// and everyone for a public project).
	rightReadProject
	// rightOwnCredentials: a user's own personal and refresh tokens.
	rightOwnCredentials
	// rightSelf: a user's own profile (read it, change email and name).
	rightSelf
	// rightAuthenticated: any logged-in user (search users by name, as
	// Harbor lets project admins do to add members).
	rightAuthenticated
)

// allow checks that who may do what (described for the message) with
// right r on target (a project or user name, "" for none), with Harbor's
// delegated permissions: sysadmins pass everything; project rights depend
// on who's role in the target project. A private project the actor is no
// member of is reported as not found, never forbidden, when it is read or
// changed. Its name still shows when someone tries to create it: project
// names are one namespace (the registry's), so CreateProject answers that
// the name is taken (409), as Harbor does; that is inherent, not a leak
// this check could close.
func (s *Service) allow(ctx context.Context, who Actor, r right, target, what string) error {
	if who.Admin {
		return nil
	}
	switch r {
	case rightOwnCredentials, rightSelf:
		if who.Name != "" && who.Name == target {
			return nil
		}
	case rightAuthenticated:
		if who.Name != "" {
			return nil
		}
	case rightCreateProject:
		if who.Name != "" && !s.opt.AdminOnlyProjects {
			return nil
		}
		if who.Name != "" {
			return s.forbidden(who, what, "api.project_creation is adminonly: it takes a sysadmin")
		}
	case rightReadProject, rightManageProject:
		pa, err := s.access(ctx, who, target)
		if err != nil {
			return err
		}
		role := best(pa.Grants)
		// An internal project is read by any authenticated user.
		visible := pa.Public || pa.Internal && who.Name != ""
		if r == rightReadProject && (visible || role != "") || r == rightManageProject && role == store.RoleProjectAdmin {
			return nil
		}
		if role == "" && !visible {
			return &Error{Kind: KindNotFound, Msg: "project " + target + " not found", Err: store.ErrNotFound}
		}
		return s.forbidden(who, what, "it takes the project's projectAdmin or a sysadmin")
	}
	return s.forbidden(who, what, "it takes a sysadmin")
}

// byPassword refuses an actor authenticated by a token that stands in for
// the password (a personal access token; a refresh token, which the API
// never takes, alike) the management of credentials: creating or revoking
// personal access tokens, revoking refresh tokens, changing a password. A
// leaked token could otherwise mint more tokens that outlive its own
// revocation, or take the account from its owner. what is described as for
// allow.
func (s *Service) byPassword(who Actor, what string) error {
	token := map[string]string{authn.MethodPAT: "a personal access token", authn.MethodRefresh: "a refresh token"}[who.Method]
	if token != "" {
		return s.forbidden(who, what, "not when authenticated by "+token+"; log in with the password")
	}
	return nil
}

func (s *Service) forbidden(who Actor, what, why string) error {
	name := who.Name
	if name == "" {
		name = "anonymous"
	}
	return &Error{Kind: KindForbidden, Msg: fmt.Sprintf("%s may not %s: %s", name, what, why)}
}

// access is what who holds in project; a missing project is ErrNotFound.
func (s *Service) access(ctx context.Context, who Actor, project string) (store.ProjectAccess, error) {
	m, err := s.st.ProjectAccess(ctx, store.Principal{UserID: who.UserID, GroupDNs: who.GroupDNs}, []string{project})
	if err != nil {
		return store.ProjectAccess{}, err
	}
	pa, ok := m[project]
	if !ok {
		return store.ProjectAccess{}, &Error{Kind: KindNotFound, Msg: "project " + project + " not found", Err: store.ErrNotFound}
	}
	return pa, nil
}

// best is the most powerful role among grants, "" for none.
func best(grants []store.Grant) store.Role {
	var out store.Role
	for _, g := range grants {
		if out == "" || rank(g.Role) < rank(out) {
			out = g.Role
		}
	}
	return out
}

// rank orders roles, 0 the most powerful (store.Roles' order).
func rank(r store.Role) int {
	if i := slices.Index(store.Roles, r); i >= 0 {
		return i
	}
	return len(store.Roles)
}

// ProjectRoles returns the strongest role who holds in each named project
// (absent when none): Harbor's current_user_role_id. Sysadmins get their
// memberships too, like anyone.
func (s *Service) ProjectRoles(ctx context.Context, who Actor, projects []string) (map[string]store.Role, error) {
	out := map[string]store.Role{}
	if who.UserID == 0 && len(who.GroupDNs) == 0 {
		return out, nil
	}
	m, err := s.st.ProjectAccess(ctx, store.Principal{UserID: who.UserID, GroupDNs: who.GroupDNs}, projects)
	if err != nil {
		return nil, err
	}
	for name, pa := range m {
		if r := best(pa.Grants); r != "" {
			out[name] = r
		}
	}
	return out, nil
}

// capRole refuses, for a non-sysadmin, to grant a role above the actor's
// own in project.
func (s *Service) capRole(ctx context.Context, who Actor, project string, r store.Role) error {
	if who.Admin {
		return nil
	}
	pa, err := s.access(ctx, who, project)
	if err != nil {
		return err
	}
	if own := best(pa.Grants); own == "" || rank(r) < rank(own) {
		return s.forbidden(who, fmt.Sprintf("grant role %s in project %s", r, project), "it is above their own role")
	}
	return nil
}

// capActions refuses, for a non-sysadmin, robot actions that the actor's
// own role in project does not hold (a projectAdmin holds them all).
func (s *Service) capActions(ctx context.Context, who Actor, project string, actions []string) error {
	if who.Admin {
		return nil
	}
	pa, err := s.access(ctx, who, project)
	if err != nil {
		return err
	}
	own := authz.RoleActions(best(pa.Grants))
	for _, a := range actions {
		if !slices.Contains(own, a) {
			return s.forbidden(who, fmt.Sprintf("give a robot of project %s the action %s", project, a), "their own role does not hold it")
		}
	}
	return nil
}
