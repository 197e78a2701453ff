package store

import (
	"context"
	"strconv"
	"strings"
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
	// EntryID is the entry's stable identifier as "<attribute>:<value>"
	// ("entryUUID:9c1f…", "objectGUID:<hex>", or "dn:<dn>" when the entry
	// has no identifier attribute). Empty for records made before it was
	// kept; see EntryReplaced.
	EntryID string
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
	//
	// When EntryReplaced(recorded EntryID, u.EntryID), the name now belongs
	// to another directory entry, so to another person: in the same
	// transaction the existing user is renamed RetiredName(name, id) and
	// disabled (which revokes its refresh tokens; its personal tokens,
	// memberships and directory record stay with it, for audit) and a new
	// user is created under the name, as on a first login. Otherwise the
	// recorded EntryID is replaced by u.EntryID.
	SyncLDAPUser(ctx context.Context, u LDAPUser) (User, error)
	// GetLDAPUser returns the user's record from their last recorded LDAP
	// login (GroupDNs never nil). ErrNotFound when the user does not exist
	// or never logged in through LDAP.
	GetLDAPUser(ctx context.Context, name string) (LDAPUser, error)
}

// EntryReplaced reports whether a directory entry identified by now is
// another entry than the one recorded as was: both are known, name the same
// attribute (the part before the first ':') and differ. Identifiers of
// different attributes are not compared (the operator changed
// ldap.user_search.id_attribute, or a record from before identifiers were
// kept): the new one is simply recorded.
func EntryReplaced(was, now string) bool {
	wa, _, ok1 := strings.Cut(was, ":")
	na, _, ok2 := strings.Cut(now, ":")
	return ok1 && ok2 && strings.EqualFold(wa, na) && was != now
}

// RetiredName is the name a replaced directory user's account is renamed
// to: "<name>#<id>", as Harbor renames deleted users.
func RetiredName(name string, id int64) string { return name + "#" + strconv.FormatInt(id, 10) }
