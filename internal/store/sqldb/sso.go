package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/authserver/authserver/internal/store"
)

var (
	// lockOIDCBindingQ finds the user bound to (issuer, subject).
	lockOIDCBindingQ = q(`SELECT ` + userCols + ` FROM users
		WHERE id = (SELECT user_id FROM oidc_users WHERE issuer = ? AND subject = ?){for_update}`)
	upsertOIDCQ = q(`INSERT INTO oidc_users (user_id, issuer, subject, groups, admin, synced_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET issuer = excluded.issuer,
			subject = excluded.subject, groups = excluded.groups, admin = excluded.admin, synced_at = excluded.synced_at`)
	getOIDCUserQ = q(`SELECT u.name, u.email, u.display_name, o.issuer, o.subject, {list}(o.groups), o.admin, o.synced_at
		FROM users u JOIN oidc_users o ON o.user_id = u.id WHERE u.name = ?`)
	dropOIDCGroupsQ = q(`DELETE FROM user_groups WHERE user_id = ? AND group_id IN (SELECT id FROM groups WHERE oidc)`)
	findGroupQ      = q(`SELECT id, oidc FROM groups WHERE name = ?`)
	createOIDCGroup = q(`INSERT INTO groups (name, oidc, created_at) VALUES (?, TRUE, ?) RETURNING id`)
	joinGroupQ      = q(`INSERT INTO user_groups (group_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING`)

	dropLoginsQ   = q(`DELETE FROM oidc_logins WHERE expires_at < ?`)
	createLoginQ  = q(`INSERT INTO oidc_logins (state_hash, nonce_hash, next, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`)
	takeLoginQ    = q(`DELETE FROM oidc_logins WHERE state_hash = ? RETURNING nonce_hash, next, created_at, expires_at`)
	createSignInQ = q(`INSERT INTO oidc_signins (user_id, signed_in_at, expires_at, provider_refresh, rechecked_at)
		VALUES (?, ?, ?, ?, ?) RETURNING id, (SELECT name FROM users WHERE id = user_id)`)
	getSignInQ = q(`SELECT s.id, s.user_id, u.name, s.signed_in_at, s.expires_at, s.provider_refresh, s.rechecked_at
		FROM oidc_signins s JOIN users u ON u.id = s.user_id WHERE s.id = ?`)
	recheckedQ    = q(`UPDATE oidc_signins SET provider_refresh = COALESCE(?, provider_refresh), rechecked_at = ? WHERE id = ?`)
	deleteSignInQ = q(`DELETE FROM oidc_signins WHERE id = ?`)
	// dropSignInsQ and dropWebQ prune what ended: an ended sign-in's
	// credentials ended with it (they live at most until its end).
	dropSignInsQ  = q(`DELETE FROM oidc_signins WHERE expires_at < ?`)
	dropWebQ      = q(`DELETE FROM web_sessions WHERE expires_at < ?`)
	createWebQ    = q(`INSERT INTO web_sessions (session_hash, signin_id, user_id, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`)
	getWebQ       = q(`SELECT w.id, w.session_hash, w.signin_id, w.user_id, u.name, w.csrf, w.created_at, w.expires_at FROM web_sessions w JOIN users u ON u.id = w.user_id WHERE w.session_hash = ?`)
	deleteWebQ    = q(`DELETE FROM web_sessions WHERE session_hash = ?`)
	deviceSelect  = `SELECT d.id, d.code_hash, d.user_code, d.client_id, d.scope, d.service, d.status, COALESCE(d.user_id, 0), COALESCE(u.name, ''), COALESCE(d.signin_id, 0), d.created_at, d.expires_at, d.interval_s, d.last_poll FROM device_codes d LEFT JOIN users u ON u.id = d.user_id `
	dropDevicesQ  = q(`DELETE FROM device_codes WHERE expires_at < ?`)
	createDeviceQ = q(`INSERT INTO device_codes (code_hash, user_code, client_id, scope, service, status, created_at, expires_at, interval_s) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?) RETURNING id`)
	deviceByUserQ = q(deviceSelect + `WHERE d.user_code = ?`)
	lockDeviceQ   = q(`SELECT id FROM device_codes WHERE code_hash = ?{for_update}`)
	deviceByHashQ = q(deviceSelect + `WHERE d.code_hash = ?`)
	decideDeviceQ = q(`UPDATE device_codes SET status = ?, user_id = ?, signin_id = ? WHERE user_code = ? AND status = 'pending' AND expires_at > ?`)
	pollDeviceQ   = q(`UPDATE device_codes SET last_poll = ?, status = CASE WHEN status = 'approved' THEN 'used' ELSE status END WHERE id = ?`)
)

func (s *Store) SyncOIDCUser(ctx context.Context, ou store.OIDCUser) (store.User, store.OIDCSync, error) {
	var u store.User
	var sync store.OIDCSync
	err := s.inTx(ctx, func(tx *Store) error {
		sync = store.OIDCSync{}
		t := now()
		err := tx.queryRow(ctx, lockOIDCBindingQ, ou.Issuer, ou.Subject).Scan(userDest(&u)...)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			err = tx.queryRow(ctx, lockUserQ, ou.Name).Scan(userDest(&u)...)
			switch {
			case err == nil:
				return fmt.Errorf("%w: user %s exists (source %s)", store.ErrAlreadyExists, quote(u.Name), u.Source)
			case !errors.Is(err, sql.ErrNoRows):
				return err
			}
			if err := tx.queryRow(ctx, insertLDAPUserQ, ou.Name, ou.Email, ou.DisplayName, store.SourceOIDC,
				s.time(t), s.time(t)).Scan(userDest(&u)...); err != nil {
				return err
			}
			sync.Onboarded = true
		case err != nil:
			return err
		case u.Email != ou.Email || u.DisplayName != ou.DisplayName:
			if _, err := tx.exec(ctx, updateLDAPUserQ, ou.Email, ou.DisplayName, s.time(t), u.ID); err != nil {
				return err
			}
			u.Email, u.DisplayName, u.UpdatedAt = ou.Email, ou.DisplayName, t
		}
		if _, err := tx.exec(ctx, upsertOIDCQ, u.ID, ou.Issuer, ou.Subject, s.list(ou.Groups, jsonList), ou.Admin, s.time(t)); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, dropOIDCGroupsQ, u.ID); err != nil {
			return err
		}
		names := slices.Clone(ou.Groups)
		slices.Sort(names)
		for _, name := range slices.Compact(names) {
			var gid int64
			var oidc bool
			err := tx.queryRow(ctx, findGroupQ, name).Scan(&gid, &oidc)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				err = tx.queryRow(ctx, createOIDCGroup, name, s.time(t)).Scan(&gid)
			case err == nil && !oidc:
				sync.Skipped = append(sync.Skipped, name)
				continue
			}
			if err != nil {
				return err
			}
			if _, err := tx.exec(ctx, joinGroupQ, gid, u.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return store.User{}, store.OIDCSync{}, s.wrap("sync oidc user "+quote(ou.Name), err)
	}
	return u, sync, nil
}

func (s *Store) GetOIDCUser(ctx context.Context, name string) (store.OIDCUser, error) {
	var ou store.OIDCUser
	err := s.queryRow(ctx, getOIDCUserQ, name).Scan(&ou.Name, &ou.Email, &ou.DisplayName, &ou.Issuer, &ou.Subject,
		s.listCol(&ou.Groups, jsonList), &ou.Admin, timeCol(&ou.SyncedAt))
	ou.Groups = nonNil(ou.Groups)
	return ou, s.wrap("get oidc user "+quote(name), err)
}

func (s *Store) CreatePendingLogin(ctx context.Context, l store.PendingLogin) error {
	l.CreatedAt = at(l.CreatedAt)
	err := s.inTx(ctx, func(tx *Store) error {
		if _, err := tx.exec(ctx, dropLoginsQ, s.time(l.CreatedAt)); err != nil {
			return err
		}
		_, err := tx.exec(ctx, createLoginQ, l.StateHash, l.NonceHash, l.Next, s.time(l.CreatedAt), s.time(at(l.ExpiresAt)))
		return err
	})
	return s.wrap("create pending login", err)
}

func (s *Store) TakePendingLogin(ctx context.Context, stateHash string, when time.Time) (store.PendingLogin, error) {
	l := store.PendingLogin{StateHash: stateHash}
	err := s.queryRow(ctx, takeLoginQ, stateHash).Scan(&l.NonceHash, &l.Next, timeCol(&l.CreatedAt), timeCol(&l.ExpiresAt))
	if err == nil && !when.Before(l.ExpiresAt) {
		err = fmt.Errorf("expired at %s: %w", l.ExpiresAt.Format(time.RFC3339), store.ErrNotFound)
	}
	return l, s.wrap("take pending login", err)
}

func (s *Store) CreateSignIn(ctx context.Context, si *store.SignIn) error {
	si.SignedInAt = at(si.SignedInAt)
	if si.RecheckedAt.IsZero() {
		si.RecheckedAt = si.SignedInAt
	}
	var refresh any
	if si.ProviderRefresh != nil {
		refresh = si.ProviderRefresh
	}
	err := s.inTx(ctx, func(tx *Store) error {
		if _, err := tx.exec(ctx, dropSignInsQ, s.time(si.SignedInAt)); err != nil {
			return err
		}
		return tx.queryRow(ctx, createSignInQ, si.UserID, s.time(si.SignedInAt), s.time(at(si.ExpiresAt)), refresh,
			s.time(at(si.RecheckedAt))).Scan(&si.ID, &si.User)
	})
	return s.wrap(fmt.Sprintf("create sign-in of user %d", si.UserID), err)
}

func (s *Store) GetSignIn(ctx context.Context, id int64) (store.SignIn, error) {
	var si store.SignIn
	err := s.queryRow(ctx, getSignInQ, id).Scan(&si.ID, &si.UserID, &si.User, timeCol(&si.SignedInAt), timeCol(&si.ExpiresAt),
		&si.ProviderRefresh, timeCol(&si.RecheckedAt))
	return si, s.wrap(fmt.Sprintf("get sign-in %d", id), err)
}

func (s *Store) RecheckedSignIn(ctx context.Context, id int64, providerRefresh []byte, when time.Time) error {
	var refresh any
	if providerRefresh != nil {
		refresh = providerRefresh
	}
	return s.change(ctx, fmt.Sprintf("recheck sign-in %d", id), recheckedQ, refresh, s.time(at(when)), id)
}

func (s *Store) DeleteSignIn(ctx context.Context, id int64) error {
	return s.change(ctx, fmt.Sprintf("delete sign-in %d", id), deleteSignInQ, id)
}

func (s *Store) CreateWebSession(ctx context.Context, w *store.WebSession) error {
	w.CreatedAt = at(w.CreatedAt)
	err := s.inTx(ctx, func(tx *Store) error {
		if _, err := tx.exec(ctx, dropWebQ, s.time(w.CreatedAt)); err != nil {
			return err
		}
		return tx.queryRow(ctx, createWebQ, w.Hash, w.SignInID, w.UserID, w.CSRF, s.time(w.CreatedAt), s.time(at(w.ExpiresAt))).Scan(&w.ID)
	})
	return s.wrap("create web session", err)
}

func (s *Store) GetWebSession(ctx context.Context, hash string) (store.WebSession, error) {
	var w store.WebSession
	err := s.queryRow(ctx, getWebQ, hash).Scan(&w.ID, &w.Hash, &w.SignInID, &w.UserID, &w.User, &w.CSRF,
		timeCol(&w.CreatedAt), timeCol(&w.ExpiresAt))
	return w, s.wrap("get web session", err)
}

func (s *Store) DeleteWebSession(ctx context.Context, hash string) error {
	return s.change(ctx, "delete web session", deleteWebQ, hash)
}

func deviceDest(d *store.DeviceCode, interval *int64) []any {
	return []any{&d.ID, &d.Hash, &d.UserCode, &d.ClientID, &d.Scope, &d.Service, &d.Status, &d.UserID, &d.User, &d.SignInID,
		timeCol(&d.CreatedAt), timeCol(&d.ExpiresAt), interval, timeCol(&d.LastPoll)}
}

func (s *Store) getDevice(ctx context.Context, q query, key string) (store.DeviceCode, error) {
	var d store.DeviceCode
	var interval int64
	err := s.queryRow(ctx, q, key).Scan(deviceDest(&d, &interval)...)
	d.Interval = time.Duration(interval) * time.Second
	return d, err
}

func (s *Store) CreateDeviceCode(ctx context.Context, d *store.DeviceCode) error {
	d.CreatedAt, d.Status = at(d.CreatedAt), store.DevicePending
	err := s.inTx(ctx, func(tx *Store) error {
		if _, err := tx.exec(ctx, dropDevicesQ, s.time(d.CreatedAt)); err != nil {
			return err
		}
		return tx.queryRow(ctx, createDeviceQ, d.Hash, d.UserCode, d.ClientID, d.Scope, d.Service, s.time(d.CreatedAt),
			s.time(at(d.ExpiresAt)), int64(d.Interval/time.Second)).Scan(&d.ID)
	})
	return s.wrap("create device code", err)
}

func (s *Store) GetDeviceCode(ctx context.Context, userCode string) (store.DeviceCode, error) {
	d, err := s.getDevice(ctx, deviceByUserQ, userCode)
	return d, s.wrap("get device code "+quote(userCode), err)
}

func (s *Store) DecideDeviceCode(ctx context.Context, userCode string, approve bool, userID, signInID int64, when time.Time) (store.DeviceCode, error) {
	op := "decide device code " + quote(userCode)
	status := store.DeviceDenied
	if approve {
		status = store.DeviceApproved
	}
	if err := s.change(ctx, op, decideDeviceQ, status, userID, signInID, userCode, s.time(at(when))); err != nil {
		return store.DeviceCode{}, err
	}
	d, err := s.getDevice(ctx, deviceByUserQ, userCode)
	return d, s.wrap(op, err)
}

func (s *Store) PollDeviceCode(ctx context.Context, hash string, when time.Time) (store.DeviceCode, error) {
	var d store.DeviceCode
	err := s.inTx(ctx, func(tx *Store) error {
		var id int64
		if err := tx.queryRow(ctx, lockDeviceQ, hash).Scan(&id); err != nil {
			return err
		}
		var err error
		if d, err = tx.getDevice(ctx, deviceByHashQ, hash); err != nil {
			return err
		}
		_, err = tx.exec(ctx, pollDeviceQ, s.time(at(when)), d.ID)
		return err
	})
	return d, s.wrap("poll device code", err)
}
