package admin

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/authn/ldap"
	"github.com/authserver/authserver/internal/authz"
	"github.com/authserver/authserver/internal/store"
)

// Actor is who asks for an operation: the CLI passes a superuser, the
// REST API the authenticated user. Every operation checks it first.
type Actor struct {
	// Name is the user's login name, for messages and own-credential
	// checks; "" is anonymous.
	Name string
	// Admin is Harbor's sysadmin flag: a sysadmin may do everything.
	Admin bool
	// UserID and GroupDNs are the authenticated user's, as authn found
	// them: project roles are looked up with them (0 for the CLI).
	UserID   int64
	GroupDNs []string
	// ClientIP is where the request came from, for the audit trail; the
	// CLI leaves it empty and is recorded as "local".
	ClientIP string
	// Method is how the actor proved who they are, recorded in the admin
	// audit trail: the authn.Method* value of the REST API's login
	// ("password", "ldap", "pat"), MethodCLI for the CLI, MethodServer for
	// the server's own work at start-up. A caller authenticated by a token
	// standing in for the password (authn.MethodPAT, authn.MethodRefresh)
	// may not manage credentials: create or revoke tokens, change a
	// password (see byPassword).
	Method string
	// PasswordVerifiedAt is authn.Identity's: for a caller who proved
	// themselves with a directory password, when the directory last
	// verified it. A personal access token they create for themselves
	// records it, so a password change after it revokes the token.
	PasswordVerifiedAt time.Time
	// SignInID and SignInEnds are, for a person signed in with SSO (the
	// web pages, authn.MethodSSO), their sign-in and when it ends
	// (oidc.max_session): a personal access token they create for
	// themselves hangs on the sign-in and never outlives it.
	SignInID   int64
	SignInEnds time.Time
}

// Actor.Method of the callers that do not log in.
const (
	// MethodCLI is the CLI's: whoever runs it reads the configuration and
	// the database.
	MethodCLI = "cli"
	// MethodServer is the server's own, for the bootstrap admin.
	MethodServer = "server"
)

// Directory is the LDAP directory, used to onboard users and groups named
// before their first login (authn.LDAP implements it).
type Directory interface {
	// Lookup finds a user with the search account; found is false when no
	// single entry matches.
	Lookup(ctx context.Context, name string) (u authn.DirectoryUser, found bool, err error)
	// FindGroup finds a group by DN or name; authn.ErrGroupNotFound when none.
	FindGroup(ctx context.Context, nameOrDN string) (authn.DirectoryGroup, error)
}

var _ Directory = (*ldap.Directory)(nil)

// Options configure a Service.
type Options struct {
	// RobotPrefix is robots.prefix ("robot$"): robot login names start with
	// it, so user names may not.
	RobotPrefix string
	// BcryptCost is passwords.bcrypt_cost.
	BcryptCost int
	// MinPasswordLength is passwords.min_length: the fewest characters a
	// chosen password or robot secret may have (ValidPassword); 0 means
	// DefaultMinPasswordLength.
	MinPasswordLength int
	// Directory, when set, onboards users and groups that member add names
	// before they ever logged in. GroupBaseDN and GroupFilter say where it
	// looks for groups, for the message when it finds none.
	Directory   Directory
	GroupBaseDN string
	GroupFilter string
	// Issuers are the names of federation.issuers: the only issuers a
	// robot's trust policy may name.
	Issuers []string
	// Identity is, per issuer name, the claims a trust policy of that
	// issuer must pin one of (config.FederationIssuer.Identity: sub and the
	// issuer's identity_claims); an issuer without an entry has sub only.
	Identity map[string][]string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// AdminOnlyProjects is api.project_creation: adminonly: only sysadmins
	// create projects. By default (Harbor's "everyone") any authenticated
	// user may, and becomes the project's projectAdmin.
	AdminOnlyProjects bool
	// MaxProjectsPerUser is api.max_projects_per_user: the most projects a
	// user who is no sysadmin owns (creates); 0 is no limit.
	MaxProjectsPerUser int
	// MaxRobotsPerProject is robots.max_per_project: the most robots one
	// project has; 0 is no limit.
	MaxRobotsPerProject int
	// DefaultRobotLifetime is robots.default_duration: the lifetime of a
	// robot created (or renewed) without one; 0 is never.
	DefaultRobotLifetime time.Duration
	// Registry, when set (registry.url), is asked whether a project to
	// delete still holds repositories (412 while it does), lists and
	// deletes them; without it a deleted project's name is reserved: only
	// a sysadmin may create it again.
	Registry Registry
	// Policy are the policy settings the token endpoint's authorizer has
	// (projects.create_on_push, projects.personal_template), for explain
	// (its Creator is never used: explain creates nothing).
	Policy authz.Options
	// MaxTokenLifetime is token.max_expiration (config.Token.
	// MaxTokenLifetime): no robot's own token lifetime may be longer.
	MaxTokenLifetime time.Duration
	// Logger receives audit-trail write failures (which fail the change);
	// nil discards them.
	Logger *slog.Logger
	// CheckPassword, when set, checks the current password a user gives
	// to change their own (ChangePassword's old password): it is the hook
	// through which the server routes that check through its login gate
	// (throttle, audit of a failure). It returns nil when the password is
	// right, an *Error of KindForbidden when it is wrong, and any other
	// error as it is: the caller answers it with the one error mapping
	// (errcode.Of: the gate's throttled check 429, no free slot 503, a
	// backend that could not be asked 503). It must take the
	// password only: a credential the login gate also accepts in its place
	// (a personal access token) is not the old password. It records a
	// wrong password itself: admin then writes no record of the refusal. admin
	// calls it outside any transaction, after reading the user (a local
	// user, old not empty), and refuses the change if the stored hash
	// changes before it is written. When nil, admin compares old with the
	// stored hash itself (authn.VerifyPassword, also outside any
	// transaction) and records a wrong one as an admin audit record with
	// result unauthorized.
	CheckPassword func(ctx context.Context, who Actor, user, password string) error
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
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{st: st, opt: opt}
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

// Bounds of the free text people type, in bytes: Harbor's own columns
// (harbor_user.email and realname varchar(255), robot.description
// varchar(1024)), so an import always fits.
const (
	MaxEmailBytes       = 255
	MaxRealNameBytes    = 255
	MaxCommentBytes     = 255
	MaxDescriptionBytes = 1024
)

// ValidText checks free text against its bound in bytes; field names it in
// the message ("email", "real name", "description"). It is the one home
// of the text bounds: the CLI and the API get them through the operations.
func ValidText(field, text string, max int) error {
	if len(text) > max {
		return invalidf(fmt.Sprintf("%s: at most %d bytes, this one has %d", field, max, len(text)))
	}
	return nil
}

// validProfile checks a user's email, real name and comment (nil:
// unchanged).
func validProfile(email, realName, comment *string) error {
	for _, f := range []struct {
		field string
		text  *string
		max   int
	}{{"email", email, MaxEmailBytes}, {"real name", realName, MaxRealNameBytes}, {"comment", comment, MaxCommentBytes}} {
		if f.text != nil {
			if err := ValidText(f.field, *f.text, f.max); err != nil {
				return err
			}
		}
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

// Never is the lifetime of a credential that never expires.
const Never time.Duration = -1

// expiry is the expiry time of a credential created or renewed now with
// lifetime d: zero (never) for Never, def for 0 (zero: never), else now+d
// to the second.
func (s *Service) expiry(d, def time.Duration) (time.Time, error) {
	switch {
	case d == Never:
		return time.Time{}, nil
	case d < 0:
		return time.Time{}, invalidf("lifetime must be positive (or never)")
	case d == 0 && def == 0:
		return time.Time{}, nil
	case d == 0:
		d = def
	}
	return s.opt.Now().Add(d).UTC().Truncate(time.Second), nil
}
