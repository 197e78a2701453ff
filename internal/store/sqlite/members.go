package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"

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
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		pid, err := lookupID(ctx, tx, "projects", "project", m.Project)
		if err != nil {
			return err
		}
		id, err := lookupID(ctx, tx, table, string(m.Kind), m.Name)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO members (project_id, `+col+`, role) VALUES (?, ?, ?)
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
	res, err := s.db.ExecContext(ctx, `DELETE FROM members
		WHERE project_id = (SELECT id FROM projects WHERE name = ?)
		  AND `+col+` = (SELECT id FROM `+table+` WHERE name = ?)`, project, name)
	return wrap(op, affected(res, err))
}

// ListMembers implements store.Members.
func (s *Store) ListMembers(ctx context.Context, project string) ([]store.Member, error) {
	op := "list members of project " + quote(project)
	rows, err := s.db.QueryContext(ctx, `SELECT m.role, u.name, g.name FROM projects p
		LEFT JOIN members m ON m.project_id = p.id
		LEFT JOIN users u ON u.id = m.user_id
		LEFT JOIN groups g ON g.id = m.group_id
		WHERE p.name = ?
		ORDER BY m.group_id IS NOT NULL, coalesce(u.name, g.name)`, project)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	found := false
	ms := []store.Member{}
	for rows.Next() {
		found = true
		var role, user, group sql.NullString
		if err := rows.Scan(&role, &user, &group); err != nil {
			return nil, wrap(op, err)
		}
		switch {
		case user.Valid:
			ms = append(ms, store.Member{Project: project, Kind: store.MemberUser, Name: user.String, Role: store.Role(role.String)})
		case group.Valid:
			ms = append(ms, store.Member{Project: project, Kind: store.MemberGroup, Name: group.String, Role: store.Role(role.String)})
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
// The first branch gives one row per existing project (with the direct
// role, or NULL), the second one row per group grant; each is an index
// lookup by (project, user) or (project, group), whatever the number of
// members a project has. Prepared once (see prepared): this query and
// GetUser are most of a reused token's cost.
// Args: user id, JSON array of names, JSON array of normalized DNs.
const accessQuery = `SELECT p.name, p.public, m.role, NULL
FROM projects p LEFT JOIN members m ON m.project_id = p.id AND m.user_id = ?1
WHERE p.name IN (SELECT value FROM json_each(?2))
UNION ALL
SELECT p.name, p.public, m.role, g.name
FROM projects p JOIN members m ON m.project_id = p.id JOIN groups g ON g.id = m.group_id
WHERE p.name IN (SELECT value FROM json_each(?2))
  AND m.group_id IN (SELECT ug.group_id FROM user_groups ug WHERE ug.user_id = ?1
                     UNION SELECT dg.id FROM groups dg WHERE dg.dn_norm IN (SELECT value FROM json_each(?3)))
ORDER BY 1, 4 NULLS FIRST`

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
	dnJSON, err := json.Marshal(dns)
	if err != nil {
		return nil, fmt.Errorf("project access: %w", err)
	}
	namesJSON, err := json.Marshal(projects)
	if err != nil {
		return nil, fmt.Errorf("project access: %w", err)
	}
	st, err := s.prepared(ctx, accessQuery)
	if err != nil {
		return nil, wrap("project access", err)
	}
	rows, err := st.QueryContext(ctx, p.UserID, string(namesJSON), string(dnJSON))
	if err != nil {
		return nil, wrap("project access", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			name        string
			public      bool
			role, group sql.NullString
		)
		if err := rows.Scan(&name, &public, &role, &group); err != nil {
			return nil, wrap("project access", err)
		}
		pa := out[name]
		pa.Name, pa.Public = name, public
		if role.Valid {
			pa.Grants = append(pa.Grants, store.Grant{Role: store.Role(role.String), Group: group.String})
		}
		out[name] = pa
	}
	return out, wrap("project access", rows.Err())
}
