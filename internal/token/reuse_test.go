package token

import (
	"testing"
	"time"
)

func TestReuser(t *testing.T) {
	signer := newTestRSASigner(t)
	iss := NewIssuer(signer, "iss", "svc", 30*time.Minute)
	clock := time.Now()
	r := NewReuser(iss, 30*time.Second, 3)
	r.now = func() time.Time { return clock }
	pull := []ResourceActions{{Type: "repository", Name: "team/app", Actions: []string{"pull"}}}
	push := []ResourceActions{{Type: "repository", Name: "team/app", Actions: []string{"pull", "push"}}}

	first, reused, err := r.Issue("alice", pull)
	if err != nil || reused {
		t.Fatalf("first: reused=%v err=%v", reused, err)
	}
	tests := []struct {
		name    string
		advance time.Duration
		subject string
		access  []ResourceActions
		rotate  bool
		reused  bool
	}{
		{name: "same grant reused", subject: "alice", access: pull, reused: true},
		{name: "other subject signs", subject: "bob", access: pull},
		{name: "other access signs", subject: "alice", access: push},
		{name: "still within window", advance: 29 * time.Second, subject: "alice", access: pull, reused: true},
		{name: "past the window signs", advance: 2 * time.Second, subject: "alice", access: pull},
		{name: "after key rotation signs", subject: "alice", access: pull, rotate: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock = clock.Add(tt.advance)
			if tt.rotate {
				iss.SetSigner(newTestRSASigner(t))
			}
			tok, reused, err := r.Issue(tt.subject, tt.access)
			if err != nil {
				t.Fatal(err)
			}
			if reused != tt.reused {
				t.Fatalf("reused = %v, want %v", reused, tt.reused)
			}
			if reused && tok.Raw != first.Raw {
				t.Fatal("reused a different token")
			}
		})
	}
	if r.Len() > 3 {
		t.Fatalf("%d entries, max 3", r.Len())
	}
	off := NewReuser(iss, 0, 3)
	a, _, _ := off.Issue("alice", pull)
	b, reused, _ := off.Issue("alice", pull)
	if reused || a.Raw == b.Raw {
		t.Fatal("window 0 must always sign")
	}
}

// newTestRSASigner is a fresh signer, so a rotation changes the pointer.
func newTestRSASigner(t *testing.T) *Signer {
	t.Helper()
	s, err := NewSignerFromKey(testKey(t, RS256), nil, KIDThumbprint)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
