package api

import (
	"errors"
	"maps"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/authserver/authserver/internal/admin"
	"github.com/authserver/authserver/internal/store"
)

// Harbor's role ids.
var roleIDs = map[store.Role]int{store.RoleProjectAdmin: 1, store.RoleDeveloper: 2, store.RoleGuest: 3,
	store.RoleMaintainer: 4, store.RoleLimitedGuest: 5}

func roleOf(id int) (store.Role, error) {
	for r, n := range roleIDs {
		if n == id {
			return r, nil
		}
	}
	return "", badf("role_id %d: want 1 (projectAdmin), 2 (developer), 3 (guest), 4 (maintainer) or 5 (limitedGuest)", id)
}

type projectResp struct {
	ProjectID          int64             `json:"project_id"`
	Name               string            `json:"name"`
	OwnerID            int64             `json:"owner_id"`
	OwnerName          string            `json:"owner_name"`
	RegistryID         int64             `json:"registry_id"`
	CreationTime       string            `json:"creation_time"`
	UpdateTime         string            `json:"update_time"`
	Deleted            bool              `json:"deleted"`
	RepoCount          int64             `json:"repo_count"`
	CurrentUserRoleID  int               `json:"current_user_role_id"`
	CurrentUserRoleIDs []int             `json:"current_user_role_ids"`
	Metadata           map[string]string `json:"metadata"`
}

// projectJSON renders projects with the caller's role in each and their
// metadata: two queries for a page. The owner
// is the project's first user projectAdmin (authserver keeps no owner).
func (c *call) projectJSON(ps []store.Project) ([]projectResp, error) {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name
	}
	roles, err := c.a.opt.Admin.ProjectRoles(c.r.Context(), c.who, names)
	if err != nil {
		return nil, err
	}
	mds, err := c.a.opt.Admin.ProjectsMetadata(c.r.Context(), c.who, ps)
	if err != nil {
		return nil, err
	}
	out := make([]projectResp, len(ps))
	for i, p := range ps {
		pr := projectResp{ProjectID: p.ID, Name: p.Name, CreationTime: harborTime(p.CreatedAt), UpdateTime: harborTime(p.CreatedAt),
			CurrentUserRoleIDs: []int{}, Metadata: mds[p.ID]}
		if r, ok := roles[p.Name]; ok {
			pr.CurrentUserRoleID = roleIDs[r]
			pr.CurrentUserRoleIDs = []int{roleIDs[r]}
		}
		pr.OwnerID, pr.OwnerName = p.OwnerID, p.OwnerName
		out[i] = pr
	}
	return out, nil
}

// projectReq is Harbor's ProjectReq. Metadata values are strings, kept
// as given (Harbor's keys only); only "public" means anything to
// authserver. storage_limit and cve_allowlist are accepted and ignored
// (authserver stores no images and scans none); registry_id (a proxy
// cache) must be absent or 0.
type projectReq struct {
	ProjectName  string            `json:"project_name"`
	Public       *bool             `json:"public"`
	Metadata     map[string]string `json:"metadata"`
	StorageLimit *int64            `json:"storage_limit"`
	RegistryID   *int64            `json:"registry_id"`
	CVEAllowlist *cveAllowlist     `json:"cve_allowlist"`
}

// cveAllowlist is Harbor's CVEAllowlist, accepted and ignored.
type cveAllowlist struct {
	ID        int64  `json:"id"`
	ProjectID int64  `json:"project_id"`
	ExpiresAt *int64 `json:"expires_at"`
	Items     []struct {
		CVEID string `json:"cve_id"`
	} `json:"items"`
	CreationTime string `json:"creation_time"`
	UpdateTime   string `json:"update_time"`
}

// public is the visibility the request asks for, nil for no change.
func (req projectReq) public() (*bool, error) {
	if v, ok := req.Metadata["public"]; ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, badf("metadata.public %q: want \"true\" or \"false\"", v)
		}
		return &b, nil
	}
	return req.Public, nil
}

func (c *call) createProject() error {
	var req projectReq
	if err := c.decode(&req); err != nil {
		return err
	}
	if req.RegistryID != nil && *req.RegistryID != 0 {
		return badf("registry_id: proxy-cache projects are not supported")
	}
	pub, err := req.public()
	if err != nil {
		return err
	}
	md := maps.Clone(req.Metadata)
	delete(md, "public")
	p, err := c.a.opt.Admin.CreateProject(c.r.Context(), c.who, admin.NewProject{Name: req.ProjectName, Public: pub != nil && *pub, Metadata: md})
	if err != nil {
		return err
	}
	return c.created("/projects", p.ID, p.Name)
}

func (c *call) headProject() error {
	name := c.r.URL.Query().Get("project_name")
	if name == "" {
		return badf("project_name: required")
	}
	if _, err := c.a.opt.Admin.FindProject(c.r.Context(), c.who, name); err != nil {
		if errors.Is(err, admin.ErrNotFound) {
			return c.empty(http.StatusNotFound)
		}
		return err
	}
	return c.empty(http.StatusOK)
}

// projectKeys are what q and sort name on /projects.
func projectKeys() listKeys {
	return listKeys{
		q: map[string]qKey{"name": {field: store.FieldName, typ: "string"}, "public": {field: store.FieldPublic, typ: "boolean"},
			"owner": {field: store.FieldOwner, typ: "string"}, "project_id": {field: store.FieldID, typ: "integer"},
			"owner_id": {field: store.FieldOwnerID, typ: "integer"}},
		sort: map[string]string{"name": store.FieldName, "project_id": store.FieldID, "creation_time": store.FieldCreated,
			"update_time": store.FieldCreated},
	}
}

// listProjects takes q and sort, name (a substring), public and owner
// (exact), all in the database; with_detail is ignored (details are
// always given).
func (c *call) listProjects() error {
	conds, err := c.parseQ()
	if err != nil {
		return err
	}
	args := c.r.URL.Query()
	extra := c.fuzzyParam("name", store.FieldName)
	if v := args.Get("public"); v != "" {
		if err := typed("boolean", v); err != nil {
			return badf("public %q: %v", v, err)
		}
		extra = append(extra, store.Filter{Field: store.FieldPublic, Values: []string{v}})
	}
	if v := args.Get("owner"); v != "" {
		extra = append(extra, store.Filter{Field: store.FieldOwner, Values: []string{v}})
	}
	if v := args.Get("with_detail"); v != "" {
		if err := typed("boolean", v); err != nil {
			return badf("with_detail %q: %v", v, err)
		}
	}
	q, err := c.listQuery(projectKeys(), conds, extra...)
	if err != nil {
		return err
	}
	ps, total, err := c.a.opt.Admin.PageProjects(c.r.Context(), c.who, q)
	if err != nil {
		return err
	}
	out, err := c.projectJSON(ps)
	if err != nil {
		return err
	}
	return paged(c, q, total, out)
}

// project finds the path's {project_name_or_id}: a name when the request
// sets X-Is-Resource-Name: true or the value is not a number, else an id.
func (c *call) project() (store.Project, error) {
	v := chi.URLParam(c.r, "project_name_or_id")
	if !strings.EqualFold(c.r.Header.Get("X-Is-Resource-Name"), "true") {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil {
			return c.a.opt.Admin.GetProject(c.r.Context(), c.who, id)
		}
	}
	return c.a.opt.Admin.FindProject(c.r.Context(), c.who, v)
}

func (c *call) getProject() error {
	p, err := c.project()
	if err != nil {
		return err
	}
	out, err := c.projectJSON([]store.Project{p})
	if err != nil {
		return err
	}
	return c.ok(out[0])
}

func (c *call) updateProject() error {
	var req projectReq
	p, err := change(c, c.project, &req)
	if err != nil {
		return err
	}
	if req.ProjectName != "" && req.ProjectName != p.Name {
		return badf("project_name: projects cannot be renamed")
	}
	pub, err := req.public()
	if err != nil {
		return err
	}
	if pub == nil && req.Metadata == nil {
		return c.empty(http.StatusOK)
	}
	var md map[string]string
	if req.Metadata != nil {
		md = maps.Clone(req.Metadata)
		delete(md, "public")
	}
	_, err = c.a.opt.Admin.UpdateProject(c.r.Context(), c.who, p.ID, admin.ProjectChange{Public: pub, Metadata: md})
	return c.done(err)
}

func (c *call) deleteProject() error {
	return act(c, c.project, func(p store.Project) error {
		_, err := c.a.opt.Admin.DeleteProject(c.r.Context(), c.who, p.ID)
		return err
	})
}

type memberResp struct {
	ID         int64  `json:"id"`
	ProjectID  int64  `json:"project_id"`
	EntityName string `json:"entity_name"`
	EntityType string `json:"entity_type"`
	EntityID   int64  `json:"entity_id"`
	RoleID     int    `json:"role_id"`
	RoleName   string `json:"role_name"`
}

func toMember(p store.Project, m store.Member) memberResp {
	t := "u"
	if m.Kind == store.MemberGroup {
		t = "g"
	}
	return memberResp{ID: m.ID, ProjectID: p.ID, EntityName: m.Name, EntityType: t, EntityID: m.EntityID,
		RoleID: roleIDs[m.Role], RoleName: string(m.Role)}
}

// listMembers takes entityname, a substring of the user's or group's name.
func (c *call) listMembers() error {
	p, err := c.project()
	if err != nil {
		return err
	}
	q, err := c.listQuery(listKeys{}, nil, c.fuzzyParam("entityname", store.FieldName)...)
	if err != nil {
		return err
	}
	ms, total, err := c.a.opt.Admin.PageMembers(c.r.Context(), c.who, p.ID, q)
	if err != nil {
		return err
	}
	return paged(c, q, total, each(ms, func(m store.Member) memberResp { return toMember(p, m) }))
}

// memberReq is Harbor's ProjectMember (POST) and RoleRequest (PUT, where
// clients send the whole ProjectMember again). An empty member_user or
// member_group object means absent: terraform's provider always sends
// "member_group":{} beside member_user.
type memberReq struct {
	RoleID      int          `json:"role_id"`
	MemberUser  *userEntity  `json:"member_user"`
	MemberGroup *groupEntity `json:"member_group"`
}

type userEntity struct {
	UserID   int64  `json:"user_id"`
	Username string `json:"username"`
}

type groupEntity struct {
	ID          int64  `json:"id"`
	GroupName   string `json:"group_name"`
	GroupType   int    `json:"group_type"`
	LdapGroupDN string `json:"ldap_group_dn"`
}

// decodeMember reads a memberReq, empty member objects dropped.
func (c *call) decodeMember(req *memberReq) error {
	if err := c.decode(req); err != nil {
		return err
	}
	if req.MemberUser != nil && *req.MemberUser == (userEntity{}) {
		req.MemberUser = nil
	}
	if req.MemberGroup != nil && *req.MemberGroup == (groupEntity{}) {
		req.MemberGroup = nil
	}
	return nil
}

func (c *call) addMember() error {
	var req memberReq
	p, err := c.project()
	if err != nil {
		return err
	}
	if err := c.decodeMember(&req); err != nil {
		return err
	}
	role, err := roleOf(req.RoleID)
	if err != nil {
		return err
	}
	var ref admin.MemberRef
	switch {
	case (req.MemberUser == nil) == (req.MemberGroup == nil):
		return badf("want exactly one of member_user and member_group")
	case req.MemberUser != nil && req.MemberUser.Username != "":
		ref.User = req.MemberUser.Username
	case req.MemberUser != nil && req.MemberUser.UserID > 0:
		ref.UserID = req.MemberUser.UserID
	case req.MemberUser != nil:
		return badf("member_user: want username or user_id")
	case req.MemberGroup.ID > 0:
		ref.GroupID = req.MemberGroup.ID
	case req.MemberGroup.GroupType == 1 && req.MemberGroup.LdapGroupDN != "":
		ref.Group, ref.GroupName = req.MemberGroup.LdapGroupDN, req.MemberGroup.GroupName
	case req.MemberGroup.GroupName != "" && req.MemberGroup.GroupType == 0:
		ref.Group = req.MemberGroup.GroupName
	default:
		return badf("member_group: want id, or group_type 1 with ldap_group_dn (and group_name), or a local group_name")
	}
	m, _, err := c.a.opt.Admin.AddMember(c.r.Context(), c.who, p.ID, ref, string(role))
	if err != nil {
		return err
	}
	return c.created("/projects/"+strconv.FormatInt(p.ID, 10)+"/members", m.ID, "")
}

// member finds the path's {mid} in the path's project.
func (c *call) member() (store.Project, store.Member, error) {
	p, err := c.project()
	if err != nil {
		return p, store.Member{}, err
	}
	mid, err := c.id("mid")
	if err != nil {
		return p, store.Member{}, err
	}
	m, err := c.a.opt.Admin.GetMember(c.r.Context(), c.who, p.ID, mid)
	return p, m, err
}

func (c *call) getMember() error {
	p, m, err := c.member()
	if err != nil {
		return err
	}
	return c.ok(toMember(p, m))
}

func (c *call) updateMember() error {
	p, m, err := c.member()
	if err != nil {
		return err
	}
	var req memberReq
	if err := c.decodeMember(&req); err != nil {
		return err
	}
	u, g := req.MemberUser, req.MemberGroup
	if u != nil && (m.Kind != store.MemberUser || u.Username != "" && u.Username != m.Name || u.UserID != 0 && u.UserID != m.EntityID) ||
		g != nil && (m.Kind != store.MemberGroup || g.GroupName != "" && g.GroupName != m.Name || g.ID != 0 && g.ID != m.EntityID) {
		return badf("member_user, member_group: a membership's member cannot change (only its role_id)")
	}
	role, err := roleOf(req.RoleID)
	if err != nil {
		return err
	}
	_, err = c.a.opt.Admin.SetMemberRole(c.r.Context(), c.who, p.ID, m.ID, string(role))
	return c.done(err)
}

func (c *call) deleteMember() error {
	p, m, err := c.member()
	if err != nil {
		return err
	}
	_, err = c.a.opt.Admin.RemoveMember(c.r.Context(), c.who, p.ID, m.ID)
	return c.done(err)
}
