package ldap

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/authserver/authserver/internal/authn"
)

// LDAPStep is one timed stage of a diagnostic login.
type Step struct {
	Name   string
	Took   time.Duration
	Detail string // what the stage found; never a password
	Err    error  // set on the stage that failed (the last one)
}

// LDAPDiagnosis is what `authserver ldap test` prints.
type Diagnosis struct {
	Steps []Step
	// Found is true when exactly one entry matched the username; User is
	// then filled (groups too, unless a later stage failed).
	Found bool
	User  authn.DirectoryUser
	// PasswordChecked is false when no password was given (search-only).
	PasswordChecked bool
	PasswordOK      bool
	// Refusal is why the account may not log in although it was found:
	// its account state, or Active Directory's reason for refusing the
	// bind ("account locked out (AD data 775)"); "" when none.
	Refusal string
}

// Diagnose walks through a login step by step on fresh connections
// (bypassing pool and cache, so each stage's time is real) and records
// what each stage found. With an empty password the bind is skipped and
// the groups are read with the search account. It returns an error only
// if a stage failed; the diagnosis up to that stage is returned with it.
func (l *Directory) Diagnose(ctx context.Context, username, password string) (Diagnosis, error) {
	var d Diagnosis
	step := func(name string, fn func() (string, error)) error {
		start := time.Now()
		detail, err := fn()
		d.Steps = append(d.Steps, Step{Name: name, Took: time.Since(start), Detail: detail, Err: err})
		return err
	}
	scheme := "plain"
	switch {
	case l.ldaps:
		scheme = "ldaps"
	case l.startTLS:
		scheme = "starttls"
	}
	var sc *ldap.Conn
	bindAs := "anonymous"
	if l.cfg.BindDN != "" {
		bindAs = l.cfg.BindDN
	}
	err := step("connect and search bind", func() (string, error) {
		var err error
		sc, err = l.dial(ctx, true)
		return fmt.Sprintf("%s (%s), bound as %s", l.addr, scheme, bindAs), err
	})
	if err != nil {
		return d, err
	}
	defer sc.Close()
	var hits int
	err = step("search user", func() (string, error) {
		var err error
		d.User, hits, err = l.findUser(sc, username)
		switch {
		case err != nil:
			return "", err
		case hits == 0:
			return "no entry matches" + l.whyNoEntry(sc, username), nil
		case hits > 1:
			return "several entries match: logins are refused", nil
		}
		return d.User.DN, nil
	})
	d.Found = hits == 1
	if err != nil || !d.Found {
		return d, err
	}
	if d.User.State.Checked {
		_ = step("account state", func() (string, error) {
			d.Refusal = d.User.State.Refusal(time.Now())
			if d.Refusal != "" {
				return "refused: " + d.Refusal, nil
			}
			return "ok (not disabled, expired, locked out, or due a password change)", nil
		})
	}
	if password != "" {
		d.PasswordChecked = true
		var bc *ldap.Conn
		err = step("connect for the user bind", func() (string, error) {
			var err error
			bc, err = l.dial(ctx, false)
			return l.addr, err
		})
		if err != nil {
			return d, err
		}
		defer bc.Close()
		err = step("bind as user", func() (string, error) {
			var err error
			var refusal string
			d.PasswordOK, refusal, err = l.bindUser(bc, d.User.DN, password)
			switch {
			case err != nil:
				return "", err
			case d.PasswordOK:
				return "password accepted", nil
			case refusal != "":
				if !strings.HasPrefix(refusal, "wrong password") {
					d.Refusal = refusal
				}
				return "refused: " + refusal, nil
			}
			return "refused: wrong password (or an account the server will not let log in)", nil
		})
		if err != nil {
			return d, err
		}
	}
	var traced []Step
	start := time.Now()
	d.User.Groups, err = l.searchGroups(sc, d.User, func(name string, took time.Duration, n int) {
		detail := fmt.Sprintf("%d groups", n)
		if len(traced) > 0 {
			detail = fmt.Sprintf("%d more groups", n)
		}
		traced = append(traced, Step{Name: name, Took: took, Detail: detail})
	})
	if err != nil {
		traced = append(traced, Step{Name: "search groups", Took: time.Since(start), Err: err})
	}
	if err == nil && d.User.PrimaryGroupID != "" {
		traced = append(traced, Step{Name: "primary group", Detail: "primaryGroupID " + d.User.PrimaryGroupID +
			" (513 is Domain Users) does not list its members in member: not followed, it grants nothing"})
	}
	d.Steps = append(d.Steps, traced...)
	d.User.Admin = l.isAdmin(d.User.Groups)
	return d, err
}

// whyNoEntry explains a user search that found nothing when an entry with
// the username exists under the base DN but user_search.filter excludes it
// (on Active Directory typically a disabled account): one more search
// without the filter, for diagnostics only.
func (l *Directory) whyNoEntry(c *ldap.Conn, username string) string {
	us := l.cfg.UserSearch
	filter := "(" + us.UsernameAttribute + "=" + ldap.EscapeFilter(username) + ")"
	res, err := c.Search(ldap.NewSearchRequest(us.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 1, 0, false,
		filter, l.userAttributes(), nil))
	if err != nil || len(res.Entries) == 0 {
		return ""
	}
	e := res.Entries[0]
	why := ""
	if f := e.GetEqualFoldAttributeValue(l.cfg.AccountState.ControlAttribute); f != "" {
		if n, err := strconv.ParseInt(f, 10, 64); err == nil && n&ufAccountDisable != 0 {
			why = ": account disabled (userAccountControl ACCOUNTDISABLE)"
		}
	}
	return "; " + e.DN + " has it but user_search.filter excludes it" + why
}
