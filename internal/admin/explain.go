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
}

// Explanation is the answer to an ExplainRequest.
type Explanation struct {
	// Subject is who the decisions are for, as authz judged them.
	Subject authz.Subject
	// Notes say why a real login would differ (disabled, expired) and
	// which directory groups an LDAP user is judged with.
	Notes     []string
	Decisions []authz.Decision
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
	if e.Decisions, err = authz.New(s.st).Authorize(ctx, e.Subject, scopes); err != nil {
		return Explanation{}, err
	}
	return e, nil
}

func (s *Service) explainRobot(ctx context.Context, name string) (Explanation, error) {
	rb, err := s.st.GetRobot(ctx, s.bare(name))
	if err != nil {
		return Explanation{}, fromStore(err, "robot "+name)
	}
	r := s.robot(rb)
	login := r.Login
	e := Explanation{Subject: authn.Identity{Name: login, Robot: &authz.RobotPermissions{Permissions: rb.Permissions}}.Subject()}
	if rb.Trust != nil {
		e.Notes = append(e.Notes, trustNotes(r)...)
	}
	if rb.Disabled {
		e.Notes = append(e.Notes, "robot "+login+" is disabled: a real login would get 401")
	}
	if rb.Expired(s.opt.Now()) {
		e.Notes = append(e.Notes, "robot "+login+" expired at "+rb.ExpiresAt.UTC().Format(time.RFC3339)+": a real login would get 401")
	}
	return e, nil
}

func (s *Service) explainUser(ctx context.Context, name string) (Explanation, error) {
	u, err := s.st.GetUser(ctx, name)
	if err != nil {
		return Explanation{}, fromStore(err, "user "+name)
	}
	id := authn.Identity{Name: u.Name, UserID: u.ID, Admin: u.Admin}
	var notes []string
	if u.Disabled {
		notes = append(notes, "user "+u.Name+" is disabled: a real login would get 401")
	}
	if u.Source == store.SourceLDAP {
		// Judged with the groups of the last directory login.
		lu, err := s.st.GetLDAPUser(ctx, u.Name)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return Explanation{}, err
		}
		if err == nil {
			id.GroupDNs, id.Admin = lu.GroupDNs, id.Admin || lu.Admin
		}
		notes = append(notes, ldapUserNote(lu, err))
	}
	return Explanation{Subject: id.Subject(), Notes: notes}, nil
}

// ldapUserNote describes the groups an LDAP user is judged with: those
// recorded at their last directory login.
func ldapUserNote(lu store.LDAPUser, err error) string {
	if err != nil {
		return "LDAP user with no recorded login: their directory groups are unknown until they log in"
	}
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
