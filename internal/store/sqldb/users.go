package sqldb

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/authserver/authserver/internal/store"
)

const userCols = `id, name, email, display_name, comment, password_hash, admin, disabled, source, created_at, updated_at, allow_from`

var (
	users       = named("user", `SELECT `+userCols+` FROM users`, `name = ?`, columns(userDest))
	createUserQ = q(`INSERT INTO users
		(name, email, display_name, comment, password_hash, admin, disabled, source, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id, created_at, updated_at`)
	updateUserQ = q(`UPDATE users SET email = ?, display_name = ?, comment = ?, password_hash = ?,
		admin = ?, disabled = ?, source = ?, updated_at = ? WHERE id = ?`)
	countUsersQ  = q(`SELECT count(*) FROM users`)
	countAdminsQ = q(`SELECT count(*) FROM users WHERE admin AND NOT disabled`)

	projects       = named("project", `SELECT `+projectCols+` FROM projects`, `name = ?`, columns(projectDest))
	createProjectQ = q(`INSERT INTO projects (name, public, internal, owner_id, source, created_at) VALUES (?, ?, ?, ?, ?, ?)
		RETURNING id, created_at, COALESCE((SELECT u.name FROM users u WHERE u.id = owner_id), '')`)
	countOwnedQ = q(`SELECT count(*) FROM projects WHERE owner_id = ?`)
	// setProjectPublicQ is Harbor's flag: a public project is never also
	// internal; making it private again leaves internal as it is (false).
	setProjectPublicQ     = q(`UPDATE projects SET public = ?, internal = (internal AND NOT public) WHERE name = ?`)
	setProjectVisibilityQ = q(`UPDATE projects SET public = ?, internal = ? WHERE name = ?`)
	setUserAllowFromQ     = q(`UPDATE users SET allow_from = ? WHERE name = ?`)
)

// projectCols are a project's columns, its owner's name among them.
const projectCols = `id, name, public, COALESCE(owner_id, 0),
	COALESCE((SELECT u.name FROM users u WHERE u.id = projects.owner_id), ''), source, created_at, internal`

// projectDest are the scan destinations of projectCols.
func projectDest(p *store.Project) []any {
	return []any{&p.ID, &p.Name, &p.Public, &p.OwnerID, &p.OwnerName, &p.Source, timeCol(&p.CreatedAt), &p.Internal}
}

// userDest are the scan destinations of userCols.
func userDest(u *store.User) []any {
	return []any{&u.ID, &u.Name, &u.Email, &u.DisplayName, &u.Comment, &u.PasswordHash, &u.Admin, &u.Disabled, &u.Source,
		timeCol(&u.CreatedAt), timeCol(&u.UpdatedAt), wordsCol(&u.AllowFrom)}
}

func (s *Store) CreateUser(ctx context.Context, u *store.User) error {
	u.Source = cmp.Or(u.Source, store.SourceLocal)
	t := s.time(now())
	err := s.queryRow(ctx, createUserQ, u.Name, u.Email, u.DisplayName, u.Comment, u.PasswordHash, u.Admin, u.Disabled,
		u.Source, t, t).Scan(&u.ID, timeCol(&u.CreatedAt), timeCol(&u.UpdatedAt))
	return s.wrap("create user "+quote(u.Name), err)
}

func (s *Store) GetUser(ctx context.Context, name string) (store.User, error) {
	return users.get(ctx, s, users.byKey, name)
}

func (s *Store) GetUserByID(ctx context.Context, id int64) (store.User, error) {
	return users.get(ctx, s, users.byID, id)
}

func (s *Store) ListUsers(ctx context.Context) ([]store.User, error) { return users.list(ctx, s) }

func (s *Store) UpdateUser(ctx context.Context, u store.User) error {
	_, err := s.ModifyUser(ctx, u.Name, func(store.User) (store.User, error) { return u, nil })
	return err
}

func (s *Store) ModifyUser(ctx context.Context, name string, fn func(store.User) (store.User, error)) (store.User, error) {
	return users.modify(ctx, s, lockUserQ, name, fn, func(tx *Store, old store.User, u *store.User) error {
		u.ID, u.Name, u.CreatedAt, u.UpdatedAt = old.ID, old.Name, old.CreatedAt, now()
		u.Source = cmp.Or(u.Source, store.SourceLocal)
		_, err := tx.exec(ctx, updateUserQ, u.Email, u.DisplayName, u.Comment, u.PasswordHash, u.Admin, u.Disabled, u.Source,
			s.time(u.UpdatedAt), u.ID)
		return err
	})
}

func (s *Store) DeleteUser(ctx context.Context, name string) error { return users.delete(ctx, s, name) }

func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.queryRow(ctx, countUsersQ).Scan(&n)
	return n, s.wrap("count users", err)
}

func (s *Store) CountAdmins(ctx context.Context) (int, error) {
	var n int
	err := s.queryRow(ctx, countAdminsQ).Scan(&n)
	return n, s.wrap("count admins", err)
}

func (s *Store) CreateProject(ctx context.Context, p *store.Project) error {
	p.Source = cmp.Or(p.Source, store.ProjectSourceLocal)
	var owner sql.NullInt64
	if p.OwnerID != 0 {
		owner = sql.NullInt64{Int64: p.OwnerID, Valid: true}
	}
	err := s.queryRow(ctx, createProjectQ, p.Name, p.Public, p.Internal && !p.Public, owner, p.Source, s.time(now())).
		Scan(&p.ID, timeCol(&p.CreatedAt), &p.OwnerName)
	return s.wrap("create project "+quote(p.Name), err)
}

func (s *Store) CountOwnedProjects(ctx context.Context, userID int64) (int, error) {
	var n int
	err := s.queryRow(ctx, countOwnedQ, userID).Scan(&n)
	return n, s.wrap(fmt.Sprintf("count projects of user %d", userID), err)
}

func (s *Store) GetProject(ctx context.Context, name string) (store.Project, error) {
	return projects.get(ctx, s, projects.byKey, name)
}

func (s *Store) GetProjectByID(ctx context.Context, id int64) (store.Project, error) {
	return projects.get(ctx, s, projects.byID, id)
}

func (s *Store) ListProjects(ctx context.Context) ([]store.Project, error) {
	return projects.list(ctx, s)
}

func (s *Store) SetProjectPublic(ctx context.Context, name string, public bool) error {
	return s.change(ctx, "set project public "+quote(name), setProjectPublicQ, public, name)
}

func (s *Store) SetProjectVisibility(ctx context.Context, name string, v store.Visibility) error {
	op := "set project visibility " + quote(name)
	switch v {
	case store.VisibilityPrivate, store.VisibilityInternal, store.VisibilityPublic:
	default:
		return fmt.Errorf("%s: unknown visibility %q", op, v)
	}
	return s.change(ctx, op, setProjectVisibilityQ, v == store.VisibilityPublic, v == store.VisibilityInternal, name)
}

func (s *Store) SetUserAllowFrom(ctx context.Context, name string, cidrs []string) error {
	return s.change(ctx, "set allow_from of user "+quote(name), setUserAllowFromQ, strings.Join(cidrs, " "), name)
}

func (s *Store) DeleteProject(ctx context.Context, name string) error {
	return projects.delete(ctx, s, name)
}
