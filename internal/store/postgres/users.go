package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/authserver/authserver/internal/store"
)

const userCols = `id, name, email, display_name, password_hash, admin, disabled, source, created_at, updated_at`

func scanUser(row scanner) (store.User, error) {
	var u store.User
	err := row.Scan(&u.ID, &u.Name, &u.Email, &u.DisplayName, &u.PasswordHash, &u.Admin, &u.Disabled,
		&u.Source, &u.CreatedAt, &u.UpdatedAt)
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	return u, err
}

// CreateUser implements store.Users.
func (s *Store) CreateUser(ctx context.Context, u *store.User) error {
	if u.Source == "" {
		u.Source = store.SourceLocal
	}
	t := now()
	err := s.pool.QueryRow(ctx, `INSERT INTO users
		(name, email, display_name, password_hash, admin, disabled, source, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		u.Name, u.Email, u.DisplayName, u.PasswordHash, u.Admin, u.Disabled, u.Source, t, t).Scan(&u.ID)
	if err != nil {
		return wrap("create user "+quote(u.Name), err)
	}
	u.CreatedAt, u.UpdatedAt = t, t
	return nil
}

// GetUser implements store.Users.
func (s *Store) GetUser(ctx context.Context, name string) (store.User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE name = $1`, name))
	return u, wrap("get user "+quote(name), err)
}

// ListUsers implements store.Users.
func (s *Store) ListUsers(ctx context.Context) ([]store.User, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+userCols+` FROM users ORDER BY name COLLATE "C"`)
	if err != nil {
		return nil, wrap("list users", err)
	}
	defer rows.Close()
	us, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.User, error) { return scanUser(row) })
	return us, wrap("list users", err)
}

// UpdateUser implements store.Users.
func (s *Store) UpdateUser(ctx context.Context, u store.User) error {
	return wrap("update user "+quote(u.Name), updateUser(ctx, s.pool, &u))
}

// ModifyUser implements store.Users.
func (s *Store) ModifyUser(ctx context.Context, name string, fn func(store.User) (store.User, error)) (store.User, error) {
	return modify(ctx, s, "modify user "+quote(name), fn,
		func(tx pgx.Tx) (store.User, error) {
			return scanUser(tx.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE name = $1 FOR UPDATE`, name))
		},
		func(tx pgx.Tx, old store.User, u *store.User) error {
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
	tag, err := q.Exec(ctx, `UPDATE users SET email = $1, display_name = $2, password_hash = $3,
		admin = $4, disabled = $5, source = $6, updated_at = $7 WHERE name = $8`,
		u.Email, u.DisplayName, u.PasswordHash, u.Admin, u.Disabled, u.Source, u.UpdatedAt, u.Name)
	return affected(tag, err)
}

// DeleteUser implements store.Users.
func (s *Store) DeleteUser(ctx context.Context, name string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM users WHERE name = $1`, name)
	return wrap("delete user "+quote(name), affected(tag, err))
}

// CountUsers implements store.Users.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&n)
	return n, wrap("count users", err)
}

func scanProject(row scanner) (store.Project, error) {
	var p store.Project
	err := row.Scan(&p.ID, &p.Name, &p.Public, &p.CreatedAt)
	p.CreatedAt = p.CreatedAt.UTC()
	return p, err
}

// CreateProject implements store.Projects.
func (s *Store) CreateProject(ctx context.Context, p *store.Project) error {
	t := now()
	err := s.pool.QueryRow(ctx, `INSERT INTO projects (name, public, created_at) VALUES ($1, $2, $3) RETURNING id`,
		p.Name, p.Public, t).Scan(&p.ID)
	if err != nil {
		return wrap("create project "+quote(p.Name), err)
	}
	p.CreatedAt = t
	return nil
}

// GetProject implements store.Projects.
func (s *Store) GetProject(ctx context.Context, name string) (store.Project, error) {
	p, err := scanProject(s.pool.QueryRow(ctx, `SELECT id, name, public, created_at FROM projects WHERE name = $1`, name))
	return p, wrap("get project "+quote(name), err)
}

// ListProjects implements store.Projects.
func (s *Store) ListProjects(ctx context.Context) ([]store.Project, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, name, public, created_at FROM projects ORDER BY name COLLATE "C"`)
	if err != nil {
		return nil, wrap("list projects", err)
	}
	defer rows.Close()
	ps, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Project, error) { return scanProject(row) })
	return ps, wrap("list projects", err)
}

// SetProjectPublic implements store.Projects.
func (s *Store) SetProjectPublic(ctx context.Context, name string, public bool) error {
	tag, err := s.pool.Exec(ctx, `UPDATE projects SET public = $1 WHERE name = $2`, public, name)
	return wrap("set project public "+quote(name), affected(tag, err))
}

// DeleteProject implements store.Projects.
func (s *Store) DeleteProject(ctx context.Context, name string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM projects WHERE name = $1`, name)
	return wrap("delete project "+quote(name), affected(tag, err))
}
