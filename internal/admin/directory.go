package admin

import (
	"context"

	"github.com/authserver/authserver/internal/store"
)

// DirectoryRecord returns what the directory said about an LDAP user at
// their last recorded directory login (entry, identifier, groups, admin
// group membership); a user may read their own. ErrNotFound when the user
// does not exist or never logged in through the directory.
func (s *Service) DirectoryRecord(ctx context.Context, who Actor, name string) (store.LDAPUser, error) {
	if err := s.allow(ctx, who, rightSelf, name, "read users"); err != nil {
		return store.LDAPUser{}, err
	}
	lu, err := s.st.GetLDAPUser(ctx, name)
	return lu, fromStore(err, "directory record of user "+name)
}
