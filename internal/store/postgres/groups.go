package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/authserver/authserver/internal/store"
)

func scanGroup(row scanner) (store.Group, error) {
	var g store.Group
	var dn *string
	err := row.Scan(&g.ID, &g.Name, &dn, &g.CreatedAt)
	if dn != nil {
		g.DN = *dn
	}
	g.CreatedAt = g.CreatedAt.UTC()
	return g, err
}

// nullDN returns the stored and normalized forms of dn, NULL when empty.
func nullDN(dn string) (*string, *string) {
	if dn == "" {
		return nil, nil
	}
	norm := store.NormalizeDN(dn)
	return &dn, &norm
}

// CreateGroup implements store.Groups.
func (s *Store) CreateGroup(ctx context.Context, g *store.Group) error {
	t := now()
	dn, norm := nullDN(g.DN)
	err := s.pool.QueryRow(ctx, `INSERT INTO groups (name, dn, dn_norm, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
		g.Name, dn, norm, t).Scan(&g.ID)
	if err != nil {
		return wrap("create group "+quote(g.Name), err)
	}
	g.CreatedAt = t
	return nil
}

// GetGroup implements store.Groups: an exact name match wins over a DN match.
func (s *Store) GetGroup(ctx context.Context, nameOrDN string) (store.Group, error) {
	g, err := scanGroup(s.pool.QueryRow(ctx, `SELECT id, name, dn, created_at FROM groups
		WHERE name = $1 OR dn_norm = $2 ORDER BY name = $3 DESC LIMIT 1`,
		nameOrDN, store.NormalizeDN(nameOrDN), nameOrDN))
	return g, wrap("get group "+quote(nameOrDN), err)
}

// ListGroups implements store.Groups.
func (s *Store) ListGroups(ctx context.Context) ([]store.Group, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, name, dn, created_at FROM groups ORDER BY name COLLATE "C"`)
	if err != nil {
		return nil, wrap("list groups", err)
	}
	defer rows.Close()
	gs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Group, error) { return scanGroup(row) })
	return gs, wrap("list groups", err)
}

// DeleteGroup implements store.Groups.
func (s *Store) DeleteGroup(ctx context.Context, name string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM groups WHERE name = $1`, name)
	return wrap("delete group "+quote(name), affected(tag, err))
}

// AddGroupUser implements store.Groups.
func (s *Store) AddGroupUser(ctx context.Context, group, user string) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		gid, err := lookupID(ctx, tx, "groups", "group", group)
		if err != nil {
			return err
		}
		uid, err := lookupID(ctx, tx, "users", "user", user)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO user_groups (group_id, user_id) VALUES ($1, $2)`, gid, uid)
		return err
	})
	return wrap("add user "+quote(user)+" to group "+quote(group), err)
}

// RemoveGroupUser implements store.Groups.
func (s *Store) RemoveGroupUser(ctx context.Context, group, user string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM user_groups
		WHERE group_id = (SELECT id FROM groups WHERE name = $1)
		  AND user_id = (SELECT id FROM users WHERE name = $2)`, group, user)
	return wrap("remove user "+quote(user)+" from group "+quote(group), affected(tag, err))
}

// ListGroupUsers implements store.Groups.
func (s *Store) ListGroupUsers(ctx context.Context, group string) ([]string, error) {
	names, err := s.names(ctx, `SELECT u.name FROM groups g
		LEFT JOIN user_groups ug ON ug.group_id = g.id
		LEFT JOIN users u ON u.id = ug.user_id
		WHERE g.name = $1 ORDER BY u.name COLLATE "C"`, group)
	return names, wrap("list users of group "+quote(group), err)
}

// UserGroups implements store.Groups.
func (s *Store) UserGroups(ctx context.Context, user string) ([]string, error) {
	names, err := s.names(ctx, `SELECT g.name FROM users u
		LEFT JOIN user_groups ug ON ug.user_id = u.id
		LEFT JOIN groups g ON g.id = ug.group_id
		WHERE u.name = $1 ORDER BY g.name COLLATE "C"`, user)
	return names, wrap("list groups of user "+quote(user), err)
}

// names runs a query that yields one row per name, or a single NULL row when
// the looked-up parent exists but has none, or no row when it is missing.
func (s *Store) names(ctx context.Context, query string, arg any) ([]string, error) {
	rows, err := s.pool.Query(ctx, query, arg)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	found := false
	out := []string{}
	for rows.Next() {
		found = true
		var n *string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		if n != nil {
			out = append(out, *n)
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
