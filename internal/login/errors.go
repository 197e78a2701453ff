package login

import (
	"fmt"
	"time"
)

// Kind says what became of an attempt that did not log in; the one
// error-to-status mapping (internal/server/errcode.Reply) turns it into
// the answer.
type Kind int

const (
	// KindBadInput is an attempt refused before any check: 400.
	KindBadInput Kind = iota + 1
	// KindUnauthorized is a wrong, unknown, expired or revoked credential:
	// 401 with a Basic challenge.
	KindUnauthorized
	// KindThrottled is an attempt over the failed-login limits: 429 with
	// Retry-After.
	KindThrottled
	// KindBusy is a slow check that found no free slot: 503 with
	// Retry-After.
	KindBusy
	// KindUnavailable is a backend that could not be asked: 503.
	KindUnavailable
)

// Error is an attempt that did not log in.
type Error struct {
	Kind Kind
	// Msg is for the client: never a secret, never a backend's detail.
	Msg string
	// RetryAfter is when to try again (KindThrottled, KindBusy).
	RetryAfter time.Duration
	// Challenge is the WWW-Authenticate value of a KindUnauthorized.
	Challenge string
	// Err is the backend's error (KindUnavailable, KindBusy), for the log.
	Err error
	// Reason, for a KindUnauthorized whose credential was right, says
	// which condition refused it (for the log and the audit record, not
	// the client).
	Reason string
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("login: %s: %v", e.Msg, e.Err)
	}
	return "login: " + e.Msg
}

func (e *Error) Unwrap() error { return e.Err }
