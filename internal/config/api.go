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
}

// The values of api.project_creation.
const (
	ProjectCreationEveryone  = "everyone"
	ProjectCreationAdminOnly = "adminonly"
)

func defaultAPI() API { return API{Enabled: true, ProjectCreation: ProjectCreationEveryone} }

func (c *Config) validateAPI() []error {
	switch c.API.ProjectCreation {
	case ProjectCreationEveryone, ProjectCreationAdminOnly:
		return nil
	}
	return []error{fmt.Errorf("api.project_creation %q: want everyone or adminonly", c.API.ProjectCreation)}
}
