package config

import "fmt"

// API configures the admin REST API (/api/v2.0, Harbor-compatible, and
// /api/authserver/v1).
type API struct {
	// Enabled mounts the API on the main listener. Default true.
	Enabled bool `yaml:"enabled"`
	// ProjectCreation is Harbor's project_creation_restriction: "everyone"
	// (the default) lets any authenticated user create a project, of which
	// they become projectAdmin; "adminonly" leaves it to sysadmins.
	ProjectCreation string `yaml:"project_creation"`
	// MaxProjectsPerUser is the most projects a user who is no sysadmin
	// may own (have created): default 100; 0 is no limit.
	MaxProjectsPerUser int `yaml:"max_projects_per_user"`
}

// The values of api.project_creation.
const (
	ProjectCreationEveryone  = "everyone"
	ProjectCreationAdminOnly = "adminonly"
)

func defaultAPI() API {
	return API{Enabled: true, ProjectCreation: ProjectCreationEveryone, MaxProjectsPerUser: DefaultMaxProjectsPerUser}
}

func (c *Config) validateAPI() []error {
	var errs []error
	switch c.API.ProjectCreation {
	case ProjectCreationEveryone, ProjectCreationAdminOnly:
	default:
		errs = append(errs, fmt.Errorf("api.project_creation %q: want everyone or adminonly", c.API.ProjectCreation))
	}
	if c.API.MaxProjectsPerUser < 0 {
		errs = append(errs, fmt.Errorf("api.max_projects_per_user %d: want 0 (no limit) or more", c.API.MaxProjectsPerUser))
	}
	return errs
}
