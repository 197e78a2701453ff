package api

import (
	"errors"

	"github.com/authserver/authserver/internal/admin"
	"github.com/authserver/authserver/internal/authn/ldap"
	"github.com/authserver/authserver/internal/store"
)

// withDirectory is toUser for one LDAP user read on its own, with what the
// directory said at their last recorded login: admin_role_in_auth (Harbor's
// flag for a sysadmin by the authentication backend: a member of
// ldap.admin_group_dn, whom the stored sysadmin_flag does not show) and
// directory_id, the entry's identifier in the server's own text form
// (objectGUID as Active Directory writes a GUID). caller is the user's own
// identity when it is the caller (GET /users/current): its admin flag is
// what the server grants now.
func (c *call) withDirectory(u store.User, caller *admin.Actor) (userResp, error) {
	r := toUser(u)
	if u.Source != store.SourceLDAP {
		return r, nil
	}
	lu, err := c.a.opt.Admin.DirectoryRecord(c.r.Context(), c.who, u.Name)
	var ae *admin.Error
	switch {
	case errors.As(err, &ae) && ae.Kind == admin.KindNotFound:
	case err != nil:
		return userResp{}, err
	default:
		r.AdminRoleInAuth = lu.Admin
		r.DirectoryID = ldap.EntryIDText(lu.EntryID)
	}
	if caller != nil && caller.Admin && !u.Admin {
		r.AdminRoleInAuth = true
	}
	return r, nil
}
