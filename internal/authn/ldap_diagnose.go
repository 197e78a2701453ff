package authn

import (
	"context"
	"fmt"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// LDAPStep is one timed stage of a diagnostic login.
type LDAPStep struct {
	Name   string
	Took   time.Duration
	Detail string // what the stage found; never a password
	Err    error  // set on the stage that failed (the last one)
}

// LDAPDiagnosis is what `authserver ldap test` prints.
type LDAPDiagnosis struct {
	Steps []LDAPStep
	// Found is true when exactly one entry matched the username; User is
	// then filled (groups too, unless a later stage failed).
	Found bool
	User  DirectoryUser
	// PasswordChecked is false when no password was given (search-only).
	PasswordChecked bool
	PasswordOK      bool
}

// Diagnose walks through a login step by step on fresh connections
// (bypassing pool and cache, so each stage's time is real) and records
// what each stage found. With an empty password the bind is skipped and
// the groups are read with the search account. It returns an error only
// if a stage failed; the diagnosis up to that stage is returned with it.
func (l *LDAP) Diagnose(ctx context.Context, username, password string) (LDAPDiagnosis, error) {
	var d LDAPDiagnosis
	step := func(name string, fn func() (string, error)) error {
		start := time.Now()
		detail, err := fn()
		d.Steps = append(d.Steps, LDAPStep{Name: name, Took: time.Since(start), Detail: detail, Err: err})
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
			return "no entry matches", nil
		case hits > 1:
			return "several entries match: logins are refused", nil
		}
		return d.User.DN, nil
	})
	d.Found = hits == 1
	if err != nil || !d.Found {
		return d, err
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
			d.PasswordOK, err = l.bindUser(bc, d.User.DN, password)
			if !d.PasswordOK && err == nil {
				return "refused: wrong password (or account locked)", nil
			}
			return "password accepted", err
		})
		if err != nil {
			return d, err
		}
	}
	var traced []LDAPStep
	start := time.Now()
	d.User.Groups, err = l.searchGroups(sc, d.User, func(name string, took time.Duration, n int) {
		detail := fmt.Sprintf("%d groups", n)
		if len(traced) > 0 {
			detail = fmt.Sprintf("%d more groups", n)
		}
		traced = append(traced, LDAPStep{Name: name, Took: took, Detail: detail})
	})
	if err != nil {
		traced = append(traced, LDAPStep{Name: "search groups", Took: time.Since(start), Err: err})
	}
	d.Steps = append(d.Steps, traced...)
	d.User.Admin = l.isAdmin(d.User.Groups)
	return d, err
}
