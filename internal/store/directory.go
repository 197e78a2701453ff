package store

import (
	"context"
	"time"
)

// LDAPUser is what the directory said about a user at their last LDAP login
// that actually asked the directory (cached logins do not write).
type LDAPUser struct {
	// Name is the user's name in the users table: the value of the
	// directory's username attribute, as the directory spells it.
	Name string
	// Email and DisplayName refresh the users row on every recorded login.
	Email       string
	DisplayName string
	// DN is the user's entry.
	DN string
	// GroupDNs are the groups found at that login (nested ones included),
	// as the directory spells them. explain uses them for LDAP users.
	GroupDNs []string
	// Admin is whether the user was in the configured admin group. It is
	// recomputed at every login and never copied into User.Admin, so
	// leaving the group ends sysadmin rights (after the login cache expires).
	Admin bool
	// SyncedAt is when the login was recorded; set by the store.
	SyncedAt time.Time
}

// Directory keeps LDAP users' accounts and last known groups.
type Directory interface {
	// SyncLDAPUser records a successful LDAP login in one transaction: it
	// creates the user with SourceLDAP (no password) when the name is free,
	// refreshes Email and DisplayName of an existing SourceLDAP user (its
	// Admin and Disabled flags are left alone) and replaces the user's
	// directory record (DN, GroupDNs, Admin, SyncedAt). It returns the
	// stored user. When the name belongs to a user with another source it
	// changes nothing and returns an error wrapping ErrAlreadyExists: a
	// local account is never taken over by the directory.
	SyncLDAPUser(ctx context.Context, u LDAPUser) (User, error)
	// GetLDAPUser returns the user's record from their last recorded LDAP
	// login (GroupDNs never nil). ErrNotFound when the user does not exist
	// or never logged in through LDAP.
	GetLDAPUser(ctx context.Context, name string) (LDAPUser, error)
}
