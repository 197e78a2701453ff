package api

import (
	"net/url"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/authserver/authserver/internal/store"
)

// Harbor's repositories, as far as the registry's own API tells them:
// authserver keeps no images, so it asks the registry (registry.url)
// through admin. Without registry.url a project has no repositories.

type repositoryResp struct {
	ID            int64  `json:"id"`
	ProjectID     int64  `json:"project_id"`
	Name          string `json:"name"`
	Description   string `json:"description"`
	ArtifactCount int64  `json:"artifact_count"`
	PullCount     int64  `json:"pull_count"`
	CreationTime  string `json:"creation_time"`
	UpdateTime    string `json:"update_time"`
}

// repoProject is the path's {project_name} (a name, or an id when the
// request does not say it is a name and it is a number, as Harbor reads
// it).
func (c *call) repoProject() (store.Project, error) {
	return c.a.opt.Admin.FindProject(c.r.Context(), c.who, chi.URLParam(c.r, "project_name"))
}

// repositoryKeys are what q and sort name on a project's repositories.
func repositoryKeys() listKeys {
	return listKeys{q: map[string]qKey{"name": {field: store.FieldName, typ: "string"}},
		sort: map[string]string{"name": store.FieldName}}
}

// listRepositories pages the registry's catalog of the project (no
// database rows: filtered and cut here).
func (c *call) listRepositories() error {
	p, err := c.repoProject()
	if err != nil {
		return err
	}
	conds, err := c.parseQ()
	if err != nil {
		return err
	}
	q, err := c.listQuery(repositoryKeys(), conds)
	if err != nil {
		return err
	}
	names, err := c.a.opt.Admin.Repositories(c.r.Context(), c.who, p.ID)
	if err != nil {
		return err
	}
	names, total := inMemory(names, q)
	return paged(c, q, total, each(names, func(n string) repositoryResp {
		return repositoryResp{ProjectID: p.ID, Name: n, CreationTime: harborTime(p.CreatedAt), UpdateTime: harborTime(p.CreatedAt)}
	}))
}

// deleteRepository deletes {repository_name} (under the project; Harbor's
// clients encode its slashes twice, %252F) through the registry.
func (c *call) deleteRepository() error {
	p, err := c.repoProject()
	if err != nil {
		return err
	}
	name := chi.URLParam(c.r, "repository_name")
	for range 2 { // chi gives the raw segment; Harbor's name is encoded twice
		if u, err := url.PathUnescape(name); err == nil {
			name = u
		}
	}
	name = strings.TrimPrefix(name, p.Name+"/")
	return c.done(c.a.opt.Admin.DeleteRepository(c.r.Context(), c.who, p.ID, p.Name+"/"+name))
}
