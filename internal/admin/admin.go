package admin

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/store"
)

// Actor is who asks for an operation: the CLI passes a superuser, the
// REST API the authenticated user. Every operation checks it first.
type Actor struct {
	// Name is the user's login name, for messages and own-credential checks.
	Name string
	// Admin is Harbor's sysadmin flag: a sysadmin may do everything.
	Admin bool
}

// Directory is the LDAP directory, used to onboard users and groups named
// before their first login (authn.LDAP implements it).
type Directory interface {
	// Lookup finds a user with the search account; found is false when no
	// single entry matches.
	Lookup(ctx context.Context, name string) (u authn.DirectoryUser, found bool, err error)
	// FindGroup finds a group by DN or name; authn.ErrGroupNotFound when none.
	FindGroup(ctx context.Context, nameOrDN string) (authn.DirectoryGroup, error)
}

var _ Directory = (*authn.LDAP)(nil)

// Options configure a Service.
type Options struct {
	// RobotPrefix is robots.prefix ("robot$"): robot login names start with
	// it, so user names may not.
	RobotPrefix string
	// BcryptCost is passwords.bcrypt_cost.
	BcryptCost int
	// Directory, when set, onboards users and groups that member add names
	// before they ever logged in. GroupBaseDN and GroupFilter say where it
	// looks for groups, for the message when it finds none.
	Directory   Directory
	GroupBaseDN string
	GroupFilter string
	// Issuers are the names of federation.issuers: the only issuers a
	// robot's trust policy may name.
	Issuers []string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service performs administrative operations on a store.
type Service struct {
	st  store.Store
	opt Options
}

// New returns a Service on st.
func New(st store.Store, opt Options) *Service {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Service{st: st, opt: opt}
}

// right is what an operation needs of its actor.
type right int

const (
	// rightSystem: users, groups, system robots (Harbor: sysadmin only).
	rightSystem right = iota
	// rightCreateProject: create a project (Harbor's default lets every
	// user, who then becomes its projectAdmin).
	rightCreateProject
	// rightManageProject: members, robots, visibility, deletion of one
	// project (Harbor: projectAdmin).
	rightManageProject
	// rightReadProject: see a project and its members (Harbor: members,
	// and everyone for a public project).
	rightReadProject
	// rightOwnCredentials: a user's own personal and refresh tokens.
	rightOwnCredentials
)

// allow checks that who may do what (described for the message) with
// right r on target (a project or user name, "" for none). Only sysadmins
// pass today, and users on their own credentials; project roles come with
// the REST API and need nothing but this function to change.
func (s *Service) allow(_ context.Context, who Actor, r right, target, what string) error {
	if who.Admin {
		return nil
	}
	if r == rightOwnCredentials && who.Name != "" && who.Name == target {
		return nil
	}
	name := who.Name
	if name == "" {
		name = "anonymous"
	}
	return &Error{Kind: KindForbidden, Msg: fmt.Sprintf("%s may not %s: it takes a sysadmin", name, what)}
}

// IsBootstrapAdmin reports whether name is the bootstrap sysadmin's,
// "admin" in any spelling: always a local account, never looked up in the
// directory.
func IsBootstrapAdmin(name string) bool { return strings.EqualFold(name, authn.AdminUser) }

// ValidName checks a user, group or token name: printable, no spaces or
// colons (Basic credentials split at the first colon), at most 255 bytes.
func ValidName(name string) error {
	if name == "" || len(name) > 255 {
		return invalidf(fmt.Sprintf("name %q: want 1 to 255 characters", name))
	}
	if strings.ContainsFunc(name, func(r rune) bool { return r <= ' ' || r == ':' || r == 0x7f }) {
		return invalidf(fmt.Sprintf("name %q: spaces, colons and control characters are not allowed", name))
	}
	return nil
}

// projectName is one path component of a repository name, as the registry
// accepts it (distribution's reference grammar).
var projectName = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$`)

// ValidProjectName checks a project name against the registry's grammar.
func ValidProjectName(name string) error {
	if !projectName.MatchString(name) || len(name) > 255 {
		return invalidf(fmt.Sprintf("project name %q: want lower-case letters and digits, separated by '.', '_', '__' or '-'", name))
	}
	return nil
}

// expiry is the expiry time of a credential created or renewed now with
// lifetime d: zero (never) when d is 0, else now+d to the second.
func (s *Service) expiry(d time.Duration) (time.Time, error) {
	if d < 0 {
		return time.Time{}, invalidf("lifetime must be positive (or never)")
	}
	if d == 0 {
		return time.Time{}, nil
	}
	return s.opt.Now().Add(d).UTC().Truncate(time.Second), nil
}
