package config

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// LDAP configures logins against an LDAP directory or Active Directory.
// When the ldap: section is absent, only local users exist. Keys left out
// of a present section take the defaults set by UnmarshalYAML (OpenLDAP
// conventions: uid, inetOrgPerson, groupOfNames/member).
type LDAP struct {
	// URL is ldap://host[:port] or ldaps://host[:port]; the port defaults
	// to 389 and 636. The host is also the TLS ServerName.
	URL string `yaml:"url"`
	// StartTLS upgrades an ldap:// connection with the StartTLS operation
	// before anything else is sent. Not allowed with ldaps://.
	StartTLS bool `yaml:"start_tls"`
	// CAFile is a PEM bundle trusted for ldaps and StartTLS; empty means the
	// system roots.
	CAFile string `yaml:"ca_file"`
	// InsecureSkipVerify turns off certificate verification (tests only).
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
	// BindDN and BindPassword are the service account used for searches;
	// both empty means an anonymous search bind. The password is never
	// logged. BindDN is a DN, or one of Active Directory's other names for
	// an account in a simple bind: a user principal name (svc@CORP.EXAMPLE)
	// or a down-level logon name (CORP\svc).
	BindDN       string `yaml:"bind_dn"`
	BindPassword string `yaml:"bind_password"`
	// Timeout bounds dialing (TCP and TLS), every LDAP operation and a whole
	// login. Default 5s.
	Timeout Duration `yaml:"timeout"`
	// CacheTTL is how long a verified login and its groups are reused
	// without asking the directory; 0 disables the cache. Default 1m.
	CacheTTL Duration `yaml:"cache_ttl"`
	// UserSearch finds the entry of the user logging in.
	UserSearch LDAPUserSearch `yaml:"user_search"`
	// GroupSearch finds the groups of that user.
	GroupSearch LDAPGroupSearch `yaml:"group_search"`
	// AdminGroupDN, when set, makes members of that group sysadmins for as
	// long as they are in it.
	AdminGroupDN string `yaml:"admin_group_dn"`
	// AccountState checks Active Directory's account state (expired,
	// locked out, password expired or to be changed) at every password
	// login, refresh grant and personal access token login.
	AccountState LDAPAccountState `yaml:"account_state"`
}

// LDAPAccountState is which attributes of a user entry tell that the
// account may not log in although its entry matches user_search: Active
// Directory's, by default. An entry that lacks an attribute is not checked
// for it. The values are read by the user search (from the directory, or
// from the login cache for up to cache_ttl); the times are compared with
// the clock at every use.
type LDAPAccountState struct {
	// Check is auto (default: on when the server's rootDSE says it is
	// Active Directory, supportedCapabilities 1.2.840.113556.1.4.800, as
	// Samba's AD DC does too), on, or off.
	Check string `yaml:"check"`
	// ControlAttribute is userAccountControl: ACCOUNTDISABLE (0x2) refuses.
	ControlAttribute string `yaml:"control_attribute"`
	// ComputedControlAttribute is msDS-User-Account-Control-Computed, which
	// the domain controller computes from lockoutTime and the lockout
	// duration in force for the user (domain policy or password settings
	// object): LOCKOUT (0x10) and PASSWORD_EXPIRED (0x800000) refuse.
	ComputedControlAttribute string `yaml:"computed_control_attribute"`
	// ExpiresAttribute is accountExpires, a Windows FILETIME: an account
	// expires at that time; 0 and 9223372036854775807 mean never.
	ExpiresAttribute string `yaml:"expires_attribute"`
	// LockoutTimeAttribute is lockoutTime, read only when the entry has no
	// ComputedControlAttribute (a server that does not compute it): any
	// value but 0 counts as locked out, since the lockout window is then
	// unknown.
	LockoutTimeAttribute string `yaml:"lockout_time_attribute"`
	// PasswordExpiresAttribute is msDS-UserPasswordExpiryTimeComputed, a
	// FILETIME the domain controller computes from pwdLastSet and the
	// maximum password age in force (domain policy or password settings
	// object): the password has expired from then on; 0 means it must be
	// changed now, 9223372036854775807 never. A pwdLastSet of 0
	// (user_search.password_changed_attribute; "must change at next
	// logon") refuses too.
	PasswordExpiresAttribute string `yaml:"password_expires_attribute"`
}

// LDAPUserSearch is how a username becomes a directory entry: one search
// (&<Filter>(<UsernameAttribute>=<escaped username>)) under BaseDN.
type LDAPUserSearch struct {
	// BaseDN is where users are searched (required).
	BaseDN string `yaml:"base_dn"`
	// Filter selects user entries. Default (objectClass=inetOrgPerson).
	Filter string `yaml:"filter"`
	// UsernameAttribute holds the login name: uid (default), or
	// sAMAccountName on Active Directory.
	UsernameAttribute string `yaml:"username_attribute"`
	// Scope is sub (the whole subtree, default) or one (direct children).
	Scope string `yaml:"scope"`
	// IDAttribute holds the entry's stable identifier, recorded when a user
	// is onboarded: a later login (or re-check) whose entry has another
	// identifier is another person, who is onboarded as a new user while
	// the old account is renamed name#<id> and disabled (see
	// docs/SECURITY.md, Offboarding). Empty (default) picks by server:
	// entryUUID (OpenLDAP and most servers) or objectGUID (Active
	// Directory), whichever the entry has. An entry without the attribute
	// is identified by its DN.
	IDAttribute string `yaml:"id_attribute"`
	// PasswordChangedAttribute holds when the entry's password last
	// changed: a refresh token or personal access token issued before that
	// stops working. Generalized time (pwdChangedTime, kept by OpenLDAP's
	// ppolicy overlay) or a Windows FILETIME (Active Directory's
	// pwdLastSet; 0, "must change at next logon", counts as changed now).
	// Empty (default) picks by server: pwdChangedTime or pwdLastSet,
	// whichever the entry has; an entry with neither is not checked.
	PasswordChangedAttribute string `yaml:"password_changed_attribute"`
}

// LDAPGroupSearch is how a user's groups are found: ONE search
// (&<Filter>(<MemberAttribute>=<user DN or username>)) under BaseDN.
type LDAPGroupSearch struct {
	// BaseDN is where groups are searched (required).
	BaseDN string `yaml:"base_dn"`
	// Filter selects group entries. Default (objectClass=groupOfNames).
	Filter string `yaml:"filter"`
	// MemberAttribute is the group attribute naming its members. Default member.
	MemberAttribute string `yaml:"member_attribute"`
	// MemberValue says what that attribute holds: dn (member, uniqueMember;
	// default) or username (posixGroup's memberUid).
	MemberValue string `yaml:"member_value"`
	// NameAttribute is the group's name, used as the authserver group name
	// when `member add --group` creates it. Default cn.
	NameAttribute string `yaml:"name_attribute"`
	// Nested follows groups that are members of groups (needs member_value
	// dn). Active Directory answers in one search with
	// LDAP_MATCHING_RULE_IN_CHAIN; other servers take one more search per
	// level of nesting, up to a fixed depth.
	Nested bool `yaml:"nested"`
}

// LDAP defaults, applied to a present ldap: section before it is decoded.
const (
	DefaultLDAPTimeout  = 5 * time.Second
	DefaultLDAPCacheTTL = time.Minute
)

// UnmarshalYAML implements the yaml.v3 obsolete Unmarshaler so that the
// section is decoded by the same strict decoder (unknown keys stay errors)
// on top of the defaults.
func (l *LDAP) UnmarshalYAML(unmarshal func(any) error) error {
	*l = LDAP{
		Timeout:  Duration(DefaultLDAPTimeout),
		CacheTTL: Duration(DefaultLDAPCacheTTL),
		UserSearch: LDAPUserSearch{
			Filter:            "(objectClass=inetOrgPerson)",
			UsernameAttribute: "uid",
			Scope:             "sub",
		},
		GroupSearch: LDAPGroupSearch{
			Filter:          "(objectClass=groupOfNames)",
			MemberAttribute: "member",
			MemberValue:     "dn",
			NameAttribute:   "cn",
		},
		AccountState: LDAPAccountState{
			Check:                    "auto",
			ControlAttribute:         "userAccountControl",
			ComputedControlAttribute: "msDS-User-Account-Control-Computed",
			ExpiresAttribute:         "accountExpires",
			LockoutTimeAttribute:     "lockoutTime",
			PasswordExpiresAttribute: "msDS-UserPasswordExpiryTimeComputed",
		},
	}
	type plain LDAP // no methods: no recursion
	return unmarshal((*plain)(l))
}

// attrName is an LDAP attribute description: a name or a numeric OID.
var attrName = regexp.MustCompile(`^(?:[A-Za-z][A-Za-z0-9-]*|[0-9]+(?:\.[0-9]+)+)$`)

// validate checks the section and returns every problem found.
func (l *LDAP) validate() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("ldap."+format, args...)) }

	u, err := url.Parse(l.URL)
	switch {
	case l.URL == "":
		bad("url: must be set (ldap://host or ldaps://host)")
	case err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") || u.Hostname() == "":
		bad("url %q: want ldap://host[:port] or ldaps://host[:port]", l.URL)
	case (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil:
		bad("url %q: want only scheme, host and port", l.URL)
	default:
		if p := u.Port(); p != "" {
			if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
				bad("url %q: bad port", l.URL)
			}
		}
		if l.StartTLS && u.Scheme == "ldaps" {
			bad("start_tls: only for ldap:// URLs (ldaps:// is TLS already)")
		}
		if l.InsecureSkipVerify && u.Scheme == "ldap" && !l.StartTLS {
			bad("insecure_skip_verify: needs ldaps:// or start_tls")
		}
	}
	if l.CAFile != "" {
		if pem, err := os.ReadFile(l.CAFile); err != nil {
			bad("ca_file: %v", err)
		} else if !x509.NewCertPool().AppendCertsFromPEM(pem) {
			bad("ca_file %s: no PEM certificate in it", l.CAFile)
		}
	}
	switch {
	case l.BindDN == "" && l.BindPassword != "":
		bad("bind_password: set but bind_dn is empty")
	case l.BindDN != "" && l.BindPassword == "":
		bad("bind_password: must be set with bind_dn (empty bind_dn and password = anonymous search)")
	}
	checkBindName(&errs, l.BindDN)
	if l.Timeout.D() <= 0 {
		bad("timeout %s: must be more than 0", l.Timeout)
	}
	if l.CacheTTL.D() < 0 {
		bad("cache_ttl %s: must not be negative", l.CacheTTL)
	}

	us := l.UserSearch
	checkDN(&errs, "user_search.base_dn", us.BaseDN, true)
	checkFilter(&errs, "user_search.filter", us.Filter)
	checkAttr(&errs, "user_search.username_attribute", us.UsernameAttribute)
	if us.IDAttribute != "" {
		checkAttr(&errs, "user_search.id_attribute", us.IDAttribute)
	}
	if us.PasswordChangedAttribute != "" {
		checkAttr(&errs, "user_search.password_changed_attribute", us.PasswordChangedAttribute)
	}
	if us.Scope != "sub" && us.Scope != "one" {
		bad("user_search.scope %q: want sub or one", us.Scope)
	}

	gs := l.GroupSearch
	checkDN(&errs, "group_search.base_dn", gs.BaseDN, true)
	checkFilter(&errs, "group_search.filter", gs.Filter)
	checkAttr(&errs, "group_search.member_attribute", gs.MemberAttribute)
	checkAttr(&errs, "group_search.name_attribute", gs.NameAttribute)
	switch gs.MemberValue {
	case "dn":
	case "username":
		if gs.Nested {
			bad("group_search.nested: needs member_value dn (a username cannot name a group)")
		}
	default:
		bad("group_search.member_value %q: want dn or username", gs.MemberValue)
	}
	checkDN(&errs, "admin_group_dn", l.AdminGroupDN, false)

	as := l.AccountState
	switch as.Check {
	case "auto", "on", "off":
	default:
		bad("account_state.check %q: want auto, on or off", as.Check)
	}
	for key, a := range map[string]string{"control_attribute": as.ControlAttribute,
		"computed_control_attribute": as.ComputedControlAttribute, "expires_attribute": as.ExpiresAttribute,
		"lockout_time_attribute": as.LockoutTimeAttribute, "password_expires_attribute": as.PasswordExpiresAttribute} {
		if a != "" {
			checkAttr(&errs, "account_state."+key, a)
		}
	}
	return errs
}

// upnName is user@realm and downLevelName DOMAIN\user: Active Directory's
// other names for an account in a simple bind.
var (
	upnName       = regexp.MustCompile(`^[^\s@\\,=]+@[A-Za-z0-9][A-Za-z0-9.-]*$`)
	downLevelName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.-]{0,14}\\[^\\"/\[\]:;|=,+*?<>]+$`)
)

// BindNameKind says which form a bind_dn is: "dn", "upn" (user@realm) or
// "down-level" (DOMAIN\user); "" when it is none of them.
func BindNameKind(name string) string {
	switch {
	case upnName.MatchString(name):
		return "upn"
	case downLevelName.MatchString(name):
		return "down-level"
	}
	if _, err := ldap.ParseDN(name); err == nil && strings.Contains(name, "=") {
		return "dn"
	}
	return ""
}

func checkBindName(errs *[]error, name string) {
	if name != "" && BindNameKind(name) == "" {
		*errs = append(*errs, fmt.Errorf("ldap.bind_dn %q: want a DN (cn=search,dc=example,dc=org), "+
			"or on Active Directory user@REALM or DOMAIN\\user", name))
	}
}

func checkDN(errs *[]error, key, dn string, required bool) {
	if dn == "" {
		if required {
			*errs = append(*errs, fmt.Errorf("ldap.%s: must be set", key))
		}
		return
	}
	if _, err := ldap.ParseDN(dn); err != nil {
		*errs = append(*errs, fmt.Errorf("ldap.%s %q: not a DN: %w", key, dn, err))
	}
}

func checkFilter(errs *[]error, key, f string) {
	if f == "" || f[0] != '(' {
		*errs = append(*errs, fmt.Errorf("ldap.%s %q: want a parenthesised filter such as (objectClass=person)", key, f))
		return
	}
	if _, err := ldap.CompileFilter(f); err != nil {
		*errs = append(*errs, fmt.Errorf("ldap.%s %q: %w", key, f, err))
	}
}

func checkAttr(errs *[]error, key, a string) {
	if !attrName.MatchString(a) {
		*errs = append(*errs, fmt.Errorf("ldap.%s %q: want an attribute name such as uid", key, a))
	}
}

// HostPort returns the host and port to dial for the URL, with the
// scheme's default port when none is given.
func (l *LDAP) HostPort() (host, port string, err error) {
	u, err := url.Parse(l.URL)
	if err != nil {
		return "", "", fmt.Errorf("ldap url: %w", err)
	}
	port = u.Port()
	if port == "" {
		port = "389"
		if u.Scheme == "ldaps" {
			port = "636"
		}
	}
	if u.Hostname() == "" {
		return "", "", errors.New("ldap url: no host")
	}
	return u.Hostname(), port, nil
}

// Addr is HostPort joined.
func (l *LDAP) Addr() (string, error) {
	h, p, err := l.HostPort()
	if err != nil {
		return "", err
	}
	return net.JoinHostPort(h, p), nil
}
