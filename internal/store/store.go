package store

import (
	"context"
	"errors"
	"strings"
	"time"
)

// Sentinel errors. Every backend returns these (possibly wrapped with %w) so
// callers can use errors.Is. Any other error from a Store method means the
// backend itself failed (unreachable, timed out, corrupt), wraps
// ErrUnavailable, and is reported to clients as 503, never as 401.
var (
	// ErrUnavailable marks a failure of the database itself.
	ErrUnavailable = errors.New("store unavailable")
	// ErrNotFound means the named user, project, group or member does not exist.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists means a unique name (user, project, group, membership) is taken.
	ErrAlreadyExists = errors.New("already exists")
)

// Role is a project role, as in Harbor. The stored form is the canonical
// camel-case spelling below.
type Role string

// The five Harbor project roles.
const (
	RoleProjectAdmin Role = "projectAdmin"
	RoleMaintainer   Role = "maintainer"
	RoleDeveloper    Role = "developer"
	RoleGuest        Role = "guest"
	RoleLimitedGuest Role = "limitedGuest"
)

// Roles lists every valid role, most powerful first.
var Roles = []Role{RoleProjectAdmin, RoleMaintainer, RoleDeveloper, RoleGuest, RoleLimitedGuest}

// ParseRole matches a role name case-insensitively. The error names the valid roles.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles {
		if strings.EqualFold(s, string(r)) {
			return r, nil
		}
	}
	names := make([]string, len(Roles))
	for i, r := range Roles {
		names[i] = string(r)
	}
	return "", errors.New("unknown role " + quote(s) + ": valid roles are " + strings.Join(names, ", "))
}

func quote(s string) string { return "\"" + s + "\"" }

// User sources.
const (
	SourceLocal = "local" // created with `user add`, password checked with bcrypt
	SourceLDAP  = "ldap"  // onboarded on first LDAP login; no local password
	SourceOIDC  = "oidc"  // onboarded on first SSO sign-in (bound to issuer and sub); no local password
)

// User is a human account.
type User struct {
	ID          int64
	Name        string // unique, case-sensitive login name
	Email       string
	DisplayName string
	// Comment is free text for operators (Harbor's user comment).
	Comment      string
	PasswordHash string // bcrypt hash; empty for LDAP users
	Admin        bool   // sysadmin: may do everything
	Disabled     bool   // a disabled user cannot log in (401)
	Source       string // SourceLocal or SourceLDAP
	// AllowFrom are the networks (CIDRs) the user's logins may come from,
	// whatever the credential (password, personal access token, refresh
	// token); none: anywhere. Written by SetUserAllowFrom only.
	AllowFrom []string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Project is Harbor's project: the first path component of repository names.
type Project struct {
	ID     int64
	Name   string
	Public bool // public projects give pull to everyone, anonymous included
	// Internal projects give pull to every authenticated user, robots of
	// other projects excluded; never set with Public. Written by
	// SetProjectVisibility (CreateProject writes it too).
	Internal bool
	// OwnerID is the user who created it (Harbor's owner_id), 0 for none
	// (made by the CLI or an import, or its creator is gone); OwnerName is
	// that user's name, filled in by reads.
	OwnerID   int64
	OwnerName string
	// Source is ProjectSourceLocal (empty) or ProjectSourceHarbor: made by
	// an import of a Harbor database.
	Source    string
	CreatedAt time.Time
}

// Project sources.
const (
	ProjectSourceLocal  = "local"
	ProjectSourceHarbor = "harbor"
)

// Group is a set of users that can hold project roles. Local groups list their
// users in the store; LDAP groups (DN set) get their members from the
// directory at login time.
type Group struct {
	ID   int64
	Name string // unique
	DN   string // LDAP distinguished name, empty for local groups; unique when set
	// OIDC marks a group of Harbor's OIDC type (group_type 3): Name is a
	// value of the provider's groups claim; its members are replaced at
	// each sign-in of a user (SyncOIDCUser). Never with DN.
	OIDC      bool
	CreatedAt time.Time
}

// MemberKind says whether a membership names a user or a group.
type MemberKind string

// Member kinds.
const (
	MemberUser  MemberKind = "user"
	MemberGroup MemberKind = "group"
)

// Member is one role held in one project by a user or a group.
type Member struct {
	// ID is the membership's own ID (the REST API's member id); filled in
	// by ListMembers, ignored by SetMember.
	ID      int64
	Project string
	Kind    MemberKind
	Name    string // user name or group name
	// EntityID is the user's or group's ID; filled in by ListMembers.
	EntityID int64
	Role     Role
}

// Principal is whoever asks, as the permission query needs it.
type Principal struct {
	UserID int64 // 0 for anonymous
	// RobotID is a robot's ID (0 for a user or anonymous): its rules.
	RobotID int64
	// Authenticated is false for anonymous: rules for every authenticated
	// caller apply only when it is set.
	Authenticated bool
	// GroupDNs are LDAP group DNs the user belongs to according to the
	// directory. Callers need not lower-case them: backends compare them
	// with NormalizeDN. Local group membership is looked up by the store
	// itself from UserID.
	GroupDNs []string
}

// NormalizeDN is the form in which backends store, index and compare group
// DNs: DNs are matched case-insensitively (lower-cased with Go's Unicode
// rules, the same for every backend).
func NormalizeDN(dn string) string { return strings.ToLower(dn) }

// Grant is one role a principal holds in a project, and how.
type Grant struct {
	Role  Role
	Group string // empty when held directly by the user, else the group's name
}

// ProjectAccess is what a principal holds in one project.
type ProjectAccess struct {
	Name     string
	Public   bool
	Internal bool
	Grants   []Grant // empty for anonymous or non-members
	// Rules are the repository rules of the project whose subject is the
	// principal (its user, one of its groups, its robot, or every
	// authenticated caller when Principal.Authenticated), ordered by ID.
	Rules []RuleGrant
}

// Users manages user accounts.
type Users interface {
	// CreateUser inserts u (ID, CreatedAt, UpdatedAt are set by the store and
	// written back; an empty Source is stored, and written back, as
	// SourceLocal). ErrAlreadyExists when the name is taken.
	CreateUser(ctx context.Context, u *User) error
	// GetUser finds a user by exact name. ErrNotFound when missing.
	GetUser(ctx context.Context, name string) (User, error)
	// GetUserByID finds a user by ID (the REST API's user_id). ErrNotFound
	// when missing.
	GetUserByID(ctx context.Context, id int64) (User, error)
	// ListUsers returns all users ordered by name.
	ListUsers(ctx context.Context) ([]User, error)
	// PageUsers returns one page of users (see ListQuery; fields FieldID,
	// FieldName, FieldEmail, FieldRealName, FieldAdmin, FieldCreated and
	// FieldUpdated; by name without a Sort) and how many meet q's filters.
	PageUsers(ctx context.Context, q ListQuery) ([]User, int, error)
	// UpdateUser rewrites Email, DisplayName, Comment, PasswordHash, Admin,
	// Disabled and Source of the user with u.Name. ErrNotFound when missing.
	UpdateUser(ctx context.Context, u User) error
	// ModifyUser reads the user named name, calls fn with it and writes back
	// what fn returns (the fields UpdateUser writes; ID, Name and CreatedAt
	// stay), in ONE transaction that keeps the row locked from the read to
	// the write: concurrent modifications apply one after the other and
	// none is lost. It returns the user as written. An error from fn is
	// returned unchanged and nothing is written. ErrNotFound when missing.
	ModifyUser(ctx context.Context, name string, fn func(User) (User, error)) (User, error)
	// DeleteUser removes the user and its memberships. ErrNotFound when missing.
	DeleteUser(ctx context.Context, name string) error
	// CountUsers returns the number of users (used to bootstrap the admin).
	CountUsers(ctx context.Context) (int, error)
	// CountAdmins returns the number of enabled sysadmins (Admin and not
	// Disabled): the last one is never removed.
	CountAdmins(ctx context.Context) (int, error)
}

// Projects manages projects.
type Projects interface {
	// CreateProject inserts p (ID and CreatedAt are set by the store and
	// written back; an empty Source is stored, and written back, as
	// ProjectSourceLocal; OwnerName is written back). ErrAlreadyExists when
	// the name is taken, ErrNotFound when OwnerID is set and no such user
	// exists.
	CreateProject(ctx context.Context, p *Project) error
	// CountOwnedProjects returns the number of projects userID owns.
	CountOwnedProjects(ctx context.Context, userID int64) (int, error)
	// ProjectMetadata returns the metadata of the project with id (Harbor's
	// string values by key; never "public", which is Project.Public), an
	// empty map when it has none. ErrNotFound when the project is missing.
	ProjectMetadata(ctx context.Context, id int64) (map[string]string, error)
	// ReserveProjectName keeps the name of a project being deleted, so that
	// ProjectNameReserved reports it until ReleaseProjectName; reserving a
	// reserved name again is no error.
	ReserveProjectName(ctx context.Context, name string) error
	// ProjectNameReserved reports whether name is reserved.
	ProjectNameReserved(ctx context.Context, name string) (bool, error)
	// ReleaseProjectName forgets a reservation; none is no error.
	ReleaseProjectName(ctx context.Context, name string) error
	// SetProjectMetadata replaces the metadata of the project with id by md.
	// ErrNotFound when the project is missing.
	SetProjectMetadata(ctx context.Context, id int64, md map[string]string) error
	// GetProject finds a project by exact name. ErrNotFound when missing.
	GetProject(ctx context.Context, name string) (Project, error)
	// GetProjectByID finds a project by ID (the REST API's project_id).
	// ErrNotFound when missing.
	GetProjectByID(ctx context.Context, id int64) (Project, error)
	// ListProjects returns all projects ordered by name.
	ListProjects(ctx context.Context) ([]Project, error)
	// PageProjects returns one page of the projects viewer may see (every
	// project when viewer is nil; else the public ones, the internal ones
	// when viewer.Authenticated, and those viewer holds a role in, as
	// ProjectAccess finds roles) and how many of them
	// meet q's filters (see ListQuery; fields FieldID, FieldName,
	// FieldPublic, FieldOwner, FieldOwnerID and FieldCreated; by name
	// without a Sort).
	PageProjects(ctx context.Context, viewer *Principal, q ListQuery) ([]Project, int, error)
	// ProjectsMetadata returns, in one query, the metadata of the projects
	// with ids (as ProjectMetadata) by id; a project without any, or
	// missing, is absent.
	ProjectsMetadata(ctx context.Context, ids []int64) (map[int64]map[string]string, error)
	// SetProjectPublic changes visibility. ErrNotFound when missing.
	SetProjectPublic(ctx context.Context, name string, public bool) error
	// DeleteProject removes the project and its memberships. ErrNotFound when missing.
	DeleteProject(ctx context.Context, name string) error
}

// Groups manages groups and the users of local groups.
type Groups interface {
	// CreateGroup inserts g (ID and CreatedAt are set by the store and
	// written back). ErrAlreadyExists when the name, or the DN compared
	// case-insensitively, is taken.
	CreateGroup(ctx context.Context, g *Group) error
	// GetGroup finds a group by name, or by DN (case-insensitive) when no
	// group has that name. ErrNotFound when missing.
	GetGroup(ctx context.Context, nameOrDN string) (Group, error)
	// GetGroupByID finds a group by ID (the REST API's group_id).
	// ErrNotFound when missing.
	GetGroupByID(ctx context.Context, id int64) (Group, error)
	// ListGroups returns all groups ordered by name.
	ListGroups(ctx context.Context) ([]Group, error)
	// PageGroups returns one page of groups (see ListQuery; fields FieldID,
	// FieldName, FieldDN and FieldCreated; by name without a Sort) and how
	// many meet q's filters.
	PageGroups(ctx context.Context, q ListQuery) ([]Group, int, error)
	// DeleteGroup removes the group, its users and its memberships.
	// ErrNotFound when missing.
	DeleteGroup(ctx context.Context, name string) error
	// AddGroupUser puts a user in a local group. ErrNotFound when either is
	// missing, ErrAlreadyExists when already in it.
	AddGroupUser(ctx context.Context, group, user string) error
	// RemoveGroupUser takes a user out of a group. ErrNotFound when not in it.
	RemoveGroupUser(ctx context.Context, group, user string) error
	// ListGroupUsers returns the names of a local group's users, ordered.
	// ErrNotFound when the group is missing.
	ListGroupUsers(ctx context.Context, group string) ([]string, error)
	// UserGroups returns the names of the local groups a user is in, ordered.
	// ErrNotFound when the user is missing.
	UserGroups(ctx context.Context, user string) ([]string, error)
}

// Members manages project memberships.
type Members interface {
	// SetMember gives m.Name (a user or group, per m.Kind) role m.Role in
	// m.Project, replacing any role it held there. ErrNotFound when the
	// project, user or group is missing; a plain error when m.Kind or m.Role
	// is not one of the defined values.
	SetMember(ctx context.Context, m Member) error
	// AddMember gives m.Name (a user or group, per m.Kind) role m.Role in
	// m.Project, which it must not hold yet: ErrAlreadyExists when it does.
	// The membership's ID and EntityID are written back. ErrNotFound when
	// the project, user or group is missing.
	AddMember(ctx context.Context, m *Member) error
	// GetMember finds a membership by its ID (the REST API's member id).
	// ErrNotFound when missing.
	GetMember(ctx context.Context, id int64) (Member, error)
	// RemoveMember removes the membership. ErrNotFound when there is none.
	RemoveMember(ctx context.Context, project string, kind MemberKind, name string) error
	// ListMembers lists a project's members, users first then groups, each
	// ordered by name. ErrNotFound when the project is missing.
	ListMembers(ctx context.Context, project string) ([]Member, error)
	// PageMembers returns one page of a project's members (see ListQuery;
	// fields FieldID, the membership's, FieldName, FieldRole and FieldKind;
	// as ListMembers without a Sort) and how many meet q's filters.
	// ErrNotFound when the project is missing.
	PageMembers(ctx context.Context, project string, q ListQuery) ([]Member, int, error)
	// GroupProjects returns the names of the projects in which the group
	// with groupID holds a role, ordered (none for a missing group).
	GroupProjects(ctx context.Context, groupID int64) ([]string, error)
}

// Access answers the one question on the token hot path.
type Access interface {
	// ProjectAccess returns, for each of the named projects that exists, its
	// visibility, the roles p holds in it directly, through a local group,
	// or through one of p.GroupDNs, and the repository rules about p. Projects that do not exist are absent
	// from the map (so an empty list gives an empty map). Grants list the
	// direct grant first, then group grants ordered by group name; a group
	// reached both locally and by DN appears once. It is ONE indexed query
	// whatever the number of projects.
	ProjectAccess(ctx context.Context, p Principal, projects []string) (map[string]ProjectAccess, error)
}

// PolicyVersions tells a cache of the token path's reads that what it
// keeps changed.
type PolicyVersions interface {
	// PolicyVersion returns a counter that every committed change to what
	// Users.GetUser, Robots.GetRobot or Access.ProjectAccess answer (a
	// project created, renamed, deleted, made public or private; a user,
	// robot, membership, group, group member or repository rule written)
	// has increased, whoever made it (triggers in the database: other
	// processes and replicas included; migrations 0060, 0061). One
	// primary-key read.
	PolicyVersion(ctx context.Context) (int64, error)
}

// Store is the whole storage backend.
type Store interface {
	Users
	Projects
	Groups
	Members
	Access
	Rules
	PolicySettings
	PolicyVersions
	Audit
	AuditPages
	Credentials
	Directory
	SSO
	Throttles
	// Atomically runs fn in one transaction: what fn writes through tx,
	// a Store on that transaction, is all kept when fn returns nil and all
	// discarded when it returns an error (returned unchanged) or the
	// commit fails. internal/admin writes each change with its audit
	// record this way: both or neither. Inside fn, read and write through
	// tx only (on SQLite a write through the outer Store waits for the
	// transaction's lock and fails), do no slow work (the transaction
	// holds write locks), and neither keep nor Close tx. tx.Atomically runs
	// in the same transaction; tx.AppendAudit inserts in it (no COPY).
	Atomically(ctx context.Context, fn func(tx Store) error) error
	// Exclusively is Atomically under the lock named name: every process
	// on the same database running Exclusively with that name waits for
	// the transaction to end first (PostgreSQL: an advisory transaction
	// lock, released at commit, rollback or when the session dies; SQLite:
	// the write lock every transaction takes at BEGIN). For rare work that
	// must happen once across replicas, such as creating the bootstrap
	// admin; unlike Atomically's, fn may take its time (a bcrypt), since
	// what it holds is meant to make others wait.
	Exclusively(ctx context.Context, name string, fn func(tx Store) error) error
	// Ping checks that the backend answers.
	Ping(ctx context.Context) error
	// Close releases connections.
	Close() error
}
