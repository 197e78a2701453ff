package sqldb

import (
	"context"
	"fmt"
	"strings"

	"github.com/authserver/authserver/internal/store"
)

// The listings ListQuery pages (list.go), each over its kind's own columns.
var (
	userListing = &listing[store.User]{what: "users", sel: `SELECT ` + userCols, from: `FROM users`,
		defaultOrder: `name{collate}`, idExpr: `id`, scan: columns(userDest), fields: map[string]column{
			store.FieldID: {`id`, intCol}, store.FieldName: {`name`, textCol}, store.FieldEmail: {`email`, textCol},
			store.FieldRealName: {`display_name`, textCol}, store.FieldAdmin: {`admin`, boolCol},
			store.FieldCreated: {`created_at`, timeSortCol}, store.FieldUpdated: {`updated_at`, timeSortCol}}}

	projectListing = &listing[store.Project]{what: "projects", sel: `SELECT ` + projectCols, from: `FROM projects`,
		defaultOrder: `name{collate}`, idExpr: `id`, scan: columns(projectDest), fields: map[string]column{
			store.FieldID: {`id`, intCol}, store.FieldName: {`name`, textCol}, store.FieldPublic: {`public`, boolCol},
			store.FieldOwner:   {`COALESCE((SELECT o.name FROM users o WHERE o.id = projects.owner_id), '')`, textCol},
			store.FieldOwnerID: {`COALESCE(owner_id, 0)`, intCol}, store.FieldCreated: {`created_at`, timeSortCol}}}

	groupListing = &listing[store.Group]{what: "groups", sel: `SELECT id, name, COALESCE(dn, ''), oidc, created_at`, from: `FROM groups`,
		defaultOrder: `name{collate}`, idExpr: `id`, scan: groups.scan, fields: map[string]column{
			store.FieldID: {`id`, intCol}, store.FieldName: {`name`, textCol}, store.FieldDN: {`COALESCE(dn_norm, '')`, lowerCol},
			store.FieldCreated: {`created_at`, timeSortCol}}}

	memberListing = &listing[store.Member]{what: "members",
		sel: `SELECT m.id, m.role, CASE WHEN m.group_id IS NULL THEN 'user' ELSE 'group' END, COALESCE(u.id, g.id),
			COALESCE(u.name, g.name), p.name`,
		from: `FROM members m JOIN projects p ON p.id = m.project_id
			LEFT JOIN users u ON u.id = m.user_id LEFT JOIN groups g ON g.id = m.group_id`,
		defaultOrder: `m.group_id IS NOT NULL, COALESCE(u.name, g.name){collate}`, idExpr: `m.id`, scan: scanMember,
		fields: map[string]column{store.FieldID: {`m.id`, intCol}, store.FieldName: {`COALESCE(u.name, g.name)`, textCol},
			store.FieldRole: {`m.role`, textCol}, store.FieldKind: {`CASE WHEN m.group_id IS NULL THEN 'user' ELSE 'group' END`, textCol}}}

	robotListing = &listing[store.Robot]{what: "robots", sel: strings.TrimSuffix(robotSelect, `FROM `),
		from: `FROM robots` + robotFrom, defaultOrder: `r.name{collate}`, idExpr: `r.id`, scan: scanRobot, fields: map[string]column{
			store.FieldID: {`r.id`, intCol}, store.FieldName: {`r.name`, textCol}, store.FieldSystem: {`r.system`, boolCol},
			store.FieldProject: {`COALESCE(r.project_id, 0)`, intCol},
			store.FieldCreated: {`r.created_at`, timeSortCol}, store.FieldUpdated: {`r.updated_at`, timeSortCol}}}

	groupProjectsQ = q(`SELECT p.name FROM members m JOIN projects p ON p.id = m.project_id
		WHERE m.group_id = ? ORDER BY p.name{collate}`)
)

func scanMember(row scanner) (m store.Member, err error) {
	var kind, role string
	err = row.Scan(&m.ID, &role, &kind, &m.EntityID, &m.Name, &m.Project)
	m.Kind, m.Role = store.MemberKind(kind), store.Role(role)
	return m, err
}

func (s *Store) PageUsers(ctx context.Context, q store.ListQuery) ([]store.User, int, error) {
	return page(ctx, s, userListing, "", nil, q)
}

func (s *Store) PageGroups(ctx context.Context, q store.ListQuery) ([]store.Group, int, error) {
	return page(ctx, s, groupListing, "", nil, q)
}

func (s *Store) PageRobots(ctx context.Context, q store.ListQuery) ([]store.Robot, int, error) {
	return page(ctx, s, robotListing, "", nil, q)
}

// PageProjects implements store.Projects: a viewer sees the public
// projects, the internal ones when authenticated, and those they hold a
// role in, directly, through a local group or through one of their
// directory groups (as ProjectAccess finds roles).
func (s *Store) PageProjects(ctx context.Context, viewer *store.Principal, q store.ListQuery) ([]store.Project, int, error) {
	if viewer == nil {
		return page(ctx, s, projectListing, "", nil, q)
	}
	holders := `m.user_id = ? OR m.group_id IN (SELECT ug.group_id FROM user_groups ug WHERE ug.user_id = ?)`
	args := []any{viewer.UserID, viewer.UserID}
	var dns []string
	for _, dn := range viewer.GroupDNs {
		if dn != "" {
			dns = append(dns, store.NormalizeDN(dn))
		}
	}
	if len(dns) > 0 {
		holders += ` OR m.group_id IN (SELECT g.id FROM groups g WHERE g.dn_norm IN (` +
			strings.TrimSuffix(strings.Repeat(`?, `, len(dns)), `, `) + `))`
		for _, dn := range dns {
			args = append(args, dn)
		}
	}
	where := `(projects.public OR (? AND projects.internal) OR projects.id IN (SELECT m.project_id FROM members m WHERE ` + holders + `))`
	return page(ctx, s, projectListing, where, append([]any{viewer.Authenticated}, args...), q)
}

func (s *Store) PageMembers(ctx context.Context, project string, q store.ListQuery) ([]store.Member, int, error) {
	pid, err := projects.idOf(ctx, s, project)
	if err != nil {
		return nil, 0, s.wrap("list members of project "+quote(project), err)
	}
	return page(ctx, s, memberListing, `m.project_id = ?`, []any{pid}, q)
}

func (s *Store) GroupProjects(ctx context.Context, groupID int64) ([]string, error) {
	names, err := collect(ctx, s, scanName, groupProjectsQ, groupID)
	return names, s.wrap(fmt.Sprintf("list projects of group %d", groupID), err)
}

func (s *Store) ProjectsMetadata(ctx context.Context, ids []int64) (map[int64]map[string]string, error) {
	out := map[int64]map[string]string{}
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	text := s.dynamicText(`SELECT project_id, name, value FROM project_metadata WHERE project_id IN (` +
		strings.TrimSuffix(strings.Repeat(`?, `, len(ids)), `, `) + `)`)
	rows, err := s.run.QueryContext(ctx, text, args...)
	if err != nil {
		return nil, s.wrap("read metadata of projects", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var k, v string
		if err := rows.Scan(&id, &k, &v); err != nil {
			return nil, s.wrap("read metadata of projects", err)
		}
		if out[id] == nil {
			out[id] = map[string]string{}
		}
		out[id][k] = v
	}
	return out, s.wrap("read metadata of projects", rows.Err())
}
