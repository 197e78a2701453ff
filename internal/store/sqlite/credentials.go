package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/authserver/authserver/internal/store"
)

// optTime scans a nullable time column: NULL is the zero time.
type optTime struct{ t *time.Time }

func (ot optTime) Scan(src any) error {
	if src == nil {
		*ot.t = time.Time{}
		return nil
	}
	return timeText(ot).Scan(src)
}

// optTimeArg stores the zero time as NULL.
func optTimeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return fmtTime(at(t))
}

// at returns t at stored precision, or now when t is zero.
func at(t time.Time) time.Time {
	if t.IsZero() {
		return now()
	}
	return t.UTC().Truncate(time.Microsecond)
}

// at0 is at for optional times: the zero time stays zero.
func at0(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return at(t)
}

// --- refresh tokens ---

const refreshCols = `t.id, t.user_id, u.name, t.token_hash, t.service, t.client_id, t.created_at, t.last_used_at`

func scanRefresh(row scanner) (store.RefreshToken, error) {
	var t store.RefreshToken
	err := row.Scan(&t.ID, &t.UserID, &t.User, &t.Hash, &t.Service, &t.ClientID, timeText{&t.CreatedAt}, timeText{&t.LastUsedAt})
	return t, err
}

// CreateRefreshToken implements store.RefreshTokens.
func (s *Store) CreateRefreshToken(ctx context.Context, t *store.RefreshToken) error {
	t.CreatedAt = at(t.CreatedAt)
	if t.LastUsedAt.IsZero() {
		t.LastUsedAt = t.CreatedAt
	}
	t.LastUsedAt = at(t.LastUsedAt)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT name FROM users WHERE id = ?`, t.UserID).Scan(&t.User); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("user id %d: %w", t.UserID, store.ErrNotFound)
			}
			return err
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO refresh_tokens
			(user_id, token_hash, service, client_id, created_at, last_used_at)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			t.UserID, t.Hash, t.Service, t.ClientID, fmtTime(t.CreatedAt), fmtTime(t.LastUsedAt)).Scan(&t.ID)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM refresh_tokens WHERE user_id = ? AND id NOT IN
			(SELECT id FROM refresh_tokens WHERE user_id = ? ORDER BY last_used_at DESC, id DESC LIMIT ?)`,
			t.UserID, t.UserID, store.MaxRefreshTokensPerUser)
		return err
	})
	return wrap("create refresh token", err)
}

// GetRefreshToken implements store.RefreshTokens.
func (s *Store) GetRefreshToken(ctx context.Context, hash string) (store.RefreshToken, error) {
	t, err := scanRefresh(s.db.QueryRowContext(ctx, `SELECT `+refreshCols+`
		FROM refresh_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?`, hash))
	return t, wrap("get refresh token", err)
}

// TouchRefreshToken implements store.RefreshTokens.
func (s *Store) TouchRefreshToken(ctx context.Context, id int64, when time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE refresh_tokens SET last_used_at = ? WHERE id = ?`, fmtTime(at(when)), id)
	return wrap("touch refresh token", affected(res, err))
}

// ListRefreshTokens implements store.RefreshTokens.
func (s *Store) ListRefreshTokens(ctx context.Context, user string) ([]store.RefreshToken, error) {
	var out []store.RefreshToken
	err := func(tx querier) error {
		uid, err := lookupID(ctx, tx, "users", "user", user)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+refreshCols+` FROM refresh_tokens t JOIN users u ON u.id = t.user_id
			WHERE t.user_id = ? ORDER BY t.last_used_at DESC, t.id DESC`, uid)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			t, err := scanRefresh(rows)
			if err != nil {
				return err
			}
			out = append(out, t)
		}
		return rows.Err()
	}(s.db)
	return out, wrap("list refresh tokens of "+quote(user), err)
}

// DeleteRefreshToken implements store.RefreshTokens.
func (s *Store) DeleteRefreshToken(ctx context.Context, user string, id int64) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM refresh_tokens
		WHERE id = ? AND user_id = (SELECT id FROM users WHERE name = ?)`, id, user)
	return wrap(fmt.Sprintf("delete refresh token %d of %s", id, quote(user)), affected(res, err))
}

// DeleteRefreshTokens implements store.RefreshTokens.
func (s *Store) DeleteRefreshTokens(ctx context.Context, user string) (int, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		uid, err := lookupID(ctx, tx, "users", "user", user)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM refresh_tokens WHERE user_id = ?`, uid)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
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
		optTime{&r.ExpiresAt}, timeText{&r.CreatedAt}, timeText{&r.UpdatedAt})
	r.Actions = splitActions(actions)
	return r, err
}

func splitActions(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

// CreateRobot implements store.Robots.
func (s *Store) CreateRobot(ctx context.Context, r *store.Robot) error {
	t := now()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var pid any
		if r.Project != store.SystemRobotProject {
			id, err := lookupID(ctx, tx, "projects", "project", r.Project)
			if err != nil {
				return err
			}
			pid = id
		}
		return tx.QueryRowContext(ctx, `INSERT INTO robots
			(name, project_id, actions, description, secret_hash, disabled, expires_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			r.Name, pid, strings.Join(r.Actions, ","), r.Description, r.SecretHash, r.Disabled,
			optTimeArg(r.ExpiresAt), fmtTime(t), fmtTime(t)).Scan(&r.ID)
	})
	if err != nil {
		return wrap("create robot "+quote(r.Name), err)
	}
	r.CreatedAt, r.UpdatedAt = t, t
	r.ExpiresAt = at0(r.ExpiresAt)
	return nil
}

// GetRobot implements store.Robots.
func (s *Store) GetRobot(ctx context.Context, name string) (store.Robot, error) {
	r, err := scanRobot(s.db.QueryRowContext(ctx, `SELECT `+robotCols+robotFrom+` WHERE r.name = ?`, name))
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
		q += ` WHERE p.name = ?`
		args = append(args, project)
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY r.name`, args...)
	if err != nil {
		return nil, wrap("list robots", err)
	}
	defer rows.Close()
	var out []store.Robot
	for rows.Next() {
		r, err := scanRobot(rows)
		if err != nil {
			return nil, wrap("list robots", err)
		}
		out = append(out, r)
	}
	return out, wrap("list robots", rows.Err())
}

// UpdateRobot implements store.Robots.
func (s *Store) UpdateRobot(ctx context.Context, r store.Robot) error {
	return wrap("update robot "+quote(r.Name), updateRobot(ctx, s.db, &r))
}

// ModifyRobot implements store.Robots.
func (s *Store) ModifyRobot(ctx context.Context, name string, fn func(store.Robot) (store.Robot, error)) (store.Robot, error) {
	return modify(ctx, s, "modify robot "+quote(name), fn,
		func(tx *sql.Tx) (store.Robot, error) {
			return scanRobot(tx.QueryRowContext(ctx, `SELECT `+robotCols+robotFrom+` WHERE r.name = ?`, name))
		},
		func(tx *sql.Tx, old store.Robot, r *store.Robot) error {
			r.ID, r.Name, r.Project, r.CreatedAt = old.ID, old.Name, old.Project, old.CreatedAt
			return updateRobot(ctx, tx, r)
		})
}

// updateRobot writes r's mutable fields and sets r.UpdatedAt; r.ExpiresAt
// is left at stored precision.
func updateRobot(ctx context.Context, q querier, r *store.Robot) error {
	r.UpdatedAt, r.ExpiresAt = now(), at0(r.ExpiresAt)
	res, err := q.ExecContext(ctx, `UPDATE robots SET actions = ?, description = ?, secret_hash = ?,
		disabled = ?, expires_at = ?, updated_at = ? WHERE name = ?`,
		strings.Join(r.Actions, ","), r.Description, r.SecretHash, r.Disabled, optTimeArg(r.ExpiresAt), fmtTime(r.UpdatedAt), r.Name)
	return affected(res, err)
}

// DeleteRobot implements store.Robots.
func (s *Store) DeleteRobot(ctx context.Context, name string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM robots WHERE name = ?`, name)
	return wrap("delete robot "+quote(name), affected(res, err))
}

// --- personal access tokens ---

const patCols = `t.id, t.user_id, u.name, t.name, t.token_hash, t.expires_at, t.created_at, t.last_used_at`

func scanPAT(row scanner) (store.PersonalToken, error) {
	var t store.PersonalToken
	err := row.Scan(&t.ID, &t.UserID, &t.User, &t.Name, &t.Hash, optTime{&t.ExpiresAt}, timeText{&t.CreatedAt}, optTime{&t.LastUsedAt})
	return t, err
}

// CreatePersonalToken implements store.PersonalTokens.
func (s *Store) CreatePersonalToken(ctx context.Context, t *store.PersonalToken) error {
	t.CreatedAt = at(t.CreatedAt)
	t.ExpiresAt = at0(t.ExpiresAt)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		uid, err := lookupID(ctx, tx, "users", "user", t.User)
		if err != nil {
			return err
		}
		t.UserID = uid
		return tx.QueryRowContext(ctx, `INSERT INTO personal_tokens (user_id, name, token_hash, expires_at, created_at)
			VALUES (?, ?, ?, ?, ?) RETURNING id`,
			uid, t.Name, t.Hash, optTimeArg(t.ExpiresAt), fmtTime(t.CreatedAt)).Scan(&t.ID)
	})
	return wrap("create personal token "+quote(t.Name)+" of "+quote(t.User), err)
}

// GetPersonalToken implements store.PersonalTokens.
func (s *Store) GetPersonalToken(ctx context.Context, hash string) (store.PersonalToken, error) {
	t, err := scanPAT(s.db.QueryRowContext(ctx, `SELECT `+patCols+`
		FROM personal_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?`, hash))
	return t, wrap("get personal token", err)
}

// TouchPersonalToken implements store.PersonalTokens.
func (s *Store) TouchPersonalToken(ctx context.Context, id int64, when time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE personal_tokens SET last_used_at = ? WHERE id = ?`, fmtTime(at(when)), id)
	return wrap("touch personal token", affected(res, err))
}

// ListPersonalTokens implements store.PersonalTokens.
func (s *Store) ListPersonalTokens(ctx context.Context, user string) ([]store.PersonalToken, error) {
	var out []store.PersonalToken
	err := func(tx querier) error {
		uid, err := lookupID(ctx, tx, "users", "user", user)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+patCols+` FROM personal_tokens t JOIN users u ON u.id = t.user_id
			WHERE t.user_id = ? ORDER BY t.name`, uid)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			t, err := scanPAT(rows)
			if err != nil {
				return err
			}
			out = append(out, t)
		}
		return rows.Err()
	}(s.db)
	return out, wrap("list personal tokens of "+quote(user), err)
}

// DeletePersonalToken implements store.PersonalTokens.
func (s *Store) DeletePersonalToken(ctx context.Context, user, name string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM personal_tokens
		WHERE name = ? AND user_id = (SELECT id FROM users WHERE name = ?)`, name, user)
	return wrap("delete personal token "+quote(name)+" of "+quote(user), affected(res, err))
}
