package token

import (
	"testing"
	"time"
)

// TestIssueUntil: a token proved by a short-lived credential (a federated
// JWT) expires with it, fresh or reused.
func TestIssueUntil(t *testing.T) {
	iss := NewIssuer(newTestRSASigner(t), "iss", "svc", 30*time.Minute)
	pull := []ResourceActions{{Type: "repository", Name: "team/app", Actions: []string{"pull"}}}
	now := time.Now()
	tests := []struct {
		name     string
		notAfter time.Time
		wantExp  func(tok Token) time.Time
		wantErr  bool
	}{
		{name: "no cap", wantExp: func(tok Token) time.Time { return tok.IssuedAt.Add(30 * time.Minute) }},
		{name: "cap sooner", notAfter: now.Add(5*time.Minute + 500*time.Millisecond),
			wantExp: func(Token) time.Time {
				return now.Add(5*time.Minute + 500*time.Millisecond).UTC().Truncate(time.Second)
			}},
		{name: "cap later than lifetime", notAfter: now.Add(time.Hour), wantExp: func(tok Token) time.Time { return tok.IssuedAt.Add(30 * time.Minute) }},
		{name: "cap past", notAfter: now.Add(-time.Second), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := iss.IssueUntil("robot$team+ci", pull, tt.notAfter)
			if tt.wantErr {
				if err == nil {
					t.Fatal("want an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := tt.wantExp(tok); !tok.ExpiresAt.Equal(want) {
				t.Fatalf("exp %v, want %v", tok.ExpiresAt, want)
			}
		})
	}

	r := NewReuser(iss, 30*time.Second, 10)
	long, _, err := r.IssueUntil("robot$team+ci", pull, now.Add(20*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	// A second JWT that expires sooner must not get the longer token back.
	short, reused, err := r.IssueUntil("robot$team+ci", pull, now.Add(2*time.Minute))
	if err != nil || reused || short.ExpiresAt.After(now.Add(2*time.Minute)) {
		t.Fatalf("shorter cap: reused=%v exp=%v err=%v", reused, short.ExpiresAt, err)
	}
	// One that expires later may reuse the shorter token.
	again, reused, err := r.IssueUntil("robot$team+ci", pull, now.Add(20*time.Minute))
	if err != nil || !reused || again.Raw != short.Raw || again.Raw == long.Raw {
		t.Fatalf("longer cap: reused=%v err=%v", reused, err)
	}
}
