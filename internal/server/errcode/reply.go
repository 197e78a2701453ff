package errcode

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/authserver/authserver/internal/admin"
	"github.com/authserver/authserver/internal/audit"
	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/authz"
	"github.com/authserver/authserver/internal/login"
	"github.com/authserver/authserver/internal/metrics"
	"github.com/authserver/authserver/internal/registry"
	"github.com/authserver/authserver/internal/store"
)

// Error is a request a handler refuses itself (malformed input, a wrong
// media type, a cross-site request): answered with its status, code and
// message as they are.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

// BadRequest is a malformed request: 400 BAD_REQUEST.
func BadRequest(msg string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "BAD_REQUEST", Message: msg}
}

// Reply is how an error is answered.
type Reply struct {
	Status        int
	Code, Message string
	// RetryAfter, when set, is sent as Retry-After in whole seconds.
	RetryAfter time.Duration
	// Challenge, when set, is sent as WWW-Authenticate.
	Challenge string
	// Backend is a backend that could not be asked (503): logged and
	// counted unless the login gate did both already.
	Backend bool
	// Bug is an error nobody expected (500): always logged.
	Bug bool
}

// Of maps err to its answer, the one mapping every endpoint uses:
// malformed input 400 (413, 415 as Error says), bad credentials 401,
// forbidden 403, not found 404, taken 409, throttled 429 with Retry-After,
// no free password-check slot 503 with Retry-After, an unavailable backend
// (the database, LDAP, the registry) 503, anything else 500.
func Of(err error) Reply {
	var (
		e  *Error
		le *login.Error
		ae *admin.Error
		mb *http.MaxBytesError
	)
	switch {
	case errors.As(err, &e):
		return Reply{Status: e.Status, Code: e.Code, Message: e.Message}
	case errors.As(err, &le):
		switch le.Kind {
		case login.KindBadInput:
			return Reply{Status: http.StatusBadRequest, Code: "BAD_REQUEST", Message: le.Msg}
		case login.KindUnauthorized:
			return Reply{Status: http.StatusUnauthorized, Code: "UNAUTHORIZED", Message: le.Msg, Challenge: le.Challenge}
		case login.KindThrottled:
			return Reply{Status: http.StatusTooManyRequests, Code: "TOOMANYREQUESTS", Message: le.Msg, RetryAfter: le.RetryAfter}
		case login.KindBusy:
			return Reply{Status: http.StatusServiceUnavailable, Code: "UNAVAILABLE", Message: le.Msg, RetryAfter: le.RetryAfter}
		}
		return Reply{Status: http.StatusServiceUnavailable, Code: "UNAVAILABLE", Message: le.Msg}
	case errors.As(err, &ae):
		switch ae.Kind {
		case admin.KindNotFound:
			return Reply{Status: http.StatusNotFound, Code: "NOT_FOUND", Message: ae.Msg}
		case admin.KindExists:
			return Reply{Status: http.StatusConflict, Code: "CONFLICT", Message: ae.Msg}
		case admin.KindInvalid:
			return Reply{Status: http.StatusBadRequest, Code: "BAD_REQUEST", Message: ae.Msg}
		case admin.KindForbidden:
			return Reply{Status: http.StatusForbidden, Code: "FORBIDDEN", Message: ae.Msg}
		case admin.KindPrecondition:
			return Reply{Status: http.StatusPreconditionFailed, Code: "PRECONDITION", Message: ae.Msg}
		}
	case errors.As(err, &mb):
		return Reply{Status: http.StatusRequestEntityTooLarge, Code: "BAD_REQUEST",
			Message: "request body larger than " + strconv.FormatInt(mb.Limit, 10) + " bytes"}
	case errors.Is(err, authn.ErrBusy):
		return Reply{Status: http.StatusServiceUnavailable, Code: "UNAVAILABLE", Backend: true, RetryAfter: time.Second,
			Message: "too many password checks at once; retry after 1s"}
	case errors.Is(err, authn.ErrUnavailable), errors.Is(err, authz.ErrUnavailable), errors.Is(err, store.ErrUnavailable),
		errors.Is(err, registry.ErrUnavailable), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return Reply{Status: http.StatusServiceUnavailable, Code: "UNAVAILABLE", Backend: true,
			Message: "backend unavailable, try again later"}
	}
	return Reply{Status: http.StatusInternalServerError, Code: "UNKNOWN", Message: "internal error", Bug: true}
}

// Fail answers err as Of maps it. A bug is logged (with the request's
// method and path); a backend failure is logged and counted in m, unless
// the client went away (then only at debug level) or the login gate has
// logged it already. It returns the reply it sent.
func Fail(w http.ResponseWriter, r *http.Request, log *slog.Logger, m *metrics.Metrics, err error) Reply {
	rep := Of(err)
	var le *login.Error
	switch {
	case rep.Bug:
		log.Error("internal error", "method", r.Method, "path", audit.Clip(r.URL.Path), "err", err)
	case !rep.Backend || errors.As(err, &le):
	case r.Context().Err() != nil:
		log.Debug("client went away", "err", err)
	default:
		log.Error("backend failed", "method", r.Method, "path", audit.Clip(r.URL.Path), "err", err)
		m.StoreError()
	}
	rep.Write(w)
	return rep
}

// Write sends the reply: its headers and the errcode body.
func (rep Reply) Write(w http.ResponseWriter) {
	if rep.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(max(int((rep.RetryAfter+time.Second-1)/time.Second), 1)))
	}
	if rep.Challenge != "" {
		w.Header().Set("WWW-Authenticate", rep.Challenge)
	}
	Write(w, rep.Status, rep.Code, rep.Message)
}
