package store

import (
	"context"
	"time"
)

// Audit results. A record is written for every token issued and every
// failed authentication, and (AuditDone) for every administrative change.
const (
	AuditIssued       = "issued"
	AuditUnauthorized = "unauthorized"
	AuditThrottled    = "throttled"
	AuditDone         = "done"
)

// Audit record kinds: token requests, and administrative changes (made
// through the CLI or the REST API; internal/admin writes them).
const (
	AuditKindToken = "token"
	AuditKindAdmin = "admin"
)

// AuditRecord is one token request worth remembering.
type AuditRecord struct {
	ID        int64
	Time      time.Time
	Subject   string   // user or robot name as authenticated; for failures, the name tried
	Method    string   // anonymous, password, ldap, robot, pat, refresh
	ClientIP  string   // after trusted-proxy resolution
	UserAgent string   // truncated by the caller to a sane length
	Service   string   // the service asked for
	Requested []string // scopes as asked, type:name:actions
	Granted   []string // scopes as granted, type:name:actions
	Result    string   // AuditIssued, AuditUnauthorized, ...
	ClientID  string   // the client_id hint
	RequestID string
	// Kind is AuditKindToken or AuditKindAdmin; empty is stored, and read
	// back, as AuditKindToken.
	Kind string
	// Action and Target say, for an admin record, what was done to what:
	// "project.create", "project team". Empty for token records.
	Action string
	Target string
	// FederatedIssuer and FederatedSubject are, for a federated robot's
	// login, the verified JWT's iss and sub (never the JWT itself).
	FederatedIssuer  string
	FederatedSubject string
	// Endpoint is where a login came: "token" (/service/token) or "api"
	// (the REST API); "" for records written before it was kept.
	Endpoint string
	// JTI is, for an issued token, its jti claim: the token a registry
	// was shown is found by it. A reused token (token.reuse_window) has
	// the jti of the token first signed. Empty for other records.
	JTI string
	// Reason says why a login whose credential was right was refused: a
	// condition on it (the networks it may log in from). Empty otherwise.
	Reason string
}

// AuditFilter selects records for `authserver audit list`. Zero values
// select everything.
type AuditFilter struct {
	Subject string
	Since   time.Time
	Result  string
	Kind    string // AuditKindToken or AuditKindAdmin; empty: both
	JTI     string // the records of the token with this jti
	Limit   int    // newest first; 0 = 100
	// Offset skips that many of the newest matching records (paging).
	Offset int
}

// Audit keeps the audit trail.
type Audit interface {
	// AppendAudit writes records in one batch (one transaction).
	AppendAudit(ctx context.Context, records []AuditRecord) error
	// ListAudit returns matching records, newest first.
	ListAudit(ctx context.Context, f AuditFilter) ([]AuditRecord, error)
	// PruneAudit deletes records older than before and says how many.
	PruneAudit(ctx context.Context, before time.Time) (int64, error)
}

// AuditPages counts the audit trail for the pages of a listing.
type AuditPages interface {
	// CountAudit returns how many records match f (its Limit and Offset
	// aside).
	CountAudit(ctx context.Context, f AuditFilter) (int, error)
}
