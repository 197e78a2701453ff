package ldap

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/authserver/authserver/internal/authn"
)

// ErrTLSRequired is a bind the server refused because the connection is
// not encrypted (strongAuthRequired or confidentialityRequired): Active
// Directory, and Samba's AD DC, refuse simple binds over plain ldap://.
var ErrTLSRequired = errors.New("the server requires TLS: use ldaps:// or start_tls")

// tlsRequired wraps ErrTLSRequired around a bind error that means it.
func tlsRequired(err error) error {
	if ldap.IsErrorWithCode(err, ldap.LDAPResultStrongAuthRequired) || ldap.IsErrorWithCode(err, ldap.LDAPResultConfidentialityRequired) {
		return fmt.Errorf("%w: %w", ErrTLSRequired, err)
	}
	return err
}

// userAccountControl bits.
const (
	ufAccountDisable  = 0x2
	ufLockout         = 0x10
	ufPasswordExpired = 0x800000
)

// accountAttributes are the attributes the user search reads for the
// account state (none when the checks are off).
func (l *Directory) accountAttributes() []string {
	as := l.cfg.AccountState
	if as.Check == "off" {
		return nil
	}
	var out []string
	for _, a := range []string{as.ControlAttribute, as.ComputedControlAttribute, as.ExpiresAttribute,
		as.LockoutTimeAttribute, as.PasswordExpiresAttribute, "primaryGroupID"} {
		if a != "" {
			out = append(out, a)
		}
	}
	return out
}

// checksAccounts reports whether account_state applies on the server c is
// connected to (auto: when it is Active Directory).
func (l *Directory) checksAccounts(c *ldap.Conn) (bool, error) {
	switch l.cfg.AccountState.Check {
	case "on":
		return true, nil
	case "off":
		return false, nil
	}
	return l.isActiveDirectory(c)
}

// neverFileTime is the FILETIME that means "never" (accountExpires,
// msDS-UserPasswordExpiryTimeComputed).
const neverFileTime = math.MaxInt64

// accountState reads e's account state. An attribute whose value cannot be
// read counts against the account (fail closed), with a log line.
func (l *Directory) accountState(e *ldap.Entry) authn.AccountState {
	as := l.cfg.AccountState
	s := authn.AccountState{Checked: true}
	bad := func(a, v string, err error) {
		l.log.Warn("ldap account state unreadable: refused", "dn", e.DN, "attribute", a, "value", v, "err", err)
	}
	flags := func(a string) (uint64, bool) {
		v := e.GetEqualFoldAttributeValue(a)
		if a == "" || v == "" {
			return 0, false
		}
		n, err := strconv.ParseInt(v, 10, 64) // AD writes them as signed 32-bit integers
		if err != nil {
			bad(a, v, err)
			return math.MaxUint32, true
		}
		return uint64(uint32(n)), true
	}
	fileTime := func(a string) (t time.Time, zero, ok bool) {
		v := e.GetEqualFoldAttributeValue(a)
		if a == "" || v == "" {
			return time.Time{}, false, false
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			bad(a, v, err)
			return time.Unix(0, 0), false, true
		}
		switch n {
		case 0:
			return time.Time{}, true, true
		case neverFileTime:
			return time.Time{}, false, true
		}
		return fileTimeToTime(n), false, true
	}
	if f, ok := flags(as.ControlAttribute); ok {
		s.Disabled = f&ufAccountDisable != 0
	}
	if f, ok := flags(as.ComputedControlAttribute); ok {
		s.LockedOut = f&ufLockout != 0
		s.PasswordExpired = f&ufPasswordExpired != 0
	} else if _, zero, ok := fileTime(as.LockoutTimeAttribute); ok && !zero {
		s.LockedOut = true
	}
	if t, _, ok := fileTime(as.ExpiresAttribute); ok {
		s.ExpiresAt = t
	}
	if t, zero, ok := fileTime(as.PasswordExpiresAttribute); ok {
		s.PasswordExpiresAt = t
		s.MustChangePassword = zero
	}
	for _, a := range l.pwdChangedAttributes() {
		if v := e.GetEqualFoldAttributeValue(a); v == "0" {
			s.MustChangePassword = true
		}
	}
	return s
}

// fileTimeToTime converts a Windows FILETIME (100 ns since 1601).
func fileTimeToTime(n int64) time.Time {
	const perSecond = 10_000_000
	return time.Unix(n/perSecond-fileTimeToUnix, n%perSecond*100).UTC()
}

// adBindData finds Active Directory's sub-code in a refused bind's
// diagnostic message ("…AcceptSecurityContext error, data 775, v…").
var adBindData = regexp.MustCompile(`\bdata ([0-9a-fA-F]{3,8})\b`)

// adBindReasons are the sub-codes Active Directory (and Samba) give with
// invalidCredentials (49).
var adBindReasons = map[string]string{
	"525": "no such user",
	"52e": "wrong password",
	"530": "not permitted to log on at this time",
	"531": "not permitted to log on at this workstation",
	"532": "password expired",
	"533": "account disabled",
	"568": "too many security identifiers",
	"701": "account expired",
	"773": "password must be changed",
	"775": "account locked out",
}

// bindRefusal says why a bind was refused, from AD's sub-code when there is
// one ("account locked out (AD data 775)"), else "".
func bindRefusal(err error) string {
	var le *ldap.Error
	if !errors.As(err, &le) || le.Err == nil {
		return ""
	}
	m := adBindData.FindStringSubmatch(le.Err.Error())
	if m == nil {
		return ""
	}
	code := strings.ToLower(m[1])
	if r, ok := adBindReasons[code]; ok {
		return r + " (AD data " + code + ")"
	}
	return "AD data " + code
}
