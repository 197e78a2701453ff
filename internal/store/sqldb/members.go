package sqldb

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/authserver/authserver/internal/store"
)

// perKind registers one statement per member kind, from its column and table.
func perKind(template func(col, table string) string) map[store.MemberKind]query {
	out := map[store.MemberKind]query{}
	for _, k := range []store.MemberKind{store.MemberUser, store.MemberGroup} {
		col, table, _ := store.MemberColumns(k)
		out[k] = q(template(col, table))
	}
	return out
}

var (
	setMemberQ = perKind(func(col, _ string) string {
		return `INSERT INTO members (project_id, ` + col + `, role) VALUES (?, ?, ?)
			ON CONFLICT (project_id, ` + col + `) DO UPDATE SET role = excluded.role`
	})
	addMemberQ = perKind(func(col, _ string) string {
		return `INSERT INTO members (project_id, ` + col + `, role) VALUES (?, ?, ?) RETURNING id`
	})
	getMemberQ = q(`SELECT m.id, m.role, CASE WHEN m.group_id IS NULL THEN 'user' ELSE 'group' END,
		COALESCE(u.id, g.id), COALESCE(u.name, g.name), p.name FROM members m
		JOIN projects p ON p.id = m.project_id
		LEFT JOIN users u ON u.id = m.user_id
		LEFT JOIN groups g ON g.id = m.group_id
		WHERE m.id = ?`)
	removeMemberQ = perKind(func(col, table string) string {
		return `DELETE FROM members
		WHERE project_id = (SELECT id FROM projects WHERE name = ?)
		  AND ` + col + ` = (SELECT id FROM ` + table + ` WHERE name = ?)`
	})
	listMembersQ = q(`SELECT m.id, m.role, CASE WHEN m.group_id IS NULL THEN 'user' ELSE 'group' END,
		COALESCE(u.id, g.id), COALESCE(u.name, g.name) FROM projects p
		LEFT JOIN members m ON m.project_id = p.id
		LEFT JOIN users u ON u.id = m.user_id
		LEFT JOIN groups g ON g.id = m.group_id
		WHERE p.name = ?
		ORDER BY m.group_id IS NOT NULL, coalesce(u.name, g.name){collate}`)
	accessQ  = q(``) // Dialect.AccessQuery, set by Open
	versionQ = q(`SELECT version FROM policy_version WHERE id = 1`)
	memberID = map[store.MemberKind]func(context.Context, *Store, string) (int64, error){
		store.MemberUser: users.idOf, store.MemberGroup: groups.idOf}
)

func (s *Store) SetMember(ctx context.Context, m store.Member) error {
	op := fmt.Sprintf("set %s %q role in project %q", m.Kind, m.Name, m.Project)
	if err := validMember(m); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	pid, id, err := s.memberIDs(ctx, m)
	if err == nil {
		_, err = s.exec(ctx, setMemberQ[m.Kind], pid, id, string(m.Role))
	}
	return s.wrap(op, err)
}

func (s *Store) AddMember(ctx context.Context, m *store.Member) error {
	op := fmt.Sprintf("add %s %q to project %q", m.Kind, m.Name, m.Project)
	if err := validMember(*m); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	pid, id, err := s.memberIDs(ctx, *m)
	if err == nil {
		err = s.queryRow(ctx, addMemberQ[m.Kind], pid, id, string(m.Role)).Scan(&m.ID)
	}
	if err == nil {
		m.EntityID = id
	}
	return s.wrap(op, err)
}

// validMember checks m's kind and role (a plain error: the caller's bug).
func validMember(m store.Member) error {
	if _, _, err := store.MemberColumns(m.Kind); err != nil {
		return err
	}
	if !slices.Contains(store.Roles, m.Role) {
		return fmt.Errorf("unknown role %q", m.Role)
	}
	return nil
}

// memberIDs looks m's project and member up.
func (s *Store) memberIDs(ctx context.Context, m store.Member) (project, member int64, err error) {
	if project, err = projects.idOf(ctx, s, m.Project); err == nil {
		member, err = memberID[m.Kind](ctx, s, m.Name)
	}
	return project, member, err
}

func (s *Store) GetMember(ctx context.Context, id int64) (store.Member, error) {
	var m store.Member
	var kind, role string
	err := s.queryRow(ctx, getMemberQ, id).Scan(&m.ID, &role, &kind, &m.EntityID, &m.Name, &m.Project)
	m.Kind, m.Role = store.MemberKind(kind), store.Role(role)
	return m, s.wrap(fmt.Sprintf("get member %d", id), err)
}

func (s *Store) RemoveMember(ctx context.Context, project string, kind store.MemberKind, name string) error {
	op := fmt.Sprintf("remove %s %q from project %q", kind, name, project)
	if _, _, err := store.MemberColumns(kind); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return s.change(ctx, op, removeMemberQ[kind], project, name)
}

func (s *Store) ListMembers(ctx context.Context, project string) ([]store.Member, error) {
	ms, err := children(ctx, s, listMembersQ, project, func(row scanner) (m store.Member, err error) {
		var id, entity sql.NullInt64
		var role, kind, name sql.NullString
		err = row.Scan(&id, &role, &kind, &entity, &name)
		if name.Valid {
			m = store.Member{ID: id.Int64, Project: project, Kind: store.MemberKind(kind.String), Name: name.String,
				EntityID: entity.Int64, Role: store.Role(role.String)}
		}
		return m, err
	})
	return ms, s.wrap("list members of project "+quote(project), err)
}

func (s *Store) ProjectAccess(ctx context.Context, p store.Principal, projects []string) (map[string]store.ProjectAccess, error) {
	out := make(map[string]store.ProjectAccess, len(projects))
	if len(projects) == 0 {
		return out, nil
	}
	dns := make([]string, 0, len(p.GroupDNs))
	for _, dn := range p.GroupDNs {
		if dn != "" {
			dns = append(dns, store.NormalizeDN(dn))
		}
	}
	if len(projects) > 1 { // each name once: a dialect may join the list as it is
		projects = slices.Compact(slices.Sorted(slices.Values(projects)))
	}
	rows, err := s.query(ctx, accessQ, p.UserID, s.list(projects, jsonList), s.list(dns, jsonList), p.RobotID, p.Authenticated)
	if err != nil {
		return nil, s.wrap("project access", err)
	}
	defer rows.Close()
	// The scan destinations escape to the heap once per query, not per row.
	var name string
	var public, internal bool
	var role, group, pattern, actions, subject, subjectName sql.NullString
	var rule sql.NullInt64
	var deny sql.NullBool
	dest := []any{&name, &public, &internal, &role, &group, &rule, &pattern, &actions, &deny, &subject, &subjectName}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, s.wrap("project access", err)
		}
		pa := out[name]
		pa.Name, pa.Public, pa.Internal = name, public, internal
		switch {
		case role.Valid:
			pa.Grants = append(pa.Grants, store.Grant{Role: store.Role(role.String), Group: group.String})
		case rule.Valid:
			pa.Rules = append(pa.Rules, store.RuleGrant{ID: rule.Int64, Repos: pattern.String, Actions: strings.Split(actions.String, ","),
				Deny: deny.Bool, Subject: store.RuleSubject(subject.String), Name: subjectName.String})
		}
		out[name] = pa
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("project access", err)
	}
	for name, pa := range out {
		sortAccess(&pa)
		out[name] = pa
	}
	return out, nil
}

func (s *Store) PolicyVersion(ctx context.Context) (int64, error) {
	var v int64
	err := s.queryRow(ctx, versionQ).Scan(&v)
	return v, s.wrap("policy version", err)
}

// sortAccess puts a project's grants and rules in the order
// Dialect.AccessQuery documents (the direct grant, then groups by name;
// rules by id) whatever order the rows came in: sorting these few in Go
// costs less than SQLite's ORDER BY over the query's UNION ALL, which
// built a temporary B-tree per branch.
func sortAccess(pa *store.ProjectAccess) {
	if len(pa.Grants) > 1 {
		slices.SortFunc(pa.Grants, func(a, b store.Grant) int { return strings.Compare(a.Group, b.Group) })
	}
	if len(pa.Rules) > 1 {
		slices.SortFunc(pa.Rules, func(a, b store.RuleGrant) int { return cmp.Compare(a.ID, b.ID) })
	}
}
