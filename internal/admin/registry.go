package admin

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/authserver/authserver/internal/registry"
	"github.com/authserver/authserver/internal/store"
)

// Registry is the registry whose tokens authserver signs, asked through
// its own API (the catalog, manifests): whether a project still holds
// repositories, and deleting one. Without it (no registry.url) authserver
// cannot see images. internal/registry's Client implements it; its errors
// are registry.ErrNotFound (no such repository), registry.ErrDeleteDisabled
// and registry.ErrUnavailable (the registry failed: 503).
type Registry interface {
	// Repositories lists the repositories of project that hold a tag,
	// named with the project ("team/app"), from the registry's catalog.
	Repositories(ctx context.Context, project string) ([]string, error)
	// DeleteRepository deletes every tagged manifest of repository
	// ("team/app"); registry.ErrNotFound when it has none.
	DeleteRepository(ctx context.Context, repository string) error
}

// Repositories lists the repositories of the project with id (as
// GetProject may read it), from Options.Registry; none without one.
func (s *Service) Repositories(ctx context.Context, who Actor, id int64) ([]string, error) {
	p, err := s.GetProject(ctx, who, id)
	if err != nil || s.opt.Registry == nil {
		return []string{}, err
	}
	return s.opt.Registry.Repositories(ctx, p.Name)
}

// DeleteRepository deletes repository ("project/name") of the project
// with id through Options.Registry (projectAdmins; terraform's
// force_destroy): not found without a registry. The registry's work is
// done first, outside any transaction; its admin audit record then goes
// through the change path (a record that cannot be written is an error,
// though the registry has deleted the manifests).
func (s *Service) DeleteRepository(ctx context.Context, who Actor, id int64, repository string) error {
	p, err := s.project(ctx, who, id, rightManageProject, "delete the repositories of project")
	if err != nil {
		return err
	}
	if !strings.HasPrefix(repository, p.Name+"/") {
		return invalidf(fmt.Sprintf("repository %q is not in project %s", repository, p.Name))
	}
	if s.opt.Registry == nil {
		return &Error{Kind: KindNotFound, Msg: fmt.Sprintf("repository %s not found (no registry.url: authserver sees no repositories)", repository),
			Err: store.ErrNotFound}
	}
	err = s.opt.Registry.DeleteRepository(ctx, repository)
	switch {
	case errors.Is(err, registry.ErrNotFound):
		return &Error{Kind: KindNotFound, Msg: "repository " + repository + " not found", Err: err}
	case errors.Is(err, registry.ErrDeleteDisabled):
		return &Error{Kind: KindPrecondition, Msg: "cannot delete repository " + repository + ": " + registry.ErrDeleteDisabled.Error(), Err: err}
	case err != nil:
		return err
	}
	return s.change(ctx, who, "repository.delete", "repository "+repository, func(store.Store) error { return nil })
}

// projectEmpty refuses (KindPrecondition) the deletion of project while
// the registry holds repositories under it; without a registry it
// cannot tell, and DeleteProject reserves the name instead.
func (s *Service) projectEmpty(ctx context.Context, project string) error {
	if s.opt.Registry == nil {
		return nil
	}
	repos, err := s.opt.Registry.Repositories(ctx, project)
	if err != nil {
		return err
	}
	if len(repos) > 0 {
		shown := repos[:min(len(repos), 5)]
		return &Error{Kind: KindPrecondition, Msg: fmt.Sprintf("project %s still has %d repositories (%s): delete them first "+
			"(DELETE /api/v2.0/projects/%s/repositories/NAME, terraform's force_destroy)", project, len(repos), strings.Join(shown, ", "), project)}
	}
	return nil
}
