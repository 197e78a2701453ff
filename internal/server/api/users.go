package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/authserver/authserver/internal/admin"
	"github.com/authserver/authserver/internal/store"
)

type userResp struct {
	UserID          int64  `json:"user_id"`
	Username        string `json:"username"`
	Email           string `json:"email"`
	Realname        string `json:"realname"`
	Comment         string `json:"comment"`
	SysadminFlag    bool   `json:"sysadmin_flag"`
	AdminRoleInAuth bool   `json:"admin_role_in_auth"`
	CreationTime    string `json:"creation_time"`
	UpdateTime      string `json:"update_time"`
	// DirectoryID is an LDAP user's directory entry identifier (not
	// Harbor's; set by withDirectory on reads of one user).
	DirectoryID string `json:"directory_id,omitempty"`
}

func toUser(u store.User) userResp {
	return userResp{UserID: u.ID, Username: u.Name, Email: u.Email, Realname: u.DisplayName, Comment: u.Comment,
		SysadminFlag: u.Admin,
		CreationTime: harborTime(u.CreatedAt), UpdateTime: harborTime(u.UpdatedAt)}
}

// userBody is every field of Harbor's user schemas (UserCreationReq,
// UserProfile, UserResp, UserSysAdminFlag, PasswordReq): clients send
// whole user objects to each user endpoint (terraform's provider sends
// username, password, new_password, realname, email and sysadmin_flag
// everywhere), and Harbor ignores what an endpoint does not use. So does
// authserver; only fields none of these schemas has are refused.
type userBody struct {
	Username        *string         `json:"username"`
	Email           *string         `json:"email"`
	Realname        *string         `json:"realname"`
	Comment         *string         `json:"comment"`
	Password        string          `json:"password"`
	NewPassword     string          `json:"new_password"`
	OldPassword     string          `json:"old_password"`
	SysadminFlag    *bool           `json:"sysadmin_flag"`
	UserID          int64           `json:"user_id"`
	AdminRoleInAuth bool            `json:"admin_role_in_auth"`
	OIDCUserMeta    json.RawMessage `json:"oidc_user_meta"`
	CreationTime    string          `json:"creation_time"`
	UpdateTime      string          `json:"update_time"`
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// createUser takes username, email, realname and password (new_password
// when password is empty); sysadmin_flag is ignored, as Harbor does
// (PUT /users/{id}/sysadmin sets it).
func (c *call) createUser() error {
	var req userBody
	if err := c.decode(&req); err != nil {
		return err
	}
	pw := req.Password
	if pw == "" {
		pw = req.NewPassword
	}
	u, err := c.a.opt.Admin.CreateUser(c.r.Context(), c.who, admin.NewUser{Name: deref(req.Username), Email: deref(req.Email),
		DisplayName: deref(req.Realname), Comment: deref(req.Comment), Password: pw})
	if err != nil {
		return err
	}
	return c.created("/users", u.ID, u.Name)
}

// userKeys are what q and sort name on /users.
func (a *API) userKeys() listKeys {
	return listKeys{
		q: map[string]qKey{"username": {field: store.FieldName, typ: "string"}, "email": {field: store.FieldEmail, typ: "string"},
			"realname": {field: store.FieldRealName, typ: "string"}, "user_id": {field: store.FieldID, typ: "integer"},
			"sysadmin_flag": {field: store.FieldAdmin, typ: "boolean"}},
		sort: map[string]string{"username": store.FieldName, "email": store.FieldEmail, "realname": store.FieldRealName,
			"user_id": store.FieldID, "creation_time": store.FieldCreated, "update_time": store.FieldUpdated},
	}
}

// listUsers takes q and sort, and username and email as substrings.
func (c *call) listUsers() error {
	conds, err := c.parseQ()
	if err != nil {
		return err
	}
	q, err := c.listQuery(c.a.userKeys(), conds, append(c.fuzzyParam("username", store.FieldName), c.fuzzyParam("email", store.FieldEmail)...)...)
	if err != nil {
		return err
	}
	us, total, err := c.a.opt.Admin.PageUsers(c.r.Context(), c.who, q)
	if err != nil {
		return err
	}
	return paged(c, q, total, each(us, toUser))
}

// userHit is Harbor's UserSearchRespItem.
type userHit struct {
	UserID   int64  `json:"user_id"`
	Username string `json:"username"`
}

func (c *call) searchUsers() error {
	name := c.r.URL.Query().Get("username")
	if name == "" {
		return badf("username: required")
	}
	q, err := c.listQuery(listKeys{}, nil)
	if err != nil {
		return err
	}
	us, total, err := c.a.opt.Admin.SearchUsers(c.r.Context(), c.who, name, q)
	if err != nil {
		return err
	}
	return paged(c, q, total, each(us, func(u store.User) userHit { return userHit{u.ID, u.Name} }))
}

func (c *call) currentUser() error {
	u, err := c.a.opt.Admin.GetUser(c.r.Context(), c.who, c.who.UserID)
	if err != nil {
		return err
	}
	r, err := c.withDirectory(u, &c.who)
	if err != nil {
		return err
	}
	return c.ok(r)
}

// user finds the path's {user_id} with the actor's right to read it.
func (c *call) user() (store.User, error) {
	return byID(c, "user_id", c.a.opt.Admin.GetUser)
}

func (c *call) getUser() error {
	u, err := c.user()
	if err != nil {
		return err
	}
	r, err := c.withDirectory(u, nil)
	if err != nil {
		return err
	}
	return c.ok(r)
}

// updateUser takes Harbor's whole user body: email, realname and comment
// change, username must be the user's own (no renames), the rest is
// ignored as Harbor ignores it.
func (c *call) updateUser() error {
	var req userBody
	u, err := change(c, c.user, &req)
	if err != nil {
		return err
	}
	if req.Username != nil && *req.Username != "" && *req.Username != u.Name {
		return badf("username: users cannot be renamed")
	}
	if req.Email == nil && req.Realname == nil && req.Comment == nil {
		return c.empty(http.StatusOK)
	}
	_, err = c.a.opt.Admin.UpdateUser(c.r.Context(), c.who, u.ID, admin.UserChange{Email: req.Email, DisplayName: req.Realname,
		Comment: req.Comment})
	return c.done(err)
}

// setSysadmin sets sysadmin_flag; absent is false, as Harbor reads it
// (terraform's provider leaves it out for a user who is no sysadmin).
func (c *call) setSysadmin() error {
	var req userBody
	u, err := change(c, c.user, &req)
	if err != nil {
		return err
	}
	flag := req.SysadminFlag != nil && *req.SysadminFlag
	if flag == u.Admin {
		return c.empty(http.StatusOK)
	}
	_, err = c.a.opt.Admin.UpdateUser(c.r.Context(), c.who, u.ID, admin.UserChange{Admin: &flag})
	return c.done(err)
}

func (c *call) setPassword() error {
	var req userBody
	u, err := change(c, c.user, &req)
	if err != nil {
		return err
	}
	return c.done(c.a.opt.Admin.ChangePassword(c.r.Context(), c.who, u.ID, req.OldPassword, req.NewPassword))
}

func (c *call) deleteUser() error {
	return act(c, c.user, func(u store.User) error {
		_, err := c.a.opt.Admin.DeleteUser(c.r.Context(), c.who, u.ID, false)
		return err
	})
}

// Groups: group_type 1 is an LDAP group (ldap_group_dn set), 3 an OIDC
// group (made from the groups claim at SSO sign-in); authserver's local
// groups are reported as group_type 0.
type groupResp struct {
	ID          int64  `json:"id"`
	GroupName   string `json:"group_name"`
	GroupType   int    `json:"group_type"`
	LdapGroupDN string `json:"ldap_group_dn"`
}

// groupReq is Harbor's UserGroup as clients send it.
type groupReq struct {
	GroupName   string `json:"group_name"`
	GroupType   int    `json:"group_type"`
	LdapGroupDN string `json:"ldap_group_dn"`
	ID          int64  `json:"id"`
}

func toGroup(g store.Group) groupResp {
	t := 0
	switch {
	case g.DN != "":
		t = 1
	case g.OIDC:
		t = 3
	}
	return groupResp{ID: g.ID, GroupName: g.Name, GroupType: t, LdapGroupDN: g.DN}
}

func (c *call) createGroup() error {
	var req groupReq
	if err := c.decode(&req); err != nil {
		return err
	}
	switch {
	case req.GroupType == 1 && strings.TrimSpace(req.LdapGroupDN) == "":
		return badf("group_type 1 (LDAP) needs ldap_group_dn")
	case req.GroupType == 0 && req.LdapGroupDN != "":
		return badf("group_type 0 (local) takes no ldap_group_dn")
	case req.GroupType == 3 && req.LdapGroupDN != "":
		return badf("group_type 3 (OIDC) takes no ldap_group_dn")
	case req.GroupType != 0 && req.GroupType != 1 && req.GroupType != 3:
		return badf("group_type %d: want 1 (LDAP), 3 (OIDC) or 0 (local)", req.GroupType)
	}
	create := func(ctx context.Context, who admin.Actor) (store.Group, error) {
		if req.GroupType == 3 {
			return c.a.opt.Admin.CreateOIDCGroup(ctx, who, req.GroupName)
		}
		return c.a.opt.Admin.CreateGroup(ctx, who, req.GroupName, req.LdapGroupDN)
	}
	g, err := create(c.r.Context(), c.who)
	if err != nil {
		return err
	}
	return c.created("/usergroups", g.ID, g.Name)
}

// listGroups takes group_name (a substring) and ldap_group_dn.
func (c *call) listGroups() error {
	extra := c.fuzzyParam("group_name", store.FieldName)
	if dn := c.r.URL.Query().Get("ldap_group_dn"); dn != "" {
		extra = append(extra, store.Filter{Field: store.FieldDN, Values: []string{dn}})
	}
	q, err := c.listQuery(listKeys{}, nil, extra...)
	if err != nil {
		return err
	}
	gs, total, err := c.a.opt.Admin.PageGroups(c.r.Context(), c.who, q)
	if err != nil {
		return err
	}
	return paged(c, q, total, each(gs, toGroup))
}

func (c *call) group() (admin.Group, error) {
	return byID(c, "group_id", c.a.opt.Admin.GetGroup)
}

func (c *call) getGroup() error {
	return show(c, c.group, func(g admin.Group) groupResp { return toGroup(g.Group) })
}

func (c *call) updateGroup() error {
	id, err := c.id("group_id")
	if err != nil {
		return err
	}
	var req groupReq
	if err := c.decode(&req); err != nil {
		return err
	}
	_, err = c.a.opt.Admin.UpdateGroup(c.r.Context(), c.who, id, req.GroupName)
	return c.done(err)
}

func (c *call) deleteGroup() error {
	return act(c, c.group, func(g admin.Group) error {
		_, err := c.a.opt.Admin.DeleteGroup(c.r.Context(), c.who, g.ID)
		return err
	})
}
