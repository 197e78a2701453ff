package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/authserver/authserver/internal/store"
)

// CreateProject creates a project with a name the registry accepts. A
// user who creates one (not the CLI) becomes its projectAdmin, as in
// Harbor; project and membership are one transaction, so nothing is
// half-made.
func (s *Service) CreateProject(ctx context.Context, who Actor, name string, public bool) (store.Project, error) {
	if err := s.allow(ctx, who, rightCreateProject, name, "create projects"); err != nil {
		return store.Project{}, err
	}
	if err := ValidProjectName(name); err != nil {
		return store.Project{}, err
	}
	p := store.Project{Name: name, Public: public}
	if err := s.change(ctx, who, "project.create", "project "+name, func(st store.Store) error {
		if err := st.CreateProject(ctx, &p); err != nil {
			return fromStore(err, "project "+name)
		}
		if who.UserID == 0 { // the CLI
			return nil
		}
		m := store.Member{Project: name, Kind: store.MemberUser, Name: who.Name, Role: store.RoleProjectAdmin}
		return fromStore(st.SetMember(ctx, m), "user "+who.Name)
	}); err != nil {
		return store.Project{}, err
	}
	return p, nil
}

// GetProjectByID returns one project by ID; a private project the actor
// is no member of is not found.
func (s *Service) GetProjectByID(ctx context.Context, who Actor, id int64) (store.Project, error) {
	p, err := s.st.GetProjectByID(ctx, id)
	if err != nil {
		return store.Project{}, fromStore(err, fmt.Sprintf("project %d", id))
	}
	if err := s.allow(ctx, who, rightReadProject, p.Name, "read project "+p.Name); err != nil {
		if errors.Is(err, ErrNotFound) {
			return store.Project{}, &Error{Kind: KindNotFound, Msg: fmt.Sprintf("project %d not found", id), Err: store.ErrNotFound}
		}
		return store.Project{}, err
	}
	return p, nil
}

// GetProject returns one project.
func (s *Service) GetProject(ctx context.Context, who Actor, name string) (store.Project, error) {
	if err := s.allow(ctx, who, rightReadProject, name, "read project "+name); err != nil {
		return store.Project{}, err
	}
	p, err := s.st.GetProject(ctx, name)
	return p, fromStore(err, "project "+name)
}

// ListProjects returns the projects the actor may see, ordered by name:
// all of them for a sysadmin, else the public ones and those the actor is
// a member of (anonymous: the public ones).
func (s *Service) ListProjects(ctx context.Context, who Actor) ([]store.Project, error) {
	ps, err := s.st.ListProjects(ctx)
	if err != nil || who.Admin {
		return ps, err
	}
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name
	}
	roles, err := s.ProjectRoles(ctx, who, names)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(ps, func(p store.Project) bool { return !p.Public && roles[p.Name] == "" }), nil
}

// SetProjectPublic changes a project's visibility.
func (s *Service) SetProjectPublic(ctx context.Context, who Actor, name string, public bool) error {
	if err := s.allow(ctx, who, rightManageProject, name, "change project "+name); err != nil {
		return err
	}
	return s.change(ctx, who, fmt.Sprintf("project.public=%t", public), "project "+name, func(st store.Store) error {
		return fromStore(st.SetProjectPublic(ctx, name, public), "project "+name)
	})
}

// DeleteProject deletes a project with its memberships and robots.
func (s *Service) DeleteProject(ctx context.Context, who Actor, name string) error {
	if err := s.allow(ctx, who, rightManageProject, name, "delete project "+name); err != nil {
		return err
	}
	return s.change(ctx, who, "project.delete", "project "+name, func(st store.Store) error {
		return fromStore(st.DeleteProject(ctx, name), "project "+name)
	})
}

// Group is a group with the users of a local group.
type Group struct {
	store.Group
	Users []string
}

// CreateGroup creates a local group, or with dn an LDAP group.
func (s *Service) CreateGroup(ctx context.Context, who Actor, name, dn string) (store.Group, error) {
	if err := s.allow(ctx, who, rightSystem, "", "create groups"); err != nil {
		return store.Group{}, err
	}
	if err := ValidName(name); err != nil {
		return store.Group{}, err
	}
	g := store.Group{Name: name, DN: dn}
	if err := s.change(ctx, who, "group.create", "group "+name, func(st store.Store) error {
		return fromStore(st.CreateGroup(ctx, &g), "group "+name)
	}); err != nil {
		return store.Group{}, err
	}
	return g, nil
}

// GetGroupByID returns one group by ID with its local users.
func (s *Service) GetGroupByID(ctx context.Context, who Actor, id int64) (Group, error) {
	if err := s.allow(ctx, who, rightSystem, "", "read groups"); err != nil {
		return Group{}, err
	}
	g, err := s.st.GetGroupByID(ctx, id)
	if err != nil {
		return Group{}, fromStore(err, fmt.Sprintf("group %d", id))
	}
	users, err := s.st.ListGroupUsers(ctx, g.Name)
	if err != nil {
		return Group{}, fromStore(err, "group "+g.Name)
	}
	return Group{g, append([]string{}, users...)}, nil
}

// ListGroups returns every group with its local users, ordered by name.
func (s *Service) ListGroups(ctx context.Context, who Actor) ([]Group, error) {
	if err := s.allow(ctx, who, rightSystem, "", "list groups"); err != nil {
		return nil, err
	}
	gs, err := s.st.ListGroups(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Group, len(gs))
	for i, g := range gs {
		users, err := s.st.ListGroupUsers(ctx, g.Name)
		if err != nil {
			return nil, err
		}
		out[i] = Group{g, append([]string{}, users...)}
	}
	return out, nil
}

// DeleteGroup deletes a group with its users and memberships.
func (s *Service) DeleteGroup(ctx context.Context, who Actor, name string) error {
	if err := s.allow(ctx, who, rightSystem, "", "delete groups"); err != nil {
		return err
	}
	return s.change(ctx, who, "group.delete", "group "+name, func(st store.Store) error {
		return fromStore(st.DeleteGroup(ctx, name), "group "+name)
	})
}

// AddGroupUser puts a user in a local group.
func (s *Service) AddGroupUser(ctx context.Context, who Actor, group, user string) error {
	return s.groupUser(ctx, who, group, user, "group.add_user", store.Store.AddGroupUser, fmt.Sprintf("group %s or user %s", group, user))
}

// RemoveGroupUser takes a user out of a local group.
func (s *Service) RemoveGroupUser(ctx context.Context, who Actor, group, user string) error {
	return s.groupUser(ctx, who, group, user, "group.remove_user", store.Store.RemoveGroupUser, fmt.Sprintf("user %s in group %s", user, group))
}

// groupUser changes a group's users with op and records action; missing
// names what was not found.
func (s *Service) groupUser(ctx context.Context, who Actor, group, user, action string,
	op func(st store.Store, ctx context.Context, group, user string) error, missing string) error {
	if err := s.allow(ctx, who, rightSystem, "", "change groups"); err != nil {
		return err
	}
	return s.change(ctx, who, action, fmt.Sprintf("group %s: user %s", group, user), func(st store.Store) error {
		return fromStore(op(st, ctx, group, user), missing)
	})
}
