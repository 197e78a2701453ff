package authn

import (
	"context"
	"errors"
	"time"

	"github.com/authserver/authserver/internal/authz"
)

// Authentication methods, as recorded in logs and (later) audit and metrics.
const (
	MethodAnonymous = "anonymous"
	MethodPassword  = "password"
	// MethodLDAP: a password checked by the LDAP directory.
	MethodLDAP = "ldap"
	// MethodRobot: a robot account's name and secret.
	MethodRobot = "robot"
	// MethodPAT: a user's personal access token in place of the password.
	MethodPAT = "pat"
	// MethodRefresh: a refresh token (grant_type=refresh_token).
	MethodRefresh = "refresh"
	// MethodSSO: an SSO sign-in (config oidc:), in the browser or approved
	// through the device flow.
	MethodSSO = "sso"
)

// Identity is an authenticated caller.
type Identity struct {
	UserID int64
	Name   string
	// Admin is true for sysadmins.
	Admin bool
	// GroupDNs are directory groups the user is in (LDAP); local groups are
	// resolved by the store.
	GroupDNs []string
	// Method says which credential proved the identity.
	Method string
	// Robot is set for robot accounts (UserID 0, never Admin): the project
	// and actions the robot holds, the only permissions it has.
	Robot *authz.RobotPermissions
	// NotAfter, when set, is when the credential that proved the identity
	// expires (a federated robot's JWT): no token issued for it may
	// outlive it.
	NotAfter time.Time
	// PasswordVerifiedAt, for a directory password (MethodLDAP), is when
	// the directory last accepted that password with a bind, never when a
	// cache answered: a refresh token or personal access token minted
	// from this login records it, and a password change after it revokes
	// the credential (Chain.StillValid).
	PasswordVerifiedAt time.Time
	// SignInID, for an identity proved by an SSO sign-in or by a credential
	// minted from one, is that sign-in (store.SignIn): a credential minted
	// now hangs on it, and NotAfter is its end (oidc.max_session).
	SignInID int64
	// Conditions must all hold for the login to stand: the networks the
	// user, the robot or the personal access token may log in from
	// (RefusedFrom, checked by the login gate with the client address).
	Conditions []Condition
	// TokenLifetime, when set, is a robot's own token lifetime
	// (TokenLifetimes.For).
	TokenLifetime time.Duration
	// Federated is set for a federated robot: who the JWT said it was.
	// Every login with the same JWT shares it: read it, never change it.
	Federated *FederatedIdentity
}

// Subject is who the authorizer judges: the one conversion from an
// authenticated identity to an authz.Subject.
func (id Identity) Subject() authz.Subject {
	return authz.Subject{Name: id.Name, UserID: id.UserID, Admin: id.Admin, GroupDNs: id.GroupDNs, Robot: id.Robot}
}

// PasswordAuthenticator checks a username and password. A wrong username or
// password is (Identity{}, false, nil); an error means the backend could not
// answer (it becomes 503, never 401).
type PasswordAuthenticator interface {
	Login(ctx context.Context, username, password string) (Identity, bool, error)
}

// ErrUnavailable marks backend failures. Authenticators wrap it so callers
// can tell "could not check" from programming errors.
var ErrUnavailable = errors.New("authentication backend unavailable")

// MethodFederated: a federated robot, proved by an OIDC JWT of a trusted
// issuer that meets the robot's trust policy.
const MethodFederated = "federated"

// Results of a federated login, the result label of the metric.
const (
	FederatedOK          = "ok"
	FederatedRefused     = "refused"
	FederatedUnavailable = "unavailable"
)

// FederatedIdentity is the external identity behind a federated robot's
// login, for the audit trail: the JWT's issuer and subject, never the JWT.
type FederatedIdentity struct {
	// Issuer is the configured issuer's name, URL the JWT's iss.
	Issuer  string
	URL     string
	Subject string
}
