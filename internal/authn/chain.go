package authn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/authserver/authserver/internal/store"
)

// AdminUser is the bootstrap sysadmin's name: always a local account, never
// looked up in the directory.
const AdminUser = "admin"

// ChainStore is what Chain needs from the store.
type ChainStore interface {
	GetUser(ctx context.Context, name string) (store.User, error)
	SyncLDAPUser(ctx context.Context, u store.LDAPUser) (store.User, error)
	GetLDAPUser(ctx context.Context, name string) (store.LDAPUser, error)
}

// Chain decides which backend checks a password:
//   - "admin" (in any spelling), and any user stored with source local, is
//     checked locally only;
//   - any other name goes to the directory (when one is configured). A
//     verified directory user is onboarded into the store (source ldap, no
//     password) on first login, and their email, display name, DN and
//     groups are recorded at every login that asked the directory (not
//     from cache), for explain and for tokens issued later without a
//     password. A stored LDAP user that is disabled gets 401 without asking
//     the directory; a directory user whose name is taken by a local
//     account is refused.
//
// Identity.Admin is the stored admin flag OR membership of admin_group_dn
// at login; the latter is recomputed at every directory login and never
// written into the stored flag. Identity.GroupDNs are the directory
// groups, which store.ProjectAccess matches against groups with a DN.
type Chain struct {
	st    ChainStore
	local PasswordAuthenticator
	dir   DirectoryAuthenticator
	log   *slog.Logger
	dummy *Dummy
}

var (
	_ PasswordAuthenticator = (*Chain)(nil)
	_ UserChecker           = (*Chain)(nil)
)

// NewChain returns a chain over st. dir nil (an untyped nil, not a nil
// *LDAP) means no directory: every login is local.
func NewChain(st ChainStore, local PasswordAuthenticator, dir DirectoryAuthenticator, log *slog.Logger) *Chain {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Chain{st: st, local: local, dir: dir, log: log, dummy: DummyOf(local)}
}

// Dummy is local's dummy comparison (a *Local has one).
func (c *Chain) Dummy() *Dummy { return c.dummy }

// Login implements PasswordAuthenticator. Every refusal of a name that is
// not checked locally also runs the dummy bcrypt: the directory's answer
// (one search and a real or dummy bind) costs far less than a local
// password check, so without it the response time would tell directory
// users and unknown names from local users.
func (c *Chain) Login(ctx context.Context, username, password string) (Identity, bool, error) {
	if c.dir == nil || strings.EqualFold(username, AdminUser) {
		return c.local.Login(ctx, username, password)
	}
	if username == "" || password == "" {
		return Identity{}, false, nil
	}
	id, ok, local, err := c.login(ctx, username, password)
	if err == nil && !ok && !local {
		err = c.dummy.Compare(ctx, password)
	}
	return id, ok, err
}

// login is Login for a name that may be in the directory; local is true
// when the local backend answered (and so ran bcrypt itself).
func (c *Chain) login(ctx context.Context, username, password string) (_ Identity, _, local bool, _ error) {
	u, err := c.st.GetUser(ctx, username)
	found := err == nil
	switch {
	case found && u.Source != store.SourceLDAP:
		id, ok, err := c.local.Login(ctx, username, password)
		return id, ok, true, err
	case found && u.Disabled:
		c.log.Info("ldap login refused", "user", username, "reason", "user is disabled")
		return Identity{}, false, false, nil
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return Identity{}, false, false, fmt.Errorf("login %q: %w: %w", username, ErrUnavailable, err)
	}

	du, ok, err := c.dir.Authenticate(ctx, username, password)
	if err != nil || !ok {
		return Identity{}, false, false, err
	}
	if strings.EqualFold(du.Name, AdminUser) {
		c.log.Warn("ldap login refused", "user", du.Name, "reason", "admin is always a local account")
		return Identity{}, false, false, nil
	}
	known := found && u.Name == du.Name
	if !known && du.Cached {
		// Logged in as "ALICE", stored as "alice": look the stored spelling up.
		u, err = c.st.GetUser(ctx, du.Name)
		switch {
		case err == nil && u.Source != store.SourceLDAP:
			c.log.Warn("ldap login refused", "user", du.Name, "reason", "name belongs to a "+u.Source+" user")
			return Identity{}, false, false, nil
		case err == nil:
			known = true
		case !errors.Is(err, store.ErrNotFound):
			return Identity{}, false, false, fmt.Errorf("login %q: %w: %w", username, ErrUnavailable, err)
		}
	}
	if !known || !du.Cached {
		prev := u.ID
		u, err = c.st.SyncLDAPUser(ctx, ldapRecord(du))
		if err == nil && known && u.ID != prev {
			c.log.Warn("ldap entry replaced: onboarded as a new user", "user", u.Name, "entry_id", du.EntryID,
				"retired_as", store.RetiredName(du.Name, prev))
		}
		if errors.Is(err, store.ErrAlreadyExists) {
			c.log.Warn("ldap login refused", "user", du.Name, "reason", "name belongs to a local user")
			return Identity{}, false, false, nil
		}
		if err != nil {
			return Identity{}, false, false, fmt.Errorf("login %q: record ldap user: %w: %w", username, ErrUnavailable, err)
		}
	}
	if u.Disabled {
		c.log.Info("ldap login refused", "user", u.Name, "reason", "user is disabled")
		return Identity{}, false, false, nil
	}
	return Identity{UserID: u.ID, Name: u.Name, Admin: u.Admin || du.Admin, GroupDNs: du.GroupDNs(), Method: MethodLDAP,
		PasswordVerifiedAt: du.VerifiedAt, Conditions: UserCondition(u)}, true, false, nil
}

// StillValid implements UserChecker for LDAP users: the directory must
// still have exactly one entry for the name that matches user_search.filter,
// with the identifier recorded for the user (not a new entry that took the
// name), whose account state lets it log in (not expired, locked out or due
// a password change: ldap.account_state) and whose password has not changed
// since issued (for a credential minted from a directory password, when
// the directory last verified that password). When the directory
// was asked (not answered from cache) the user's recorded groups are
// refreshed.
func (c *Chain) StillValid(ctx context.Context, user string, issued time.Time) (bool, error) {
	if c.dir == nil || strings.EqualFold(user, AdminUser) {
		return false, nil
	}
	du, found, err := c.dir.Lookup(ctx, user)
	if err != nil {
		return false, err
	}
	refuse := func(reason string) (bool, error) {
		c.log.Info("ldap credential refused", "user", user, "reason", reason)
		return false, nil
	}
	if !found || !strings.EqualFold(du.Name, user) {
		return refuse("no single entry matches user_search (gone, excluded by the filter, or ambiguous)")
	}
	rec, err := c.st.GetLDAPUser(ctx, user)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return false, fmt.Errorf("check ldap user %q: %w: %w", user, ErrUnavailable, err)
	}
	if store.EntryReplaced(rec.EntryID, du.EntryID) {
		return refuse("the name now belongs to another directory entry")
	}
	if reason := du.State.Refusal(time.Now()); reason != "" {
		return refuse(reason)
	}
	if changedSince(du.PasswordChangedAt, issued) {
		return refuse("the password changed after the credential was issued")
	}
	if du.Cached {
		return true, nil
	}
	du.Name = user
	if _, err := c.st.SyncLDAPUser(ctx, ldapRecord(du)); err != nil {
		if errors.Is(err, store.ErrAlreadyExists) {
			return false, nil
		}
		return false, fmt.Errorf("check ldap user %q: %w: %w", user, ErrUnavailable, err)
	}
	return true, nil
}

// changedSince reports whether a password changed at changed (zero:
// unknown) changed after issued. Directory times are often whole seconds:
// a change in the same second as the issue does not count, so a token
// issued just after a change (docker login with the new password) works.
func changedSince(changed, issued time.Time) bool {
	return !changed.IsZero() && changed.After(issued)
}

func ldapRecord(du DirectoryUser) store.LDAPUser {
	return store.LDAPUser{Name: du.Name, Email: du.Email, DisplayName: du.DisplayName,
		DN: du.DN, EntryID: du.EntryID, GroupDNs: du.GroupDNs(), Admin: du.Admin}
}
