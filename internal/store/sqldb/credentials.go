package sqldb

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authserver/authserver/internal/store"
)

var (
	refresh = tokens("refresh token", "refresh_tokens", "t.token_hash, t.service, t.client_id, t.created_at, t.last_used_at, t.password_verified_at, COALESCE(t.signin_id, 0), t.expires_at",
		"t.last_used_at DESC, t.id DESC", func(t *store.RefreshToken) []any {
			return []any{&t.ID, &t.UserID, &t.User, &t.Hash, &t.Service, &t.ClientID, timeCol(&t.CreatedAt), timeCol(&t.LastUsedAt),
				timeCol(&t.PasswordVerifiedAt), &t.SignInID, timeCol(&t.ExpiresAt)}
		})
	// createRefreshQ fails on a missing user as a foreign-key violation: ErrNotFound.
	createRefreshQ = q(`INSERT INTO refresh_tokens (user_id, token_hash, service, client_id, created_at, last_used_at,
		password_verified_at, signin_id, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, NULLIF(?, 0), ?)
		RETURNING id, (SELECT name FROM users WHERE id = user_id)`)
	trimRefreshQ = q(`DELETE FROM refresh_tokens WHERE user_id = ? AND id NOT IN
		(SELECT id FROM refresh_tokens WHERE user_id = ? ORDER BY last_used_at DESC, id DESC LIMIT ?)`)
	deleteRefreshQ     = q(`DELETE FROM refresh_tokens WHERE id = ? AND user_id = (SELECT id FROM users WHERE name = ?)`)
	deleteUserRefreshQ = q(`DELETE FROM refresh_tokens WHERE user_id = ?`)

	pats = tokens("personal token", "personal_tokens", "t.name, t.token_hash, t.expires_at, t.created_at, t.last_used_at, t.password_verified_at, COALESCE(t.signin_id, 0), t.allow_from",
		"t.name{collate}", func(t *store.PersonalToken) []any {
			return []any{&t.ID, &t.UserID, &t.User, &t.Name, &t.Hash, timeCol(&t.ExpiresAt), timeCol(&t.CreatedAt), timeCol(&t.LastUsedAt),
				timeCol(&t.PasswordVerifiedAt), &t.SignInID, wordsCol(&t.AllowFrom)}
		})
	createPATQ = q(`INSERT INTO personal_tokens (user_id, name, token_hash, expires_at, created_at, password_verified_at, signin_id, allow_from)
		VALUES (?, ?, ?, ?, ?, ?, NULLIF(?, 0), ?) RETURNING id, user_id, expires_at`)
	deletePATQ     = q(`DELETE FROM personal_tokens WHERE name = ? AND user_id = (SELECT id FROM users WHERE name = ?)`)
	deleteUserPATQ = q(`DELETE FROM personal_tokens WHERE user_id = ?`)
)

// tokens is the table of a kind of token: its rows (t) with the user's
// name, found by hash and listed by user id in order.
func tokens[T any](what, name, cols, order string, dest func(*T) []any) *table[T] {
	sel := `SELECT t.id, t.user_id, u.name, ` + cols + ` FROM ` + name + ` t JOIN users u ON u.id = t.user_id`
	return &table[T]{what: what, hashed: true, scan: columns(dest), byKey: q(sel + ` WHERE t.token_hash = ?`),
		all: q(sel + ` WHERE t.user_id = ? ORDER BY ` + order), touch: q(`UPDATE ` + name + ` SET last_used_at = ? WHERE id = ?`)}
}

// Both kinds of token are read through their table, side by side.

func (s *Store) GetRefreshToken(ctx context.Context, hash string) (store.RefreshToken, error) {
	return refresh.get(ctx, s, refresh.byKey, hash)
}

func (s *Store) GetPersonalToken(ctx context.Context, hash string) (store.PersonalToken, error) {
	return pats.get(ctx, s, pats.byKey, hash)
}

func (s *Store) TouchRefreshToken(ctx context.Context, id int64, when time.Time) error {
	return refresh.touchAt(ctx, s, id, when)
}

func (s *Store) TouchPersonalToken(ctx context.Context, id int64, when time.Time) error {
	return pats.touchAt(ctx, s, id, when)
}

func (s *Store) ListRefreshTokens(ctx context.Context, user string) ([]store.RefreshToken, error) {
	return refresh.ofUser(ctx, s, user)
}

func (s *Store) ListPersonalTokens(ctx context.Context, user string) ([]store.PersonalToken, error) {
	return pats.ofUser(ctx, s, user)
}

func (s *Store) CreateRefreshToken(ctx context.Context, t *store.RefreshToken) error {
	t.CreatedAt = at(t.CreatedAt)
	t.LastUsedAt = at(cmp.Or(t.LastUsedAt, t.CreatedAt))
	err := s.inTx(ctx, func(tx *Store) error {
		err := tx.queryRow(ctx, createRefreshQ, t.UserID, t.Hash, t.Service, t.ClientID,
			s.time(t.CreatedAt), s.time(t.LastUsedAt), s.optTime(t.PasswordVerifiedAt), t.SignInID, s.optTime(t.ExpiresAt)).Scan(&t.ID, &t.User)
		if err == nil {
			_, err = tx.exec(ctx, trimRefreshQ, t.UserID, t.UserID, store.MaxRefreshTokensPerUser)
		}
		return err
	})
	return s.wrap("create refresh token", err)
}

func (s *Store) DeleteRefreshToken(ctx context.Context, user string, id int64) error {
	return s.change(ctx, fmt.Sprintf("delete refresh token %d of %s", id, quote(user)), deleteRefreshQ, id, user)
}

func (s *Store) DeleteRefreshTokens(ctx context.Context, user string) (int, error) {
	return s.deleteUserTokens(ctx, "delete refresh tokens of "+quote(user), deleteUserRefreshQ, user)
}

func (s *Store) DeletePersonalTokens(ctx context.Context, user string) (int, error) {
	return s.deleteUserTokens(ctx, "delete personal tokens of "+quote(user), deleteUserPATQ, user)
}

// deleteUserTokens runs del (a delete by user id) for user and says how
// many rows went.
func (s *Store) deleteUserTokens(ctx context.Context, op string, del query, user string) (int, error) {
	var n int64
	uid, err := users.idOf(ctx, s, user)
	if err == nil {
		n, err = affected(s.exec(ctx, del, uid))
	}
	return int(n), s.wrap(op, err)
}

func (s *Store) CreatePersonalToken(ctx context.Context, t *store.PersonalToken) error {
	t.CreatedAt = at(t.CreatedAt)
	uid, err := users.idOf(ctx, s, t.User)
	if err == nil {
		err = s.queryRow(ctx, createPATQ, uid, t.Name, t.Hash, s.optTime(t.ExpiresAt), s.time(t.CreatedAt), s.optTime(t.PasswordVerifiedAt), t.SignInID,
			strings.Join(t.AllowFrom, " ")).
			Scan(&t.ID, &t.UserID, timeCol(&t.ExpiresAt))
	}
	return s.wrap("create personal token "+quote(t.Name)+" of "+quote(t.User), err)
}

func (s *Store) DeletePersonalToken(ctx context.Context, user, name string) error {
	return s.change(ctx, "delete personal token "+quote(name)+" of "+quote(user), deletePATQ, name, user)
}

// robotSelect reads a robot's project as SystemRobotProject only when the
// robot is explicitly a system robot; a non-system robot whose project is
// gone reads as "" (refused by authn). Its permissions come in the same row
// as "project:actions" words ('*' for every project); a federated robot's
// secret_hash (a marker) reads as "".
const (
	robotSelect = `SELECT r.id, r.name, CASE WHEN r.system THEN '*' ELSE COALESCE(p.name, '') END,
	(SELECT string_agg(COALESCE(pp.name, '*') || ':' || rp.actions || ':' || rp.extra, ' ') FROM robot_permissions rp
		LEFT JOIN projects pp ON pp.id = rp.project_id WHERE rp.robot_id = r.id),
	r.description, CASE WHEN r.trust_issuer IS NULL THEN r.secret_hash ELSE '' END, r.disabled, r.expires_at,
	r.created_at, r.updated_at, r.trust_issuer, r.trust_conditions, r.system_access, r.repos, r.allow_from, r.token_lifetime FROM `
	robotFrom = ` r LEFT JOIN projects p ON p.id = r.project_id`
	robotRows = robotSelect + `robots` + robotFrom
)

var (
	robots = &table[store.Robot]{what: "robot", scan: scanRobot, del: q(`DELETE FROM robots WHERE name = ?`),
		byKey: q(robotRows + ` WHERE r.name = ?`), byID: q(robotRows + ` WHERE r.id = ?`),
		// all: every robot (""), the system robots ('*') or a project's.
		all: q(robotRows + ` WHERE CASE ? WHEN '' THEN TRUE WHEN '*' THEN r.system ELSE p.name = ? END ORDER BY r.name{collate}`)}
	createRobotQ = q(`INSERT INTO robots (name, project_id, system, description, secret_hash, trust_issuer,
		trust_conditions, disabled, expires_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		RETURNING id, expires_at, created_at, updated_at`)
	lockRobotQ   = q(robotSelect + `(SELECT * FROM robots WHERE name = ?{for_update})` + robotFrom)
	updateRobotQ = q(`UPDATE robots SET description = ?, secret_hash = ?, trust_issuer = ?, trust_conditions = ?,
		disabled = ?, expires_at = ?, updated_at = ? WHERE id = ? RETURNING expires_at, updated_at`)
	// setSystemAccessQ writes a system robot's entries of kind system, run
	// only for a robot that has (or had) some: the other statements stay
	// those of the schema before 0022.
	setSystemAccessQ = q(`UPDATE robots SET system_access = ? WHERE id = ?`)
	// setRobotPolicyQ writes the settings of issue 24 (repository patterns,
	// allowed networks, token lifetime), run only for a robot that has (or
	// had) some, as setSystemAccessQ.
	setRobotPolicyQ   = q(`UPDATE robots SET repos = ?, allow_from = ?, token_lifetime = ? WHERE id = ?`)
	deleteRobotPermsQ = q(`DELETE FROM robot_permissions WHERE robot_id = ?`)
	// insertRobotPermQ inserts the '*' entry (every project) as NULL, and
	// nothing for a missing project (never NULL).
	// insertRobotExtraQ is it with access entries other than pull, push
	// and delete (robot_permissions.extra, which stays '' otherwise).
	insertRobotPermQ = q(`INSERT INTO robot_permissions (robot_id, project_id, actions)
		SELECT ?, p.id, ? FROM (SELECT CAST(? AS TEXT) AS name) x LEFT JOIN projects p ON p.name = x.name AND x.name <> '*'
		WHERE p.id IS NOT NULL OR x.name = '*'`)
	insertRobotExtraQ = q(`INSERT INTO robot_permissions (robot_id, project_id, actions, extra)
		SELECT ?, p.id, ?, ? FROM (SELECT CAST(? AS TEXT) AS name) x LEFT JOIN projects p ON p.name = x.name AND x.name <> '*'
		WHERE p.id IS NOT NULL OR x.name = '*'`)
)

func scanRobot(row scanner) (store.Robot, error) {
	var r store.Robot
	var perms, issuer, conds sql.NullString
	var system string
	var lifetime int64
	err := row.Scan(&r.ID, &r.Name, &r.Project, &perms, &r.Description, &r.SecretHash, &r.Disabled,
		timeCol(&r.ExpiresAt), timeCol(&r.CreatedAt), timeCol(&r.UpdatedAt), &issuer, &conds, &system,
		wordsCol(&r.Repos), wordsCol(&r.AllowFrom), &lifetime)
	r.TokenLifetime = time.Duration(lifetime) * time.Second
	r.SystemAccess = decodeAccess(system)
	r.Permissions = []store.RobotPermission{}
	for _, w := range strings.Fields(perms.String) {
		parts := strings.SplitN(w, ":", 3)
		p := store.RobotPermission{Project: parts[0]}
		if len(parts) > 1 && parts[1] != "" {
			p.Actions = strings.Split(parts[1], ",")
		}
		if len(parts) > 2 {
			p.Other = decodeAccess(parts[2])
		}
		r.Permissions = append(r.Permissions, p)
	}
	slices.SortFunc(r.Permissions, func(a, b store.RobotPermission) int { return strings.Compare(a.Project, b.Project) })
	if err == nil && issuer.Valid {
		r.Trust = &store.TrustPolicy{Issuer: issuer.String}
		if r.Trust.Conditions, err = decodeConds(conds.String); err != nil {
			err = fmt.Errorf("robot %s: trust conditions: %w", quote(r.Name), err)
		}
	}
	return r, err
}

// robotColumns are what robots.secret_hash, trust_issuer and
// trust_conditions hold for r: its secret's hash, or for a federated robot
// a marker no stored secret form equals (hex SHA-256, bcrypt and Harbor's
// hashes never start with "trust:"), and the policy. It also checks r's permissions.
func robotColumns(r *store.Robot) (secret string, issuer, conds any, err error) {
	switch {
	case r.Project != store.SystemRobotProject && (len(r.Permissions) != 1 || r.Permissions[0].Project != r.Project):
		err = errors.New("a project robot holds exactly one permission, for its own project")
	case r.Project != store.SystemRobotProject && len(r.SystemAccess) > 0:
		err = errors.New("a project robot has no access entries of kind system")
	case len(r.Permissions) == 0:
		err = errors.New("a system robot needs at least one permission")
	case r.Trust != nil && r.SecretHash != "":
		err = errors.New("a robot cannot have both a secret and a trust policy")
	case r.Trust != nil && (r.Trust.Issuer == "" || len(r.Trust.Conditions) == 0):
		err = errors.New("a trust policy needs an issuer and at least one condition")
	case r.Trust != nil:
		text, err := json.Marshal(r.Trust.Conditions)
		return "trust:" + r.Name, r.Trust.Issuer, string(text), err
	case r.SecretHash == "":
		err = errors.New("a robot needs a secret hash or a trust policy")
	}
	return r.SecretHash, nil, nil, err
}

// encodeAccess is the stored form of access entries (robot_permissions.
// extra): "resource/action/effect" joined by ';', each part query-escaped,
// so the form holds no space, ':' or separator of its own (it travels in
// robotSelect's space-separated words).
func encodeAccess(as []store.RobotAccess) string {
	words := make([]string, len(as))
	for i, a := range as {
		words[i] = url.QueryEscape(a.Resource) + "/" + url.QueryEscape(a.Action) + "/" + url.QueryEscape(a.Effect)
	}
	return strings.Join(words, ";")
}

// decodeAccess reads encodeAccess's form; nil for "".
func decodeAccess(text string) []store.RobotAccess {
	var out []store.RobotAccess
	for _, w := range strings.Split(text, ";") {
		parts := strings.Split(w, "/")
		if len(parts) != 3 {
			continue
		}
		var a store.RobotAccess
		a.Resource, _ = url.QueryUnescape(parts[0])
		a.Action, _ = url.QueryUnescape(parts[1])
		a.Effect, _ = url.QueryUnescape(parts[2])
		out = append(out, a)
	}
	return out
}

// putRobotPermissions replaces the permissions of robot r.ID with
// r.Permissions; a missing project is ErrNotFound, naming it.
func putRobotPermissions(ctx context.Context, tx *Store, r *store.Robot) error {
	if _, err := tx.exec(ctx, deleteRobotPermsQ, r.ID); err != nil {
		return err
	}
	for _, p := range r.Permissions {
		args := []any{r.ID, strings.Join(p.Actions, ","), p.Project}
		q := insertRobotPermQ
		if len(p.Other) > 0 {
			args, q = []any{r.ID, strings.Join(p.Actions, ","), encodeAccess(p.Other), p.Project}, insertRobotExtraQ
		}
		n, err := affected(tx.exec(ctx, q, args...))
		if err == nil && n == 0 {
			err = fmt.Errorf("project %q: %w", p.Project, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) CreateRobot(ctx context.Context, r *store.Robot) error {
	var pid sql.NullInt64
	secret, issuer, conds, err := robotColumns(r)
	if err == nil && r.Project != store.SystemRobotProject {
		pid.Int64, err = projects.idOf(ctx, s, r.Project)
		pid.Valid = true
	}
	if err == nil {
		err = s.inTx(ctx, func(tx *Store) error {
			t := s.time(now())
			err := tx.queryRow(ctx, createRobotQ, r.Name, pid, r.Project == store.SystemRobotProject, r.Description, secret,
				issuer, conds, r.Disabled, s.optTime(r.ExpiresAt), t, t).Scan(&r.ID, timeCol(&r.ExpiresAt), timeCol(&r.CreatedAt), timeCol(&r.UpdatedAt))
			if err == nil {
				err = putRobotPermissions(ctx, tx, r)
			}
			if err == nil && len(r.SystemAccess) > 0 {
				_, err = tx.exec(ctx, setSystemAccessQ, encodeAccess(r.SystemAccess), r.ID)
			}
			if err == nil && hasRobotPolicy(*r) {
				err = putRobotPolicy(ctx, tx, r)
			}
			return err
		})
	}
	return s.wrap("create robot "+quote(r.Name), err)
}

func (s *Store) GetRobot(ctx context.Context, name string) (store.Robot, error) {
	return robots.get(ctx, s, robots.byKey, name)
}

func (s *Store) GetRobotByID(ctx context.Context, id int64) (store.Robot, error) {
	return robots.get(ctx, s, robots.byID, id)
}

func (s *Store) ListRobots(ctx context.Context, project string) ([]store.Robot, error) {
	return robots.list(ctx, s, project, project)
}

func (s *Store) UpdateRobot(ctx context.Context, r store.Robot) error {
	_, err := s.ModifyRobot(ctx, r.Name, func(store.Robot) (store.Robot, error) { return r, nil })
	return err
}

// ModifyRobot implements store.Robots; the lock is on the robot's row only
// (not on the nullable side of the join).
func (s *Store) ModifyRobot(ctx context.Context, name string, fn func(store.Robot) (store.Robot, error)) (store.Robot, error) {
	return robots.modify(ctx, s, lockRobotQ, name, fn, func(tx *Store, old store.Robot, r *store.Robot) error {
		r.ID, r.Name, r.Project, r.CreatedAt = old.ID, old.Name, old.Project, old.CreatedAt
		secret, issuer, conds, err := robotColumns(r)
		if err == nil {
			err = tx.queryRow(ctx, updateRobotQ, r.Description, secret, issuer, conds, r.Disabled, s.optTime(r.ExpiresAt),
				s.time(now()), r.ID).Scan(timeCol(&r.ExpiresAt), timeCol(&r.UpdatedAt))
		}
		if err == nil {
			err = putRobotPermissions(ctx, tx, r)
		}
		if err == nil && (len(old.SystemAccess) > 0 || len(r.SystemAccess) > 0) {
			_, err = tx.exec(ctx, setSystemAccessQ, encodeAccess(r.SystemAccess), r.ID)
		}
		if err == nil && (hasRobotPolicy(old) || hasRobotPolicy(*r)) {
			err = putRobotPolicy(ctx, tx, r)
		}
		return err
	})
}

// hasRobotPolicy reports whether r uses a setting of issue 24.
func hasRobotPolicy(r store.Robot) bool {
	return len(r.Repos) > 0 || len(r.AllowFrom) > 0 || r.TokenLifetime != 0
}

// putRobotPolicy writes r's repository patterns, networks and lifetime.
func putRobotPolicy(ctx context.Context, tx *Store, r *store.Robot) error {
	if strings.ContainsFunc(strings.Join(append(slices.Clone(r.Repos), r.AllowFrom...), ""), func(c rune) bool { return c <= ' ' }) {
		return errors.New("robot repository patterns and networks hold no spaces")
	}
	r.TokenLifetime = r.TokenLifetime.Truncate(time.Second)
	_, err := tx.exec(ctx, setRobotPolicyQ, strings.Join(r.Repos, " "), strings.Join(r.AllowFrom, " "),
		int64(r.TokenLifetime/time.Second), r.ID)
	return err
}

func (s *Store) DeleteRobot(ctx context.Context, name string) error {
	return robots.delete(ctx, s, name)
}

// trustConds remembers decoded trust-policy conditions by their stored JSON
// text, for every Store, so a federated robot's every login reads its row
// but decodes the conditions once. Keyed by the text itself, an entry can
// never be stale: a changed policy is a different key. A stored value is
// never changed (callers get copies), so reads take no lock. Bounded: when
// full it starts over.
var trustConds struct {
	m sync.Map // string → []store.ClaimCondition
	n atomic.Int64
}

const trustCondsMax = 4096

// decodeConds returns the conditions of text, a copy the caller may keep.
func decodeConds(text string) ([]store.ClaimCondition, error) {
	if v, ok := trustConds.m.Load(text); ok {
		return slices.Clone(v.([]store.ClaimCondition)), nil
	}
	var conds []store.ClaimCondition
	if err := json.Unmarshal([]byte(text), &conds); err != nil {
		return nil, err
	}
	if trustConds.n.Add(1) > trustCondsMax {
		trustConds.m.Clear()
		trustConds.n.Store(1)
	}
	trustConds.m.Store(text, conds)
	return slices.Clone(conds), nil
}
