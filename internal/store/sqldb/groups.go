package sqldb

import (
	"context"
	"database/sql"

	"github.com/authserver/authserver/internal/store"
)

var (
	createGroupQ = q(`INSERT INTO groups (name, dn, dn_norm, created_at) VALUES (?, ?, ?, ?) RETURNING id`)
	getGroupQ    = q(`SELECT id, name, dn, created_at FROM groups
		WHERE name = ? OR dn_norm = ? ORDER BY name = ? DESC LIMIT 1`)
	listGroupsQ      = q(`SELECT id, name, dn, created_at FROM groups ORDER BY name{collate}`)
	deleteGroupQ     = q(`DELETE FROM groups WHERE name = ?`)
	addGroupUserQ    = q(`INSERT INTO user_groups (group_id, user_id) VALUES (?, ?)`)
	removeGroupUserQ = q(`DELETE FROM user_groups
		WHERE group_id = (SELECT id FROM groups WHERE name = ?)
		  AND user_id = (SELECT id FROM users WHERE name = ?)`)
	listGroupUsersQ = q(`SELECT u.name FROM groups g
		LEFT JOIN user_groups ug ON ug.group_id = g.id
		LEFT JOIN users u ON u.id = ug.user_id
		WHERE g.name = ? ORDER BY u.name{collate}`)
	userGroupsQ = q(`SELECT g.name FROM users u
		LEFT JOIN user_groups ug ON ug.user_id = u.id
		LEFT JOIN groups g ON g.id = ug.group_id
		WHERE u.name = ? ORDER BY g.name{collate}`)
)

func (s *Store) scanGroup(row scanner) (store.Group, error) {
	var g store.Group
	var dn sql.NullString
	err := row.Scan(&g.ID, &g.Name, &dn, s.timeCol(&g.CreatedAt))
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

func (s *Store) CreateGroup(ctx context.Context, g *store.Group) error {
	t := now()
	dn, norm := nullDN(g.DN)
	err := s.queryRow(ctx, createGroupQ, g.Name, dn, norm, s.time(t)).Scan(&g.ID)
	if err == nil {
		g.CreatedAt = t
	}
	return s.wrap("create group "+quote(g.Name), err)
}

// GetGroup implements store.Groups: an exact name match wins over a DN match.
func (s *Store) GetGroup(ctx context.Context, nameOrDN string) (store.Group, error) {
	g, err := s.scanGroup(s.queryRow(ctx, getGroupQ, nameOrDN, store.NormalizeDN(nameOrDN), nameOrDN))
	return g, s.wrap("get group "+quote(nameOrDN), err)
}

func (s *Store) ListGroups(ctx context.Context) ([]store.Group, error) {
	rows, err := s.query(ctx, listGroupsQ)
	gs, err := collect(rows, err, s.scanGroup)
	return gs, s.wrap("list groups", err)
}

func (s *Store) DeleteGroup(ctx context.Context, name string) error {
	return s.change(ctx, "delete group "+quote(name), deleteGroupQ, name)
}

func (s *Store) AddGroupUser(ctx context.Context, group, user string) error {
	err := s.inTx(ctx, func(tx txn) error {
		gid, err := lookupID(ctx, tx, "groups", "group", group)
		if err != nil {
			return err
		}
		uid, err := lookupID(ctx, tx, "users", "user", user)
		if err != nil {
			return err
		}
		_, err = tx.exec(ctx, addGroupUserQ, gid, uid)
		return err
	})
	return s.wrap("add user "+quote(user)+" to group "+quote(group), err)
}

func (s *Store) RemoveGroupUser(ctx context.Context, group, user string) error {
	return s.change(ctx, "remove user "+quote(user)+" from group "+quote(group), removeGroupUserQ, group, user)
}

func (s *Store) ListGroupUsers(ctx context.Context, group string) ([]string, error) {
	names, err := s.names(ctx, listGroupUsersQ, group)
	return names, s.wrap("list users of group "+quote(group), err)
}

func (s *Store) UserGroups(ctx context.Context, user string) ([]string, error) {
	names, err := s.names(ctx, userGroupsQ, user)
	return names, s.wrap("list groups of user "+quote(user), err)
}

// names runs a query that yields one row per name, or a single NULL row when
// the looked-up parent exists but has none, or no row when it is missing.
func (s *Store) names(ctx context.Context, q query, arg any) ([]string, error) {
	rows, err := s.query(ctx, q, arg)
	ns, err := collect(rows, err, func(row scanner) (n sql.NullString, err error) {
		err = row.Scan(&n)
		return
	})
	if err == nil && len(ns) == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, n := range ns {
		if n.Valid {
			out = append(out, n.String)
		}
	}
	return out, nil
}
