package authn

import (
	"context"
	"errors"
)

// Authentication methods, as recorded in logs and (later) audit and metrics.
const (
	MethodAnonymous = "anonymous"
	MethodPassword  = "password"
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
