package admin

import (
	"errors"
	"fmt"

	"github.com/authserver/authserver/internal/store"
)

// Kind classifies an Error; the REST API maps it to a status.
type Kind int

// The kinds of Error.
const (
	KindNotFound     Kind = iota + 1 // 404: the named thing does not exist
	KindExists                       // 409: the name is taken, or the thing changed meanwhile
	KindInvalid                      // 400: the request itself is wrong
	KindForbidden                    // 403: the actor may not do this
	KindPrecondition                 // 412: not while something else holds (a project's repositories)
)

// Error is an operation's refusal, with a message fit for the operator.
// Any other error from this package is an infrastructure failure (503).
type Error struct {
	Kind Kind
	Msg  string
	// Err is the cause, often a store sentinel (errors.Is(err,
	// store.ErrNotFound) holds too); nil when admin itself refused.
	Err error
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrNotFound) and the like hold for every Error
// of that kind.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Msg == "" && t.Err == nil && t.Kind == e.Kind
}

// Sentinels for errors.Is; they match any Error of their kind.
var (
	ErrNotFound  = &Error{Kind: KindNotFound}
	ErrExists    = &Error{Kind: KindExists}
	ErrInvalid   = &Error{Kind: KindInvalid}
	ErrForbidden = &Error{Kind: KindForbidden}
)

func invalid(err error) error { return &Error{Kind: KindInvalid, Msg: err.Error(), Err: err} }

func invalidf(msg string) error { return &Error{Kind: KindInvalid, Msg: msg} }

// fromStore turns the store's sentinels into an Error naming what: "user
// bob not found", "project x already exists". Other errors pass unchanged.
func fromStore(err error, what string) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return &Error{Kind: KindNotFound, Msg: what + " not found", Err: err}
	case errors.Is(err, store.ErrAlreadyExists):
		return &Error{Kind: KindExists, Msg: what + " already exists", Err: err}
	}
	return err
}

// storeErr is fromStore with messages of the caller's own for each kind;
// an empty message keeps fromStore's.
func storeErr(err error, what, notFound, exists string) error {
	switch {
	case notFound != "" && errors.Is(err, store.ErrNotFound):
		return &Error{Kind: KindNotFound, Msg: notFound, Err: err}
	case exists != "" && errors.Is(err, store.ErrAlreadyExists):
		return &Error{Kind: KindExists, Msg: exists, Err: err}
	}
	return fromStore(err, what)
}

// Invalidf is a refusal of malformed input (KindInvalid), for a transport
// that checks its own flags.
func Invalidf(format string, args ...any) error { return invalidf(fmt.Sprintf(format, args...)) }
