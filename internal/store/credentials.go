package store

import (
	"context"
	"time"
)

// Credentials that stand in for a password: refresh tokens (docker login's
// identity token), robot accounts and personal access tokens. Their secrets
// are never stored, only a hash. A refresh token or a personal access
// token is found by its hash (authn.HashSecret, in a unique, indexed
// column: ONE lookup, never a scan). A robot is found by its name, never by
// its secret: its hash is checked against that one row, and two robots may
// have the same one.

// MaxRefreshTokensPerUser bounds the refresh tokens one user keeps: every
// `docker login` makes one, and nothing else would ever remove them. When a
// new one is created beyond the bound, the least recently used go.
const MaxRefreshTokensPerUser = 100

// SystemRobotProject is Robot.Project for a system robot, and
// RobotPermission.Project for an entry that covers every project.
const SystemRobotProject = "*"

// RefreshToken is a long-lived credential handed to a client that asked for
// offline access; the client trades it for access tokens (grant_type
// refresh_token) without sending the password again.
type RefreshToken struct {
	ID     int64
	UserID int64
	// User is the user's name; filled in by reads, ignored by Create.
	User string
	// Hash identifies the secret (hex SHA-256, see authn.HashSecret); unique.
	Hash string
	// Service is the token service (registry) it was issued for; a refresh
	// grant for another service is refused.
	Service string
	// ClientID is the OAuth2 client_id given when it was issued ("docker").
	ClientID string
	// CreatedAt is when it was issued; LastUsedAt when it last bought an
	// access token (equal to CreatedAt until then). The store keeps both at
	// microsecond precision.
	CreatedAt  time.Time
	LastUsedAt time.Time
	// PasswordVerifiedAt, for a token minted from a directory (LDAP)
	// password, is when the directory last verified that password with a
	// bind (earlier than CreatedAt when the login was answered from the
	// credential cache): a password change after it revokes the token.
	// Zero otherwise (CreatedAt counts). Microsecond precision.
	PasswordVerifiedAt time.Time
	// SignInID, for a token minted from an SSO sign-in (the device flow),
	// is that sign-in (SignIn.ID); 0 otherwise. ExpiresAt is then the
	// sign-in's ExpiresAt: the token stops working at it, however often it
	// is used. Zero ExpiresAt: refresh_tokens.max_lifetime alone bounds it.
	SignInID  int64
	ExpiresAt time.Time
}

// PasswordBasis is the time a password change must come after to revoke
// a token: PasswordVerifiedAt when set, else created.
func PasswordBasis(verified, created time.Time) time.Time {
	if !verified.IsZero() {
		return verified
	}
	return created
}

// Robot is a Harbor-style robot account: a machine credential with explicit
// actions, per project, in Permissions. A project robot acts on its own
// project only; a system robot on the projects its permissions name, or on
// every project with an entry for SystemRobotProject.
type Robot struct {
	ID int64
	// Name is the robot's name WITHOUT the configurable prefix: "team+ci"
	// for a project robot (project "team", name "ci"), "ci" for a system
	// robot. The login name is prefix + Name ("robot$team+ci"). Unique.
	Name string
	// Project is the project robot's project, or SystemRobotProject for a
	// system robot (an explicit flag, set when it is created with
	// SystemRobotProject). Deleting the project deletes its robots; a
	// project robot whose project is nevertheless gone reads as "" and
	// authentication refuses it: losing a project never makes a robot a
	// system robot.
	Project string
	// Permissions are what the robot may do, at most one entry per
	// project, ordered by project name (SystemRobotProject first). A
	// project robot has exactly one, for its own project; a system robot
	// at least one when written. Deleting a project deletes the entries
	// naming it, so a system robot can read back with none: it then holds
	// nothing and authentication refuses it (never every project).
	Permissions []RobotPermission
	// SystemAccess are a system robot's access entries of Harbor's kind
	// "system" (namespace "/": Harbor's own audit logs, users, ...), kept
	// as given so they read back, in order; they grant nothing at the token
	// endpoint. A project robot has none.
	SystemAccess []RobotAccess
	// Description is free text for operators.
	Description string
	// SecretHash is the stored form of the current secret (authn.VerifySecret
	// checks it), not unique. It is "" for a federated robot (Trust set),
	// which has no secret.
	SecretHash string
	// Trust, when set, makes this a federated robot: it logs in with a JWT
	// from Trust.Issuer whose claims meet Trust.Conditions, never with a
	// secret. A robot has exactly one of SecretHash and Trust.
	Trust *TrustPolicy
	// Disabled robots cannot log in.
	Disabled bool
	// ExpiresAt is when the robot stops working; zero means never.
	ExpiresAt time.Time
	// Repos, for a project robot, limit its permissions to the
	// repositories whose path in the project matches one of these globs
	// (authz.MatchRepos); none: every repository of the project.
	Repos []string
	// AllowFrom are the networks (CIDRs) its logins may come from; none:
	// anywhere.
	AllowFrom []string
	// TokenLifetime, when set, is the lifetime of its tokens instead of
	// the configured one (capped by token.max_expiration). Whole seconds.
	TokenLifetime time.Duration
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Expired reports whether the robot has expired at now: from its ExpiresAt
// on (an expiry at exactly now has passed), never when ExpiresAt is zero.
func (r Robot) Expired(now time.Time) bool { return expired(r.ExpiresAt, now) }

// RobotPermission is what a robot may do in one project.
type RobotPermission struct {
	// Project is a project name, or SystemRobotProject for every project
	// (system robots only).
	Project string
	// Actions are the repository actions (pull, push, delete), in that
	// order, push always with pull.
	Actions []string
	// Other are the access entries given beside Actions that are not an
	// allowed pull, push or delete on repositories (Harbor's artifact, tag,
	// scan, ... resources), kept as given so they read back, in order. They
	// grant nothing at the token endpoint. An entry has Actions, Other or
	// both.
	Other []RobotAccess
}

// RobotAccess is one of Harbor's access entries of a robot permission.
type RobotAccess struct {
	Resource, Action, Effect string
}

// OneProject is the permissions of a robot holding actions on one project
// (or on every project, for SystemRobotProject).
func OneProject(project string, actions ...string) []RobotPermission {
	return []RobotPermission{{Project: project, Actions: actions}}
}

// TrustPolicy is a federated robot's trust policy: which OIDC issuer it
// trusts and what the JWT's claims must say.
type TrustPolicy struct {
	// Issuer is the name of an issuer in the config's federation.issuers
	// (not its URL, so the URL can change without touching robots).
	Issuer string
	// Conditions must all hold; at least one.
	Conditions []ClaimCondition
}

// ClaimCondition is one condition on a JWT claim.
type ClaimCondition struct {
	// Claim is a top-level claim name ("repository") or, starting with
	// '/', a JSON pointer (RFC 6901) to a nested claim
	// ("/kubernetes.io/namespace").
	Claim string `json:"claim"`
	// Pattern is the exact value, or a glob in which '*' matches any run
	// of characters (no other character is special).
	Pattern string `json:"pattern"`
}

// PersonalToken is a user's personal access token: a secret that works
// wherever the user's password does, with exactly the user's permissions.
type PersonalToken struct {
	ID     int64
	UserID int64
	// User is the owner's name: Create looks the owner up by it; reads fill it.
	User string
	// Name labels the token; unique per user.
	Name string
	// Hash identifies the secret (hex SHA-256); unique.
	Hash string
	// ExpiresAt is when it stops working; zero means never.
	ExpiresAt time.Time
	// AllowFrom are the networks (CIDRs) its logins may come from; none:
	// anywhere (the owner's User.AllowFrom applies as well).
	AllowFrom []string
	CreatedAt time.Time
	// LastUsedAt is when it last authenticated a request; zero if never.
	LastUsedAt time.Time
	// PasswordVerifiedAt is as RefreshToken's: set when the owner created
	// it authenticated by their directory password.
	PasswordVerifiedAt time.Time
	// SignInID is as RefreshToken's: the SSO sign-in the token was made
	// from (in the web page), whose expiry ExpiresAt never passes; 0
	// otherwise.
	SignInID int64
}

// Expired reports whether the token has expired at now, as Robot.Expired.
func (t PersonalToken) Expired(now time.Time) bool { return expired(t.ExpiresAt, now) }

func expired(expiresAt, now time.Time) bool { return !expiresAt.IsZero() && !now.Before(expiresAt) }

// RefreshTokens stores refresh tokens. Deleting a user deletes its tokens,
// and SyncLDAPUser deletes those of an account it retires. Nothing else
// revokes them by itself: which change of a user revokes which credentials
// is one rule, internal/admin's (a password reset or a disable revokes
// refresh and personal tokens, one's own password change refresh tokens),
// applied in the change's transaction with DeleteRefreshTokens and
// DeletePersonalTokens.
type RefreshTokens interface {
	// CreateRefreshToken inserts t for user t.UserID (ID written back; a zero
	// CreatedAt means now, a zero LastUsedAt means CreatedAt, both written
	// back) and then drops the user's tokens beyond MaxRefreshTokensPerUser,
	// least recently used first. ErrNotFound when the user does not exist,
	// ErrAlreadyExists when the hash is taken.
	CreateRefreshToken(ctx context.Context, t *RefreshToken) error
	// GetRefreshToken finds a token by its hash. ErrNotFound when missing.
	GetRefreshToken(ctx context.Context, hash string) (RefreshToken, error)
	// TouchRefreshToken sets LastUsedAt. ErrNotFound when the token is gone.
	TouchRefreshToken(ctx context.Context, id int64, at time.Time) error
	// ListRefreshTokens returns a user's tokens, most recently used first.
	// ErrNotFound when the user is missing.
	ListRefreshTokens(ctx context.Context, user string) ([]RefreshToken, error)
	// DeleteRefreshToken removes token id of user. ErrNotFound when the user
	// has no such token.
	DeleteRefreshToken(ctx context.Context, user string, id int64) error
	// DeleteRefreshTokens removes all of a user's tokens and returns how many
	// there were. ErrNotFound when the user is missing.
	DeleteRefreshTokens(ctx context.Context, user string) (int, error)
}

// Robots stores robot accounts.
type Robots interface {
	// CreateRobot inserts r (ID, CreatedAt and UpdatedAt written back).
	// ErrNotFound when r.Project or a project of r.Permissions is neither
	// SystemRobotProject nor an existing project, ErrAlreadyExists when
	// the name is taken (never for a secret hash another robot has). r
	// must have exactly one of SecretHash and Trust, and permissions as
	// Robot.Permissions says (else an error that is neither sentinel:
	// validating is the caller's job).
	CreateRobot(ctx context.Context, r *Robot) error
	// GetRobot finds a robot by Name (without prefix). ErrNotFound when missing.
	GetRobot(ctx context.Context, name string) (Robot, error)
	// GetRobotByID finds a robot by ID (the REST API's robot_id).
	// ErrNotFound when missing.
	GetRobotByID(ctx context.Context, id int64) (Robot, error)
	// ListRobots returns robots ordered by name: all of them when project is
	// "", system robots for SystemRobotProject, else those of that project.
	ListRobots(ctx context.Context, project string) ([]Robot, error)
	// PageRobots returns one page of robots (see ListQuery; fields FieldID,
	// FieldName (without prefix), FieldSystem, FieldProject (a project
	// robot's project id, 0 for a system robot), FieldCreated and
	// FieldUpdated; by name without a Sort) and how many meet q's filters.
	PageRobots(ctx context.Context, q ListQuery) ([]Robot, int, error)
	// UpdateRobot rewrites Permissions, Description, SecretHash, Trust,
	// Disabled and ExpiresAt of the robot named r.Name (as for
	// CreateRobot). ErrNotFound when the robot or a project is missing.
	UpdateRobot(ctx context.Context, r Robot) error
	// ModifyRobot reads the robot named name (without prefix), calls fn
	// with it and writes back what fn returns (the fields UpdateRobot
	// writes), in ONE transaction that keeps the row locked from the read
	// to the write, as ModifyUser does. It returns the robot as written. An
	// error from fn is returned unchanged and nothing is written.
	// ErrNotFound when missing.
	ModifyRobot(ctx context.Context, name string, fn func(Robot) (Robot, error)) (Robot, error)
	// DeleteRobot removes a robot. ErrNotFound when missing.
	DeleteRobot(ctx context.Context, name string) error
}

// PersonalTokens stores personal access tokens. Deleting a user deletes its
// tokens; nothing else revokes them by itself (see RefreshTokens), and
// authentication refuses those of a disabled user.
type PersonalTokens interface {
	// CreatePersonalToken inserts t for the user named t.User (ID, UserID
	// and CreatedAt written back; a zero CreatedAt means now). ErrNotFound
	// when the user is missing, ErrAlreadyExists when the user already has a
	// token of that name or the hash is taken.
	CreatePersonalToken(ctx context.Context, t *PersonalToken) error
	// GetPersonalToken finds a token by its hash. ErrNotFound when missing.
	GetPersonalToken(ctx context.Context, hash string) (PersonalToken, error)
	// TouchPersonalToken sets LastUsedAt. ErrNotFound when the token is gone.
	TouchPersonalToken(ctx context.Context, id int64, at time.Time) error
	// ListPersonalTokens returns a user's tokens ordered by name. ErrNotFound
	// when the user is missing.
	ListPersonalTokens(ctx context.Context, user string) ([]PersonalToken, error)
	// DeletePersonalToken removes a user's token by name. ErrNotFound when
	// the user has no such token.
	DeletePersonalToken(ctx context.Context, user, name string) error
	// DeletePersonalTokens removes all of a user's tokens and returns how
	// many there were. ErrNotFound when the user is missing.
	DeletePersonalTokens(ctx context.Context, user string) (int, error)
}

// Credentials is every credential store.
type Credentials interface {
	RefreshTokens
	Robots
	PersonalTokens
}
