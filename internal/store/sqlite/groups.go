package sqlite

import (
	"context"
	"database/sql"

	"github.com/authserver/authserver/internal/store"
)

func scanGroup(row scanner) (store.Group, error) {
	var g store.Group
	var dn sql.NullString
	err := row.Scan(&g.ID, &g.Name, &dn, timeText{&g.CreatedAt})
	g.DN = dn.String
	return g, err
}

// nullDN returns the stored and normalized forms of dn, NULL when empty.
func nullDN(dn string) (sql.NullString, sql.NullString) {
	if dn == "" {
		return sql.NullString{}, sql.NullString{}
	}
	return sql.NullString{String: dn, Valid: true}, sql.NullString{String: store.NormalizeDN(dn), Valid: true}
}

// CreateGroup implements store.Groups.
func (s *Store) CreateGroup(ctx context.Context, g *store.Group) error {
	t := now()
	dn, norm := nullDN(g.DN)
	err := s.db.QueryRowContext(ctx, `INSERT INTO groups (name, dn, dn_norm, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
		g.Name, dn, norm, fmtTime(t)).Scan(&g.ID)
	if err != nil {
		return wrap("create group "+quote(g.Name), err)
	}
	g.CreatedAt = t
	return nil
}

// GetGroup implements store.Groups: an exact name match wins over a DN match.
func (s *Store) GetGroup(ctx context.Context, nameOrDN string) (store.Group, error) {
	g, err := scanGroup(s.db.QueryRowContext(ctx, `SELECT id, name, dn, created_at FROM groups
		WHERE name = ? OR dn_norm = ? ORDER BY name = ? DESC LIMIT 1`,
		nameOrDN, store.NormalizeDN(nameOrDN), nameOrDN))
	return g, wrap("get group "+quote(nameOrDN), err)
}

// ListGroups implements store.Groups.
func (s *Store) ListGroups(ctx context.Context) ([]store.Group, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, dn, created_at FROM groups ORDER BY name`)
	if err != nil {
		return nil, wrap("list groups", err)
	}
	defer rows.Close()
	var gs []store.Group
	for rows.Next() {
		g, err := scanGroup(rows)
		if err != nil {
			return nil, wrap("list groups", err)
		}
		gs = append(gs, g)
	}
	return gs, wrap("list groups", rows.Err())
}

// DeleteGroup implements store.Groups.
func (s *Store) DeleteGroup(ctx context.Context, name string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM groups WHERE name = ?`, name)
	return wrap("delete group "+quote(name), affected(res, err))
}

// AddGroupUser implements store.Groups.
func (s *Store) AddGroupUser(ctx context.Context, group, user string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		gid, err := lookupID(ctx, tx, "groups", "group", group)
		if err != nil {
			return err
		}
		uid, err := lookupID(ctx, tx, "users", "user", user)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO user_groups (group_id, user_id) VALUES (?, ?)`, gid, uid)
		return err
	})
	return wrap("add user "+quote(user)+" to group "+quote(group), err)
}

// RemoveGroupUser implements store.Groups.
func (s *Store) RemoveGroupUser(ctx context.Context, group, user string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM user_groups
		WHERE group_id = (SELECT id FROM groups WHERE name = ?)
		  AND user_id = (SELECT id FROM users WHERE name = ?)`, group, user)
	return wrap("remove user "+quote(user)+" from group "+quote(group), affected(res, err))
}

// ListGroupUsers implements store.Groups.
func (s *Store) ListGroupUsers(ctx context.Context, group string) ([]string, error) {
	names, err := s.names(ctx, `SELECT u.name FROM groups g
		LEFT JOIN user_groups ug ON ug.group_id = g.id
		LEFT JOIN users u ON u.id = ug.user_id
		WHERE g.name = ? ORDER BY u.name`, group)
	return names, wrap("list users of group "+quote(group), err)
}

// UserGroups implements store.Groups.
func (s *Store) UserGroups(ctx context.Context, user string) ([]string, error) {
	names, err := s.names(ctx, `SELECT g.name FROM users u
		LEFT JOIN user_groups ug ON ug.user_id = u.id
		LEFT JOIN groups g ON g.id = ug.group_id
		WHERE u.name = ? ORDER BY g.name`, user)
	return names, wrap("list groups of user "+quote(user), err)
}

// names runs a query that yields one row per name, or a single NULL row when
// the looked-up parent exists but has none, or no row when it is missing.
func (s *Store) names(ctx context.Context, query string, arg any) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, query, arg)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	found := false
	out := []string{}
	for rows.Next() {
		found = true
		var n sql.NullString
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		if n.Valid {
			out = append(out, n.String)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if !found {
		return nil, store.ErrNotFound
	}
	return out, nil
}
