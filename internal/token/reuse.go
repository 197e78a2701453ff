package token

import (
	"container/list"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Reuser answers a repeated grant with the token already signed for it,
// skipping the RSA signature (the one unavoidable cost of a fresh token).
// A token is reused only for the same subject and exactly the same access
// (the Issuer has one service), only while it was signed less than window
// ago, and only when the signer has not changed since (after a key
// rotation every token is fresh). Memory is bounded by max entries (LRU).
type Reuser struct {
	issuer *Issuer
	window time.Duration
	max    int
	now    func() time.Time

	mu    sync.Mutex
	lru   *list.List // of *reuseEntry, most recent first
	byKey map[string]*list.Element
}

type reuseEntry struct {
	key    string
	tok    Token
	signer *Signer
}

// NewReuser wraps issuer. window 0 disables reuse (every call signs).
func NewReuser(issuer *Issuer, window time.Duration, max int) *Reuser {
	if max <= 0 {
		max = 10000
	}
	return &Reuser{issuer: issuer, window: window, max: max, now: time.Now,
		lru: list.New(), byKey: map[string]*list.Element{}}
}

// Issue returns a token for subject and access, reused when possible;
// reused says which.
func (r *Reuser) Issue(subject string, access []ResourceActions) (tok Token, reused bool, err error) {
	return r.IssueUntil(subject, access, time.Time{})
}

// IssueUntil is Issue for a token that must expire by notAfter (zero: no
// cap; see Issuer.IssueUntil): a remembered token is reused only when it
// expires by then too, so a reused token never outlives the credential
// that proved the subject this time. It is Reused, or a new token from
// the issuer, remembered.
func (r *Reuser) IssueUntil(subject string, access []ResourceActions, notAfter time.Time) (tok Token, reused bool, err error) {
	if tok, ok := r.Reused(subject, access, notAfter); ok {
		return tok, true, nil
	}
	tok, err = r.issuer.IssueUntil(subject, access, notAfter)
	if err != nil {
		return Token{}, false, err
	}
	r.Remember(subject, access, tok)
	return tok, false, nil
}

// Reused returns the token remembered for subject and access when it may
// be answered again now: signed within the window by the current signer,
// valid, and expiring by notAfter (zero: no cap).
func (r *Reuser) Reused(subject string, access []ResourceActions, notAfter time.Time) (Token, bool) {
	if r.window <= 0 {
		return Token{}, false
	}
	key := reuseKey(subject, access)
	signer := r.issuer.Signer()
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if el, ok := r.byKey[key]; ok {
		e := el.Value.(*reuseEntry)
		if e.signer == signer && now.Sub(e.tok.IssuedAt) < r.window && now.Before(e.tok.ExpiresAt) &&
			(notAfter.IsZero() || !e.tok.ExpiresAt.After(notAfter)) {
			r.lru.MoveToFront(el)
			return e.tok, true
		}
	}
	return Token{}, false
}

// Remember keeps tok, just signed by the issuer for subject and access, to
// be Reused. The server remembers a token only once its audit record is
// written, so a reused token is always a recorded one.
func (r *Reuser) Remember(subject string, access []ResourceActions, tok Token) {
	if r.window <= 0 {
		return
	}
	key := reuseKey(subject, access)
	r.mu.Lock()
	defer r.mu.Unlock()
	e := &reuseEntry{key: key, tok: tok, signer: tok.signer}
	if el, ok := r.byKey[key]; ok {
		el.Value = e
		r.lru.MoveToFront(el)
	} else {
		r.byKey[key] = r.lru.PushFront(e)
	}
	for r.lru.Len() > r.max {
		last := r.lru.Back()
		r.lru.Remove(last)
		delete(r.byKey, last.Value.(*reuseEntry).key)
	}
}

// Len is the number of remembered tokens.
func (r *Reuser) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lru.Len()
}

// reuseKey is the subject and the access exactly as it would go into the
// token, in order. The subject is length-prefixed, so no subject can run
// into the access part whatever bytes it holds; names and scopes never
// contain NUL or \x01.
func reuseKey(subject string, access []ResourceActions) string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(len(subject)))
	b.WriteByte(':')
	b.WriteString(subject)
	for _, a := range access {
		b.WriteByte(0)
		b.WriteString(a.Type)
		b.WriteByte(1)
		b.WriteString(a.Name)
		b.WriteByte(1)
		b.WriteString(strings.Join(a.Actions, ","))
	}
	return b.String()
}
