package ldap

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/authserver/authserver/internal/authn"
)

const (
	// maxNestingDepth is how many levels of groups-in-groups are followed
	// above the user's direct groups when group_search.nested is on and
	// the server is not Active Directory.
	maxNestingDepth = 10
	// maxOrTerms bounds the (|(member=…)…) filter of one nesting search;
	// a larger level is split into several searches.
	maxOrTerms = 500
	// groupPageSize is the paged-results size of group searches (Active
	// Directory returns at most 1000 entries per page).
	groupPageSize = 1000
	// oidInChain is Active Directory's LDAP_MATCHING_RULE_IN_CHAIN; the
	// capability below marks a server as Active Directory.
	oidInChain        = "1.2.840.113556.1.4.1941"
	oidADCapabilities = "1.2.840.113556.1.4.800"
)

// findUser runs the one user search and returns the entry when exactly one
// matches; hits is 0, 1 or 2 (meaning "several"). The username is
// filter-escaped here, and only here.
func (l *Directory) findUser(c *ldap.Conn, username string) (u authn.DirectoryUser, hits int, err error) {
	us := l.cfg.UserSearch
	scope := ldap.ScopeWholeSubtree
	if us.Scope == "one" {
		scope = ldap.ScopeSingleLevel
	}
	filter := "(&" + us.Filter + "(" + us.UsernameAttribute + "=" + ldap.EscapeFilter(username) + "))"
	// SizeLimit 2: enough to tell "exactly one" from "several".
	req := ldap.NewSearchRequest(us.BaseDN, scope, ldap.NeverDerefAliases, 2, int(l.timeout/time.Second), false,
		filter, l.userAttributes(), nil)
	res, err := l.doSearch(c, req)
	if err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) {
		return authn.DirectoryUser{}, 0, fmt.Errorf("search user: %w", err)
	}
	switch n := len(res.Entries); {
	case n == 0:
		return authn.DirectoryUser{}, 0, nil
	case n > 1 || err != nil:
		l.log.Warn("ldap login refused", "user", username, "reason", errAmbiguous)
		return authn.DirectoryUser{}, 2, nil
	}
	e := res.Entries[0]
	u = authn.DirectoryUser{DN: e.DN, Email: e.GetAttributeValue("mail"), DisplayName: e.GetAttributeValue("displayName"),
		EntryID: l.entryID(e), PasswordChangedAt: l.passwordChanged(e, time.Now()),
		PrimaryGroupID: e.GetEqualFoldAttributeValue("primaryGroupID")}
	checks, err := l.checksAccounts(c)
	if err != nil {
		return authn.DirectoryUser{}, 0, err
	}
	if checks {
		u.State = l.accountState(e)
	}
	if u.DisplayName == "" {
		u.DisplayName = e.GetAttributeValue("cn")
	}
	// The stored name is the directory's spelling of the value that matched,
	// never the login as typed: the directory also matches "admin " or
	// " shadow" (insignificant spaces), which must not become new accounts
	// beside the local "admin" or "shadow".
	values := e.GetEqualFoldAttributeValues(us.UsernameAttribute)
	for _, v := range values {
		if strings.EqualFold(v, username) {
			u.Name = v
			break
		}
	}
	if u.Name == "" && len(values) == 1 {
		u.Name = values[0] // matched through a normalisation strings.EqualFold does not know
	}
	if u.Name == "" {
		l.log.Warn("ldap login refused", "user", username, "reason", "cannot tell which "+us.UsernameAttribute+" value matched")
		return authn.DirectoryUser{}, 0, nil
	}
	return u, 1, nil
}

// userAttributes are the attributes the user search reads.
func (l *Directory) userAttributes() []string {
	attrs := []string{l.cfg.UserSearch.UsernameAttribute, "mail", "displayName", "cn"}
	attrs = append(attrs, l.idAttributes()...)
	attrs = append(attrs, l.pwdChangedAttributes()...)
	return append(attrs, l.accountAttributes()...)
}

// bindUser binds as dn with password (never escaped, never logged). A
// refusal by the directory is false, with Active Directory's reason when
// it gives one (bindRefusal); only connection-level trouble and server
// failures are errors (a server that wants TLS: ErrTLSRequired).
func (l *Directory) bindUser(c *ldap.Conn, dn, password string) (ok bool, refusal string, err error) {
	err = l.doBind(c, dn, password)
	if err == nil {
		return true, "", nil
	}
	var le *ldap.Error
	if errors.As(err, &le) {
		switch le.ResultCode {
		case ldap.LDAPResultInvalidCredentials, ldap.LDAPResultInappropriateAuthentication,
			ldap.LDAPResultInsufficientAccessRights, ldap.LDAPResultUnwillingToPerform,
			ldap.LDAPResultConstraintViolation, ldap.LDAPResultNoSuchObject, ldap.ErrorEmptyPassword:
			return false, bindRefusal(err), nil
		}
	}
	return false, "", fmt.Errorf("bind user: %w", tlsRequired(err))
}

// searchGroups finds u's groups: one search for the direct groups (Active
// Directory with nested: one search with LDAP_MATCHING_RULE_IN_CHAIN for
// all of them), then for nested on other servers one search per level with
// the new groups of the level before as member values, until a level finds
// nothing new or maxNestingDepth levels were read. Cycles end because a
// group is only followed the first time it is seen.
func (l *Directory) searchGroups(c *ldap.Conn, u authn.DirectoryUser, trace func(step string, took time.Duration, n int)) ([]authn.DirectoryGroup, error) {
	gs := l.cfg.GroupSearch
	value := u.DN
	if gs.MemberValue == "username" {
		value = u.Name
	}
	term := "(" + gs.MemberAttribute + "=" + ldap.EscapeFilter(value) + ")"
	inChain := false
	if gs.Nested {
		var err error
		if inChain, err = l.isActiveDirectory(c); err != nil {
			return nil, err
		}
		if inChain {
			term = "(" + gs.MemberAttribute + ":" + oidInChain + ":=" + ldap.EscapeFilter(value) + ")"
		}
	}
	seen := map[string]bool{}
	var all []authn.DirectoryGroup
	frontier, err := l.groupLevel(c, term, seen, &all, trace, "search groups")
	if err != nil || !gs.Nested || inChain {
		return all, err
	}
	for depth := 1; depth <= maxNestingDepth && len(frontier) > 0; depth++ {
		var next []string
		for start := 0; start < len(frontier); start += maxOrTerms {
			chunk := frontier[start:min(start+maxOrTerms, len(frontier))]
			var or strings.Builder
			or.WriteString("(|")
			for _, dn := range chunk {
				or.WriteString("(" + gs.MemberAttribute + "=" + ldap.EscapeFilter(dn) + ")")
			}
			or.WriteString(")")
			found, err := l.groupLevel(c, or.String(), seen, &all, trace, fmt.Sprintf("search nested groups (level %d)", depth))
			if err != nil {
				return all, err
			}
			next = append(next, found...)
		}
		frontier = next
	}
	return all, nil
}

// groupLevel runs one (paged) group search for term and appends the groups
// not seen before to all, returning their DNs.
func (l *Directory) groupLevel(c *ldap.Conn, term string, seen map[string]bool, all *[]authn.DirectoryGroup,
	trace func(string, time.Duration, int), step string) ([]string, error) {
	gs := l.cfg.GroupSearch
	start := time.Now()
	entries, err := l.pagedSearch(c, gs.BaseDN, "(&"+gs.Filter+term+")", []string{gs.NameAttribute})
	if err != nil {
		return nil, fmt.Errorf("search groups: %w", err)
	}
	var fresh []string
	for _, e := range entries {
		k := strings.ToLower(e.DN)
		if seen[k] {
			continue
		}
		seen[k] = true
		*all = append(*all, authn.DirectoryGroup{DN: e.DN, Name: e.GetEqualFoldAttributeValue(gs.NameAttribute)})
		fresh = append(fresh, e.DN)
	}
	if trace != nil {
		trace(step, time.Since(start), len(fresh))
	}
	return fresh, nil
}

// pagedSearch is a subtree search with the paged-results control, so large
// group lists work on Active Directory too. Each page is one request.
func (l *Directory) pagedSearch(c *ldap.Conn, base, filter string, attrs []string) ([]*ldap.Entry, error) {
	paging := ldap.NewControlPaging(groupPageSize)
	req := ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, int(l.timeout/time.Second), false,
		filter, attrs, []ldap.Control{paging})
	var entries []*ldap.Entry
	for {
		res, err := l.doSearch(c, req)
		if err != nil {
			return nil, err
		}
		entries = append(entries, res.Entries...)
		pc, ok := ldap.FindControl(res.Controls, ldap.ControlTypePaging).(*ldap.ControlPaging)
		if !ok || len(pc.Cookie) == 0 {
			return entries, nil
		}
		paging.SetCookie(pc.Cookie)
	}
}

// isActiveDirectory reads the rootDSE once per authenticator to learn
// whether the server supports LDAP_MATCHING_RULE_IN_CHAIN.
func (l *Directory) isActiveDirectory(c *ldap.Conn) (bool, error) {
	switch l.inChain.Load() {
	case 1:
		return true, nil
	case -1:
		return false, nil
	}
	l.setupRequests.Add(1)
	res, err := c.Search(ldap.NewSearchRequest("", ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, 0, false,
		"(objectClass=*)", []string{"supportedCapabilities"}, nil))
	if err != nil {
		return false, fmt.Errorf("read rootDSE: %w", err)
	}
	ad := false
	for _, e := range res.Entries {
		for _, v := range e.GetEqualFoldAttributeValues("supportedCapabilities") {
			ad = ad || v == oidADCapabilities
		}
	}
	state := int32(-1)
	if ad {
		state = 1
	}
	l.inChain.Store(state)
	return ad, nil
}

// ErrGroupNotFound is returned by FindGroup when no single group matches.
var ErrGroupNotFound = errors.New("group not found in the directory")

// FindGroup looks a group up by DN (a base search on it, within the
// group filter) or else by name_attribute under group_search.base_dn.
// ErrGroupNotFound when nothing (or more than one group) matches; other
// errors wrap ErrUnavailable.
func (l *Directory) FindGroup(ctx context.Context, nameOrDN string) (authn.DirectoryGroup, error) {
	ctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	gs := l.cfg.GroupSearch
	attrs := []string{gs.NameAttribute}
	var req *ldap.SearchRequest
	if _, err := ldap.ParseDN(nameOrDN); err == nil && strings.Contains(nameOrDN, "=") {
		req = ldap.NewSearchRequest(nameOrDN, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 2, 0, false, gs.Filter, attrs, nil)
	} else {
		filter := "(&" + gs.Filter + "(" + gs.NameAttribute + "=" + ldap.EscapeFilter(nameOrDN) + "))"
		req = ldap.NewSearchRequest(gs.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 2, 0, false, filter, attrs, nil)
	}
	var res *ldap.SearchResult
	err := l.search.with(ctx, func(c *ldap.Conn) (err error) {
		res, err = l.doSearch(c, req)
		return err
	})
	switch {
	case ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject):
		return authn.DirectoryGroup{}, fmt.Errorf("find group %q: %w", nameOrDN, ErrGroupNotFound)
	case ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) || (err == nil && len(res.Entries) > 1):
		return authn.DirectoryGroup{}, fmt.Errorf("find group %q: several groups match: %w", nameOrDN, ErrGroupNotFound)
	case err != nil:
		return authn.DirectoryGroup{}, fmt.Errorf("find group %q: %w: %w", nameOrDN, authn.ErrUnavailable, err)
	case len(res.Entries) == 0:
		return authn.DirectoryGroup{}, fmt.Errorf("find group %q: %w", nameOrDN, ErrGroupNotFound)
	}
	e := res.Entries[0]
	return authn.DirectoryGroup{DN: e.DN, Name: e.GetEqualFoldAttributeValue(gs.NameAttribute)}, nil
}
