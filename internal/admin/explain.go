package admin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/authz"
	"github.com/authserver/authserver/internal/store"
)

// ExplainRequest asks what a user, a robot (named with or without the
// prefix) or anonymous would get for scopes: Robot when set, else
// anonymous when Anonymous is set, else User.
type ExplainRequest struct {
	User      string
	Robot     string
	Anonymous bool
	// Scopes are scope strings as a client sends them.
	Scopes []string
	// From, when set, is the client address to judge the login from: a
	// credential limited to other networks is refused (401), naming the
	// condition.
	From string
}

// Explanation is the answer to an ExplainRequest.
type Explanation struct {
	// Subject is who the decisions are for, as authz judged them.
	Subject authz.Subject
	// Refused, when set, is why a real login of the subject is refused
	// (401), as the login itself decides it (authn.RobotRefusal,
	// authn.UserRefusal): every decision then grants nothing.
	Refused string
	// Notes say which directory groups an LDAP user is judged with, and
	// what a federated robot's trust policy lets in.
	Notes     []string
	Decisions []authz.Decision
	// conditions are the subject's own conditions (its networks), as a
	// login of the subject carries them.
	conditions []authn.Condition
}

// Explain shows, for each scope, the actions the subject would be granted
// and why, without logging in.
func (s *Service) Explain(ctx context.Context, who Actor, req ExplainRequest) (Explanation, error) {
	if err := s.allow(ctx, who, rightSystem, "", "explain others' permissions"); err != nil {
		return Explanation{}, err
	}
	scopes, err := authz.ParseScopes(req.Scopes)
	if err != nil {
		return Explanation{}, invalid(err)
	}
	var e Explanation
	switch {
	case req.Robot != "":
		e, err = s.explainRobot(ctx, req.Robot)
	case !req.Anonymous:
		e, err = s.explainUser(ctx, req.User)
	default:
		e.Subject = authz.Subject{Anonymous: true}
	}
	if err != nil {
		return Explanation{}, err
	}
	for _, c := range e.conditions {
		e.Notes = append(e.Notes, fmt.Sprintf("condition: %s may log in only from %s", c.On, strings.Join(c.AllowFrom, ", ")))
	}
	if req.From != "" {
		if _, err := ParseAllowFrom([]string{req.From}); err != nil || strings.Contains(req.From, "/") {
			return Explanation{}, invalidf(fmt.Sprintf("from %q: want an IP address", req.From))
		}
		if why := (authn.Identity{Conditions: e.conditions}).RefusedFrom(req.From); why != "" && e.Refused == "" {
			e.Refused = why
		}
		e.Subject.ClientIP = req.From
	}
	policy := s.opt.Policy
	policy.Creator = nil // explain creates nothing
	if e.Decisions, err = authz.NewWith(s.st, policy).Authorize(ctx, e.Subject, scopes); err != nil {
		return Explanation{}, err
	}
	if e.Refused != "" {
		for i, d := range e.Decisions {
			e.Decisions[i].Granted = []string{}
			e.Decisions[i].Reasons = append([]string{"a real login is refused (401): " + e.Refused}, d.Reasons...)
		}
	}
	return e, nil
}

func (s *Service) explainRobot(ctx context.Context, name string) (Explanation, error) {
	rb, err := s.st.GetRobot(ctx, s.bare(name))
	if errors.Is(err, store.ErrNotFound) && s.bare(name) != name {
		rb, err = s.st.GetRobot(ctx, name)
	}
	if err != nil {
		return Explanation{}, fromStore(err, "robot "+name)
	}
	r := s.robot(rb)
	e := Explanation{Subject: authn.Identity{Name: r.Login, Robot: authn.PermissionsOf(rb)}.Subject(),
		conditions: authn.RobotCondition(rb, r.Login)}
	if rb.TokenLifetime > 0 {
		e.Notes = append(e.Notes, fmt.Sprintf("its tokens live %s (robot token lifetime)", rb.TokenLifetime))
	}
	if len(rb.Repos) > 0 {
		e.Notes = append(e.Notes, "limited to the repositories "+strings.Join(rb.Repos, ", ")+" of its project")
	}
	if why := authn.RobotRefusal(rb, s.opt.Now()); why != "" {
		e.Refused = "robot " + r.Login + ": " + why
	}
	if rb.Trust != nil {
		e.Notes = append(e.Notes, trustNotes(r)...)
	}
	return e, nil
}

func (s *Service) explainUser(ctx context.Context, name string) (Explanation, error) {
	u, err := s.st.GetUser(ctx, name)
	if err != nil {
		return Explanation{}, fromStore(err, "user "+name)
	}
	id := authn.Identity{Name: u.Name, UserID: u.ID, Admin: u.Admin}
	e := Explanation{conditions: authn.UserCondition(u)}
	if why := authn.UserRefusal(u); why != "" {
		e.Refused = "user " + u.Name + ": " + why
	}
	if u.Source == store.SourceLDAP {
		lu, err := s.st.GetLDAPUser(ctx, u.Name)
		switch {
		case err == nil: // the groups of the last directory login
			id.GroupDNs, id.Admin = lu.GroupDNs, id.Admin || lu.Admin
			e.Notes = append(e.Notes, ldapUserNote(lu))
		case !errors.Is(err, store.ErrNotFound):
			return Explanation{}, err
		case s.opt.Directory != nil: // never logged in: the directory says
			du, found, err := s.opt.Directory.Lookup(ctx, u.Name)
			if err != nil {
				return Explanation{}, err
			}
			if !found {
				e.Notes = append(e.Notes, "LDAP user with no recorded login, and no single directory entry: a login would get 401")
				if e.Refused == "" {
					e.Refused = "user " + u.Name + ": not found in the directory"
				}
				break
			}
			id.GroupDNs, id.Admin = du.GroupDNs(), id.Admin || du.Admin
			e.Notes = append(e.Notes, ldapUserNote(store.LDAPUser{GroupDNs: du.GroupDNs(), Admin: du.Admin, SyncedAt: s.opt.Now()})+
				" (asked the directory now: no login recorded yet)")
		default:
			e.Notes = append(e.Notes, "LDAP user with no recorded login and no directory configured: their directory groups are unknown")
		}
	}
	if u.Source == store.SourceOIDC {
		ou, err := s.st.GetOIDCUser(ctx, u.Name)
		switch {
		case err == nil: // as the last sign-in said; groups come from the OIDC groups it joined
			id.Admin = id.Admin || ou.Admin
			e.Notes = append(e.Notes, fmt.Sprintf("SSO user (%s, sub %s): groups %v and admin %t as of the sign-in at %s",
				ou.Issuer, ou.Subject, ou.Groups, ou.Admin, ou.SyncedAt.UTC().Format(time.RFC3339)))
		case !errors.Is(err, store.ErrNotFound):
			return Explanation{}, err
		}
	}
	e.Subject = id.Subject()
	return e, nil
}

// ldapUserNote describes the groups an LDAP user is judged with: those
// recorded at their last directory login.
func ldapUserNote(lu store.LDAPUser) string {
	names := "no groups"
	if len(lu.GroupDNs) > 0 {
		names = strings.Join(lu.GroupDNs, "; ")
	}
	note := fmt.Sprintf("LDAP user: directory groups as of their last login (%s): %s", lu.SyncedAt.UTC().Format(time.RFC3339), names)
	if lu.Admin {
		note += "; sysadmin through the admin group"
	}
	return note
}
