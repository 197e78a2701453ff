package store

import (
	"context"
	"time"
)

// Policy beyond Harbor's project model (issue 24): repository rules inside
// a project, internal visibility, and conditions and lifetimes on
// credentials. Data that uses none of it means what it meant before.

// Visibility is who may pull from a project without a role in it.
type Visibility string

// The three visibilities: Harbor's private and public, and internal (any
// authenticated user, robots of other projects excluded).
const (
	VisibilityPrivate  Visibility = "private"
	VisibilityInternal Visibility = "internal"
	VisibilityPublic   Visibility = "public"
)

// VisibilityOf is the visibility of a project with Harbor's public flag and
// the internal flag.
func VisibilityOf(public, internal bool) Visibility {
	switch {
	case public:
		return VisibilityPublic
	case internal:
		return VisibilityInternal
	}
	return VisibilityPrivate
}

// RuleSubject is whom a repository rule is about.
type RuleSubject string

// Rule subjects.
const (
	RuleUser          RuleSubject = "user"
	RuleGroup         RuleSubject = "group"
	RuleRobot         RuleSubject = "robot"
	RuleAuthenticated RuleSubject = "authenticated"
)

// Rule is a repository rule: inside Project, on the repositories whose path
// in the project matches Repos, Actions are granted (allow) or removed
// (Deny) for the subject.
type Rule struct {
	ID      int64
	Project string
	// Repos is a glob over the repository path inside the project ("app-*",
	// "base/**"; see authz.MatchRepos).
	Repos   string
	Subject RuleSubject
	// Name is the user's, group's or robot's (stored, without prefix) name;
	// "" for RuleAuthenticated.
	Name string
	// Actions are among pull, push, delete, in that order.
	Actions   []string
	Deny      bool
	CreatedAt time.Time
}

// RuleGrant is a rule that applies to the principal asking, as the
// permission query returns it (ProjectAccess).
type RuleGrant struct {
	ID      int64
	Repos   string
	Actions []string
	Deny    bool
	Subject RuleSubject
	Name    string
}

// Rules stores repository rules. Deleting the project or the subject
// deletes its rules.
type Rules interface {
	// CreateRule inserts r (ID and CreatedAt written back). ErrNotFound when
	// the project or the named subject is missing, ErrAlreadyExists when
	// the same rule (project, repos, subject, actions, effect) exists.
	CreateRule(ctx context.Context, r *Rule) error
	// ListRules returns a project's rules ordered by ID; "" lists every
	// project's, by project name then ID. ErrNotFound when the project is
	// missing.
	ListRules(ctx context.Context, project string) ([]Rule, error)
	// DeleteRule removes rule id of project. ErrNotFound when the project
	// has no such rule.
	DeleteRule(ctx context.Context, project string, id int64) error
}

// PolicySettings are the settings of issue 24 kept on projects, users and
// credentials, written by their own methods so that the writes of the
// Harbor model stay as they were.
type PolicySettings interface {
	// SetProjectVisibility sets the project's visibility (Public and
	// Internal). ErrNotFound when missing.
	SetProjectVisibility(ctx context.Context, name string, v Visibility) error
	// SetUserAllowFrom sets the networks a user's logins may come from
	// (CIDRs; none: anywhere). ErrNotFound when missing.
	SetUserAllowFrom(ctx context.Context, name string, cidrs []string) error
}
