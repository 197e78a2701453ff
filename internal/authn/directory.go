package authn

import (
	"context"
	"time"
)

// The contract between the login chain and a directory (internal/authn/ldap):
// what a directory answers about a user, which the chain onboards into the
// store and re-checks credentials against.

// DirectoryAuthenticator is a directory (LDAP) as Chain uses it.
// *ldap.Directory implements it.
type DirectoryAuthenticator interface {
	// Authenticate checks a password; see ldap.Directory.Authenticate.
	Authenticate(ctx context.Context, username, password string) (DirectoryUser, bool, error)
	// Lookup finds a user without their password; see ldap.Directory.Lookup.
	Lookup(ctx context.Context, username string) (DirectoryUser, bool, error)
}

// DirectoryUser is a user as the directory describes them.
type DirectoryUser struct {
	// Name is the value of username_attribute, as the directory spells it
	// (a login as "ALICE" yields "alice" when that is the stored uid).
	Name        string
	DN          string
	Email       string // mail
	DisplayName string // displayName, else cn
	// EntryID is the entry's stable identifier (store.LDAPUser.EntryID):
	// user_search.id_attribute, else the DN.
	EntryID string
	// PasswordChangedAt is when the entry's password last changed
	// (user_search.password_changed_attribute); zero when unknown.
	PasswordChangedAt time.Time
	// Groups are the user's groups, nested ones included when configured.
	Groups []DirectoryGroup
	// Admin is true when admin_group_dn is among Groups.
	Admin bool
	// State is the account's state (ldap.account_state); its Refusal is
	// checked at every password login and every re-check (StillValid).
	State AccountState
	// PrimaryGroupID is Active Directory's primaryGroupID (513, Domain
	// Users): a group that does not list the user in member, so the group
	// search does not find it.
	PrimaryGroupID string
	// VerifiedAt is when the directory last accepted the password with a
	// bind (taken just before the bind was sent), also for an answer from
	// the login cache: a credential minted from this login stands only
	// while the password has not changed since then. Zero from Lookup.
	VerifiedAt time.Time
	// Cached is true when the answer came from the login cache rather than
	// from the directory.
	Cached bool
}

// DirectoryGroup is one group entry.
type DirectoryGroup struct {
	DN   string
	Name string // name_attribute
}

// GroupDNs returns the DNs of u's groups.
func (u DirectoryUser) GroupDNs() []string {
	dns := make([]string, len(u.Groups))
	for i, g := range u.Groups {
		dns[i] = g.DN
	}
	return dns
}

// AccountState is what ldap.account_state's attributes say about a user
// entry (all zero when the checks are off).
type AccountState struct {
	// Checked is true when the checks apply (account_state.check on, or
	// auto and the server is Active Directory).
	Checked bool
	// Disabled: userAccountControl has ACCOUNTDISABLE.
	Disabled bool
	// LockedOut: msDS-User-Account-Control-Computed has LOCKOUT, or (on a
	// server that does not compute it) lockoutTime is set.
	LockedOut bool
	// ExpiresAt is accountExpires; zero means never.
	ExpiresAt time.Time
	// PasswordExpiresAt is msDS-UserPasswordExpiryTimeComputed; zero
	// means never.
	PasswordExpiresAt time.Time
	// PasswordExpired: msDS-User-Account-Control-Computed has
	// PASSWORD_EXPIRED.
	PasswordExpired bool
	// MustChangePassword: pwdLastSet (or the password expiry time) is 0.
	MustChangePassword bool
}

// Refusal is why an account in state s may not log in at now, or "".
func (s AccountState) Refusal(now time.Time) string {
	switch {
	case !s.Checked:
		return ""
	case s.Disabled:
		return "account disabled (userAccountControl ACCOUNTDISABLE)"
	case !s.ExpiresAt.IsZero() && !now.Before(s.ExpiresAt):
		return "account expired at " + s.ExpiresAt.UTC().Format(time.RFC3339) + " (accountExpires)"
	case s.LockedOut:
		return "account locked out (lockoutTime)"
	case s.MustChangePassword:
		return "password must be changed (pwdLastSet 0)"
	case s.PasswordExpired:
		return "password expired"
	case !s.PasswordExpiresAt.IsZero() && !now.Before(s.PasswordExpiresAt):
		return "password expired at " + s.PasswordExpiresAt.UTC().Format(time.RFC3339)
	}
	return ""
}
