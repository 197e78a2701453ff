package postgres

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/authserver/authserver/internal/store"
)

// SetMember implements store.Members.
func (s *Store) SetMember(ctx context.Context, m store.Member) error {
	op := fmt.Sprintf("set %s %q role in project %q", m.Kind, m.Name, m.Project)
	col, table, err := store.MemberColumns(m.Kind)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if !slices.Contains(store.Roles, m.Role) {
		return fmt.Errorf("%s: unknown role %q", op, m.Role)
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		pid, err := lookupID(ctx, tx, "projects", "project", m.Project)
		if err != nil {
			return err
		}
		id, err := lookupID(ctx, tx, table, string(m.Kind), m.Name)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO members (project_id, `+col+`, role) VALUES ($1, $2, $3)
			ON CONFLICT (project_id, `+col+`) DO UPDATE SET role = excluded.role`, pid, id, string(m.Role))
		return err
	})
	return wrap(op, err)
}

// RemoveMember implements store.Members.
func (s *Store) RemoveMember(ctx context.Context, project string, kind store.MemberKind, name string) error {
	op := fmt.Sprintf("remove %s %q from project %q", kind, name, project)
	col, table, err := store.MemberColumns(kind)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM members
		WHERE project_id = (SELECT id FROM projects WHERE name = $1)
		  AND `+col+` = (SELECT id FROM `+table+` WHERE name = $2)`, project, name)
	return wrap(op, affected(tag, err))
}

// ListMembers implements store.Members.
func (s *Store) ListMembers(ctx context.Context, project string) ([]store.Member, error) {
	op := "list members of project " + quote(project)
	rows, err := s.pool.Query(ctx, `SELECT m.role, u.name, g.name FROM projects p
		LEFT JOIN members m ON m.project_id = p.id
		LEFT JOIN users u ON u.id = m.user_id
		LEFT JOIN groups g ON g.id = m.group_id
		WHERE p.name = $1
		ORDER BY m.group_id IS NOT NULL, coalesce(u.name, g.name) COLLATE "C"`, project)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	found := false
	ms := []store.Member{}
	for rows.Next() {
		found = true
		var role, user, group *string
		if err := rows.Scan(&role, &user, &group); err != nil {
			return nil, wrap(op, err)
		}
		switch {
		case user != nil:
			ms = append(ms, store.Member{Project: project, Kind: store.MemberUser, Name: *user, Role: store.Role(*role)})
		case group != nil:
			ms = append(ms, store.Member{Project: project, Kind: store.MemberGroup, Name: *group, Role: store.Role(*role)})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(op, err)
	}
	if !found {
		return nil, wrap(op, store.ErrNotFound)
	}
	return ms, nil
}

// accessQuery is the token hot path: one statement for any number of
// projects. Members match the user directly, through a local group of the
// user, or through a group whose normalized DN the directory reported.
// Args: user id, normalized DNs, project names.
//
// The direct and the group grants are separate branches so each is an index
// lookup by (project, user) or (project, group): with one OR over the
// members of a project, PostgreSQL reads every member and filters, and the
// query slows as projects grow.
const accessQuery = `WITH ps AS (SELECT id, name, public FROM projects WHERE name = ANY($3::text[])),
grants AS (
    SELECT m.project_id, m.role, NULL::text AS gname
    FROM ps JOIN members m ON m.project_id = ps.id AND m.user_id = $1
  UNION ALL
    SELECT m.project_id, m.role, g.name
    FROM ps JOIN members m ON m.project_id = ps.id JOIN groups g ON g.id = m.group_id
    WHERE m.group_id IN (SELECT ug.group_id FROM user_groups ug WHERE ug.user_id = $1
                         UNION SELECT dg.id FROM groups dg WHERE dg.dn_norm = ANY($2::text[])))
SELECT ps.name, ps.public, gr.role, gr.gname
FROM ps LEFT JOIN grants gr ON gr.project_id = ps.id
ORDER BY ps.name, gr.gname COLLATE "C" NULLS FIRST`

// ProjectAccess implements store.Access.
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
	rows, err := s.pool.Query(ctx, accessQuery, p.UserID, dns, projects)
	if err != nil {
		return nil, wrap("project access", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			name        string
			public      bool
			role, group *string
		)
		if err := rows.Scan(&name, &public, &role, &group); err != nil {
			return nil, wrap("project access", err)
		}
		pa := out[name]
		pa.Name, pa.Public = name, public
		if role != nil {
			g := store.Grant{Role: store.Role(*role)}
			if group != nil {
				g.Group = *group
			}
			pa.Grants = append(pa.Grants, g)
		}
		out[name] = pa
	}
	return out, wrap("project access", rows.Err())
}
