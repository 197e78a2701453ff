package sqldb

import (
	"context"
	"slices"

	"github.com/authserver/authserver/internal/store"
)

var (
	// groups finds a group by name or by normalized DN: an exact name match wins.
	groups = named("group", `SELECT id, name, COALESCE(dn, ''), oidc, created_at FROM groups`,
		`name = ? OR dn_norm = ? ORDER BY name = ? DESC LIMIT 1`,
		columns(func(g *store.Group) []any { return []any{&g.ID, &g.Name, &g.DN, &g.OIDC, timeCol(&g.CreatedAt)} }))
	// createGroupQ stores an empty DN (and its normalized form) as NULL.
	createGroupQ = q(`INSERT INTO groups (name, dn, dn_norm, oidc, created_at)
		VALUES (?, NULLIF(?, ''), NULLIF(?, ''), ?, ?) RETURNING id, created_at`)
	addGroupUserQ    = q(`INSERT INTO user_groups (group_id, user_id) VALUES (?, ?)`)
	removeGroupUserQ = q(`DELETE FROM user_groups
		WHERE group_id = (SELECT id FROM groups WHERE name = ?)
		  AND user_id = (SELECT id FROM users WHERE name = ?)`)
	listGroupUsersQ = q(`SELECT COALESCE(u.name, '') FROM groups g
		LEFT JOIN user_groups ug ON ug.group_id = g.id
		LEFT JOIN users u ON u.id = ug.user_id
		WHERE g.name = ? ORDER BY u.name{collate}`)
	userGroupsQ = q(`SELECT COALESCE(g.name, '') FROM users u
		LEFT JOIN user_groups ug ON ug.user_id = u.id
		LEFT JOIN groups g ON g.id = ug.group_id
		WHERE u.name = ? ORDER BY g.name{collate}`)
)

func (s *Store) CreateGroup(ctx context.Context, g *store.Group) error {
	err := s.queryRow(ctx, createGroupQ, g.Name, g.DN, store.NormalizeDN(g.DN), g.OIDC && g.DN == "", s.time(now())).Scan(&g.ID, timeCol(&g.CreatedAt))
	return s.wrap("create group "+quote(g.Name), err)
}

func (s *Store) GetGroup(ctx context.Context, nameOrDN string) (store.Group, error) {
	return groups.get(ctx, s, groups.byKey, nameOrDN, store.NormalizeDN(nameOrDN), nameOrDN)
}

func (s *Store) GetGroupByID(ctx context.Context, id int64) (store.Group, error) {
	return groups.get(ctx, s, groups.byID, id)
}

func (s *Store) ListGroups(ctx context.Context) ([]store.Group, error) { return groups.list(ctx, s) }

func (s *Store) DeleteGroup(ctx context.Context, name string) error {
	return groups.delete(ctx, s, name)
}

func (s *Store) AddGroupUser(ctx context.Context, group, user string) error {
	gid, err := groups.idOf(ctx, s, group)
	var uid int64
	if err == nil {
		uid, err = users.idOf(ctx, s, user)
	}
	if err == nil {
		_, err = s.exec(ctx, addGroupUserQ, gid, uid)
	}
	return s.wrap("add user "+quote(user)+" to group "+quote(group), err)
}

func (s *Store) RemoveGroupUser(ctx context.Context, group, user string) error {
	return s.change(ctx, "remove user "+quote(user)+" from group "+quote(group), removeGroupUserQ, group, user)
}

func (s *Store) ListGroupUsers(ctx context.Context, group string) ([]string, error) {
	names, err := children(ctx, s, listGroupUsersQ, group, scanName)
	return names, s.wrap("list users of group "+quote(group), err)
}

func (s *Store) UserGroups(ctx context.Context, user string) ([]string, error) {
	names, err := children(ctx, s, userGroupsQ, user, scanName)
	return names, s.wrap("list groups of user "+quote(user), err)
}

// scanName reads a row of one name, ” for none (see children).
var scanName = columns(func(n *string) []any { return []any{n} })

// children runs q, which finds the rows under a parent: one row per child, a
// single row of NULLs for a parent without any (scanned as the zero T,
// which is left out), and no row when the parent is missing: ErrNotFound.
func children[T comparable](ctx context.Context, s *Store, q query, arg any, scan func(scanner) (T, error)) ([]T, error) {
	out, err := collect(ctx, s, scan, q, arg)
	if err == nil && len(out) == 0 {
		return nil, store.ErrNotFound
	}
	var zero T
	return slices.DeleteFunc(out, func(v T) bool { return v == zero }), err
}
