package admin

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"

	"github.com/authserver/authserver/internal/store"
)

// NewProject is a project to create.
type NewProject struct {
	Name   string
	Public bool
	// Internal makes it internal (any authenticated user pulls); not with
	// Public.
	Internal bool
	// Imported marks a project an import of a Harbor database creates
	// (store.ProjectSourceHarbor): a later import may merge into it.
	Imported bool
	// Metadata are Harbor's project metadata (ValidMetadata), kept as given
	// and read back; "public" is Public.
	Metadata map[string]string
}

// MetadataKeys are the keys of Harbor's ProjectMetadata: the project
// metadata the API keeps (strings, as given; only "public" means anything
// to authserver, the others are read back and otherwise ignored).
var MetadataKeys = []string{"public", "visibility", "enable_content_trust", "enable_content_trust_cosign", "prevent_vul", "severity",
	"auto_scan", "auto_sbom_generation", "reuse_sys_cve_allowlist", "retention_id", "proxy_speed_kb", "max_upstream_conn",
	"proxy_cache_local_on_not_found", "proxy_referrer_api", "proxy_cache_filter_pattern", "proxy_cache_filter_kind"}

// MaxMetadataBytes bounds a metadata value (Harbor's column is varchar(255)).
const MaxMetadataBytes = 255

// ValidMetadata checks project metadata: Harbor's keys only, values of at
// most MaxMetadataBytes, "public" (when given) "true" or "false".
func ValidMetadata(md map[string]string) error {
	for k, v := range md {
		if !slices.Contains(MetadataKeys, k) {
			return invalidf(fmt.Sprintf("metadata.%.64s: not one of Harbor's project metadata (%s)", k, strings.Join(MetadataKeys, ", ")))
		}
		if err := ValidText("metadata."+k, v, MaxMetadataBytes); err != nil {
			return err
		}
		if k == "public" && v != "true" && v != "false" {
			return invalidf(fmt.Sprintf("metadata.public %q: want \"true\" or \"false\"", v))
		}
		if k == "visibility" {
			vis, err := ParseVisibility(v)
			if err != nil {
				return invalidf("metadata." + err.Error())
			}
			if pub, ok := md["public"]; ok && (pub == "true") != (vis == VisibilityPublic) {
				return invalidf(fmt.Sprintf("metadata.public %q and metadata.visibility %q disagree", pub, v))
			}
		}
	}
	return nil
}

// takeVisibility removes metadata's "visibility" (authserver's key beside
// Harbor's "public": private, internal or public; ValidMetadata checked
// it) and returns it, "" when absent.
func takeVisibility(md map[string]string) Visibility {
	v, ok := md["visibility"]
	if !ok {
		return ""
	}
	delete(md, "visibility")
	return Visibility(strings.ToLower(v))
}

// withVisibility adds "public" and, for an internal project, "visibility"
// to p's metadata as read: a project that uses no visibility beyond
// Harbor's reads as in Harbor.
func withVisibility(md map[string]string, p store.Project) map[string]string {
	if md == nil {
		md = map[string]string{}
	}
	md["public"] = fmt.Sprint(p.Public)
	if p.Internal {
		md["visibility"] = string(VisibilityInternal)
	}
	return md
}

// CreateProject creates a project with a name the registry accepts. A
// user who creates one (not the CLI) owns it and becomes its
// projectAdmin, as in Harbor; project and membership are one transaction,
// so nothing is half-made. A user who is no sysadmin owns at most
// Options.MaxProjectsPerUser projects (KindExists past it).
func (s *Service) CreateProject(ctx context.Context, who Actor, np NewProject) (store.Project, error) {
	return s.createProject(ctx, who, np, false)
}

// createProject is CreateProject; a personal project (created on push,
// authz.PersonalProject) is its user's whatever api.project_creation and
// api.max_projects_per_user say.
func (s *Service) createProject(ctx context.Context, who Actor, np NewProject, personal bool) (store.Project, error) {
	name := np.Name
	if !personal {
		if err := s.allow(ctx, who, rightCreateProject, name, "create projects"); err != nil {
			return store.Project{}, err
		}
	}
	if np.Public && np.Internal {
		return store.Project{}, invalidf("a project is public or internal, not both")
	}
	if err := ValidProjectName(name); err != nil {
		return store.Project{}, err
	}
	if err := ValidMetadata(np.Metadata); err != nil {
		return store.Project{}, err
	}
	np.Metadata = maps.Clone(np.Metadata)
	if v := takeVisibility(np.Metadata); v != "" {
		if np.Public && v != VisibilityPublic {
			return store.Project{}, invalidf("public and metadata.visibility " + string(v) + " disagree")
		}
		np.Public, np.Internal = v == VisibilityPublic, v == VisibilityInternal
	}
	p := store.Project{Name: name, Public: np.Public, Internal: np.Internal, OwnerID: who.UserID}
	if np.Imported {
		p.Source = store.ProjectSourceHarbor
	}
	if err := s.change(ctx, who, "project.create", "project "+name, func(st store.Store) error {
		if max := s.opt.MaxProjectsPerUser; max > 0 && who.UserID != 0 && !who.Admin && !personal {
			n, err := st.CountOwnedProjects(ctx, who.UserID)
			if err != nil {
				return err
			}
			if n >= max {
				return &Error{Kind: KindExists, Msg: fmt.Sprintf("%s owns %d projects, api.max_projects_per_user: delete one first", who.Name, n)}
			}
		}
		reserved, err := st.ProjectNameReserved(ctx, name)
		if err != nil {
			return err
		}
		if reserved && !who.Admin {
			return &Error{Kind: KindExists, Msg: fmt.Sprintf("project name %s belonged to a deleted project whose images may "+
				"still be in the registry: only a sysadmin may create it again", name)}
		}
		if err := st.CreateProject(ctx, &p); err != nil {
			return fromStore(err, "project "+name)
		}
		if reserved {
			if err := st.ReleaseProjectName(ctx, name); err != nil {
				return err
			}
		}
		if len(np.Metadata) > 0 {
			if err := st.SetProjectMetadata(ctx, p.ID, np.Metadata); err != nil {
				return err
			}
		}
		if who.UserID == 0 { // the CLI
			return nil
		}
		m := store.Member{Project: name, Kind: store.MemberUser, Name: who.Name, Role: store.RoleProjectAdmin}
		return fromStore(st.SetMember(ctx, m), "user "+who.Name)
	}); err != nil {
		return store.Project{}, err
	}
	return p, nil
}

// GetProject returns the project with id; a private project the actor
// is no member of is not found.
func (s *Service) GetProject(ctx context.Context, who Actor, id int64) (store.Project, error) {
	p, err := s.st.GetProjectByID(ctx, id)
	if err != nil {
		return store.Project{}, fromStore(err, fmt.Sprintf("project %d", id))
	}
	if err := s.allow(ctx, who, rightReadProject, p.Name, "read project "+p.Name); err != nil {
		if errors.Is(err, ErrNotFound) {
			return store.Project{}, &Error{Kind: KindNotFound, Msg: fmt.Sprintf("project %d not found", id), Err: store.ErrNotFound}
		}
		return store.Project{}, err
	}
	return p, nil
}

// FindProject returns the project named name, as GetProject: how a
// transport turns a name it was given into the project, once.
func (s *Service) FindProject(ctx context.Context, who Actor, name string) (store.Project, error) {
	if err := s.allow(ctx, who, rightReadProject, name, "read project "+name); err != nil {
		return store.Project{}, err
	}
	p, err := s.st.GetProject(ctx, name)
	return p, fromStore(err, "project "+name)
}

// ListProjects returns the projects the actor may see, ordered by name:
// all of them for a sysadmin, else the public ones and those the actor is
// a member of (anonymous: the public ones).
func (s *Service) ListProjects(ctx context.Context, who Actor) ([]store.Project, error) {
	ps, _, err := s.PageProjects(ctx, who, ListQuery{})
	return ps, err
}

// project reads the project with id for a change who makes with right r
// (what describes it for the message).
func (s *Service) project(ctx context.Context, who Actor, id int64, r right, what string) (store.Project, error) {
	p, err := s.GetProject(ctx, who, id)
	if err != nil {
		return p, err
	}
	return p, s.allow(ctx, who, r, p.Name, what+" "+p.Name)
}

// inTx reads the project with id again through st, the change's
// transaction: a project deleted meanwhile is not found.
func projectInTx(ctx context.Context, st store.Store, id int64) (store.Project, error) {
	p, err := st.GetProjectByID(ctx, id)
	return p, fromStore(err, fmt.Sprintf("project %d", id))
}

// SetProjectPublic changes the visibility of the project with id and
// returns it as written.
func (s *Service) SetProjectPublic(ctx context.Context, who Actor, id int64, public bool) (store.Project, error) {
	p, err := s.project(ctx, who, id, rightManageProject, "change project")
	if err != nil {
		return p, err
	}
	err = s.change(ctx, who, fmt.Sprintf("project.public=%t", public), "project "+p.Name, func(st store.Store) error {
		if _, err := projectInTx(ctx, st, id); err != nil {
			return err
		}
		return fromStore(st.SetProjectPublic(ctx, p.Name, public), "project "+p.Name)
	})
	if err != nil {
		return store.Project{}, err
	}
	p.Public = public
	return p, nil
}

// ProjectMetadata returns the metadata of the project with id (as
// GetProject may read it), "public" among them.
func (s *Service) ProjectMetadata(ctx context.Context, who Actor, id int64) (map[string]string, error) {
	p, err := s.GetProject(ctx, who, id)
	if err != nil {
		return nil, err
	}
	md, err := s.st.ProjectMetadata(ctx, id)
	if err != nil {
		return nil, fromStore(err, "project "+p.Name)
	}
	return withVisibility(md, p), nil
}

// ProjectChange is a change to a project; nil fields stay as they are.
type ProjectChange struct {
	Public *bool
	// Metadata replaces the project's metadata (ValidMetadata); its
	// "public", when given, is Public's.
	Metadata map[string]string
}

// UpdateProject applies ch to the project with id in one transaction and
// returns the project as written.
func (s *Service) UpdateProject(ctx context.Context, who Actor, id int64, ch ProjectChange) (store.Project, error) {
	p, err := s.project(ctx, who, id, rightManageProject, "change project")
	if err != nil {
		return p, err
	}
	if err := ValidMetadata(ch.Metadata); err != nil {
		return store.Project{}, err
	}
	ch.Metadata = maps.Clone(ch.Metadata)
	vis := takeVisibility(ch.Metadata)
	public := ch.Public
	if vis != "" && public != nil && *public != (vis == VisibilityPublic) {
		return store.Project{}, invalidf(fmt.Sprintf("public %t and metadata.visibility %s disagree", *public, vis))
	}
	if v, ok := ch.Metadata["public"]; ok {
		b := v == "true"
		public = &b
	}
	err = s.change(ctx, who, "project.update", "project "+p.Name, func(st store.Store) error {
		if _, err := projectInTx(ctx, st, id); err != nil {
			return err
		}
		switch {
		case vis != "":
			if err := st.SetProjectVisibility(ctx, p.Name, vis); err != nil {
				return fromStore(err, "project "+p.Name)
			}
			p.Public, p.Internal = vis == VisibilityPublic, vis == VisibilityInternal
		case public != nil:
			if err := st.SetProjectPublic(ctx, p.Name, *public); err != nil {
				return fromStore(err, "project "+p.Name)
			}
			p.Public, p.Internal = *public, p.Internal && !*public
		}
		if ch.Metadata != nil {
			return fromStore(st.SetProjectMetadata(ctx, id, ch.Metadata), "project "+p.Name)
		}
		return nil
	})
	if err != nil {
		return store.Project{}, err
	}
	return p, nil
}

// DeleteProject deletes the project with id, with its memberships and
// robots, and returns it as it was. With a Registry it refuses
// (KindPrecondition, Harbor's 412) while the registry holds repositories
// under the project; without one it cannot tell, so it reserves the name:
// only a sysadmin may create the project again (whoever did would get
// push and delete on the images left behind).
func (s *Service) DeleteProject(ctx context.Context, who Actor, id int64) (store.Project, error) {
	p, err := s.project(ctx, who, id, rightManageProject, "delete project")
	if err != nil {
		return p, err
	}
	if err := s.projectEmpty(ctx, p.Name); err != nil {
		return store.Project{}, err
	}
	err = s.change(ctx, who, "project.delete", "project "+p.Name, func(st store.Store) error {
		if _, err := projectInTx(ctx, st, id); err != nil {
			return err
		}
		if s.opt.Registry == nil {
			if err := st.ReserveProjectName(ctx, p.Name); err != nil {
				return err
			}
		}
		return fromStore(st.DeleteProject(ctx, p.Name), "project "+p.Name)
	})
	if err != nil {
		return store.Project{}, err
	}
	return p, nil
}

// Group is a group with the users of a local group.
type Group struct {
	store.Group
	Users []string
}

// CreateGroup creates a local group, or with dn an LDAP group.
func (s *Service) CreateGroup(ctx context.Context, who Actor, name, dn string) (store.Group, error) {
	if err := s.allow(ctx, who, rightSystem, "", "create groups"); err != nil {
		return store.Group{}, err
	}
	if err := ValidName(name); err != nil {
		return store.Group{}, err
	}
	g := store.Group{Name: name, DN: dn}
	if err := s.change(ctx, who, "group.create", "group "+name, func(st store.Store) error {
		return fromStore(st.CreateGroup(ctx, &g), "group "+name)
	}); err != nil {
		return store.Group{}, err
	}
	return g, nil
}

// CreateOIDCGroup creates a group of Harbor's OIDC type (group_type 3)
// ahead of any sign-in, so a project role can be given to it: name is the
// value the provider's groups claim will carry (any text but control
// characters, at most 255 bytes: "devs", "/platform/sre", an Entra object
// ID). SSO sign-ins of users the claim puts in it make them members.
func (s *Service) CreateOIDCGroup(ctx context.Context, who Actor, name string) (store.Group, error) {
	if err := s.allow(ctx, who, rightSystem, "", "create groups"); err != nil {
		return store.Group{}, err
	}
	if strings.TrimSpace(name) != name || name == "" || len(name) > 255 || strings.ContainsFunc(name, unicode.IsControl) {
		return store.Group{}, invalidf("an OIDC group name is the claim's value: 1 to 255 bytes, no control characters, no leading or trailing space")
	}
	g := store.Group{Name: name, OIDC: true}
	if err := s.change(ctx, who, "group.create", "oidc group "+name, func(st store.Store) error {
		return fromStore(st.CreateGroup(ctx, &g), "group "+name)
	}); err != nil {
		return store.Group{}, err
	}
	return g, nil
}

// GetGroup returns the group with id: with its local users to a
// sysadmin; without them to a user who is in the group, or who can read a
// project in which the group holds a role (the group is named there as a
// member); to anyone else it is not found.
func (s *Service) GetGroup(ctx context.Context, who Actor, id int64) (Group, error) {
	g, err := s.st.GetGroupByID(ctx, id)
	if err != nil {
		return Group{}, fromStore(err, fmt.Sprintf("group %d", id))
	}
	if !who.Admin {
		seen, err := s.groupVisible(ctx, who, g)
		if err != nil {
			return Group{}, err
		}
		if !seen {
			return Group{}, &Error{Kind: KindNotFound, Msg: fmt.Sprintf("group %d not found", id), Err: store.ErrNotFound}
		}
		return Group{g, nil}, nil
	}
	users, err := s.st.ListGroupUsers(ctx, g.Name)
	if err != nil {
		return Group{}, fromStore(err, "group "+g.Name)
	}
	return Group{g, append([]string{}, users...)}, nil
}

// groupVisible reports whether who may learn of group g by its id (read
// it, name it as a member): a sysadmin or a user in it (seesGroup), or a
// user who can read a project in which it holds a role. The one home of
// the rule.
func (s *Service) groupVisible(ctx context.Context, who Actor, g store.Group) (bool, error) {
	if s.seesGroup(ctx, who, g) {
		return true, nil
	}
	projects, err := s.st.GroupProjects(ctx, g.ID)
	if err != nil || len(projects) == 0 {
		return false, err
	}
	access, err := s.st.ProjectAccess(ctx, store.Principal{UserID: who.UserID, GroupDNs: who.GroupDNs}, projects)
	if err != nil {
		return false, err
	}
	for _, pa := range access {
		if pa.Public || len(pa.Grants) > 0 {
			return true, nil
		}
	}
	return false, nil
}

// UpdateGroup checks a change of the group with id (sysadmins): authserver
// keeps nothing of a group that could change but its name, and renames
// none; name "" or the group's own changes nothing.
func (s *Service) UpdateGroup(ctx context.Context, who Actor, id int64, name string) (store.Group, error) {
	if err := s.allow(ctx, who, rightSystem, "", "change groups"); err != nil {
		return store.Group{}, err
	}
	g, err := s.GetGroup(ctx, who, id)
	if err != nil {
		return store.Group{}, err
	}
	if name != "" && name != g.Name {
		return store.Group{}, invalidf("renaming groups is not supported: delete and create it")
	}
	return g.Group, nil
}

// FindGroup returns the group named name (or with that DN) with its local
// users (sysadmins): how a transport turns a name into the group, once.
func (s *Service) FindGroup(ctx context.Context, who Actor, nameOrDN string) (Group, error) {
	if err := s.allow(ctx, who, rightSystem, "", "read groups"); err != nil {
		return Group{}, err
	}
	g, err := s.st.GetGroup(ctx, nameOrDN)
	if err != nil {
		return Group{}, fromStore(err, "group "+nameOrDN)
	}
	return s.GetGroup(ctx, who, g.ID)
}

// ListGroups returns every group with its local users, ordered by name.
func (s *Service) ListGroups(ctx context.Context, who Actor) ([]Group, error) {
	if err := s.allow(ctx, who, rightSystem, "", "list groups"); err != nil {
		return nil, err
	}
	gs, err := s.st.ListGroups(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Group, len(gs))
	for i, g := range gs {
		users, err := s.st.ListGroupUsers(ctx, g.Name)
		if err != nil {
			return nil, err
		}
		out[i] = Group{g, append([]string{}, users...)}
	}
	return out, nil
}

// DeleteGroup deletes the group with id, with its users and memberships,
// and returns it as it was.
func (s *Service) DeleteGroup(ctx context.Context, who Actor, id int64) (store.Group, error) {
	if err := s.allow(ctx, who, rightSystem, "", "delete groups"); err != nil {
		return store.Group{}, err
	}
	g, err := s.GetGroup(ctx, who, id)
	if err != nil {
		return store.Group{}, err
	}
	err = s.change(ctx, who, "group.delete", "group "+g.Name, func(st store.Store) error {
		if _, err := st.GetGroupByID(ctx, id); err != nil {
			return fromStore(err, fmt.Sprintf("group %d", id))
		}
		return fromStore(st.DeleteGroup(ctx, g.Name), "group "+g.Name)
	})
	if err != nil {
		return store.Group{}, err
	}
	return g.Group, nil
}

// AddGroupUser puts the user with userID in the local group with groupID.
func (s *Service) AddGroupUser(ctx context.Context, who Actor, groupID, userID int64) error {
	return s.groupUser(ctx, who, groupID, userID, "group.add_user", store.Store.AddGroupUser, "")
}

// RemoveGroupUser takes the user with userID out of the group with groupID.
func (s *Service) RemoveGroupUser(ctx context.Context, who Actor, groupID, userID int64) error {
	return s.groupUser(ctx, who, groupID, userID, "group.remove_user", store.Store.RemoveGroupUser, "in")
}

// groupUser changes a group's users with op and records action; in, when
// set, says the user was missing from the group when op finds nothing.
func (s *Service) groupUser(ctx context.Context, who Actor, groupID, userID int64, action string,
	op func(st store.Store, ctx context.Context, group, user string) error, in string) error {
	if err := s.allow(ctx, who, rightSystem, "", "change groups"); err != nil {
		return err
	}
	g, err := s.st.GetGroupByID(ctx, groupID)
	if err != nil {
		return fromStore(err, fmt.Sprintf("group %d", groupID))
	}
	u, err := s.st.GetUserByID(ctx, userID)
	if err != nil {
		return fromStore(err, fmt.Sprintf("user %d", userID))
	}
	missing := fmt.Sprintf("group %s or user %s", g.Name, u.Name)
	if in != "" {
		missing = fmt.Sprintf("user %s in group %s", u.Name, g.Name)
	}
	return s.change(ctx, who, action, fmt.Sprintf("group %s: user %s", g.Name, u.Name), func(st store.Store) error {
		if _, err := lockUser(ctx, st, userID); err != nil {
			return err
		}
		return fromStore(op(st, ctx, g.Name, u.Name), missing)
	})
}
