package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/authserver/authserver/internal/store"
)

// SyncLDAPUser implements store.Directory.
func (s *Store) SyncLDAPUser(ctx context.Context, lu store.LDAPUser) (store.User, error) {
	groups := dnList(lu.GroupDNs)
	var u store.User
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		t := now()
		var err error
		// FOR UPDATE serialises two first logins of the same user; the
		// INSERT below may still race and then fails as ErrAlreadyExists.
		u, err = scanUser(tx.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE name = $1 FOR UPDATE`, lu.Name))
		replaced := false
		if err == nil && u.Source == store.SourceLDAP {
			if replaced, err = entryReplaced(ctx, tx, u.ID, lu.EntryID); err != nil {
				return err
			}
		}
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			u, err = scanUser(tx.QueryRow(ctx, `INSERT INTO users
				(name, email, display_name, source, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $5) RETURNING `+userCols,
				lu.Name, lu.Email, lu.DisplayName, store.SourceLDAP, t))
			if err != nil {
				return err
			}
		case err != nil:
			return err
		case u.Source != store.SourceLDAP:
			return fmt.Errorf("%w: user %s has source %s", store.ErrAlreadyExists, quote(u.Name), u.Source)
		case replaced:
			// Another person's entry now has this name: retire the old account.
			if _, err := tx.Exec(ctx, `UPDATE users SET name = $1, disabled = TRUE, updated_at = $2 WHERE id = $3`,
				store.RetiredName(u.Name, u.ID), t, u.ID); err != nil {
				return err
			}
			u, err = scanUser(tx.QueryRow(ctx, `INSERT INTO users
				(name, email, display_name, source, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $5) RETURNING `+userCols,
				lu.Name, lu.Email, lu.DisplayName, store.SourceLDAP, t))
			if err != nil {
				return err
			}
		case u.Email != lu.Email || u.DisplayName != lu.DisplayName:
			if _, err := tx.Exec(ctx, `UPDATE users SET email = $1, display_name = $2, updated_at = $3 WHERE id = $4`,
				lu.Email, lu.DisplayName, t, u.ID); err != nil {
				return err
			}
			u.Email, u.DisplayName, u.UpdatedAt = lu.Email, lu.DisplayName, t
		}
		_, err = tx.Exec(ctx, `INSERT INTO ldap_users (user_id, dn, entry_id, group_dns, admin, synced_at)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (user_id) DO UPDATE SET dn = excluded.dn, entry_id = excluded.entry_id,
				group_dns = excluded.group_dns, admin = excluded.admin, synced_at = excluded.synced_at`,
			u.ID, lu.DN, lu.EntryID, groups, lu.Admin, t)
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
	err := s.pool.QueryRow(ctx, `SELECT u.name, u.email, u.display_name, l.dn, l.entry_id, l.group_dns, l.admin, l.synced_at
		FROM users u JOIN ldap_users l ON l.user_id = u.id WHERE u.name = $1`, name).
		Scan(&lu.Name, &lu.Email, &lu.DisplayName, &lu.DN, &lu.EntryID, &lu.GroupDNs, &lu.Admin, &lu.SyncedAt)
	lu.SyncedAt = lu.SyncedAt.UTC()
	lu.GroupDNs = dnList(lu.GroupDNs)
	return lu, wrap("get ldap user "+quote(name), err)
}

// entryReplaced reports whether the user's recorded directory entry is
// another than entryID (see store.EntryReplaced).
func entryReplaced(ctx context.Context, tx pgx.Tx, userID int64, entryID string) (bool, error) {
	var was string
	err := tx.QueryRow(ctx, `SELECT entry_id FROM ldap_users WHERE user_id = $1`, userID).Scan(&was)
	if errors.Is(err, pgx.ErrNoRows) {
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
