package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/authserver/authserver/internal/authn/secret"
	"github.com/authserver/authserver/internal/authz"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/policy"
	"github.com/authserver/authserver/internal/store"
)

// ApplyOptions say how Apply works.
type ApplyOptions struct {
	// DryRun works out and returns the difference, changing nothing.
	DryRun bool
	// Prune removes what the document does not name: projects, groups,
	// and inside the projects it names their members, rules and robots.
	Prune bool
}

// Change is one difference Apply made (or, in a dry run, would make).
type Change struct {
	// Op is "created", "changed" or "removed".
	Op   string
	What string
}

// RobotSecret is the secret of a robot Apply created: shown once.
type RobotSecret struct {
	Login, Secret string
}

// ApplyResult is what Apply did.
type ApplyResult struct {
	Changes []Change
	// Secrets of the robots created (none in a dry run).
	Secrets []RobotSecret
}

func (r *ApplyResult) add(op, format string, args ...any) {
	r.Changes = append(r.Changes, Change{Op: op, What: fmt.Sprintf(format, args...)})
}

// errDryRun rolls a dry run's transaction back.
var errDryRun = errors.New("dry run")

// Apply makes the groups and projects (visibility, members, repository
// rules, robots) match doc, in ONE transaction: every change, each with
// its admin audit record, or none. Applying the same document twice
// changes nothing the second time. Sysadmins only.
func (s *Service) Apply(ctx context.Context, who Actor, doc policy.Document, opt ApplyOptions) (ApplyResult, error) {
	if err := s.allow(ctx, who, rightSystem, "", "apply a policy"); err != nil {
		return ApplyResult{}, err
	}
	if err := doc.Check(); err != nil {
		return ApplyResult{}, invalid(err)
	}
	var res ApplyResult
	err := s.st.Atomically(ctx, func(tx store.Store) error {
		res = ApplyResult{}
		t := &Service{st: tx, opt: s.opt}
		if err := t.apply(ctx, who, doc, opt.Prune, &res); err != nil {
			return err
		}
		if opt.DryRun {
			return errDryRun
		}
		return nil
	})
	switch {
	case errors.Is(err, errDryRun):
		res.Secrets = nil
		return res, nil
	case err != nil:
		return ApplyResult{}, err
	}
	return res, nil
}

func (s *Service) apply(ctx context.Context, who Actor, doc policy.Document, prune bool, res *ApplyResult) error {
	for _, g := range doc.Groups {
		if err := s.applyGroup(ctx, who, g, prune, res); err != nil {
			return fmt.Errorf("group %s: %w", g.Name, err)
		}
	}
	named := map[string]bool{}
	for _, p := range doc.Projects {
		named[p.Name] = true
		if err := s.applyProject(ctx, who, p, prune, res); err != nil {
			return prefixed("project "+p.Name, err)
		}
	}
	if !prune {
		return nil
	}
	ps, err := s.st.ListProjects(ctx)
	if err != nil {
		return err
	}
	for _, p := range ps {
		if !named[p.Name] {
			if _, err := s.DeleteProject(ctx, who, p.ID); err != nil {
				return prefixed("project "+p.Name, err)
			}
			res.add("removed", "project %s", p.Name)
		}
	}
	groups := map[string]bool{}
	for _, g := range doc.Groups {
		groups[g.Name] = true
	}
	gs, err := s.st.ListGroups(ctx)
	if err != nil {
		return err
	}
	for _, g := range gs {
		if !groups[g.Name] {
			if _, err := s.DeleteGroup(ctx, who, g.ID); err != nil {
				return prefixed("group "+g.Name, err)
			}
			res.add("removed", "group %s", g.Name)
		}
	}
	return nil
}

// prefixed names what an error was about, keeping an *Error's kind.
func prefixed(what string, err error) error {
	var e *Error
	if errors.As(err, &e) {
		return &Error{Kind: e.Kind, Msg: what + ": " + e.Msg, Err: e.Err}
	}
	return fmt.Errorf("%s: %w", what, err)
}

func (s *Service) applyGroup(ctx context.Context, who Actor, g policy.Group, prune bool, res *ApplyResult) error {
	cur, err := s.st.GetGroup(ctx, g.Name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		if cur, err = s.CreateGroup(ctx, who, g.Name, g.DN); err != nil {
			return err
		}
		res.add("created", "group %s", g.Name)
	case err != nil:
		return err
	case cur.Name != g.Name || store.NormalizeDN(cur.DN) != store.NormalizeDN(g.DN):
		return invalidf(fmt.Sprintf("group %s exists with DN %q: a group's name and DN do not change", cur.Name, cur.DN))
	}
	if g.DN != "" {
		return nil
	}
	have, err := s.st.ListGroupUsers(ctx, g.Name)
	if err != nil {
		return err
	}
	for _, u := range g.Users {
		if slices.Contains(have, u) {
			continue
		}
		user, err := s.st.GetUser(ctx, u)
		if err != nil {
			return fromStore(err, "user "+u)
		}
		if err := s.AddGroupUser(ctx, who, cur.ID, user.ID); err != nil {
			return err
		}
		res.add("changed", "group %s: user %s added", g.Name, u)
	}
	if prune {
		for _, u := range have {
			if slices.Contains(g.Users, u) {
				continue
			}
			user, err := s.st.GetUser(ctx, u)
			if err != nil {
				return fromStore(err, "user "+u)
			}
			if err := s.RemoveGroupUser(ctx, who, cur.ID, user.ID); err != nil {
				return err
			}
			res.add("removed", "group %s: user %s", g.Name, u)
		}
	}
	return nil
}

func (s *Service) applyProject(ctx context.Context, who Actor, p policy.Project, prune bool, res *ApplyResult) error {
	vis := VisibilityPrivate
	if p.Visibility != "" {
		var err error
		if vis, err = ParseVisibility(p.Visibility); err != nil {
			return err
		}
	}
	cur, err := s.st.GetProject(ctx, p.Name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		// The file is the whole truth: whoever applies it becomes no
		// member (nor owner) of what it creates.
		creator := who
		creator.UserID = 0
		if cur, err = s.CreateProject(ctx, creator, NewProject{Name: p.Name, Public: vis == VisibilityPublic,
			Internal: vis == VisibilityInternal}); err != nil {
			return err
		}
		res.add("created", "project %s (%s)", p.Name, vis)
	case err != nil:
		return err
	case ProjectVisibility(cur) != vis:
		was := ProjectVisibility(cur)
		if cur, err = s.SetProjectVisibility(ctx, who, cur.ID, vis); err != nil {
			return err
		}
		res.add("changed", "project %s: visibility %s → %s", p.Name, was, vis)
	}
	// Robots first (rules may name them), removed last (their rules go
	// with them, listed first).
	extra, err := s.applyRobots(ctx, who, cur, p, res)
	if err != nil {
		return err
	}
	if err := s.applyMembers(ctx, who, cur, p, prune, res); err != nil {
		return err
	}
	if err := s.applyRules(ctx, who, cur, p, prune, res); err != nil {
		return err
	}
	if prune {
		for _, r := range extra {
			if _, err := s.DeleteRobot(ctx, who, r.ID); err != nil {
				return err
			}
			res.add("removed", "robot %s%s", s.opt.RobotPrefix, r.Name)
		}
	}
	return nil
}

// robotLifetime reads a policy robot's token_lifetime.
func robotLifetime(text string) (time.Duration, error) {
	if text == "" {
		return 0, nil
	}
	d, err := config.ParseDuration(text)
	if err != nil {
		return 0, invalidf(fmt.Sprintf("token_lifetime %q: %v", text, err))
	}
	return d, nil
}

// applyRobots creates and updates the robots p names and returns the
// project's robots it does not name.
func (s *Service) applyRobots(ctx context.Context, who Actor, proj store.Project, p policy.Project, res *ApplyResult) ([]store.Robot, error) {
	have, err := s.st.ListRobots(ctx, proj.Name)
	if err != nil {
		return nil, err
	}
	byName := map[string]store.Robot{}
	for _, r := range have {
		byName[r.Name] = r
	}
	want := map[string]bool{}
	for _, rb := range p.Robots {
		bare, err := secret.RobotName(proj.Name, rb.Name)
		if err != nil {
			return nil, invalid(err)
		}
		want[bare] = true
		acts, err := secret.RobotActions(rb.Actions)
		if err != nil {
			return nil, invalid(fmt.Errorf("robot %s: %w", rb.Name, err))
		}
		life, err := robotLifetime(rb.TokenLifetime)
		if err != nil {
			return nil, err
		}
		repos, nets, life, err := s.validRobotPolicy(proj.Name, rb.Repos, rb.AllowFrom, life)
		if err != nil {
			return nil, prefixed("robot "+rb.Name, err)
		}
		cur, ok := byName[bare]
		if !ok {
			r, secret, err := s.CreateRobot(ctx, who, NewRobot{Name: rb.Name, Project: proj.Name, Actions: acts, Description: rb.Description,
				Repos: repos, AllowFrom: nets, TokenLifetime: life})
			if err != nil {
				return nil, err
			}
			res.add("created", "robot %s", r.Login)
			res.Secrets = append(res.Secrets, RobotSecret{Login: r.Login, Secret: secret})
			continue
		}
		var diff []string
		curActs := []string{}
		if len(cur.Permissions) == 1 {
			curActs = cur.Permissions[0].Actions
		}
		if !slices.Equal(curActs, acts) {
			diff = append(diff, "actions "+strings.Join(curActs, ",")+" → "+strings.Join(acts, ","))
		}
		if !slices.Equal(cur.Repos, repos) {
			diff = append(diff, "repos")
		}
		if !slices.Equal(cur.AllowFrom, nets) {
			diff = append(diff, "allow_from")
		}
		if cur.TokenLifetime != life {
			diff = append(diff, "token_lifetime")
		}
		if cur.Description != rb.Description {
			diff = append(diff, "description")
		}
		if len(diff) == 0 {
			continue
		}
		desc := rb.Description
		r, err := s.UpdateRobot(ctx, who, cur.ID, RobotChange{Actions: acts, Repos: &repos, AllowFrom: &nets, TokenLifetime: &life,
			Description: &desc})
		if err != nil {
			return nil, err
		}
		res.add("changed", "robot %s: %s", r.Login, strings.Join(diff, ", "))
	}
	var extra []store.Robot
	for _, r := range have {
		if !want[r.Name] {
			extra = append(extra, r)
		}
	}
	return extra, nil
}

func (s *Service) applyMembers(ctx context.Context, who Actor, proj store.Project, p policy.Project, prune bool, res *ApplyResult) error {
	have, err := s.st.ListMembers(ctx, proj.Name)
	if err != nil {
		return err
	}
	find := func(kind store.MemberKind, name string) (store.Member, bool) {
		for _, m := range have {
			if m.Kind == kind && m.Name == name {
				return m, true
			}
		}
		return store.Member{}, false
	}
	keep := map[int64]bool{}
	for _, m := range p.Members {
		role, err := ParseRole(m.Role)
		if err != nil {
			return err
		}
		kind, name, ref := store.MemberUser, m.User, MemberRef{User: m.User}
		if m.Group != "" {
			kind, name, ref = store.MemberGroup, m.Group, MemberRef{Group: m.Group}
			if g, err := s.st.GetGroup(ctx, m.Group); err == nil {
				name = g.Name
			}
		}
		cur, ok := find(kind, name)
		switch {
		case !ok:
			added, _, err := s.AddMember(ctx, who, proj.ID, ref, string(role))
			if err != nil {
				return err
			}
			keep[added.ID] = true
			res.add("created", "project %s: %s %s as %s", proj.Name, kind, added.Name, role)
		case cur.Role != role:
			keep[cur.ID] = true
			if _, err := s.SetMemberRole(ctx, who, proj.ID, cur.ID, string(role)); err != nil {
				return err
			}
			res.add("changed", "project %s: %s %s %s → %s", proj.Name, kind, name, cur.Role, role)
		default:
			keep[cur.ID] = true
		}
	}
	if prune {
		for _, m := range have {
			if !keep[m.ID] {
				if _, err := s.RemoveMember(ctx, who, proj.ID, m.ID); err != nil {
					return err
				}
				res.add("removed", "project %s: %s %s", proj.Name, m.Kind, m.Name)
			}
		}
	}
	return nil
}

// ruleKey identifies a rule by what it says.
func ruleKey(r store.Rule) string {
	return strings.Join([]string{r.Repos, string(r.Subject), r.Name, strings.Join(r.Actions, ","), fmt.Sprint(r.Deny)}, "\x00")
}

// policyRule is the rule a policy file's entry of project says.
func (s *Service) policyRule(ctx context.Context, project string, r policy.Rule) (NewRule, error) {
	nr := NewRule{Project: project, Repos: r.Repos, Actions: r.Actions, Deny: r.Effect == "deny"}
	switch {
	case r.User != "":
		nr.Subject, nr.Name = RuleUser, r.User
	case r.Group != "":
		nr.Subject, nr.Name = RuleGroup, r.Group
	case r.Robot != "":
		// A project's own robot by its short name; any other by its
		// stored (or login) name.
		nr.Subject, nr.Name = RuleRobot, s.bare(r.Robot)
		if !strings.Contains(nr.Name, "+") && !strings.HasPrefix(r.Robot, s.opt.RobotPrefix) {
			if _, err := s.st.GetRobot(ctx, project+"+"+nr.Name); err == nil {
				nr.Name = project + "+" + nr.Name
			}
		}
	default:
		nr.Subject = RuleAuthenticated
	}
	acts, err := authz.RuleActions(nr.Actions, nr.Deny)
	if err != nil {
		return nr, invalid(err)
	}
	nr.Actions = acts
	return nr, nil
}

func (s *Service) applyRules(ctx context.Context, who Actor, proj store.Project, p policy.Project, prune bool, res *ApplyResult) error {
	have, err := s.st.ListRules(ctx, proj.Name)
	if err != nil {
		return err
	}
	byKey := map[string]store.Rule{}
	for _, r := range have {
		byKey[ruleKey(r)] = r
	}
	keep := map[int64]bool{}
	for _, pr := range p.Rules {
		nr, err := s.policyRule(ctx, proj.Name, pr)
		if err != nil {
			return err
		}
		key := ruleKey(store.Rule{Repos: nr.Repos, Subject: nr.Subject, Name: nr.Name, Actions: nr.Actions, Deny: nr.Deny})
		if cur, ok := byKey[key]; ok {
			keep[cur.ID] = true
			continue
		}
		r, err := s.AddRule(ctx, who, nr)
		if err != nil {
			return err
		}
		keep[r.ID] = true
		byKey[key] = r
		res.add("created", "rule %d: %s", r.ID, s.RuleText(r))
	}
	if prune {
		for _, r := range have {
			if !keep[r.ID] {
				if _, err := s.RemoveRule(ctx, who, proj.Name, r.ID); err != nil {
					return err
				}
				res.add("removed", "rule %d: %s", r.ID, s.RuleText(r))
			}
		}
	}
	return nil
}

// Export returns today's groups and projects (visibility, members, rules,
// project robots) as a policy document that Apply reproduces; never a
// secret. System robots are not part of it. Sysadmins only.
func (s *Service) Export(ctx context.Context, who Actor) (policy.Document, error) {
	if err := s.allow(ctx, who, rightSystem, "", "export the policy"); err != nil {
		return policy.Document{}, err
	}
	doc := policy.Document{Version: policy.Version}
	gs, err := s.st.ListGroups(ctx)
	if err != nil {
		return doc, err
	}
	for _, g := range gs {
		pg := policy.Group{Name: g.Name, DN: g.DN}
		if g.DN == "" {
			if pg.Users, err = s.st.ListGroupUsers(ctx, g.Name); err != nil {
				return doc, err
			}
		}
		doc.Groups = append(doc.Groups, pg)
	}
	ps, err := s.st.ListProjects(ctx)
	if err != nil {
		return doc, err
	}
	for _, p := range ps {
		pp := policy.Project{Name: p.Name, Visibility: string(ProjectVisibility(p))}
		ms, err := s.st.ListMembers(ctx, p.Name)
		if err != nil {
			return doc, err
		}
		for _, m := range ms {
			pm := policy.Member{User: m.Name, Role: string(m.Role)}
			if m.Kind == store.MemberGroup {
				pm = policy.Member{Group: m.Name, Role: string(m.Role)}
			}
			pp.Members = append(pp.Members, pm)
		}
		rs, err := s.st.ListRobots(ctx, p.Name)
		if err != nil {
			return doc, err
		}
		for _, r := range rs {
			pr := policy.Robot{Name: strings.TrimPrefix(r.Name, p.Name+"+"), Repos: r.Repos, AllowFrom: r.AllowFrom,
				Description: r.Description, Actions: []string{}}
			if len(r.Permissions) == 1 {
				pr.Actions = r.Permissions[0].Actions
			}
			if r.TokenLifetime > 0 {
				pr.TokenLifetime = config.FormatDuration(r.TokenLifetime)
			}
			pp.Robots = append(pp.Robots, pr)
		}
		rules, err := s.st.ListRules(ctx, p.Name)
		if err != nil {
			return doc, err
		}
		for _, r := range rules {
			pr := policy.Rule{Repos: r.Repos, Actions: r.Actions}
			if r.Deny {
				pr.Effect = "deny"
			}
			switch r.Subject {
			case RuleUser:
				pr.User = r.Name
			case RuleGroup:
				pr.Group = r.Name
			case RuleRobot:
				pr.Robot = strings.TrimPrefix(r.Name, p.Name+"+")
				if pr.Robot == r.Name {
					pr.Robot = s.opt.RobotPrefix + r.Name // a system robot, by its login
				}
			default:
				pr.Authenticated = true
			}
			pp.Rules = append(pp.Rules, pr)
		}
		doc.Projects = append(doc.Projects, pp)
	}
	return doc, nil
}

// PolicyDocument is a policy file (internal/policy), named for the
// transports.
type PolicyDocument = policy.Document

// DecodePolicy reads a policy file strictly (policy.Decode); a bad one is
// KindInvalid.
func DecodePolicy(r io.Reader) (PolicyDocument, error) {
	doc, err := policy.Decode(r)
	if err != nil {
		return doc, invalid(err)
	}
	return doc, nil
}

// EncodePolicy writes a policy document as YAML (policy.Encode).
func EncodePolicy(w io.Writer, doc PolicyDocument) error { return policy.Encode(w, doc) }
