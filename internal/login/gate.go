package login

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/authserver/authserver/internal/audit"
	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/authn/secret"
	"github.com/authserver/authserver/internal/flight"
	"github.com/authserver/authserver/internal/metrics"
	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/throttle"
)

// Limits checked before anything else: a longer name or secret is 400 and
// reaches no throttle counter, no check, no log line.
const (
	// MaxNameBytes bounds the user name.
	MaxNameBytes = 256
	// MaxSecretBytes bounds a password, token or secret (a federated JWT
	// is a few KiB at most).
	MaxSecretBytes = 8 << 10
)

// Endpoints, as the audit trail and the metrics name them.
const (
	EndpointToken = "token" // GET and POST /service/token
	EndpointAPI   = "api"   // the REST API under /api
	EndpointWeb   = "web"   // the SSO sign-in pages (internal/server/web)
)

// Grants: how an attempt presents its credential.
const (
	GrantBasic    = "basic"         // Authorization: Basic
	GrantPassword = "password"      // POST grant_type=password
	GrantRefresh  = "refresh_token" // POST grant_type=refresh_token
	// GrantOldPassword is a password given again to change it: only the
	// password itself counts, not a personal access token in its place.
	GrantOldPassword = "old_password"
)

// Attempt is one request's credential and what is known of its sender.
type Attempt struct {
	// Endpoint is EndpointToken, EndpointAPI, ….
	Endpoint string
	// Grant is GrantBasic, GrantPassword or GrantRefresh.
	Grant string
	// Username is the name tried ("" for a refresh token).
	Username string
	// Secret is the password, personal access token, robot secret,
	// federated JWT or refresh token.
	Secret string
	// Service and ClientID bind a refresh token; both are recorded.
	Service, ClientID string
	// ClientIP is the client's address after trusted-proxy resolution.
	ClientIP  string
	UserAgent string
	RequestID string
	// Requested are the scopes asked for, for the audit record of a
	// refusal (already clipped, audit.ClipScopes).
	Requested []string
	// Action, when the credential is checked for something other than a
	// login, names it in the audit record of a refusal ("user.password").
	Action string
}

// Recorder takes audit records without blocking (*audit.Writer).
type Recorder interface {
	Record(store.AuditRecord)
}

// Options are what the gate checks with. Nil Throttle, Slots, Audit and
// Metrics do nothing; Refresh nil refuses refresh grants.
type Options struct {
	// Passwords checks a name and a password, personal access token,
	// robot secret or federated JWT (internal/app's authn stack).
	Passwords authn.PasswordAuthenticator
	// Refresh redeems refresh tokens.
	Refresh *secret.Refresher
	// Throttle admits attempts within the failed-login limits: in this
	// process (*throttle.Throttle) or, for every replica, in the database
	// (*throttle.Shared). Nil admits everything.
	Throttle throttle.Limiter
	// Slots bounds the slow checks running at once.
	Slots   *throttle.Slots
	Audit   Recorder
	Metrics *metrics.Metrics
	Logger  *slog.Logger
	// Realm is named in the Basic challenge of a 401.
	Realm string
}

// busyRetry is the Retry-After of an attempt that found no slot.
const busyRetry = time.Second

// Gate authenticates every request that carries credentials, in this
// order: the limits (400), the throttle (429; the attempt is reserved
// until it is settled), the check itself under a bounded number of slow
// checks (503 with Retry-After when none is free), then, whatever came of
// it, the metrics, the log line and, for a refusal, the audit record.
// Identical attempts in flight at once (same credential, same network)
// share one check and one reservation: a thousand CI jobs starting with
// one robot secret cost one check, and count as one attempt.
type Gate struct {
	opt       Options
	limiter   throttle.Limiter // opt.Throttle, or one that admits everything
	log       *slog.Logger
	challenge string
	salt      [32]byte
	flights   flight.Group[[32]byte, result]
}

// result is what one check came to; identical attempts share it (read it,
// never change it).
type result struct {
	id  authn.Identity
	err error // nil, *Error, or a bug
}

// New returns a gate.
func New(opt Options) *Gate {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	g := &Gate{opt: opt, limiter: opt.Throttle, log: opt.Logger, challenge: `Basic realm="` + opt.Realm + `"`}
	if g.limiter == nil {
		g.limiter = (*throttle.Throttle)(nil)
	}
	_, _ = rand.Read(g.salt[:])
	return g
}

// Login authenticates a. Its error is an *Error (bad input, refused,
// throttled, busy, unavailable) or, for a bug, any other error; either way
// the attempt has been counted, logged and, when refused, audited.
func (g *Gate) Login(ctx context.Context, a Attempt) (authn.Identity, error) {
	start := time.Now()
	res := result{err: bounds(a)}
	if res.err == nil {
		network := g.limiter.Network(a.ClientIP)
		var err error
		res, _, err = g.flights.Do(ctx, g.key(a, network), func(ctx context.Context) (result, error) {
			return g.check(ctx, a, network), nil
		})
		switch {
		case errors.Is(err, flight.ErrPanicked): // a bug in the check this attempt waited for
			res = result{err: fmt.Errorf("login: %w", err)}
		case err != nil: // the caller went away while the check ran
			res = result{err: &Error{Kind: KindUnavailable, Msg: "request cancelled", Err: err}}
		}
	}
	if res.err == nil {
		// The credential's conditions, checked with this attempt's own
		// address (attempts sharing a check may come from different
		// addresses of one network). A refusal is no failed guess: the
		// throttle has counted the right credential already.
		if why := res.id.RefusedFrom(a.ClientIP); why != "" {
			res = result{id: authn.Identity{Method: res.id.Method}, err: &Error{Kind: KindUnauthorized, Challenge: g.challenge,
				Msg: "authentication required: this credential may not be used from this address", Reason: why}}
		}
	}
	g.settle(ctx, a, res, start)
	return res.id, res.err
}

// bounds refuses an attempt over the limits before it is counted.
func bounds(a Attempt) error {
	switch {
	case len(a.Username) > MaxNameBytes:
		return &Error{Kind: KindBadInput, Msg: "user name too long: " + strconv.Itoa(len(a.Username)) +
			" bytes, at most " + strconv.Itoa(MaxNameBytes)}
	case len(a.Secret) > MaxSecretBytes:
		return &Error{Kind: KindBadInput, Msg: "password or token too long: " + strconv.Itoa(len(a.Secret)) +
			" bytes, at most " + strconv.Itoa(MaxSecretBytes)}
	}
	return nil
}

// key identifies identical attempts: same grant, network, name, binding
// and secret. It is a salted hash, so no secret is held as a map key.
func (g *Gate) key(a Attempt, network string) [32]byte {
	h := sha256.New()
	h.Write(g.salt[:])
	for _, f := range []string{a.Grant, network, a.Username, a.Service, a.ClientID, a.Secret} {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(f)))
		h.Write(n[:])
		h.Write([]byte(f))
	}
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// check runs one attempt: the throttle's admission (a read), the
// credential check under the slot ticket, and the settlement of the
// reservation. The reservation is held (written, for the shared throttle)
// at the first slow check, before its slot: an attempt the credential
// cache answers, or a fast check of an unguessable secret (a generated
// robot secret, a personal access token, a refresh token, a signed JWT),
// holds nothing; its failure still counts when it is settled.
func (g *Gate) check(ctx context.Context, a Attempt, network string) result {
	rsv, wait, err := g.limiter.Admit(ctx, throttleName(a), a.ClientIP)
	switch {
	case err != nil:
		return result{err: unavailable(err)}
	case wait > 0:
		return throttled(wait)
	}
	ctx, done := authn.WithSlowChecks(ctx, func(ctx context.Context) (func(), error) {
		switch wait, err := rsv.Hold(ctx); {
		case err != nil:
			return nil, &holdError{err: err}
		case wait > 0:
			return nil, &holdError{wait: wait}
		}
		return g.opt.Slots.Acquire(ctx, network)
	})
	defer done()
	var (
		id authn.Identity
		ok bool
	)
	switch a.Grant {
	case GrantRefresh:
		if g.opt.Refresh == nil {
			g.release(ctx, rsv)
			return result{err: &Error{Kind: KindBadInput, Msg: "refresh tokens are not enabled"}}
		}
		id, ok, err = g.opt.Refresh.Redeem(ctx, a.Secret, a.Service, a.ClientID)
	case GrantOldPassword:
		id, ok, err = g.opt.Passwords.Login(ctx, a.Username, a.Secret)
		ok = ok && (id.Method == authn.MethodPassword || id.Method == authn.MethodLDAP)
	default:
		id, ok, err = g.opt.Passwords.Login(ctx, a.Username, a.Secret)
	}
	var held *holdError
	switch {
	case errors.As(err, &held) && held.err == nil: // the hold was refused: nothing was checked
		g.release(ctx, rsv)
		return throttled(held.wait)
	case held != nil:
		g.release(ctx, rsv)
		return result{err: unavailable(held.err)}
	case errors.Is(err, authn.ErrBusy):
		g.release(ctx, rsv)
		return result{err: &Error{Kind: KindBusy, RetryAfter: busyRetry, Err: err,
			Msg: "too many password checks at once; retry after " + strconv.Itoa(seconds(busyRetry)) + "s"}}
	case errors.Is(err, authn.ErrUnavailable):
		g.release(ctx, rsv)
		return result{err: unavailable(err)}
	case err != nil:
		g.release(ctx, rsv)
		return result{err: fmt.Errorf("login: %w", err)}
	case !ok:
		if err := rsv.Failed(ctx); err != nil {
			g.settleError("count a failed login", err)
		}
		msg := "authentication required: bad username or password"
		if a.Grant == GrantRefresh {
			msg = "authentication required: invalid, expired or revoked refresh token"
		}
		return result{err: &Error{Kind: KindUnauthorized, Msg: msg, Challenge: g.challenge}}
	}
	if err := rsv.Succeeded(ctx); err != nil {
		g.settleError("clear the counter of a successful login", err)
	}
	return result{id: id}
}

// holdError is a reservation that could not be held at the first slow
// check: refused (wait) or not written (err). The slow check fails with it
// and the check returns it, wrapped.
type holdError struct {
	wait time.Duration
	err  error
}

func (e *holdError) Error() string {
	if e.err != nil {
		return "throttle reservation: " + e.err.Error()
	}
	return "too many failed logins"
}

func (e *holdError) Unwrap() error { return e.err }

func throttled(wait time.Duration) result {
	return result{err: &Error{Kind: KindThrottled, RetryAfter: wait,
		Msg: "too many failed logins; retry after " + strconv.Itoa(seconds(wait)) + "s"}}
}

func unavailable(err error) *Error {
	return &Error{Kind: KindUnavailable, Msg: "authentication backend unavailable, try again later", Err: err}
}

// release settles an attempt that came to no verdict.
func (g *Gate) release(ctx context.Context, rsv throttle.Reservation) {
	if err := rsv.Released(ctx); err != nil {
		g.settleError("release a reservation", err)
	}
}

// settleError logs a settlement the throttle could not write: the answer
// stands (a wrong password is still 401), the count may be short by one.
func (g *Gate) settleError(what string, err error) {
	g.log.Error("login throttle: cannot "+what, "err", err)
	g.opt.Metrics.StoreError()
}

// throttleName is the name an attempt is counted under. A password given
// again for an action (Attempt.Action) is counted apart from the user's
// logins: every API request of theirs logs in with the right password,
// which would otherwise clear the count of wrong old passwords each time.
func throttleName(a Attempt) string {
	if a.Action != "" {
		return a.Action + "\x00" + a.Username
	}
	return a.Username
}

// seconds is d rounded up to whole seconds, at least 1.
func seconds(d time.Duration) int { return max(int((d+time.Second-1)/time.Second), 1) }

// Results of an attempt, as the authserver_logins_total metric labels them.
const (
	ResultOK           = "ok"
	ResultUnauthorized = "unauthorized"
	ResultThrottled    = "throttled"
	ResultBusy         = "busy"
	ResultUnavailable  = "unavailable"
	ResultBadRequest   = "bad_request"
	ResultError        = "error"
)

// Result names what err, as Login returned it, came to.
func Result(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ResultOK
	case !errors.As(err, &e):
		return ResultError
	}
	switch e.Kind {
	case KindBadInput:
		return ResultBadRequest
	case KindUnauthorized:
		return ResultUnauthorized
	case KindThrottled:
		return ResultThrottled
	case KindBusy:
		return ResultBusy
	}
	return ResultUnavailable
}

// settle counts, logs and audits one attempt's outcome.
func (g *Gate) settle(ctx context.Context, a Attempt, res result, start time.Time) {
	outcome := Result(res.err)
	method := res.id.Method
	if method == "" {
		method = claimed(a)
	}
	g.opt.Metrics.Login(a.Endpoint, outcome, method)
	if outcome == ResultOK {
		return
	}
	log := g.log.With("endpoint", a.Endpoint, "request_id", a.RequestID)
	user, client := audit.Clip(a.Username), audit.Clip(a.ClientID)
	var rec string
	switch outcome {
	case ResultUnauthorized:
		rec = store.AuditUnauthorized
		log.Info("authentication failed", "user", user, "grant", a.Grant, "client_id", client, "client_ip", a.ClientIP,
			"reason", reasonOf(res.err))
	case ResultThrottled:
		rec = store.AuditThrottled
		var e *Error
		errors.As(res.err, &e)
		log.Warn("login throttled", "user", user, "client_ip", a.ClientIP, "retry_after_s", seconds(e.RetryAfter))
	case ResultBusy:
		log.Warn("no free password-check slot", "user", user, "client_ip", a.ClientIP)
	case ResultBadRequest:
		log.Info("login refused before any check", "err", res.err, "client_ip", a.ClientIP)
	case ResultError:
		// A bug: errcode.Fail logs it where it is answered.
	default:
		if ctx.Err() != nil {
			log.Debug("client went away", "err", res.err)
		} else {
			log.Error("authentication backend failed", "err", res.err)
			g.opt.Metrics.StoreError()
		}
	}
	if rec == "" || g.opt.Audit == nil {
		return
	}
	g.opt.Audit.Record(store.AuditRecord{
		Time: start, Subject: user, Method: method, ClientIP: a.ClientIP, UserAgent: audit.Clip(a.UserAgent),
		Service: audit.Clip(a.Service), Requested: a.Requested, Result: rec, ClientID: client,
		RequestID: a.RequestID, Endpoint: a.Endpoint, Action: a.Action, Reason: audit.Clip(reasonOf(res.err)),
	})
}

// reasonOf is the Reason of a refusal whose credential was right, or "".
func reasonOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

// claimed is the method an attempt claims before it is checked.
func claimed(a Attempt) string {
	if a.Grant == GrantRefresh {
		return authn.MethodRefresh
	}
	return authn.MethodPassword
}
