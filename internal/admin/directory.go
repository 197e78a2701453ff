package admin

import (
	"context"

	"github.com/authserver/authserver/internal/authn/ldap"
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

// DirectoryID is an LDAP user's directory identifier in the server's own
// form (AD's objectGUID as its GUID string, entryUUID as it is), "" when
// none was recorded; see DirectoryRecord for who may read it.
func (s *Service) DirectoryID(ctx context.Context, who Actor, name string) (string, error) {
	lu, err := s.DirectoryRecord(ctx, who, name)
	if err != nil {
		return "", err
	}
	return DirectoryIDText(lu.EntryID), nil
}

// DirectoryIDText is a recorded directory identifier as an operator reads
// it: AD's objectGUID as its GUID string, entryUUID as it is.
func DirectoryIDText(entryID string) string { return ldap.EntryIDText(entryID) }
