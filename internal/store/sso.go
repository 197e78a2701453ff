package store

import (
	"context"
	"time"
)

// OIDCUser is a person who signs in with SSO (config oidc:), as their last
// sign-in's ID token described them.
type OIDCUser struct {
	// Name is the user's name in the users table (oidc.username_claim at
	// the first sign-in).
	Name        string
	Email       string
	DisplayName string
	// Issuer and Subject are the ID token's iss and sub: the pair the user
	// is bound to, unique.
	Issuer  string
	Subject string
	// Groups are the values of oidc.groups_claim at the last sign-in.
	Groups []string
	// Admin is whether one of Groups is in oidc.admin_groups; recomputed at
	// every sign-in, never copied into User.Admin.
	Admin bool
	// SyncedAt is when the sign-in was recorded; set by the store.
	SyncedAt time.Time
}

// OIDCSync is what SyncOIDCUser did besides recording the sign-in.
type OIDCSync struct {
	// Onboarded: the user was created by this sign-in.
	Onboarded bool
	// Skipped are claimed groups whose name belongs to a group that is not
	// an OIDC group: the user was not made a member.
	Skipped []string
}

// SignIn is one SSO sign-in: what every credential minted from it (a web
// session, a device-flow refresh token, a PAT made in the page) hangs on.
type SignIn struct {
	ID     int64
	UserID int64
	// User is the user's name; filled in by reads.
	User       string
	SignedInAt time.Time
	// ExpiresAt is SignedInAt + oidc.max_session: nothing minted from the
	// sign-in works after it.
	ExpiresAt time.Time
	// ProviderRefresh is the provider's refresh token, sealed (AES-GCM) by
	// internal/authn/oidc; nil when the provider gave none. The store never
	// sees it in clear.
	ProviderRefresh []byte
	// RecheckedAt is when the provider last confirmed the sign-in
	// (SignedInAt until the first oidc.recheck).
	RecheckedAt time.Time
}

// WebSession is a browser's session on the sign-in pages, found by the
// SHA-256 of its cookie.
type WebSession struct {
	ID       int64
	Hash     string
	SignInID int64
	UserID   int64
	User     string // filled in by reads
	// CSRF is the form token of the session: every form carries it.
	CSRF      string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Device code states (RFC 8628).
const (
	DevicePending  = "pending"
	DeviceApproved = "approved"
	DeviceDenied   = "denied"
	// DeviceUsed: approved and traded for tokens (once).
	DeviceUsed = "used"
)

// DeviceCode is one device authorization request.
type DeviceCode struct {
	ID int64
	// Hash is the SHA-256 of the device_code the client polls with; unique.
	Hash string
	// UserCode is what the person types ("BCDF-GHJK" is shown; stored
	// without the dash); unique.
	UserCode string
	ClientID string
	// Scope and Service are what the client asked for, as given.
	Scope   string
	Service string
	// Status is one of the Device* states.
	Status string
	// UserID, User and SignInID are set once approved or denied: who decided,
	// from which sign-in.
	UserID    int64
	User      string
	SignInID  int64
	CreatedAt time.Time
	ExpiresAt time.Time
	// Interval is the least time between two polls.
	Interval time.Duration
	// LastPoll is the previous poll (zero before the first).
	LastPoll time.Time
}

// PendingLogin is a sign-in under way: the browser was sent to the
// provider with a state and nonce whose hashes are kept here.
type PendingLogin struct {
	StateHash string
	NonceHash string
	// Next is the path the browser goes to after signing in.
	Next      string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// SSO keeps what SSO sign-in needs: the users it onboarded, their sign-ins
// and browser sessions, and device authorization requests.
type SSO interface {
	// SyncOIDCUser records a verified sign-in in one transaction. The user
	// bound to (u.Issuer, u.Subject) is found (whatever its name now) and
	// its Email and DisplayName refreshed; with none, a user named u.Name is
	// created with SourceOIDC and bound. When u.Name belongs to a user of
	// another source, or to an OIDC user bound to another pair, nothing is
	// written and the error wraps ErrAlreadyExists: never merged. Then
	// the user's memberships of OIDC groups are replaced by u.Groups: each
	// is found by name among OIDC groups or created as one; a name taken by
	// a group that is not OIDC is skipped (OIDCSync.Skipped). It returns
	// the stored user.
	SyncOIDCUser(ctx context.Context, u OIDCUser) (User, OIDCSync, error)
	// GetOIDCUser returns the record of the user's last sign-in (Groups
	// never nil). ErrNotFound when missing or not an SSO user.
	GetOIDCUser(ctx context.Context, name string) (OIDCUser, error)

	// CreatePendingLogin inserts l (a zero CreatedAt means now) after
	// deleting those that expired before it. ErrAlreadyExists when the
	// state hash is taken.
	CreatePendingLogin(ctx context.Context, l PendingLogin) error
	// TakePendingLogin deletes and returns the pending login with
	// stateHash: a state is taken once. ErrNotFound when missing, already
	// taken, or expired at at.
	TakePendingLogin(ctx context.Context, stateHash string, at time.Time) (PendingLogin, error)

	// CreateSignIn inserts s (ID written back; zero RecheckedAt means
	// SignedInAt) after deleting the sign-ins that ended before
	// s.SignedInAt, with everything minted from them (which ended with
	// them). ErrNotFound when the user is missing.
	CreateSignIn(ctx context.Context, s *SignIn) error
	// GetSignIn returns sign-in id with its user's name. ErrNotFound when
	// missing.
	GetSignIn(ctx context.Context, id int64) (SignIn, error)
	// RecheckedSignIn records a successful recheck at at and the provider's
	// refresh token now (sealed; nil keeps the stored one). ErrNotFound when
	// missing.
	RecheckedSignIn(ctx context.Context, id int64, providerRefresh []byte, at time.Time) error
	// DeleteSignIn removes a sign-in and everything minted from it (web
	// sessions, refresh tokens, personal tokens, device codes).
	// ErrNotFound when missing.
	DeleteSignIn(ctx context.Context, id int64) error

	// CreateWebSession inserts w (ID and CreatedAt written back) after
	// deleting the sessions that expired before w.CreatedAt.
	// ErrAlreadyExists when the hash is taken, ErrNotFound when the sign-in
	// or user is missing.
	CreateWebSession(ctx context.Context, w *WebSession) error
	// GetWebSession finds a session by hash (expired ones too: the caller
	// decides). ErrNotFound when missing.
	GetWebSession(ctx context.Context, hash string) (WebSession, error)
	// DeleteWebSession removes a session by hash. ErrNotFound when missing.
	DeleteWebSession(ctx context.Context, hash string) error

	// CreateDeviceCode inserts d (ID and CreatedAt written back; Status
	// pending) after deleting requests that expired before d.CreatedAt.
	// ErrAlreadyExists when the hash or user code is taken.
	CreateDeviceCode(ctx context.Context, d *DeviceCode) error
	// GetDeviceCode finds a request by user code. ErrNotFound when missing.
	GetDeviceCode(ctx context.Context, userCode string) (DeviceCode, error)
	// DecideDeviceCode approves (or denies) the pending, unexpired (at at)
	// request with userCode for user userID signed in as signInID, and
	// returns it as written. ErrNotFound when there is no such request, or
	// it is no longer pending or has expired.
	DecideDeviceCode(ctx context.Context, userCode string, approve bool, userID, signInID int64, at time.Time) (DeviceCode, error)
	// PollDeviceCode records a poll at at of the request with hash and
	// returns it as it was before (LastPoll the previous poll). When it was
	// approved, it is marked used in the same transaction: only one poll
	// ever sees DeviceApproved. ErrNotFound when missing.
	PollDeviceCode(ctx context.Context, hash string, at time.Time) (DeviceCode, error)
}
