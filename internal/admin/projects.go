package admin

import (
	"context"
	"fmt"

	"github.com/authserver/authserver/internal/store"
)

// CreateProject creates a project with a name the registry accepts.
func (s *Service) CreateProject(ctx context.Context, who Actor, name string, public bool) (store.Project, error) {
	if err := s.allow(ctx, who, rightCreateProject, name, "create projects"); err != nil {
		return store.Project{}, err
	}
	if err := ValidProjectName(name); err != nil {
		return store.Project{}, err
	}
	p := store.Project{Name: name, Public: public}
	if err := s.st.CreateProject(ctx, &p); err != nil {
		return store.Project{}, fromStore(err, "project "+name)
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

// ListProjects returns the projects the actor may see, ordered by name.
func (s *Service) ListProjects(ctx context.Context, who Actor) ([]store.Project, error) {
	if err := s.allow(ctx, who, rightSystem, "", "list projects"); err != nil {
		return nil, err
	}
	return s.st.ListProjects(ctx)
}

// SetProjectPublic changes a project's visibility.
func (s *Service) SetProjectPublic(ctx context.Context, who Actor, name string, public bool) error {
	if err := s.allow(ctx, who, rightManageProject, name, "change project "+name); err != nil {
		return err
	}
	return fromStore(s.st.SetProjectPublic(ctx, name, public), "project "+name)
}

// DeleteProject deletes a project with its memberships and robots.
func (s *Service) DeleteProject(ctx context.Context, who Actor, name string) error {
	if err := s.allow(ctx, who, rightManageProject, name, "delete project "+name); err != nil {
		return err
	}
	return fromStore(s.st.DeleteProject(ctx, name), "project "+name)
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
	if err := s.st.CreateGroup(ctx, &g); err != nil {
		return store.Group{}, fromStore(err, "group "+name)
	}
	return g, nil
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
	return fromStore(s.st.DeleteGroup(ctx, name), "group "+name)
}

// AddGroupUser puts a user in a local group.
func (s *Service) AddGroupUser(ctx context.Context, who Actor, group, user string) error {
	if err := s.allow(ctx, who, rightSystem, "", "change groups"); err != nil {
		return err
	}
	return fromStore(s.st.AddGroupUser(ctx, group, user), fmt.Sprintf("group %s or user %s", group, user))
}

// RemoveGroupUser takes a user out of a local group.
func (s *Service) RemoveGroupUser(ctx context.Context, who Actor, group, user string) error {
	if err := s.allow(ctx, who, rightSystem, "", "change groups"); err != nil {
		return err
	}
	return fromStore(s.st.RemoveGroupUser(ctx, group, user), fmt.Sprintf("user %s in group %s", user, group))
}
