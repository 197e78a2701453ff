package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/authserver/authserver/internal/store"
)

var (
	// lockUserQ is the read of ModifyUser. lockLDAPUserQ, which also reads the
	// entry id last recorded ('' if none), serialises two first logins of the
	// same user where the dialect locks rows; the INSERT may still race and
	// then fails as ErrAlreadyExists.
	lockUserQ     = q(`SELECT ` + userCols + ` FROM users WHERE name = ?{for_update}`)
	lockLDAPUserQ = q(`SELECT ` + userCols + `, COALESCE((SELECT entry_id FROM ldap_users WHERE user_id = users.id), '')
		FROM users WHERE name = ?{for_update}`)
	insertLDAPUserQ = q(`INSERT INTO users (name, email, display_name, source, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING ` + userCols)
	updateLDAPUserQ = q(`UPDATE users SET email = ?, display_name = ?, updated_at = ? WHERE id = ?`)
	retireUserQ     = q(`UPDATE users SET name = ?, disabled = TRUE, updated_at = ? WHERE id = ?`)
	upsertLDAPQ     = q(`INSERT INTO ldap_users (user_id, dn, entry_id, group_dns, admin, synced_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET dn = excluded.dn, entry_id = excluded.entry_id,
			group_dns = excluded.group_dns, admin = excluded.admin, synced_at = excluded.synced_at`)
	getLDAPUserQ = q(`SELECT u.name, u.email, u.display_name, l.dn, l.entry_id, {list}(l.group_dns), l.admin, l.synced_at
		FROM users u JOIN ldap_users l ON l.user_id = u.id WHERE u.name = ?`)
)

func (s *Store) SyncLDAPUser(ctx context.Context, lu store.LDAPUser) (store.User, error) {
	groups := s.list(lu.GroupDNs, jsonList)
	var u store.User
	err := s.inTx(ctx, func(tx *Store) error {
		t := now()
		var was string // the entry id recorded for u
		err := tx.queryRow(ctx, lockLDAPUserQ, lu.Name).Scan(append(userDest(&u), &was)...)
		switch {
		case err == nil && u.Source == store.SourceLDAP && store.EntryReplaced(was, lu.EntryID):
			// Another person's entry now has this name: retire the old
			// account (disabled, its refresh tokens revoked), then onboard
			// the newcomer as on a first login.
			if _, err := tx.exec(ctx, retireUserQ, store.RetiredName(u.Name, u.ID), s.time(t), u.ID); err != nil {
				return err
			}
			if _, err := tx.exec(ctx, deleteUserRefreshQ, u.ID); err != nil {
				return err
			}
			fallthrough
		case errors.Is(err, sql.ErrNoRows):
			err = tx.queryRow(ctx, insertLDAPUserQ, lu.Name, lu.Email, lu.DisplayName, store.SourceLDAP,
				s.time(t), s.time(t)).Scan(userDest(&u)...)
			if err != nil {
				return err
			}
		case err != nil:
			return err
		case u.Source != store.SourceLDAP:
			return fmt.Errorf("%w: user %s has source %s", store.ErrAlreadyExists, quote(u.Name), u.Source)
		case u.Email != lu.Email || u.DisplayName != lu.DisplayName:
			if _, err := tx.exec(ctx, updateLDAPUserQ, lu.Email, lu.DisplayName, s.time(t), u.ID); err != nil {
				return err
			}
			u.Email, u.DisplayName, u.UpdatedAt = lu.Email, lu.DisplayName, t
		}
		_, err = tx.exec(ctx, upsertLDAPQ, u.ID, lu.DN, lu.EntryID, groups, lu.Admin, s.time(t))
		return err
	})
	if err != nil {
		return store.User{}, s.wrap("sync ldap user "+quote(lu.Name), err)
	}
	return u, nil
}

func (s *Store) GetLDAPUser(ctx context.Context, name string) (store.LDAPUser, error) {
	var lu store.LDAPUser
	err := s.queryRow(ctx, getLDAPUserQ, name).Scan(&lu.Name, &lu.Email, &lu.DisplayName, &lu.DN, &lu.EntryID,
		s.listCol(&lu.GroupDNs, jsonList), &lu.Admin, timeCol(&lu.SyncedAt))
	lu.GroupDNs = nonNil(lu.GroupDNs)
	return lu, s.wrap("get ldap user "+quote(name), err)
}
