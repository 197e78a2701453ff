package app

import (
	"github.com/authserver/authserver/internal/authn/ldap"
	"github.com/authserver/authserver/internal/config"
)

// NewDirectory builds the LDAP client of cfg for a CLI command (no logger,
// no observer), or nil without an ldap: section.
func NewDirectory(cfg config.Config) (*ldap.Directory, error) {
	if cfg.LDAP == nil {
		return nil, nil
	}
	return ldap.New(*cfg.LDAP, nil)
}
