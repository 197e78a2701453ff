package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/authserver/authserver/internal/audit"
	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/authn/oidc"
	"github.com/authserver/authserver/internal/authn/secret"
	"github.com/authserver/authserver/internal/authz"
	"github.com/authserver/authserver/internal/login"
	"github.com/authserver/authserver/internal/metrics"
	"github.com/authserver/authserver/internal/server/errcode"
	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/token"
)

// tokenResponse is the JSON answer of the token endpoint (PROTOCOL.md,
// "Response"): token and access_token are equal.
type tokenResponse struct {
	Token       string `json:"token"`
	AccessToken string `json:"access_token"`
	// TokenType is "Bearer" on POST, as OAuth2 clients expect.
	TokenType string `json:"token_type,omitempty"`
	ExpiresIn int    `json:"expires_in"`
	IssuedAt  string `json:"issued_at"`
	// Scope is, on POST only, the granted scopes space-joined (entries
	// with no granted action left out).
	Scope string `json:"scope,omitempty"`
	// RefreshToken is present only when offline access was asked (or on a
	// refresh grant, which hands back the token it was given).
	RefreshToken string `json:"refresh_token,omitempty"`
}

// handleTokenGet is GET /service/token and GET /token: the classic token
// request with Basic credentials (or none, for anonymous).
func (s *Server) handleTokenGet(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	req, rerr := s.parseGet(r)
	if rerr != nil {
		s.badRequest(w, rerr, start)
		return
	}
	s.serveToken(w, r, req, start)
}

// handleTokenPost is POST /service/token and POST /token: the OAuth2 token
// request (password or refresh_token grant).
func (s *Server) handleTokenPost(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	req, rerr := s.parsePost(w, r)
	if rerr != nil {
		s.badRequest(w, rerr, start)
		return
	}
	s.serveToken(w, r, req, start)
}

func (s *Server) badRequest(w http.ResponseWriter, rerr *errcode.Error, start time.Time) {
	writeError(w, rerr.Status, rerr.Code, rerr.Message)
	s.opts.Metrics.Token(metrics.ResultBadRequest, "", time.Since(start).Seconds())
}

// outcome is what one token request came to, for metrics, audit and logs.
type outcome struct {
	result  string // a metrics.Result* value
	method  string // authn.Method*, as far as it is known
	subject string // who was authenticated, or the name tried
	// requested and granted are the scopes as asked and as granted, in
	// type:name:actions form, for the log line and the audit record.
	requested []string
	granted   []string
	// federated is the JWT's issuer and subject for a federated robot.
	federated *authn.FederatedIdentity
	// jti is the issued token's.
	jti string
}

// serveToken is the one pipeline behind both methods: authenticate →
// authorize → issue → respond. Whatever happens is counted and, for
// issued tokens and failed logins, audited.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request, req tokenRequest, start time.Time) {
	oc := &outcome{result: metrics.ResultUnavailable, method: methodOf(req), subject: req.username,
		requested: audit.ClipScopes(scopeStrings(req.scopes))}
	defer s.finish(oc, start)
	id, err := s.authenticate(r, req, oc)
	var derr *oidc.DeviceError
	if errors.As(err, &derr) {
		s.deviceError(w, r, oc, derr)
		return
	}
	if err != nil {
		s.fail(w, r, oc, err)
		return
	}
	oc.method, oc.subject, oc.federated = id.Method, id.Name, id.Federated
	subj := id.Subject()
	subj.Anonymous = req.grant == grantAnonymous
	subj.ClientIP = ipOf(r)
	decisions, err := s.opts.Authorizer.Authorize(r.Context(), subj, req.scopes)
	if err != nil {
		s.fail(w, r, oc, fmt.Errorf("authorize: %w", err))
		return
	}
	access := make([]token.ResourceActions, len(decisions))
	for i, d := range decisions {
		access[i] = token.ResourceActions{Type: d.Scope.Type, Name: d.Scope.Name, Actions: d.Granted}
	}
	oc.granted = audit.ClipScopes(grantedStrings(decisions))
	tok, reused, err := s.issue(r, req, oc, access, s.opts.Lifetimes.For(id, writes(decisions)), id.NotAfter, start)
	switch {
	case errors.Is(err, errSign):
		s.logFor(r).Error("signing failed", "err", err)
		writeError(w, http.StatusInternalServerError, "UNKNOWN", "cannot sign token")
		return
	case err != nil: // no token leaves without its record (audit.mode sync)
		s.fail(w, r, oc, fmt.Errorf("token signed but not sent: %w", err))
		return
	}
	now := time.Now()
	resp := tokenResponse{
		Token:       tok.Raw,
		AccessToken: tok.Raw,
		ExpiresIn:   tok.ExpiresIn(),
		IssuedAt:    tok.IssuedAt.UTC().Format(time.RFC3339),
	}
	if reused {
		// issued_at + expires_in is the token's real expiry.
		resp.ExpiresIn = int(tok.ExpiresAt.Sub(now) / time.Second)
		resp.IssuedAt = now.UTC().Format(time.RFC3339)
		s.opts.Metrics.Reuse()
	}
	if req.post {
		resp.TokenType = "Bearer"
		resp.Scope = strings.Join(grantedScopes(decisions), " ")
	}
	switch {
	case req.grant == grantRefresh:
		resp.RefreshToken = req.refreshToken
	case req.offline && s.opts.Refresh != nil && secret.Refreshable(id):
		rt, err := s.opts.Refresh.Issue(r.Context(), id, req.service, req.clientID)
		if err != nil {
			s.fail(w, r, oc, err)
			return
		}
		resp.RefreshToken = rt
		if req.grant == grantDevice && s.opts.Audit != nil {
			// The credential minted from an SSO sign-in, beside the
			// access token's record.
			s.opts.Audit.Record(store.AuditRecord{Time: time.Now(), Subject: audit.Clip(id.Name), Method: authn.MethodSSO,
				ClientIP: ipOf(r), UserAgent: audit.Clip(r.UserAgent()), Service: audit.Clip(req.service),
				ClientID: audit.Clip(req.clientID), RequestID: info(r).id, Kind: store.AuditKindAdmin, Action: "refresh_token.create",
				Target: fmt.Sprintf("refresh token of user %s (device flow, sign-in %d)", audit.Clip(id.Name), id.SignInID),
				Result: store.AuditDone, Endpoint: login.EndpointToken})
		}
	}
	oc.result = metrics.ResultIssued
	if s.log.Enabled(r.Context(), slog.LevelInfo) {
		attrs := []any{"user", audit.Clip(id.Name), "method", id.Method, "grant", req.grant, "client_id", audit.Clip(req.clientID),
			"client_ip", ipOf(r), "requested", oc.requested, "granted", oc.granted, "reused", reused,
			"refresh_token", resp.RefreshToken != "" && req.grant != grantRefresh}
		if why := refusedReasons(decisions); len(why) > 0 {
			// The registry will answer only "authentication required": say
			// here why (no such project, not a member, role too weak).
			attrs = append(attrs, "refused", audit.ClipScopes(why))
		}
		s.logFor(r).Info("token issued", attrs...)
	}
	writeToken(w, &resp)
}

// errSign is a token that could not be signed (a bug or a bad key: 500).
var errSign = errors.New("sign token")

// issue answers the grant with a token and writes its audit record. A
// token reused from the Reuser (token.reuse_window) had its record written
// when it was first sent: this answer's record is queued (Record). A new
// token is signed while its record is written (Begin, then Wait: with
// audit.mode sync Wait returns once the record is committed), so the
// record costs the answer no wait beyond the signature; a record that
// cannot be written is an error wrapping store.ErrUnavailable, and the
// token is not sent, nor remembered for reuse. Expiry is capped by notAfter (see
// authn.Identity.NotAfter).
func (s *Server) issue(r *http.Request, req tokenRequest, oc *outcome, access []token.ResourceActions,
	lifetime time.Duration, notAfter, start time.Time) (token.Token, bool, error) {
	if s.opts.Reuser != nil {
		if tok, ok := s.opts.Reuser.Reused(oc.subject, access, notAfter); ok {
			oc.jti = tok.ID
			if s.opts.Audit != nil {
				s.opts.Audit.Record(s.auditRecord(r, req, oc, start))
			}
			return tok, true, nil
		}
	}
	jti, err := token.NewJTI()
	if err != nil {
		return token.Token{}, false, fmt.Errorf("%w: %w", errSign, err)
	}
	oc.jti = jti
	var pending *audit.Pending
	switch {
	case s.opts.Audit == nil:
	case s.opts.Audit.Waits():
		// The record is committed while the token is signed.
		pending = s.opts.Audit.Begin(r.Context(), s.auditRecord(r, req, oc, start))
	default: // queued: nothing to wait for
		s.opts.Audit.Record(s.auditRecord(r, req, oc, start))
	}
	tok, err := s.opts.Issuer.IssueFor(jti, oc.subject, access, lifetime, notAfter)
	var cerr error
	if pending != nil {
		cerr = pending.Wait(r.Context())
	}
	switch {
	case err != nil:
		return token.Token{}, false, fmt.Errorf("%w: %w", errSign, err)
	case cerr != nil:
		return token.Token{}, false, cerr
	}
	if s.opts.Reuser != nil {
		s.opts.Reuser.Remember(oc.subject, access, tok)
	}
	return tok, false, nil
}

// finish records the outcome in metrics (the token's audit record is
// written before it is sent, record; the login gate records refused and
// throttled logins).
func (s *Server) finish(oc *outcome, start time.Time) {
	s.opts.Metrics.Token(oc.result, oc.method, time.Since(start).Seconds())
}

// auditRecord is the audit record of the token issued for oc.
func (s *Server) auditRecord(r *http.Request, req tokenRequest, oc *outcome, start time.Time) store.AuditRecord {
	// Every free-text field is cut to a fixed size, with a marker saying
	// how much was left out (oc's scopes were cut when they were made).
	rid := info(r).id
	rec := store.AuditRecord{
		Time: start, Subject: audit.Clip(oc.subject), Method: oc.method, ClientIP: ipOf(r), UserAgent: audit.Clip(r.UserAgent()),
		Service: audit.Clip(req.service), Requested: oc.requested, Granted: oc.granted,
		Result: store.AuditIssued, ClientID: audit.Clip(req.clientID), RequestID: rid, Endpoint: login.EndpointToken,
		JTI: oc.jti,
	}
	if f := oc.federated; f != nil {
		rec.FederatedIssuer, rec.FederatedSubject = audit.Clip(f.URL), audit.Clip(f.Subject)
	}
	return rec
}

// methodOf is the auth method a request claims before it is checked.
func methodOf(req tokenRequest) string {
	switch req.grant {
	case grantAnonymous:
		return authn.MethodAnonymous
	case grantRefresh:
		return authn.MethodRefresh
	case grantDevice:
		return authn.MethodSSO
	}
	return authn.MethodPassword
}

// fail answers err with the one error-to-status mapping (errcode.Fail)
// and notes the result for the metrics.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, oc *outcome, err error) {
	rep := errcode.Fail(w, r, s.logFor(r), s.opts.Metrics, err)
	switch rep.Status {
	case http.StatusUnauthorized:
		oc.result = metrics.ResultUnauthorized
	case http.StatusTooManyRequests:
		oc.result = metrics.ResultThrottled
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		oc.result = metrics.ResultBadRequest
	default:
		oc.result = metrics.ResultUnavailable
	}
}

// authenticate establishes the caller's identity through the login gate
// (anonymous requests carry no credential and skip it).
func (s *Server) authenticate(r *http.Request, req tokenRequest, oc *outcome) (authn.Identity, error) {
	if req.grant == grantAnonymous {
		return authn.Identity{Method: authn.MethodAnonymous}, nil
	}
	if req.grant == grantDevice {
		// The device_code is 256 random bits, looked up by its hash: no
		// password is checked, so the login gate's throttle and slots have
		// nothing to protect; the poll interval is enforced (slow_down).
		return s.opts.Device.Redeem(r.Context(), req.deviceCode, req.clientID)
	}
	rid := info(r).id
	sec := req.password
	if req.grant == grantRefresh {
		sec = req.refreshToken
	}
	id, err := s.opts.Gate.Login(r.Context(), login.Attempt{
		Endpoint: login.EndpointToken, Grant: req.grant, Username: req.username, Secret: sec,
		Service: req.service, ClientID: req.clientID, ClientIP: ipOf(r), UserAgent: r.UserAgent(),
		RequestID: rid, Requested: oc.requested,
	})
	if err != nil {
		return id, err
	}
	if req.account != "" && req.account != id.Name {
		s.logFor(r).Info("account hint differs from authenticated user; ignored", "account", audit.Clip(req.account), "user", audit.Clip(id.Name))
	}
	return id, nil
}

// writes reports whether a decision grants push or delete: such a token
// lives token.push_expiration.
func writes(ds []authz.Decision) bool {
	for _, d := range ds {
		for _, a := range d.Granted {
			if d.Scope.Type == authz.TypeRepository && (a == authz.ActionPush || a == authz.ActionDelete) {
				return true
			}
		}
	}
	return false
}

func scopeStrings(scopes []authz.Scope) []string {
	out := make([]string, len(scopes))
	for i, s := range scopes {
		out[i] = s.String()
	}
	return out
}

func grantedStrings(ds []authz.Decision) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.Scope.Type + ":" + d.Scope.Name + ":" + strings.Join(d.Granted, ",")
	}
	return out
}

// refusedReasons explains each scope that did not get every action it
// asked for, as "type:name: reason; reason".
func refusedReasons(ds []authz.Decision) []string {
	var out []string
	for _, d := range ds {
		if d.Complete() {
			continue
		}
		out = append(out, d.Scope.Type+":"+d.Scope.Name+": "+strings.Join(d.Reasons, "; "))
	}
	return out
}

// grantedScopes is the OAuth2 "scope" of the answer: the granted scopes in
// type:name:actions form, leaving out those with nothing granted.
func grantedScopes(ds []authz.Decision) []string {
	var out []string
	for _, d := range ds {
		if len(d.Granted) > 0 {
			out = append(out, d.Scope.Type+":"+d.Scope.Name+":"+strings.Join(d.Granted, ","))
		}
	}
	return out
}
