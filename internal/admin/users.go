package admin

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/authn/secret"
	"github.com/authserver/authserver/internal/store"
)

// NewUser is a user to create: a local user with a password, or, for an
// import, a local user with a stored hash, or a directory user.
type NewUser struct {
	Name        string
	Email       string
	DisplayName string
	// Comment is free text for operators (Harbor's user comment).
	Comment  string
	Password string
	// PasswordHash, instead of Password, is a stored hash taken as it is:
	// bcrypt, or a Harbor hash (authn.HarborPasswordHash) that the first
	// login replaces with bcrypt.
	PasswordHash string
	Admin        bool
	// Source is store.SourceLocal (empty) or store.SourceLDAP: a directory
	// user recorded before its first login, with no password.
	Source string
}

// CreateUser creates a local user. The name must be valid and must not
// start with the robot prefix (such logins are robots).
func (s *Service) CreateUser(ctx context.Context, who Actor, nu NewUser) (store.User, error) {
	if err := s.allow(ctx, who, rightSystem, "", "create users"); err != nil {
		return store.User{}, err
	}
	if err := ValidName(nu.Name); err != nil {
		return store.User{}, err
	}
	if p := s.opt.RobotPrefix; p != "" && strings.HasPrefix(nu.Name, p) {
		return store.User{}, invalidf(fmt.Sprintf("name %q starts with the robot prefix %q: such logins are robots", nu.Name, p))
	}
	if err := validProfile(&nu.Email, &nu.DisplayName, &nu.Comment); err != nil {
		return store.User{}, err
	}
	hash, err := s.newUserHash(nu)
	if err != nil {
		return store.User{}, err
	}
	u := store.User{Name: nu.Name, Email: nu.Email, DisplayName: nu.DisplayName, Comment: nu.Comment, PasswordHash: hash, Admin: nu.Admin,
		Source: cmp.Or(nu.Source, store.SourceLocal)}
	if err := s.change(ctx, who, "user.create", "user "+u.Name, func(st store.Store) error {
		return fromStore(st.CreateUser(ctx, &u), "user "+nu.Name)
	}); err != nil {
		return store.User{}, err
	}
	return u, nil
}

// newUserHash is the stored hash of a new user: none for a directory
// user, the given hash, or the bcrypt of the password.
func (s *Service) newUserHash(nu NewUser) (string, error) {
	switch {
	case nu.Source == store.SourceLDAP:
		if nu.Password != "" || nu.PasswordHash != "" {
			return "", invalidf(fmt.Sprintf("user %s comes from ldap: it has no password here", nu.Name))
		}
		if IsBootstrapAdmin(nu.Name) {
			return "", invalidf(fmt.Sprintf("%q is always a local account", nu.Name))
		}
		return "", nil
	case nu.Source != "" && nu.Source != store.SourceLocal:
		return "", invalidf(fmt.Sprintf("user source %q: want local or ldap", nu.Source))
	case nu.PasswordHash != "":
		if nu.Password != "" {
			return "", invalidf("give a password or a password hash, not both")
		}
		return nu.PasswordHash, storedHash(nu.PasswordHash)
	}
	return s.hashPassword(nu.Password)
}

// storedHash checks a hash handed over as it is.
func storedHash(h string) error {
	if err := secret.ValidStoredHash(h); err != nil {
		return invalid(err)
	}
	return nil
}

// GetUser returns the user with id (a user may read their own).
func (s *Service) GetUser(ctx context.Context, who Actor, id int64) (store.User, error) {
	u, err := s.st.GetUserByID(ctx, id)
	if err != nil {
		return store.User{}, fromStore(err, fmt.Sprintf("user %d", id))
	}
	if err := s.allow(ctx, who, rightSelf, u.Name, "read users"); err != nil {
		return store.User{}, err
	}
	return u, nil
}

// FindUser returns the user named name (a user may read their own): how a
// transport turns a name it was given (a CLI argument, Harbor's
// member_user.username) into the user, once.
func (s *Service) FindUser(ctx context.Context, who Actor, name string) (store.User, error) {
	if err := s.allow(ctx, who, rightSelf, name, "read users"); err != nil {
		return store.User{}, err
	}
	u, err := s.st.GetUser(ctx, name)
	return u, fromStore(err, "user "+name)
}

// lockUser reads the user with id through st, the change's transaction,
// and locks its row until the transaction ends: the change then acts on
// that row, whatever happens to its name meanwhile (a directory user's
// retirement renames it).
func lockUser(ctx context.Context, st store.Store, id int64) (store.User, error) {
	u, err := st.GetUserByID(ctx, id)
	if err != nil {
		return u, fromStore(err, fmt.Sprintf("user %d", id))
	}
	return modifyUser(ctx, st, u, func(u store.User) (store.User, error) { return u, nil })
}

// modifyUser applies fn to the user u names (by id) through st.
func modifyUser(ctx context.Context, st store.Store, u store.User, fn func(store.User) (store.User, error)) (store.User, error) {
	out, err := st.ModifyUser(ctx, u.Name, func(cur store.User) (store.User, error) {
		if cur.ID != u.ID {
			return cur, &Error{Kind: KindNotFound, Msg: fmt.Sprintf("user %d not found", u.ID), Err: store.ErrNotFound}
		}
		return fn(cur)
	})
	return out, fromStore(err, "user "+u.Name)
}

// ListUsers returns every user, ordered by name.
func (s *Service) ListUsers(ctx context.Context, who Actor) ([]store.User, error) {
	if err := s.allow(ctx, who, rightSystem, "", "list users"); err != nil {
		return nil, err
	}
	return s.st.ListUsers(ctx)
}

// UserChange is a change to a user; nil fields stay as they are.
type UserChange struct {
	Email       *string
	DisplayName *string
	Comment     *string
	// Password is set for local users only: a reset by an administrator,
	// which revokes the user's refresh and personal access tokens (see
	// revocation).
	Password *string
	// PasswordHash, instead of Password, sets a stored hash as it is (see
	// NewUser.PasswordHash); a reset too.
	PasswordHash *string
	Admin        *bool
	// Disabled users cannot log in; disabling revokes their refresh and
	// personal access tokens.
	Disabled *bool
	// Force lets the CLI demote or disable the last sysadmin (see guard).
	Force bool
}

// UpdateUser applies ch to the user with id in one transaction and
// returns the user as written.
func (s *Service) UpdateUser(ctx context.Context, who Actor, id int64, ch UserChange) (store.User, error) {
	cur, err := s.st.GetUserByID(ctx, id)
	if err != nil {
		return store.User{}, fromStore(err, fmt.Sprintf("user %d", id))
	}
	name := cur.Name
	r := rightSelf // a user may change their own email and name
	if ch.Password != nil || ch.Admin != nil || ch.Disabled != nil {
		r = rightSystem
	}
	if ch.Password != nil || ch.PasswordHash != nil {
		if err := s.byPassword(who, "change the password of "+name); err != nil {
			return store.User{}, err
		}
	}
	if err := s.allow(ctx, who, r, name, "change users"); err != nil {
		return store.User{}, err
	}
	if ch == (UserChange{}) || ch == (UserChange{Force: true}) {
		return store.User{}, invalidf("nothing to change")
	}
	if err := validProfile(ch.Email, ch.DisplayName, ch.Comment); err != nil {
		return store.User{}, err
	}
	var hash string
	if ch.Password != nil && ch.PasswordHash != nil {
		return store.User{}, invalidf("give a password or a password hash, not both")
	}
	if ch.PasswordHash != nil {
		if err := storedHash(*ch.PasswordHash); err != nil {
			return store.User{}, err
		}
		hash = *ch.PasswordHash
	}
	if ch.Password != nil {
		// Hashed before the transaction: bcrypt is slow and the row is locked.
		var err error
		if hash, err = s.hashPassword(*ch.Password); err != nil {
			return store.User{}, err
		}
	}
	rev := revokeNone
	if ch.Password != nil || ch.PasswordHash != nil || ch.Disabled != nil && *ch.Disabled {
		rev = revokeAll
	}
	var u store.User
	err = s.change(ctx, who, "user.update", "user "+name, func(st store.Store) (err error) {
		u, err = modifyUser(ctx, st, cur, func(u store.User) (store.User, error) {
			if ch.Password != nil || ch.PasswordHash != nil {
				if u.Source != store.SourceLocal {
					return u, invalidf(fmt.Sprintf("user %s comes from %s: its password is kept there", u.Name, u.Source))
				}
				u.PasswordHash = hash
			}
			var refused error
			switch {
			case ch.Admin != nil && !*ch.Admin && u.Admin:
				refused = s.guard(ctx, st, who, u, "demote", ch.Force)
			case ch.Disabled != nil && *ch.Disabled && !u.Disabled:
				refused = s.guard(ctx, st, who, u, "disable", ch.Force)
			}
			if refused != nil {
				return u, refused
			}
			set(&u.Email, ch.Email)
			set(&u.DisplayName, ch.DisplayName)
			set(&u.Comment, ch.Comment)
			set(&u.Admin, ch.Admin)
			set(&u.Disabled, ch.Disabled)
			return u, nil
		})
		if err != nil {
			return err
		}
		return revoke(ctx, st, name, rev)
	})
	if err != nil {
		return store.User{}, err
	}
	return u, nil
}

// ChangePassword sets a local user's password. A user changing their own
// must give the old one (a sysadmin too), and loses their refresh tokens; a
// sysadmin may reset anyone else's without it, which revokes the user's
// refresh and personal access tokens (see revocation).
//
// Both slow steps, hashing the new password and checking the old one, run
// before the change's transaction: bcrypt inside it held the database's
// write lock for its whole duration (SQLite: every other writer waited).
// The old password is checked against the hash read before; the change
// then refuses (KindExists, 409) if the stored hash changed meanwhile.
func (s *Service) ChangePassword(ctx context.Context, who Actor, id int64, old, password string) error {
	cur, err := s.st.GetUserByID(ctx, id)
	if err != nil {
		return fromStore(err, fmt.Sprintf("user %d", id))
	}
	name := cur.Name
	if err := s.byPassword(who, "change the password of "+name); err != nil {
		return err
	}
	own := who.Name != "" && who.Name == name
	if !own {
		if err := s.allow(ctx, who, rightSystem, name, "change the password of "+name); err != nil {
			return err
		}
	}
	if err := s.validPassword("password", password); err != nil {
		return err
	}
	rev, verified := revokeAll, ""
	if own {
		rev = revokeRefresh
		var err error
		if verified, err = s.checkOldPassword(ctx, who, name, old); err != nil {
			return err
		}
	}
	hash, err := s.hashPassword(password) // after the old one is checked: a wrong one costs one bcrypt, not two
	if err != nil {
		return err
	}
	return s.change(ctx, who, "user.password", "user "+name, func(st store.Store) error {
		_, err := modifyUser(ctx, st, cur, func(u store.User) (store.User, error) {
			if u.Source != store.SourceLocal {
				return u, invalidf(fmt.Sprintf("user %s comes from %s: its password is kept there", u.Name, u.Source))
			}
			if own && u.PasswordHash != verified {
				return u, &Error{Kind: KindExists, Msg: fmt.Sprintf("the password of %s changed meanwhile: give the current one", u.Name)}
			}
			u.PasswordHash = hash
			return u, nil
		})
		if err != nil {
			return err
		}
		return revoke(ctx, st, name, rev)
	})
}

// checkOldPassword checks old, the current password that user name gives
// to change their own, outside any transaction, and returns the stored hash
// it was checked against. With Options.CheckPassword, that hook decides
// (and records a wrong password); otherwise admin compares itself and
// records a wrong one as an admin audit record with result unauthorized.
func (s *Service) checkOldPassword(ctx context.Context, who Actor, name, old string) (string, error) {
	u, err := s.st.GetUser(ctx, name)
	switch {
	case err != nil:
		return "", fromStore(err, "user "+name)
	case u.Source != store.SourceLocal:
		return "", invalidf(fmt.Sprintf("user %s comes from %s: its password is kept there", u.Name, u.Source))
	case old == "":
		return "", invalidf("old_password is required: the current password, to change one's own")
	case s.opt.CheckPassword != nil:
		return u.PasswordHash, s.opt.CheckPassword(ctx, who, name, old)
	case secret.VerifyPassword(u.PasswordHash, old): // slow check: bcrypt, no transaction open
		return u.PasswordHash, nil
	}
	s.refused(ctx, who, "user.password", "user "+name, store.AuditUnauthorized)
	return "", &Error{Kind: KindForbidden, Msg: "the old password is wrong"}
}

// revocation is what a change to a user revokes. This is the one home of
// the rule (the schema revokes nothing by itself, store.RefreshTokens),
// applied in the change's own transaction, whoever makes it (CLI, API,
// importer):
//   - revokeAll: a password someone else set (a sysadmin's reset through
//     the API, `user passwd`, an import's hash) or a disable (`user
//     disable`): every refresh token and personal access token of the
//     user. A reset says the old password, and whatever was made with it,
//     can no longer be trusted.
//   - revokeRefresh: a user changing their own password: their refresh
//     tokens (docker logins made with the old password); their personal
//     access tokens stay, made on purpose (for CI and the like) and
//     revoked one by one.
type revocation int

const (
	revokeNone revocation = iota
	revokeRefresh
	revokeAll
)

// revoke applies r to user's tokens through st, the change's transaction.
func revoke(ctx context.Context, st store.Store, user string, r revocation) error {
	if r >= revokeRefresh {
		if _, err := st.DeleteRefreshTokens(ctx, user); err != nil {
			return fromStore(err, "user "+user)
		}
	}
	if r >= revokeAll {
		if _, err := st.DeletePersonalTokens(ctx, user); err != nil {
			return fromStore(err, "user "+user)
		}
	}
	return nil
}

// set stores *v in dst when v is not nil.
func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// guard refuses, as Harbor does, a change that would leave nobody to
// administer authserver or lock the actor out: what (delete, demote,
// disable) user u, as it is now, when u is the actor (KindForbidden), or
// the last enabled sysadmin (KindExists) unless force, which only the CLI
// may give (whoever runs it can make a sysadmin again). st is the
// change's transaction. The one home of the rule: the CLI and the API
// both come here.
func (s *Service) guard(ctx context.Context, st store.Store, who Actor, u store.User, what string, force bool) error {
	if force && who.Method != MethodCLI {
		return invalidf("--force is the CLI's")
	}
	if who.Method != MethodCLI && (who.UserID != 0 && who.UserID == u.ID || who.UserID == 0 && who.Name == u.Name) {
		return &Error{Kind: KindForbidden, Msg: fmt.Sprintf("%s may not %s themselves: ask another sysadmin", who.Name, what)}
	}
	if !u.Admin || u.Disabled || force {
		return nil
	}
	n, err := st.CountAdmins(ctx)
	if err != nil {
		return err
	}
	if n <= 1 {
		msg := fmt.Sprintf("user %s is the last sysadmin: make another user sysadmin first", u.Name)
		if who.Method == MethodCLI {
			msg += " (or give --force)"
		}
		return &Error{Kind: KindExists, Msg: msg}
	}
	return nil
}

// DeleteUser deletes the user with id, with its memberships and tokens,
// and returns it as it was. Neither the actor nor the last sysadmin may
// be deleted (guard; force is the CLI's).
func (s *Service) DeleteUser(ctx context.Context, who Actor, id int64, force bool) (store.User, error) {
	u, err := s.st.GetUserByID(ctx, id)
	if err != nil {
		return store.User{}, fromStore(err, fmt.Sprintf("user %d", id))
	}
	if err := s.allow(ctx, who, rightSystem, u.Name, "delete users"); err != nil {
		return store.User{}, err
	}
	err = s.change(ctx, who, "user.delete", "user "+u.Name, func(st store.Store) (err error) {
		if u, err = lockUser(ctx, st, id); err != nil {
			return err
		}
		if err := s.guard(ctx, st, who, u, "delete", force); err != nil {
			return err
		}
		return fromStore(st.DeleteUser(ctx, u.Name), "user "+u.Name)
	})
	if err != nil {
		return store.User{}, err
	}
	return u, nil
}

// Bootstrap creates the sysadmin "admin" when the store has no user yet,
// with password, or with a random one (returned as generated) when password
// is empty. A generated password is first handed to save (when not nil),
// before the user is created: when save fails, Bootstrap returns its error
// unchanged and creates no user, so a password that could not be kept never
// becomes the admin's. It is the server's own operation at start-up, so it
// takes no actor. created is false when there were users already, or when
// another process created the admin first.
func (s *Service) Bootstrap(ctx context.Context, password string, save func(generated string) error) (created bool, generated string, err error) {
	n, err := s.st.CountUsers(ctx)
	if err != nil || n > 0 {
		return false, "", err
	}
	if password != "" {
		// Chosen by a person ($AUTHSERVER_ADMIN_PASSWORD): the policy holds.
		if err := s.validPassword("password", password); err != nil {
			return false, "", err
		}
	} else {
		var b [18]byte
		if _, err := rand.Read(b[:]); err != nil {
			return false, "", err
		}
		password = base64.RawURLEncoding.EncodeToString(b[:])
		generated = password
		if save != nil {
			if err := save(generated); err != nil {
				return false, "", err
			}
		}
	}
	hash, err := secret.HashPassword(password, s.opt.BcryptCost)
	if err != nil {
		return false, "", fmt.Errorf("admin password: %w", err)
	}
	u := store.User{Name: authn.AdminUser, PasswordHash: hash, Admin: true, Source: store.SourceLocal}
	err = s.change(ctx, Actor{Name: "authserver", Method: MethodServer}, "user.create", "user "+u.Name+" (bootstrap)", func(st store.Store) error {
		return st.CreateUser(ctx, &u)
	})
	if errors.Is(err, store.ErrAlreadyExists) {
		return false, "", nil // another process bootstrapped it first
	}
	if err != nil {
		return false, "", fmt.Errorf("create admin: %w", err)
	}
	return true, generated, nil
}
