package sqlite

import (
	"context"
	"database/sql"

	"github.com/authserver/authserver/internal/store"
)

const userCols = `id, name, email, display_name, password_hash, admin, disabled, source, created_at, updated_at`

func scanUser(row scanner) (store.User, error) {
	var u store.User
	err := row.Scan(&u.ID, &u.Name, &u.Email, &u.DisplayName, &u.PasswordHash, &u.Admin, &u.Disabled,
		&u.Source, timeText{&u.CreatedAt}, timeText{&u.UpdatedAt})
	return u, err
}

// CreateUser implements store.Users.
func (s *Store) CreateUser(ctx context.Context, u *store.User) error {
	if u.Source == "" {
		u.Source = store.SourceLocal
	}
	t := now()
	err := s.db.QueryRowContext(ctx, `INSERT INTO users
		(name, email, display_name, password_hash, admin, disabled, source, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		u.Name, u.Email, u.DisplayName, u.PasswordHash, u.Admin, u.Disabled, u.Source, fmtTime(t), fmtTime(t)).Scan(&u.ID)
	if err != nil {
		return wrap("create user "+quote(u.Name), err)
	}
	u.CreatedAt, u.UpdatedAt = t, t
	return nil
}

// GetUser implements store.Users.
func (s *Store) GetUser(ctx context.Context, name string) (store.User, error) {
	st, err := s.prepared(ctx, getUserQuery)
	if err != nil {
		return store.User{}, wrap("get user "+quote(name), err)
	}
	u, err := scanUser(st.QueryRowContext(ctx, name))
	return u, wrap("get user "+quote(name), err)
}

var getUserQuery = `SELECT ` + userCols + ` FROM users WHERE name = ?`

// ListUsers implements store.Users.
func (s *Store) ListUsers(ctx context.Context) ([]store.User, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+userCols+` FROM users ORDER BY name`)
	if err != nil {
		return nil, wrap("list users", err)
	}
	defer rows.Close()
	var us []store.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, wrap("list users", err)
		}
		us = append(us, u)
	}
	return us, wrap("list users", rows.Err())
}

// UpdateUser implements store.Users.
func (s *Store) UpdateUser(ctx context.Context, u store.User) error {
	return wrap("update user "+quote(u.Name), updateUser(ctx, s.db, &u))
}

// ModifyUser implements store.Users.
func (s *Store) ModifyUser(ctx context.Context, name string, fn func(store.User) (store.User, error)) (store.User, error) {
	return modify(ctx, s, "modify user "+quote(name), fn,
		func(tx *sql.Tx) (store.User, error) { return scanUser(tx.QueryRowContext(ctx, getUserQuery, name)) },
		func(tx *sql.Tx, old store.User, u *store.User) error {
			u.ID, u.Name, u.CreatedAt = old.ID, old.Name, old.CreatedAt
			return updateUser(ctx, tx, u)
		})
}

// updateUser writes u's mutable fields and sets u.UpdatedAt.
func updateUser(ctx context.Context, q querier, u *store.User) error {
	if u.Source == "" {
		u.Source = store.SourceLocal
	}
	u.UpdatedAt = now()
	res, err := q.ExecContext(ctx, `UPDATE users SET email = ?, display_name = ?, password_hash = ?,
		admin = ?, disabled = ?, source = ?, updated_at = ? WHERE name = ?`,
		u.Email, u.DisplayName, u.PasswordHash, u.Admin, u.Disabled, u.Source, fmtTime(u.UpdatedAt), u.Name)
	return affected(res, err)
}

// DeleteUser implements store.Users.
func (s *Store) DeleteUser(ctx context.Context, name string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM users WHERE name = ?`, name)
	return wrap("delete user "+quote(name), affected(res, err))
}

// CountUsers implements store.Users.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n)
	return n, wrap("count users", err)
}

func scanProject(row scanner) (store.Project, error) {
	var p store.Project
	err := row.Scan(&p.ID, &p.Name, &p.Public, timeText{&p.CreatedAt})
	return p, err
}

// CreateProject implements store.Projects.
func (s *Store) CreateProject(ctx context.Context, p *store.Project) error {
	t := now()
	err := s.db.QueryRowContext(ctx, `INSERT INTO projects (name, public, created_at) VALUES (?, ?, ?) RETURNING id`,
		p.Name, p.Public, fmtTime(t)).Scan(&p.ID)
	if err != nil {
		return wrap("create project "+quote(p.Name), err)
	}
	p.CreatedAt = t
	return nil
}

// GetProject implements store.Projects.
func (s *Store) GetProject(ctx context.Context, name string) (store.Project, error) {
	p, err := scanProject(s.db.QueryRowContext(ctx, `SELECT id, name, public, created_at FROM projects WHERE name = ?`, name))
	return p, wrap("get project "+quote(name), err)
}

// ListProjects implements store.Projects.
func (s *Store) ListProjects(ctx context.Context) ([]store.Project, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, public, created_at FROM projects ORDER BY name`)
	if err != nil {
		return nil, wrap("list projects", err)
	}
	defer rows.Close()
	var ps []store.Project
	for rows.Next() {
		p, err := scanProject(rows)
		if err != nil {
			return nil, wrap("list projects", err)
		}
		ps = append(ps, p)
	}
	return ps, wrap("list projects", rows.Err())
}

// SetProjectPublic implements store.Projects.
func (s *Store) SetProjectPublic(ctx context.Context, name string, public bool) error {
	res, err := s.db.ExecContext(ctx, `UPDATE projects SET public = ? WHERE name = ?`, public, name)
	return wrap("set project public "+quote(name), affected(res, err))
}

// DeleteProject implements store.Projects.
func (s *Store) DeleteProject(ctx context.Context, name string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM projects WHERE name = ?`, name)
	return wrap("delete project "+quote(name), affected(res, err))
}
