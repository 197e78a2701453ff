package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authserver/authserver/internal/store"
)

// optTime is a nullable time for pgx: NULL ⇄ the zero time, UTC.
type optTime struct{ t *time.Time }

func (ot optTime) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*ot.t = time.Time{}
	case time.Time:
		*ot.t = v.UTC()
	default:
		return fmt.Errorf("scan time: unexpected %T", src)
	}
	return nil
}

// optTimeArg stores the zero time as NULL.
func optTimeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// at returns t at stored precision, or now when t is zero.
func at(t time.Time) time.Time {
	if t.IsZero() {
		return now()
	}
	return t.UTC().Truncate(time.Microsecond)
}

// userID looks up a user's id by name, with an ErrNotFound naming it.
func userID(ctx context.Context, q querier, name string) (int64, error) {
	return lookupID(ctx, q, "users", "user", name)
}

// --- refresh tokens ---

const refreshCols = `t.id, t.user_id, u.name, t.token_hash, t.service, t.client_id, t.created_at, t.last_used_at`

func scanRefresh(row scanner) (store.RefreshToken, error) {
	var t store.RefreshToken
	err := row.Scan(&t.ID, &t.UserID, &t.User, &t.Hash, &t.Service, &t.ClientID, &t.CreatedAt, &t.LastUsedAt)
	t.CreatedAt, t.LastUsedAt = t.CreatedAt.UTC(), t.LastUsedAt.UTC()
	return t, err
}

// CreateRefreshToken implements store.RefreshTokens.
func (s *Store) CreateRefreshToken(ctx context.Context, t *store.RefreshToken) error {
	t.CreatedAt = at(t.CreatedAt)
	if t.LastUsedAt.IsZero() {
		t.LastUsedAt = t.CreatedAt
	}
	t.LastUsedAt = at(t.LastUsedAt)
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT name FROM users WHERE id = $1`, t.UserID).Scan(&t.User); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("user id %d: %w", t.UserID, store.ErrNotFound)
			}
			return err
		}
		err := tx.QueryRow(ctx, `INSERT INTO refresh_tokens
			(user_id, token_hash, service, client_id, created_at, last_used_at)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
			t.UserID, t.Hash, t.Service, t.ClientID, t.CreatedAt, t.LastUsedAt).Scan(&t.ID)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM refresh_tokens WHERE user_id = $1 AND id NOT IN
			(SELECT id FROM refresh_tokens WHERE user_id = $1 ORDER BY last_used_at DESC, id DESC LIMIT $2)`,
			t.UserID, store.MaxRefreshTokensPerUser)
		return err
	})
	return wrap("create refresh token", err)
}

// GetRefreshToken implements store.RefreshTokens.
func (s *Store) GetRefreshToken(ctx context.Context, hash string) (store.RefreshToken, error) {
	t, err := scanRefresh(s.pool.QueryRow(ctx, `SELECT `+refreshCols+`
		FROM refresh_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1`, hash))
	return t, wrap("get refresh token", err)
}

// TouchRefreshToken implements store.RefreshTokens.
func (s *Store) TouchRefreshToken(ctx context.Context, id int64, when time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE refresh_tokens SET last_used_at = $1 WHERE id = $2`, at(when), id)
	return wrap("touch refresh token", affected(tag, err))
}

// ListRefreshTokens implements store.RefreshTokens.
func (s *Store) ListRefreshTokens(ctx context.Context, user string) ([]store.RefreshToken, error) {
	uid, err := userID(ctx, s.pool, user)
	if err != nil {
		return nil, wrap("list refresh tokens of "+quote(user), err)
	}
	rows, err := s.pool.Query(ctx, `SELECT `+refreshCols+` FROM refresh_tokens t JOIN users u ON u.id = t.user_id
		WHERE t.user_id = $1 ORDER BY t.last_used_at DESC, t.id DESC`, uid)
	if err != nil {
		return nil, wrap("list refresh tokens of "+quote(user), err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.RefreshToken, error) { return scanRefresh(row) })
	return out, wrap("list refresh tokens of "+quote(user), err)
}

// DeleteRefreshToken implements store.RefreshTokens.
func (s *Store) DeleteRefreshToken(ctx context.Context, user string, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM refresh_tokens
		WHERE id = $1 AND user_id = (SELECT id FROM users WHERE name = $2)`, id, user)
	return wrap(fmt.Sprintf("delete refresh token %d of %s", id, quote(user)), affected(tag, err))
}

// DeleteRefreshTokens implements store.RefreshTokens.
func (s *Store) DeleteRefreshTokens(ctx context.Context, user string) (int, error) {
	var n int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		uid, err := userID(ctx, tx, user)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM refresh_tokens WHERE user_id = $1`, uid)
		n = tag.RowsAffected()
		return err
	})
	return int(n), wrap("delete refresh tokens of "+quote(user), err)
}

// --- robots ---

const robotCols = `r.id, r.name, COALESCE(p.name, '*'), r.actions, r.description, r.secret_hash, r.disabled,
	r.expires_at, r.created_at, r.updated_at`

const robotFrom = ` FROM robots r LEFT JOIN projects p ON p.id = r.project_id`

func scanRobot(row scanner) (store.Robot, error) {
	var r store.Robot
	var actions string
	err := row.Scan(&r.ID, &r.Name, &r.Project, &actions, &r.Description, &r.SecretHash, &r.Disabled,
		optTime{&r.ExpiresAt}, &r.CreatedAt, &r.UpdatedAt)
	r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	r.Actions = []string{}
	if actions != "" {
		r.Actions = strings.Split(actions, ",")
	}
	return r, err
}

// CreateRobot implements store.Robots.
func (s *Store) CreateRobot(ctx context.Context, r *store.Robot) error {
	t := now()
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var pid *int64
		if r.Project != store.SystemRobotProject {
			id, err := lookupID(ctx, tx, "projects", "project", r.Project)
			if err != nil {
				return err
			}
			pid = &id
		}
		return tx.QueryRow(ctx, `INSERT INTO robots
			(name, project_id, actions, description, secret_hash, disabled, expires_at, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id`,
			r.Name, pid, strings.Join(r.Actions, ","), r.Description, r.SecretHash, r.Disabled,
			optTimeArg(at0(r.ExpiresAt)), t).Scan(&r.ID)
	})
	if err != nil {
		return wrap("create robot "+quote(r.Name), err)
	}
	r.CreatedAt, r.UpdatedAt = t, t
	r.ExpiresAt = at0(r.ExpiresAt)
	return nil
}

// at0 is at for optional times: the zero time stays zero.
func at0(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return at(t)
}

// GetRobot implements store.Robots.
func (s *Store) GetRobot(ctx context.Context, name string) (store.Robot, error) {
	r, err := scanRobot(s.pool.QueryRow(ctx, `SELECT `+robotCols+robotFrom+` WHERE r.name = $1`, name))
	return r, wrap("get robot "+quote(name), err)
}

// ListRobots implements store.Robots.
func (s *Store) ListRobots(ctx context.Context, project string) ([]store.Robot, error) {
	q, args := `SELECT `+robotCols+robotFrom, []any{}
	switch project {
	case "":
	case store.SystemRobotProject:
		q += ` WHERE r.project_id IS NULL`
	default:
		q += ` WHERE p.name = $1`
		args = append(args, project)
	}
	rows, err := s.pool.Query(ctx, q+` ORDER BY r.name COLLATE "C"`, args...)
	if err != nil {
		return nil, wrap("list robots", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Robot, error) { return scanRobot(row) })
	return out, wrap("list robots", err)
}

// UpdateRobot implements store.Robots.
func (s *Store) UpdateRobot(ctx context.Context, r store.Robot) error {
	return wrap("update robot "+quote(r.Name), updateRobot(ctx, s.pool, &r))
}

// ModifyRobot implements store.Robots; FOR UPDATE OF r locks the robot's
// row only (not the nullable side of the join).
func (s *Store) ModifyRobot(ctx context.Context, name string, fn func(store.Robot) (store.Robot, error)) (store.Robot, error) {
	return modify(ctx, s, "modify robot "+quote(name), fn,
		func(tx pgx.Tx) (store.Robot, error) {
			return scanRobot(tx.QueryRow(ctx, `SELECT `+robotCols+robotFrom+` WHERE r.name = $1 FOR UPDATE OF r`, name))
		},
		func(tx pgx.Tx, old store.Robot, r *store.Robot) error {
			r.ID, r.Name, r.Project, r.CreatedAt = old.ID, old.Name, old.Project, old.CreatedAt
			return updateRobot(ctx, tx, r)
		})
}

// updateRobot writes r's mutable fields and sets r.UpdatedAt; r.ExpiresAt
// is left at stored precision.
func updateRobot(ctx context.Context, q querier, r *store.Robot) error {
	r.UpdatedAt, r.ExpiresAt = now(), at0(r.ExpiresAt)
	tag, err := q.Exec(ctx, `UPDATE robots SET actions = $1, description = $2, secret_hash = $3,
		disabled = $4, expires_at = $5, updated_at = $6 WHERE name = $7`,
		strings.Join(r.Actions, ","), r.Description, r.SecretHash, r.Disabled, optTimeArg(r.ExpiresAt), r.UpdatedAt, r.Name)
	return affected(tag, err)
}

// DeleteRobot implements store.Robots.
func (s *Store) DeleteRobot(ctx context.Context, name string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM robots WHERE name = $1`, name)
	return wrap("delete robot "+quote(name), affected(tag, err))
}

// --- personal access tokens ---

const patCols = `t.id, t.user_id, u.name, t.name, t.token_hash, t.expires_at, t.created_at, t.last_used_at`

func scanPAT(row scanner) (store.PersonalToken, error) {
	var t store.PersonalToken
	err := row.Scan(&t.ID, &t.UserID, &t.User, &t.Name, &t.Hash, optTime{&t.ExpiresAt}, &t.CreatedAt, optTime{&t.LastUsedAt})
	t.CreatedAt = t.CreatedAt.UTC()
	return t, err
}

// CreatePersonalToken implements store.PersonalTokens.
func (s *Store) CreatePersonalToken(ctx context.Context, t *store.PersonalToken) error {
	t.CreatedAt = at(t.CreatedAt)
	t.ExpiresAt = at0(t.ExpiresAt)
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		uid, err := userID(ctx, tx, t.User)
		if err != nil {
			return err
		}
		t.UserID = uid
		return tx.QueryRow(ctx, `INSERT INTO personal_tokens (user_id, name, token_hash, expires_at, created_at)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			uid, t.Name, t.Hash, optTimeArg(t.ExpiresAt), t.CreatedAt).Scan(&t.ID)
	})
	return wrap("create personal token "+quote(t.Name)+" of "+quote(t.User), err)
}

// GetPersonalToken implements store.PersonalTokens.
func (s *Store) GetPersonalToken(ctx context.Context, hash string) (store.PersonalToken, error) {
	t, err := scanPAT(s.pool.QueryRow(ctx, `SELECT `+patCols+`
		FROM personal_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1`, hash))
	return t, wrap("get personal token", err)
}

// TouchPersonalToken implements store.PersonalTokens.
func (s *Store) TouchPersonalToken(ctx context.Context, id int64, when time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE personal_tokens SET last_used_at = $1 WHERE id = $2`, at(when), id)
	return wrap("touch personal token", affected(tag, err))
}

// ListPersonalTokens implements store.PersonalTokens.
func (s *Store) ListPersonalTokens(ctx context.Context, user string) ([]store.PersonalToken, error) {
	uid, err := userID(ctx, s.pool, user)
	if err != nil {
		return nil, wrap("list personal tokens of "+quote(user), err)
	}
	rows, err := s.pool.Query(ctx, `SELECT `+patCols+` FROM personal_tokens t JOIN users u ON u.id = t.user_id
		WHERE t.user_id = $1 ORDER BY t.name COLLATE "C"`, uid)
	if err != nil {
		return nil, wrap("list personal tokens of "+quote(user), err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.PersonalToken, error) { return scanPAT(row) })
	return out, wrap("list personal tokens of "+quote(user), err)
}

// DeletePersonalToken implements store.PersonalTokens.
func (s *Store) DeletePersonalToken(ctx context.Context, user, name string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM personal_tokens
		WHERE name = $1 AND user_id = (SELECT id FROM users WHERE name = $2)`, name, user)
	return wrap("delete personal token "+quote(name)+" of "+quote(user), affected(tag, err))
}
