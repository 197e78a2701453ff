package admin

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/authserver/authserver/internal/authn/secret"
)

// The password policy, Harbor's: at least DefaultMinPasswordLength
// characters (passwords.min_length raises it) with an upper-case letter, a
// lower-case letter and a digit. Harbor allows up to 128 characters, but
// bcrypt reads only the first 72 bytes: a longer password would be cut
// silently, so it is refused instead.
const (
	// DefaultMinPasswordLength is passwords.min_length's default.
	DefaultMinPasswordLength = 8
	// MaxPasswordBytes is all bcrypt reads (golang.org/x/crypto/bcrypt).
	MaxPasswordBytes = 72
)

// ValidPassword checks a secret a person chose against the policy: a local
// user's password (user add, user passwd, the API's user creation and
// password change, the bootstrap admin's $AUTHSERVER_ADMIN_PASSWORD) and a
// robot secret given instead of a generated one. It is the one home of the
// rule. what names the secret in the message ("password", "robot
// secret"); minLength is passwords.min_length (0: the default). Stored
// hashes handed over as they are (an import) are not checked: nobody
// knows their passwords.
func ValidPassword(what, sec string, minLength int) error {
	if minLength <= 0 {
		minLength = DefaultMinPasswordLength
	}
	n := utf8.RuneCountInString(sec)
	var why string
	switch {
	case len(sec) > MaxPasswordBytes:
		why = fmt.Sprintf("it has %d bytes: bcrypt reads only the first %d, so the rest would be ignored", len(sec), MaxPasswordBytes)
	case n < minLength:
		why = fmt.Sprintf("it has %d characters", n)
	case !strings.ContainsFunc(sec, unicode.IsUpper):
		why = "it has no upper-case letter"
	case !strings.ContainsFunc(sec, unicode.IsLower):
		why = "it has no lower-case letter"
	case !strings.ContainsFunc(sec, unicode.IsDigit):
		why = "it has no digit"
	default:
		return nil
	}
	return invalidf(fmt.Sprintf("%s: want at least %d characters (at most %d bytes) with an upper-case letter, a lower-case letter and a digit; %s",
		what, minLength, MaxPasswordBytes, why))
}

// validPassword is ValidPassword with the configured minimum.
func (s *Service) validPassword(what, sec string) error {
	return ValidPassword(what, sec, s.opt.MinPasswordLength)
}

// hashPassword checks a new password against the policy and returns its
// bcrypt hash. bcrypt is slow: call it before any transaction.
func (s *Service) hashPassword(pw string) (string, error) {
	if err := s.validPassword("password", pw); err != nil {
		return "", err
	}
	return secret.HashPassword(pw, s.opt.BcryptCost)
}
