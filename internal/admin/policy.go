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

// Policy beyond Harbor's model (issue 24): repository rules, internal
// visibility, networks and lifetimes on credentials, projects created on
// push. Each change is one transaction with its admin audit record, as
// every other.

// ParseVisibility reads private, internal or public.
func ParseVisibility(s string) (Visibility, error) {
	switch v := Visibility(strings.ToLower(s)); v {
	case VisibilityPrivate, VisibilityInternal, VisibilityPublic:
		return v, nil
	}
	return "", invalidf(fmt.Sprintf("visibility %q: want private, internal or public", s))
}

// ProjectVisibility is p's visibility.
func ProjectVisibility(p store.Project) Visibility { return store.VisibilityOf(p.Public, p.Internal) }

// ParseAllowFrom checks networks as typed (authn.ParseAllowFrom).
func ParseAllowFrom(nets []string) ([]string, error) {
	out, err := authn.ParseAllowFrom(nets)
	if err != nil {
		return nil, invalid(err)
	}
	return out, nil
}

// NewRule is a repository rule to add.
type NewRule struct {
	Project string
	// Repos is the pattern (authz.ValidRepoPattern).
	Repos   string
	Subject RuleSubject
	// Name is the user's, group's or robot's (with or without the robot
	// prefix; a project robot as "project+name" or its login); "" for
	// RuleAuthenticated.
	Name    string
	Actions []string
	Deny    bool
}

// validRule checks nr and returns the rule to store.
func (s *Service) validRule(ctx context.Context, st store.Store, nr NewRule) (store.Rule, error) {
	if err := authz.ValidRepoPattern(nr.Repos); err != nil {
		return store.Rule{}, invalid(err)
	}
	acts, err := authz.RuleActions(nr.Actions, nr.Deny)
	if err != nil {
		return store.Rule{}, invalid(err)
	}
	r := store.Rule{Project: nr.Project, Repos: nr.Repos, Subject: nr.Subject, Name: nr.Name, Actions: acts, Deny: nr.Deny}
	switch nr.Subject {
	case RuleAuthenticated:
		if nr.Name != "" {
			return store.Rule{}, invalidf("a rule for every authenticated caller names no one")
		}
	case RuleUser, RuleGroup:
		if nr.Name == "" {
			return store.Rule{}, invalidf("a rule for a " + string(nr.Subject) + " names it")
		}
	case RuleRobot:
		r.Name = s.bare(nr.Name)
		rb, err := st.GetRobot(ctx, r.Name)
		if err != nil {
			return store.Rule{}, fromStore(err, "robot "+s.opt.RobotPrefix+r.Name)
		}
		if rb.Project != store.SystemRobotProject && rb.Project != nr.Project {
			return store.Rule{}, invalidf(fmt.Sprintf("robot %s%s belongs to project %s: a rule of project %s may name only its own "+
				"robots and system robots", s.opt.RobotPrefix, rb.Name, rb.Project, nr.Project))
		}
	default:
		return store.Rule{}, invalidf(fmt.Sprintf("rule subject %q: want user, group, robot or authenticated", nr.Subject))
	}
	return r, nil
}

// RuleText is a rule as the CLI prints it and the audit trail names it.
func (s *Service) RuleText(r store.Rule) string {
	who := "every authenticated caller"
	switch r.Subject {
	case RuleRobot:
		who = "robot " + s.opt.RobotPrefix + r.Name
	case RuleUser, RuleGroup:
		who = string(r.Subject) + " " + r.Name
	}
	effect := "allow"
	if r.Deny {
		effect = "deny"
	}
	return fmt.Sprintf("%s %s %s on %s/%s", effect, who, strings.Join(r.Actions, ","), r.Project, r.Repos)
}

// AddRule adds a repository rule to a project (its projectAdmin or a
// sysadmin) and returns it.
func (s *Service) AddRule(ctx context.Context, who Actor, nr NewRule) (store.Rule, error) {
	if err := s.allow(ctx, who, rightManageProject, nr.Project, "add rules to project "+nr.Project); err != nil {
		return store.Rule{}, err
	}
	var r store.Rule
	err := s.changeWith(ctx, who, "rule.add", func(st store.Store) (string, error) {
		var err error
		if r, err = s.validRule(ctx, st, nr); err != nil {
			return "", err
		}
		if err := st.CreateRule(ctx, &r); err != nil {
			what := map[RuleSubject]string{RuleUser: "user ", RuleGroup: "group ", RuleRobot: "robot " + s.opt.RobotPrefix}[r.Subject] + r.Name
			return "", storeErr(err, "", fmt.Sprintf("project %s or %s not found", r.Project, what), "the same rule exists: "+s.RuleText(r))
		}
		return fmt.Sprintf("rule %d of project %s (%s)", r.ID, r.Project, s.RuleText(r)), nil
	})
	return r, err
}

// ListRules lists a project's rules (those who may read the project).
func (s *Service) ListRules(ctx context.Context, who Actor, project string) ([]store.Rule, error) {
	if err := s.allow(ctx, who, rightReadProject, project, "read project "+project); err != nil {
		return nil, err
	}
	rs, err := s.st.ListRules(ctx, project)
	return rs, fromStore(err, "project "+project)
}

// RemoveRule removes rule id of project and returns it as it was.
func (s *Service) RemoveRule(ctx context.Context, who Actor, project string, id int64) (store.Rule, error) {
	if err := s.allow(ctx, who, rightManageProject, project, "remove rules of project "+project); err != nil {
		return store.Rule{}, err
	}
	var r store.Rule
	err := s.changeWith(ctx, who, "rule.remove", func(st store.Store) (string, error) {
		rs, err := st.ListRules(ctx, project)
		if err != nil {
			return "", fromStore(err, "project "+project)
		}
		found := false
		for _, x := range rs {
			if x.ID == id {
				r, found = x, true
			}
		}
		if !found {
			return "", &Error{Kind: KindNotFound, Msg: fmt.Sprintf("project %s has no rule %d", project, id), Err: store.ErrNotFound}
		}
		if err := st.DeleteRule(ctx, project, id); err != nil {
			return "", fromStore(err, fmt.Sprintf("rule %d of project %s", id, project))
		}
		return fmt.Sprintf("rule %d of project %s (%s)", r.ID, r.Project, s.RuleText(r)), nil
	})
	return r, err
}

// changeWith is change for an operation whose target is known only inside
// its transaction: do returns it.
func (s *Service) changeWith(ctx context.Context, who Actor, action string, do func(st store.Store) (string, error)) error {
	return s.st.Atomically(ctx, func(st store.Store) error {
		target, err := do(st)
		if err != nil {
			return err
		}
		rec := s.record(who, action, target, store.AuditDone)
		if err := st.AppendAudit(ctx, []store.AuditRecord{rec}); err != nil {
			s.opt.Logger.Error("cannot write admin audit record: the change is not made", "action", action,
				"target", target, "actor", rec.Subject, "err", err)
			return fmt.Errorf("%s: write admin audit record: %w", action, err)
		}
		return nil
	})
}

// SetProjectVisibility makes the project with id private, internal or
// public and returns it as written.
func (s *Service) SetProjectVisibility(ctx context.Context, who Actor, id int64, v Visibility) (store.Project, error) {
	if _, err := ParseVisibility(string(v)); err != nil {
		return store.Project{}, err
	}
	p, err := s.project(ctx, who, id, rightManageProject, "change project")
	if err != nil {
		return p, err
	}
	err = s.change(ctx, who, "project.visibility="+string(v), "project "+p.Name, func(st store.Store) error {
		if _, err := projectInTx(ctx, st, id); err != nil {
			return err
		}
		return fromStore(st.SetProjectVisibility(ctx, p.Name, v), "project "+p.Name)
	})
	if err != nil {
		return store.Project{}, err
	}
	p.Public, p.Internal = v == VisibilityPublic, v == VisibilityInternal
	return p, nil
}

// SetUserAllowFrom sets the networks a user's logins may come from (none:
// anywhere); sysadmins only.
func (s *Service) SetUserAllowFrom(ctx context.Context, who Actor, name string, nets []string) (store.User, error) {
	if err := s.allow(ctx, who, rightSystem, "", "limit where users log in from"); err != nil {
		return store.User{}, err
	}
	nets, err := ParseAllowFrom(nets)
	if err != nil {
		return store.User{}, err
	}
	var u store.User
	err = s.change(ctx, who, "user.allow_from="+strings.Join(nets, ","), "user "+name, func(st store.Store) error {
		if err := st.SetUserAllowFrom(ctx, name, nets); err != nil {
			return fromStore(err, "user "+name)
		}
		var err error
		u, err = st.GetUser(ctx, name)
		return fromStore(err, "user "+name)
	})
	return u, err
}

// validRobotPolicy checks a robot's repository patterns (a project
// robot's only), networks and token lifetime, and returns them normalised.
func (s *Service) validRobotPolicy(project string, repos, nets []string, lifetime time.Duration) ([]string, []string, time.Duration, error) {
	if len(repos) > 0 && project == store.SystemRobotProject {
		return nil, nil, 0, invalidf("repository patterns limit a project robot: a system robot has none")
	}
	var out []string
	for _, p := range repos {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if err := authz.ValidRepoPattern(p); err != nil {
			return nil, nil, 0, invalid(err)
		}
		out = append(out, p)
	}
	if len(out) > maxRobotPermissions {
		return nil, nil, 0, invalidf(fmt.Sprintf("at most %d repository patterns", maxRobotPermissions))
	}
	nets, err := ParseAllowFrom(nets)
	if err != nil {
		return nil, nil, 0, err
	}
	switch lifetime = lifetime.Truncate(time.Second); {
	case lifetime < 0:
		return nil, nil, 0, invalidf("token lifetime must be positive (or 0: the configured one)")
	case lifetime > 0 && lifetime < time.Minute:
		return nil, nil, 0, invalidf("token lifetime: at least 1m")
	case s.opt.MaxTokenLifetime > 0 && lifetime > s.opt.MaxTokenLifetime:
		return nil, nil, 0, invalidf(fmt.Sprintf("token lifetime %s is longer than token.max_expiration (%s)", lifetime, s.opt.MaxTokenLifetime))
	}
	return out, nets, lifetime, nil
}

// CreateOnPush implements authz.ProjectCreator: the project subj asks to
// push into is created (private), subj its owner and projectAdmin, with
// the admin audit record "project.create" (method "token"). A personal
// project is made whatever api.project_creation and
// api.max_projects_per_user say; any other takes what CreateProject takes.
func (s *Service) CreateOnPush(ctx context.Context, subj authz.Subject, project string, personal bool) (string, error) {
	if subj.Robot != nil || subj.Anonymous || subj.Name == "" || subj.UserID == 0 {
		return "robots and anonymous callers never create projects", nil
	}
	who := Actor{Name: subj.Name, Admin: subj.Admin, UserID: subj.UserID, GroupDNs: subj.GroupDNs, ClientIP: subj.ClientIP,
		Method: MethodToken}
	_, err := s.createProject(ctx, who, NewProject{Name: project}, personal)
	var e *Error
	switch {
	case err == nil:
		return "", nil
	case errors.Is(err, ErrExists) && errors.Is(err, store.ErrAlreadyExists):
		return "", nil // made meanwhile: the access read again finds it
	case errors.As(err, &e):
		return e.Msg, nil
	}
	return "", err
}

// MethodToken is Actor.Method of a change the token endpoint makes: a
// project created on push.
const MethodToken = "token"
