package authz

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/authserver/authserver/internal/store"
)

// Subject is whoever asks, as the authorizer needs it.
type Subject struct {
	// Anonymous is true when no credentials were given.
	Anonymous bool
	// Name is the login name (empty for anonymous).
	Name string
	// UserID is the store ID of a user (0 for anonymous).
	UserID int64
	// Admin makes the subject a sysadmin: every action on every repository,
	// and the only subjects that get registry:catalog:*.
	Admin bool
	// GroupDNs are LDAP groups the directory says the user is in.
	GroupDNs []string
	// ClientIP is where the request came from (after trusted-proxy
	// resolution), for the audit record of a project created on push.
	ClientIP string
	// Robot, when set, makes the subject a robot account (Harbor's model):
	// on the repositories of an existing project it gets exactly the actions
	// of its permissions naming that project or store.SystemRobotProject,
	// plus pull on public projects as everyone does. A robot is never a
	// sysadmin (Admin is ignored), never gets registry:catalog:*, and has
	// nothing on repositories outside any project.
	Robot *RobotPermissions
}

// RobotPermissions are a robot account's explicit permissions.
type RobotPermissions struct {
	// ID is the robot's store ID: the rules naming it.
	ID int64
	// Permissions are repository actions (pull, push, delete) per project
	// name, or on every project for store.SystemRobotProject ("*").
	Permissions []store.RobotPermission
	// Repos, when set, limit what Permissions grant to the repositories
	// whose path inside the project matches one of these patterns
	// (MatchRepos).
	Repos []string
}

// Decision is what one requested scope gets, and why.
type Decision struct {
	Scope   Scope    // as requested
	Granted []string // requested ∩ allowed, in request order; a requested "*" is listed as the allowed actions; "*" only for registry:catalog:*
	Reasons []string // human-readable grounds, for explain and debug logs
}

// Complete reports whether every requested action was granted: a requested
// "*" on a repository counts as complete when delete, pull and push were
// all granted (they are listed, never "*"). For logs of what was refused.
func (d Decision) Complete() bool {
	granted := set(d.Granted...)
	for _, a := range d.Scope.Actions {
		if a == ActionAll && d.Scope.Type == TypeRepository {
			if !granted[ActionDelete] || !granted[ActionPull] || !granted[ActionPush] {
				return false
			}
			continue
		}
		if !granted[a] {
			return false
		}
	}
	return true
}

// Authorizer decides with Harbor's project model, and the policy beyond
// it of Options.
type Authorizer struct {
	access store.Access
	opt    Options
}

// New returns an Authorizer reading memberships from a, with no policy
// settings.
func New(a store.Access) *Authorizer { return &Authorizer{access: a} }

// NewWith returns an Authorizer reading memberships from a, applying opt.
func NewWith(a store.Access, opt Options) *Authorizer { return &Authorizer{access: a, opt: opt} }

// RoleActions maps a project role to the repository actions it allows.
func RoleActions(r store.Role) []string {
	switch r {
	case store.RoleProjectAdmin, store.RoleMaintainer:
		return []string{ActionPull, ActionPush, ActionDelete}
	case store.RoleDeveloper:
		return []string{ActionPull, ActionPush}
	case store.RoleGuest, store.RoleLimitedGuest:
		return []string{ActionPull}
	}
	return nil
}

// ProjectOf returns the project of a repository name: its first path
// component, after any host:port prefix. ok is false for one-component
// names, which belong to no project. Only a component with a port is taken
// for a host: the registry never serves a name with a ':', whereas
// "localhost/team/app" is a real repository of project "localhost", not of
// "team".
func ProjectOf(repo string) (project string, ok bool) {
	first, rest, found := strings.Cut(repo, "/")
	if found && strings.Contains(first, ":") {
		first, rest, found = strings.Cut(rest, "/")
	}
	if !found || first == "" || rest == "" {
		return "", false
	}
	return first, true
}

// Authorize decides every scope with one store query (a second one only
// after creating a project on push). Missing permission is never an
// error: the decision's Granted list is simply shorter, possibly empty. An
// error means the store failed.
func (a *Authorizer) Authorize(ctx context.Context, subj Subject, scopes []Scope) ([]Decision, error) {
	if subj.Robot != nil {
		// A robot is never a sysadmin and has no user memberships.
		subj.Admin, subj.UserID, subj.GroupDNs = false, 0, nil
	}
	var projects []string
	seen := map[string]bool{}
	if !subj.Admin {
		for _, s := range scopes {
			if s.Type != TypeRepository {
				continue
			}
			if p, ok := ProjectOf(s.Name); ok && !seen[p] {
				seen[p] = true
				projects = append(projects, p)
			}
		}
	}
	var access map[string]store.ProjectAccess
	var notes map[string]string
	if len(projects) > 0 {
		p := store.Principal{UserID: subj.UserID, GroupDNs: subj.GroupDNs, Authenticated: !subj.Anonymous}
		if subj.Robot != nil {
			p.RobotID = subj.Robot.ID
		}
		var err error
		access, err = a.access.ProjectAccess(ctx, p, projects)
		if err != nil {
			return nil, fmt.Errorf("authorize: %w: %w", ErrUnavailable, err)
		}
		if len(access) < len(projects) && (a.opt.CreateOnPush || a.opt.PersonalTemplate != "") {
			if notes, err = a.createOnPush(ctx, subj, p, scopes, access); err != nil {
				return nil, err
			}
		}
	}
	out := make([]Decision, len(scopes))
	for i, s := range scopes {
		allowed, reasons := a.allowedActions(subj, s, access)
		if p, ok := ProjectOf(s.Name); ok && notes[p] != "" && s.Type == TypeRepository {
			reasons = append(reasons, notes[p])
		}
		out[i] = Decision{Scope: s, Granted: intersect(s.Actions, allowed), Reasons: reasons}
	}
	return out, nil
}

// createOnPush creates the missing projects subj asks to push into that
// it may create (projects.create_on_push, its personal project), reads
// their access into access, and returns a note per project saying what
// was (or, without a Creator, would be) done.
func (a *Authorizer) createOnPush(ctx context.Context, subj Subject, p store.Principal, scopes []Scope,
	access map[string]store.ProjectAccess) (map[string]string, error) {
	if subj.Anonymous || subj.Robot != nil || subj.Name == "" {
		return nil, nil // robots and anonymous callers never create projects
	}
	notes := map[string]string{}
	var created []string
	for _, s := range scopes {
		project, ok := ProjectOf(s.Name)
		if !ok || s.Type != TypeRepository || !slices.ContainsFunc(s.Actions, func(a string) bool { return a == ActionPush || a == ActionAll }) {
			continue
		}
		if _, exists := access[project]; exists || notes[project] != "" {
			continue
		}
		personal, _ := PersonalProject(a.opt.PersonalTemplate, subj.Name)
		isPersonal := personal == project
		if !isPersonal && !a.opt.CreateOnPush {
			continue
		}
		if !isPersonal && PersonalNamespace(a.opt.PersonalTemplate, project) {
			notes[project] = "project " + project + " not created on push: its name is another user's personal project (projects.personal_template)"
			continue
		}
		why := "projects.create_on_push"
		if isPersonal {
			why = "projects.personal_template"
		}
		if a.opt.Creator == nil {
			notes[project] = "project " + project + " would be created on push (" + why + ") if " + subj.Name + " may create it"
			continue
		}
		refused, err := a.opt.Creator.CreateOnPush(ctx, subj, project, isPersonal)
		switch {
		case err != nil:
			return nil, fmt.Errorf("authorize: create project %s on push: %w: %w", project, ErrUnavailable, err)
		case refused != "":
			notes[project] = "project " + project + " not created on push: " + refused
		default:
			notes[project] = "project " + project + " created on push (" + why + "), " + subj.Name + " its projectAdmin"
			created = append(created, project)
		}
	}
	if len(created) > 0 {
		more, err := a.access.ProjectAccess(ctx, p, created)
		if err != nil {
			return nil, fmt.Errorf("authorize: %w: %w", ErrUnavailable, err)
		}
		maps.Copy(access, more)
	}
	return notes, nil
}

// allowedActions is what subj may do on the resource of s, and why.
func (a *Authorizer) allowedActions(subj Subject, s Scope, access map[string]store.ProjectAccess) (map[string]bool, []string) {
	switch s.Type {
	case TypeRegistry:
		if s.Name != "catalog" {
			return nil, []string{"unknown registry resource " + s.Name}
		}
		if subj.Admin {
			return set(ActionAll), []string{"sysadmin"}
		}
		return nil, []string{"only sysadmins may list the catalog"}
	case TypeRepository:
	default:
		return nil, []string{"unknown resource type " + s.Type}
	}
	if s.Name == "" {
		// zot asks repository::pull (empty name) for /v2/_catalog: the
		// catalog, which only sysadmins may list, and only read.
		if subj.Admin {
			return set(ActionPull), []string{"sysadmin (the catalog, as zot asks for it: pull only)"}
		}
		return nil, []string{"the catalog (repository with an empty name): only sysadmins may list it"}
	}
	if subj.Admin {
		return set(ActionPull, ActionPush, ActionDelete), []string{"sysadmin"}
	}
	project, ok := ProjectOf(s.Name)
	if !ok {
		return nil, []string{"repository " + s.Name + " is in no project: only sysadmins may use it"}
	}
	pa, exists := access[project]
	if !exists {
		return nil, []string{"project " + project + " does not exist"}
	}
	path := RepoPath(s.Name)
	if subj.Robot != nil {
		allowed, reasons := robotActions(subj, project, path, pa)
		return allowed, a.applyPolicy(subj, project, path, pa, allowed, reasons)
	}
	allowed := map[string]bool{}
	var reasons []string
	if pa.Public {
		allowed[ActionPull] = true
		reasons = append(reasons, "project "+project+" is public (pull)")
	}
	for _, g := range pa.Grants {
		acts := RoleActions(g.Role)
		for _, act := range acts {
			allowed[act] = true
		}
		via := "directly"
		if g.Group != "" {
			via = "through group " + g.Group
		}
		reasons = append(reasons, fmt.Sprintf("role %s in project %s %s (%s)", g.Role, project, via, strings.Join(acts, ",")))
	}
	if len(reasons) == 0 {
		if subj.Anonymous {
			reasons = append(reasons, "project "+project+" is "+string(store.VisibilityOf(pa.Public, pa.Internal))+" and the request is anonymous")
		} else {
			reasons = append(reasons, subj.Name+" is not a member of project "+project)
		}
	}
	return allowed, a.applyPolicy(subj, project, path, pa, allowed, reasons)
}

// robotActions is what a robot may do in an existing project: the actions
// of its permissions for that project and for every project ("*"), plus
// pull on a public project, which anyone, anonymous included, has.
func robotActions(subj Subject, project, path string, pa store.ProjectAccess) (map[string]bool, []string) {
	allowed := map[string]bool{}
	var reasons []string
	if pa.Public {
		allowed[ActionPull] = true
		reasons = append(reasons, "project "+project+" is public (pull)")
	}
	if rs := subj.Robot.Repos; len(rs) > 0 && !slices.ContainsFunc(rs, func(p string) bool { return MatchRepos(p, path) }) {
		return allowed, append(reasons, fmt.Sprintf("robot %s is limited to repositories %s of its project: %s matches none",
			subj.Name, strings.Join(rs, ", "), path))
	}
	held := false
	for _, p := range subj.Robot.Permissions {
		if p.Project != store.SystemRobotProject && p.Project != project {
			continue
		}
		held = true
		for _, act := range p.Actions {
			if act == ActionPull || act == ActionPush || act == ActionDelete {
				allowed[act] = true
			}
		}
		scope := "project " + project
		if p.Project == store.SystemRobotProject {
			scope = "every project"
		}
		reasons = append(reasons, fmt.Sprintf("robot %s holds %s on %s", subj.Name, strings.Join(p.Actions, ","), scope))
	}
	if allowed[ActionPush] {
		allowed[ActionPull] = true // push implies pull
	}
	if !held {
		reasons = append(reasons, fmt.Sprintf("robot %s holds nothing on project %s", subj.Name, project))
	}
	return allowed, reasons
}

// intersect returns the requested actions that are allowed, in request
// order. A requested "*" stands for every repository action: it is granted
// as the allowed ones among delete, pull and push, listed, never as "*",
// because verifiers other than distribution's (zot) take "*" literally and
// Harbor lists them too. Only registry:catalog:* grants a literal "*".
func intersect(requested []string, allowed map[string]bool) []string {
	granted := []string{}
	if allowed[ActionAll] {
		for _, r := range requested {
			if r == ActionAll {
				return []string{ActionAll}
			}
		}
		return granted
	}
	for _, r := range requested {
		if r == ActionAll {
			for _, a := range []string{ActionDelete, ActionPull, ActionPush} {
				if allowed[a] {
					granted = appendUnique(granted, a)
				}
			}
			continue
		}
		if allowed[r] {
			granted = appendUnique(granted, r)
		}
	}
	return granted
}

func set(items ...string) map[string]bool {
	m := make(map[string]bool, len(items))
	for _, it := range items {
		m[it] = true
	}
	return m
}
