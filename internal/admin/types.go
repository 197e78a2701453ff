package admin

import (
	"github.com/authserver/authserver/internal/authn/secret"
	"github.com/authserver/authserver/internal/authz"
	"github.com/authserver/authserver/internal/store"
)

// The types and values admin's operations take and return, named here so
// that a transport (cmd/authserver) speaks to admin alone: they are the
// store's and the authorizer's own, not copies.
type (
	User            = store.User
	Project         = store.Project
	Member          = store.Member
	MemberKind      = store.MemberKind
	Role            = store.Role
	RobotPermission = store.RobotPermission
	TrustPolicy     = store.TrustPolicy
	ClaimCondition  = store.ClaimCondition
	PersonalToken   = store.PersonalToken
	RefreshToken    = store.RefreshToken
	AuditFilter     = store.AuditFilter
	AuditRecord     = store.AuditRecord
	Decision        = authz.Decision
	// The policy beyond Harbor's model (policy.go).
	Rule        = store.Rule
	RuleSubject = store.RuleSubject
	Visibility  = store.Visibility
)

// Values of those types.
const (
	// SystemRobotProject is a system robot's project ("*"), and a
	// permission's for every project.
	SystemRobotProject = store.SystemRobotProject
	MemberUser         = store.MemberUser
	MemberGroup        = store.MemberGroup
	SourceLDAP         = store.SourceLDAP
	AuditKindAdmin     = store.AuditKindAdmin
	RuleUser           = store.RuleUser
	RuleGroup          = store.RuleGroup
	RuleRobot          = store.RuleRobot
	RuleAuthenticated  = store.RuleAuthenticated
	VisibilityPrivate  = store.VisibilityPrivate
	VisibilityInternal = store.VisibilityInternal
	VisibilityPublic   = store.VisibilityPublic
)

// ParseRole matches a role name case-insensitively (store.ParseRole).
func ParseRole(s string) (Role, error) {
	r, err := store.ParseRole(s)
	if err != nil {
		return r, invalid(err)
	}
	return r, nil
}

// ValidScopes checks scope strings as a client sends them, as the token
// endpoint parses them (authz.ParseScopes).
func ValidScopes(scopes []string) error {
	if _, err := authz.ParseScopes(scopes); err != nil {
		return invalid(err)
	}
	return nil
}

// PasswordKind is the kind of u's stored hash, as the CLI lists it:
// bcrypt, an imported Harbor hash until its first login, or none.
func PasswordKind(u User) string { return secret.HashKind(u.PasswordHash) }
