package admin

import (
	"context"
	"strconv"

	"github.com/authserver/authserver/internal/store"
)

// Listings a page at a time, read in the database (store.ListQuery): a
// transport turns its request (Harbor's q, sort, page and page_size) into
// the query, admin checks the actor and narrows the query to what the
// actor may see. Each returns the page and how many rows meet the filters.

// ListQuery is a page of a listing (store.ListQuery), for transports.
type ListQuery = store.ListQuery

// PageUsers returns a page of users (sysadmins).
func (s *Service) PageUsers(ctx context.Context, who Actor, q ListQuery) ([]store.User, int, error) {
	if err := s.allow(ctx, who, rightSystem, "", "list users"); err != nil {
		return nil, 0, err
	}
	return s.st.PageUsers(ctx, q)
}

// SearchUsers returns a page of the users whose name contains part (in any
// case), ordered by name: any authenticated user may search (to name
// members to add).
func (s *Service) SearchUsers(ctx context.Context, who Actor, part string, q ListQuery) ([]store.User, int, error) {
	if err := s.allow(ctx, who, rightAuthenticated, "", "search users"); err != nil {
		return nil, 0, err
	}
	q.Filters = append(q.Filters, store.Filter{Field: store.FieldName, Match: store.MatchFuzzy, Values: []string{part}})
	return s.st.PageUsers(ctx, q)
}

// PageProjects returns a page of the projects the actor may see: every
// project for a sysadmin, else the public ones and those the actor holds
// a role in (anonymous: the public ones).
func (s *Service) PageProjects(ctx context.Context, who Actor, q ListQuery) ([]store.Project, int, error) {
	var viewer *store.Principal
	if !who.Admin {
		viewer = &store.Principal{UserID: who.UserID, GroupDNs: who.GroupDNs, Authenticated: who.Name != ""}
	}
	return s.st.PageProjects(ctx, viewer, q)
}

// ProjectsMetadata returns the metadata of projects, which the actor read
// through admin (PageProjects, GetProject), by id, "public" among them: one
// query for a page.
func (s *Service) ProjectsMetadata(ctx context.Context, who Actor, ps []store.Project) (map[int64]map[string]string, error) {
	ids := make([]int64, len(ps))
	for i, p := range ps {
		ids[i] = p.ID
	}
	md, err := s.st.ProjectsMetadata(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		md[p.ID] = withVisibility(md[p.ID], p)
	}
	return md, nil
}

// PageGroups returns a page of groups (sysadmins).
func (s *Service) PageGroups(ctx context.Context, who Actor, q ListQuery) ([]store.Group, int, error) {
	if err := s.allow(ctx, who, rightSystem, "", "list groups"); err != nil {
		return nil, 0, err
	}
	return s.st.PageGroups(ctx, q)
}

// PageMembers returns a page of the members of the project with id (as
// ListMembers may read them).
func (s *Service) PageMembers(ctx context.Context, who Actor, projectID int64, q ListQuery) ([]store.Member, int, error) {
	p, err := s.project(ctx, who, projectID, rightReadProject, "read the members of project")
	if err != nil {
		return nil, 0, err
	}
	ms, n, err := s.st.PageMembers(ctx, p.Name, q)
	return ms, n, fromStore(err, "project "+p.Name)
}

// RobotScope says which robots PageRobots lists: every robot (sysadmins),
// every project robot (sysadmins), the system robots (sysadmins), or the
// robots of one project (its projectAdmins).
type RobotScope struct {
	// System lists the system robots; ProjectsOnly every project robot.
	System, ProjectsOnly bool
	// ProjectID, when set, lists that project's robots.
	ProjectID int64
}

// PageRobots returns a page of the robots of scope.
func (s *Service) PageRobots(ctx context.Context, who Actor, scope RobotScope, q ListQuery) ([]Robot, int, error) {
	project := ""
	switch {
	case scope.ProjectID != 0:
		p, err := s.GetProject(ctx, who, scope.ProjectID)
		if err != nil {
			return nil, 0, err
		}
		project = p.Name
		q.Filters = append(q.Filters, store.Filter{Field: store.FieldProject, Values: []string{strconv.FormatInt(p.ID, 10)}})
	case scope.System:
		project = store.SystemRobotProject
	}
	if scope.System || scope.ProjectsOnly {
		q.Filters = append(q.Filters, store.Filter{Field: store.FieldSystem, Values: []string{strconv.FormatBool(scope.System)}})
	}
	if err := s.allowRobots(ctx, who, project); err != nil {
		return nil, 0, err
	}
	rs, n, err := s.st.PageRobots(ctx, q)
	if err != nil {
		return nil, 0, err
	}
	out := make([]Robot, len(rs))
	for i, r := range rs {
		out[i] = s.robot(r)
	}
	return out, n, nil
}

// PageAudit returns a page of the audit trail (f.Limit records from
// f.Offset, newest first) and how many records match f (sysadmins).
func (s *Service) PageAudit(ctx context.Context, who Actor, f store.AuditFilter) ([]store.AuditRecord, int, error) {
	recs, err := s.ListAudit(ctx, who, f)
	if err != nil {
		return nil, 0, err
	}
	n, err := s.st.CountAudit(ctx, f)
	return recs, n, err
}
