package authz

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/authserver/authserver/internal/store"
)

// Options are the policy settings beyond Harbor's model (issue 24) that the
// authorizer applies.
type Options struct {
	// CreateOnPush is projects.create_on_push: a user who may create
	// projects and asks to push into one that does not exist gets it
	// created (by Creator) and the push granted.
	CreateOnPush bool
	// PersonalTemplate is projects.personal_template ("u-{username}"; ""
	// is off): every user may pull and push in the project it names for
	// them (PersonalProject), created on first push.
	PersonalTemplate string
	// Creator creates the projects above. Nil (explain) creates nothing:
	// the reasons say what a real push would create.
	Creator ProjectCreator
}

// ProjectCreator creates a project for a subject who asks to push into it
// (internal/admin implements it, with its admin audit record).
type ProjectCreator interface {
	// CreateOnPush creates project for subj, who becomes its projectAdmin.
	// personal says it is subj's personal project (made whatever
	// api.project_creation says). refused, when not "", says why subj may
	// not create it (no error); an error is an infrastructure failure. A
	// project that exists meanwhile is no error.
	CreateOnPush(ctx context.Context, subj Subject, project string, personal bool) (refused string, err error)
}

// UsernamePlaceholder is what PersonalTemplate replaces with the user name.
const UsernamePlaceholder = "{username}"

// PersonalProject is the name of user's personal project under template:
// the placeholder replaced with the lower-cased user name. ok is false when
// template is empty or the result is no valid project name (a user name
// with characters a repository path may not hold).
func PersonalProject(template, user string) (string, bool) {
	if template == "" || user == "" {
		return "", false
	}
	name := strings.ReplaceAll(template, UsernamePlaceholder, strings.ToLower(user))
	if len(name) > 255 || !isPathComponent(name) {
		return "", false
	}
	return name, true
}

// PersonalNamespace reports whether project has the form of a personal
// project under template (the placeholder standing for a non-empty
// name): create on push leaves such names to their users.
func PersonalNamespace(template, project string) bool {
	if template == "" {
		return false
	}
	prefix, suffix, _ := strings.Cut(template, UsernamePlaceholder)
	return len(project) > len(prefix)+len(suffix) && strings.HasPrefix(project, prefix) && strings.HasSuffix(project, suffix)
}

// ValidPersonalTemplate checks projects.personal_template: empty, or the
// placeholder inside an otherwise valid project name.
func ValidPersonalTemplate(template string) error {
	if template == "" {
		return nil
	}
	if !strings.Contains(template, UsernamePlaceholder) {
		return fmt.Errorf("%q: want %s in it", template, UsernamePlaceholder)
	}
	if _, ok := PersonalProject(template, "user"); !ok {
		return fmt.Errorf("%q: not a valid project name once %s is replaced", template, UsernamePlaceholder)
	}
	return nil
}

// MaxPatternLength bounds a repository pattern.
const MaxPatternLength = 255

// ValidRepoPattern checks a repository pattern: path components of the
// repository grammar in which '*' stands for any run of characters inside
// one component and a whole component "**" for any number (one or more) of
// components.
func ValidRepoPattern(p string) error {
	if p == "" || len(p) > MaxPatternLength {
		return fmt.Errorf("repository pattern %q: want 1 to %d characters", p, MaxPatternLength)
	}
	for _, c := range strings.Split(p, "/") {
		if c == "**" {
			continue
		}
		if c == "" || strings.Contains(c, "**") || !isPathComponent(strings.NewReplacer("*", "a").Replace(c)) && strings.Trim(c, "*") != "" {
			return fmt.Errorf("repository pattern %q: want components of [a-z0-9._-] with '*' inside one component, or '**' for any depth, "+
				"joined by '/'", p)
		}
	}
	return nil
}

// MatchRepos reports whether path, a repository's path inside its project
// ("app/web" for "team/app/web"), matches pattern: '*' matches any run of
// characters but '/', a whole component "**" one or more components.
func MatchRepos(pattern, path string) bool {
	pc, rest, more := strings.Cut(pattern, "/")
	if pc == "**" {
		if !more { // trailing **: one or more components left
			return path != ""
		}
		// ** takes one component, then either stops or takes more.
		_, after, ok := strings.Cut(path, "/")
		for ok {
			if MatchRepos(rest, after) {
				return true
			}
			_, after, ok = strings.Cut(after, "/")
		}
		return false
	}
	c, prest, pmore := strings.Cut(path, "/")
	if more != pmore || !matchComponent(pc, c) {
		return false
	}
	return !more || MatchRepos(rest, prest)
}

// matchComponent matches one component against a pattern where '*' is any
// run of characters.
func matchComponent(p, s string) bool {
	star, next := -1, 0
	i, j := 0, 0
	for j < len(s) {
		switch {
		case i < len(p) && p[i] == '*':
			star, next = i, j
			i++
		case i < len(p) && p[i] == s[j]:
			i++
			j++
		case star >= 0:
			next++
			i, j = star+1, next
		default:
			return false
		}
	}
	for i < len(p) && p[i] == '*' {
		i++
	}
	return i == len(p)
}

// RepoPath is the path of a repository inside its project: what follows
// the project component (after any host:port prefix).
func RepoPath(repo string) string {
	first, rest, _ := strings.Cut(repo, "/")
	if strings.Contains(first, ":") {
		_, rest, _ = strings.Cut(rest, "/")
	}
	return rest
}

// belongs reports whether robot r may be counted among a project's own:
// a project robot of project, or a system robot whose permissions name
// project or every project. Internal projects and rules for every
// authenticated caller count only these robots.
func (r *RobotPermissions) belongs(project string) bool {
	for _, p := range r.Permissions {
		if p.Project == project || p.Project == store.SystemRobotProject {
			return true
		}
	}
	return false
}

// ruleActions normalises a rule's actions: pull, push, delete, each once,
// in that order; for an allow rule push implies pull (the registry asks
// both for a push). An empty list or another action is an error.
func RuleActions(actions []string, deny bool) ([]string, error) {
	have := map[string]bool{}
	for _, a := range actions {
		switch a = strings.ToLower(strings.TrimSpace(a)); a {
		case "":
		case ActionPull, ActionPush, ActionDelete:
			have[a] = true
		default:
			return nil, fmt.Errorf("rule action %q: want pull, push or delete", a)
		}
	}
	if have[ActionPush] && !deny {
		have[ActionPull] = true
	}
	var out []string
	for _, a := range []string{ActionPull, ActionPush, ActionDelete} {
		if have[a] {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("rule actions: give at least one of pull, push, delete")
	}
	return out, nil
}

// applyPolicy adds to allowed what internal visibility, a personal
// project and allow rules grant on repository path of project, and takes
// away what deny rules remove, with the reasons.
func (a *Authorizer) applyPolicy(subj Subject, project, path string, pa store.ProjectAccess, allowed map[string]bool, reasons []string) []string {
	robotOutside := subj.Robot != nil && !subj.Robot.belongs(project)
	if pa.Internal && !subj.Anonymous && !robotOutside && !pa.Public {
		allowed[ActionPull] = true
		reasons = append(reasons, "project "+project+" is internal: any authenticated user pulls")
	}
	if subj.Robot == nil && !subj.Anonymous {
		if p, ok := PersonalProject(a.opt.PersonalTemplate, subj.Name); ok && p == project {
			allowed[ActionPull], allowed[ActionPush] = true, true
			reasons = append(reasons, "project "+project+" is "+subj.Name+"'s personal project (projects.personal_template: pull,push)")
		}
	}
	var denied []string
	for _, r := range pa.Rules {
		if r.Subject == store.RuleAuthenticated && (subj.Anonymous || robotOutside) {
			continue
		}
		if !MatchRepos(r.Repos, path) {
			continue
		}
		what := fmt.Sprintf("rule %d (%s %s on %s: %s)", r.ID, effect(r.Deny), ruleSubject(r), r.Repos, strings.Join(r.Actions, ","))
		if r.Deny {
			denied = append(denied, r.Actions...)
			reasons = append(reasons, what+" removes "+strings.Join(r.Actions, ","))
			continue
		}
		for _, act := range r.Actions {
			allowed[act] = true
		}
		reasons = append(reasons, what+" grants "+strings.Join(r.Actions, ","))
	}
	for _, act := range denied {
		delete(allowed, act)
	}
	return reasons
}

func effect(deny bool) string {
	if deny {
		return "deny"
	}
	return "allow"
}

func ruleSubject(r store.RuleGrant) string {
	if r.Subject == store.RuleAuthenticated {
		return "every authenticated caller"
	}
	return string(r.Subject) + " " + r.Name
}
