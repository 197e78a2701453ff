package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/authserver/authserver/internal/store"
)

// SyncLDAPUser implements store.Directory.
func (s *Store) SyncLDAPUser(ctx context.Context, lu store.LDAPUser) (store.User, error) {
	groups, err := json.Marshal(dnList(lu.GroupDNs))
	if err != nil {
		return store.User{}, fmt.Errorf("sync ldap user %s: %w", quote(lu.Name), err)
	}
	var u store.User
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		t := now()
		var err error
		u, err = scanUser(tx.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE name = ?`, lu.Name))
		replaced := false
		if err == nil && u.Source == store.SourceLDAP {
			if replaced, err = entryReplaced(ctx, tx, u.ID, lu.EntryID); err != nil {
				return err
			}
		}
		switch {
		case errors.Is(err, sql.ErrNoRows):
			u, err = scanUser(tx.QueryRowContext(ctx, `INSERT INTO users
				(name, email, display_name, source, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?) RETURNING `+userCols,
				lu.Name, lu.Email, lu.DisplayName, store.SourceLDAP, fmtTime(t), fmtTime(t)))
			if err != nil {
				return err
			}
		case err != nil:
			return err
		case u.Source != store.SourceLDAP:
			return fmt.Errorf("%w: user %s has source %s", store.ErrAlreadyExists, quote(u.Name), u.Source)
		case replaced:
			// Another person's entry now has this name: retire the old account.
			if _, err := tx.ExecContext(ctx, `UPDATE users SET name = ?, disabled = 1, updated_at = ? WHERE id = ?`,
				store.RetiredName(u.Name, u.ID), fmtTime(t), u.ID); err != nil {
				return err
			}
			u, err = scanUser(tx.QueryRowContext(ctx, `INSERT INTO users
				(name, email, display_name, source, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?) RETURNING `+userCols,
				lu.Name, lu.Email, lu.DisplayName, store.SourceLDAP, fmtTime(t), fmtTime(t)))
			if err != nil {
				return err
			}
		case u.Email != lu.Email || u.DisplayName != lu.DisplayName:
			if _, err := tx.ExecContext(ctx, `UPDATE users SET email = ?, display_name = ?, updated_at = ? WHERE id = ?`,
				lu.Email, lu.DisplayName, fmtTime(t), u.ID); err != nil {
				return err
			}
			u.Email, u.DisplayName, u.UpdatedAt = lu.Email, lu.DisplayName, t
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO ldap_users (user_id, dn, entry_id, group_dns, admin, synced_at)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (user_id) DO UPDATE SET dn = excluded.dn, entry_id = excluded.entry_id,
				group_dns = excluded.group_dns, admin = excluded.admin, synced_at = excluded.synced_at`,
			u.ID, lu.DN, lu.EntryID, string(groups), lu.Admin, fmtTime(t))
		return err
	})
	if err != nil {
		return store.User{}, wrap("sync ldap user "+quote(lu.Name), err)
	}
	return u, nil
}

// GetLDAPUser implements store.Directory.
func (s *Store) GetLDAPUser(ctx context.Context, name string) (store.LDAPUser, error) {
	var lu store.LDAPUser
	var groups string
	err := s.db.QueryRowContext(ctx, `SELECT u.name, u.email, u.display_name, l.dn, l.entry_id, l.group_dns, l.admin, l.synced_at
		FROM users u JOIN ldap_users l ON l.user_id = u.id WHERE u.name = ?`, name).
		Scan(&lu.Name, &lu.Email, &lu.DisplayName, &lu.DN, &lu.EntryID, &groups, &lu.Admin, timeText{&lu.SyncedAt})
	if err == nil {
		err = json.Unmarshal([]byte(groups), &lu.GroupDNs)
	}
	lu.GroupDNs = dnList(lu.GroupDNs)
	return lu, wrap("get ldap user "+quote(name), err)
}

// entryReplaced reports whether the user's recorded directory entry is
// another than entryID (see store.EntryReplaced).
func entryReplaced(ctx context.Context, tx *sql.Tx, userID int64, entryID string) (bool, error) {
	var was string
	err := tx.QueryRowContext(ctx, `SELECT entry_id FROM ldap_users WHERE user_id = ?`, userID).Scan(&was)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return store.EntryReplaced(was, entryID), err
}

// dnList returns s, or an empty list for nil.
func dnList(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
