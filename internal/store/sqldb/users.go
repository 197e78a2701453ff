package sqldb

import (
	"cmp"
	"context"
	"fmt"

	"github.com/authserver/authserver/internal/store"
)

const userCols = `id, name, email, display_name, password_hash, admin, disabled, source, created_at, updated_at`

var (
	createUserQ = q(`INSERT INTO users
		(name, email, display_name, password_hash, admin, disabled, source, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`)
	getUserQ    = q(`SELECT ` + userCols + ` FROM users WHERE name = ?`)
	getUserIDQ  = q(`SELECT ` + userCols + ` FROM users WHERE id = ?`)
	listUsersQ  = q(`SELECT ` + userCols + ` FROM users ORDER BY name{collate}`)
	updateUserQ = q(`UPDATE users SET email = ?, display_name = ?, password_hash = ?,
		admin = ?, disabled = ?, source = ?, updated_at = ? WHERE id = ?`)
	deleteUserQ = q(`DELETE FROM users WHERE name = ?`)
	countUsersQ = q(`SELECT count(*) FROM users`)

	createProjectQ    = q(`INSERT INTO projects (name, public, created_at) VALUES (?, ?, ?) RETURNING id`)
	getProjectQ       = q(`SELECT id, name, public, created_at FROM projects WHERE name = ?`)
	getProjectIDQ     = q(`SELECT id, name, public, created_at FROM projects WHERE id = ?`)
	listProjectsQ     = q(`SELECT id, name, public, created_at FROM projects ORDER BY name{collate}`)
	setProjectPublicQ = q(`UPDATE projects SET public = ? WHERE name = ?`)
	deleteProjectQ    = q(`DELETE FROM projects WHERE name = ?`)
)

func (s *Store) scanUser(row scanner) (u store.User, err error) {
	err = row.Scan(&u.ID, &u.Name, &u.Email, &u.DisplayName, &u.PasswordHash, &u.Admin, &u.Disabled,
		&u.Source, s.timeCol(&u.CreatedAt), s.timeCol(&u.UpdatedAt))
	return
}

func (s *Store) CreateUser(ctx context.Context, u *store.User) error {
	u.Source = cmp.Or(u.Source, store.SourceLocal)
	t := now()
	err := s.queryRow(ctx, createUserQ, u.Name, u.Email, u.DisplayName, u.PasswordHash, u.Admin, u.Disabled,
		u.Source, s.time(t), s.time(t)).Scan(&u.ID)
	if err == nil {
		u.CreatedAt, u.UpdatedAt = t, t
	}
	return s.wrap("create user "+quote(u.Name), err)
}

func (s *Store) GetUser(ctx context.Context, name string) (store.User, error) {
	return oneNamed(ctx, s, "get user", name, s.scanUser, getUserQ, name)
}

func (s *Store) GetUserByID(ctx context.Context, id int64) (store.User, error) {
	return one(ctx, s, fmt.Sprintf("get user %d", id), s.scanUser, getUserIDQ, id)
}

func (s *Store) ListUsers(ctx context.Context) ([]store.User, error) {
	return all(ctx, s, "list users", s.scanUser, listUsersQ)
}

func (s *Store) UpdateUser(ctx context.Context, u store.User) error {
	_, err := s.ModifyUser(ctx, u.Name, func(store.User) (store.User, error) { return u, nil })
	return err
}

func (s *Store) ModifyUser(ctx context.Context, name string, fn func(store.User) (store.User, error)) (store.User, error) {
	return modify(ctx, s, "modify user "+quote(name), lockUserQ, name, s.scanUser, fn, func(tx txn, old store.User, u *store.User) error {
		u.ID, u.Name, u.CreatedAt, u.UpdatedAt = old.ID, old.Name, old.CreatedAt, now()
		u.Source = cmp.Or(u.Source, store.SourceLocal)
		_, err := tx.exec(ctx, updateUserQ, u.Email, u.DisplayName, u.PasswordHash, u.Admin, u.Disabled, u.Source,
			s.time(u.UpdatedAt), u.ID)
		return err
	})
}

func (s *Store) DeleteUser(ctx context.Context, name string) error {
	return s.change(ctx, "delete user "+quote(name), deleteUserQ, name)
}

func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.queryRow(ctx, countUsersQ).Scan(&n)
	return n, s.wrap("count users", err)
}

func (s *Store) scanProject(row scanner) (p store.Project, err error) {
	err = row.Scan(&p.ID, &p.Name, &p.Public, s.timeCol(&p.CreatedAt))
	return
}

func (s *Store) CreateProject(ctx context.Context, p *store.Project) error {
	t := now()
	err := s.queryRow(ctx, createProjectQ, p.Name, p.Public, s.time(t)).Scan(&p.ID)
	if err == nil {
		p.CreatedAt = t
	}
	return s.wrap("create project "+quote(p.Name), err)
}

func (s *Store) GetProject(ctx context.Context, name string) (store.Project, error) {
	return oneNamed(ctx, s, "get project", name, s.scanProject, getProjectQ, name)
}

func (s *Store) GetProjectByID(ctx context.Context, id int64) (store.Project, error) {
	return one(ctx, s, fmt.Sprintf("get project %d", id), s.scanProject, getProjectIDQ, id)
}

func (s *Store) ListProjects(ctx context.Context) ([]store.Project, error) {
	return all(ctx, s, "list projects", s.scanProject, listProjectsQ)
}

func (s *Store) SetProjectPublic(ctx context.Context, name string, public bool) error {
	return s.change(ctx, "set project public "+quote(name), setProjectPublicQ, public, name)
}

func (s *Store) DeleteProject(ctx context.Context, name string) error {
	return s.change(ctx, "delete project "+quote(name), deleteProjectQ, name)
}
