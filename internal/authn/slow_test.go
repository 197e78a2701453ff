package authn_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/authn/authntest"
	"github.com/authserver/authserver/internal/authn/secret"
	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/testenv/sqlitetest"
	"github.com/authserver/authserver/internal/throttle"
)

// slotCounter hands out slots and counts them; with busy set it has none.
type slotCounter struct {
	taken, held int
	busy        bool
}

func (c *slotCounter) acquire(context.Context) (func(), error) {
	if c.busy {
		return nil, throttle.ErrNoSlot
	}
	c.taken++
	c.held++
	return func() { c.held-- }, nil
}

// TestSlowChecksTakeSlots: every slow check (bcrypt, the dummy bcrypt of
// a refusal, Harbor's PBKDF2) takes the login's one slot; a cache hit and
// the fast hashes of robot secrets and personal access tokens take none;
// with no slot free the login is ErrBusy, never a refusal.
func TestSlowChecksTakeSlots(t *testing.T) {
	st := sqlitetest.Open(t)
	ctx := t.Context()
	authntest.AddLocal(t, st, "dev", "Dev-pass-1", false)
	harbor, err := secret.HarborPasswordHash("sha256", "salt", "83d3d6f3e7cacb040423adf7ced63d21") // "content"
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"imported"} {
		if err := st.CreateUser(ctx, &store.User{Name: name, PasswordHash: harbor, Source: store.SourceLocal}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.CreateProject(ctx, &store.Project{Name: "team"}); err != nil {
		t.Fatal(err)
	}
	authntest.AddRobot(t, st, "team+ci", "team", "ci-secret")
	harborSecret, _ := secret.HarborSecretHash("salt", "83d3d6f3e7cacb040423adf7ced63d21")
	if err := st.CreateRobot(ctx, &store.Robot{Name: "team+old", Project: "team", Permissions: store.OneProject("team", "pull"),
		SecretHash: harborSecret}); err != nil {
		t.Fatal(err)
	}
	chosen, err := secret.HashPassword("Chosen-secret-1", 4) // a robot secret the caller chose
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateRobot(ctx, &store.Robot{Name: "team+chosen", Project: "team", Permissions: store.OneProject("team", "pull"),
		SecretHash: chosen}); err != nil {
		t.Fatal(err)
	}
	local, err := secret.NewLocal(st, 4)
	if err != nil {
		t.Fatal(err)
	}
	if err := local.SetCache(time.Minute, 100, nil); err != nil {
		t.Fatal(err)
	}
	stack := secret.NewRobots(st, "robot$", local, nil, nil)

	tests := []struct {
		name, user, pass string
		ok               bool
		slots            int
		// busy: the same login again finds no slot (not answered from the
		// cache the first one filled).
		busy bool
	}{
		{name: "password, cold", user: "dev", pass: "Dev-pass-1", ok: true, slots: 1},
		{name: "password, cached", user: "dev", pass: "Dev-pass-1", ok: true, slots: 0},
		{name: "wrong password", user: "dev", pass: "nope", slots: 1, busy: true},
		{name: "unknown name (dummy bcrypt)", user: "ghost", pass: "nope", slots: 1, busy: true},
		{name: "Harbor hash", user: "imported", pass: "content", ok: true, slots: 1},
		{name: "robot secret (SHA-256)", user: "robot$team+ci", pass: "ci-secret", ok: true, slots: 0},
		{name: "wrong robot secret (dummy bcrypt)", user: "robot$team+ci", pass: "nope", slots: 1, busy: true},
		{name: "Harbor robot secret (PBKDF2)", user: "robot$team+old", pass: "content", ok: true, slots: 1, busy: true},
		{name: "chosen robot secret (bcrypt)", user: "robot$team+chosen", pass: "Chosen-secret-1", ok: true, slots: 1, busy: true},
		{name: "wrong chosen robot secret", user: "robot$team+chosen", pass: "nope", slots: 1, busy: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &slotCounter{}
			lctx, done := authn.WithSlowChecks(ctx, c.acquire)
			_, ok, err := stack.Login(lctx, tt.user, tt.pass)
			done()
			if err != nil || ok != tt.ok {
				t.Fatalf("ok %v err %v, want ok %v", ok, err, tt.ok)
			}
			if c.taken != tt.slots || c.held != 0 {
				t.Fatalf("took %d slots (%d still held), want %d", c.taken, c.held, tt.slots)
			}
			// With no slot free, the same login is busy, not refused.
			if tt.busy {
				bctx, done := authn.WithSlowChecks(ctx, (&slotCounter{busy: true}).acquire)
				defer done()
				if _, ok, err := stack.Login(bctx, tt.user, tt.pass); ok || !errors.Is(err, authn.ErrBusy) || !errors.Is(err, authn.ErrUnavailable) {
					t.Fatalf("without a slot: ok %v err %v, want ErrBusy", ok, err)
				}
			}
		})
	}
}

// TestHarborHashesUntil: after import.harbor_hashes_until an imported
// Harbor hash no longer logs in; the refusal runs the dummy bcrypt like
// every other, and the hash stays for an administrator to replace.
func TestHarborHashesUntil(t *testing.T) {
	st := sqlitetest.Open(t)
	ctx := t.Context()
	harbor, _ := secret.HarborPasswordHash("sha256", "salt", "83d3d6f3e7cacb040423adf7ced63d21") // "content"
	for _, name := range []string{"before", "after"} {
		if err := st.CreateUser(ctx, &store.User{Name: name, PasswordHash: harbor, Source: store.SourceLocal}); err != nil {
			t.Fatal(err)
		}
	}
	until := time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC)
	now := until.Add(-time.Second)
	local, err := secret.NewLocal(st, 4)
	if err != nil {
		t.Fatal(err)
	}
	local.SetHarborHashesUntil(until, func() time.Time { return now })
	if _, ok, err := local.Login(ctx, "before", "content"); !ok || err != nil {
		t.Fatalf("before the date: ok %v err %v", ok, err)
	}
	now = until.Add(time.Second)
	runs := local.Dummy().Runs()
	if _, ok, err := local.Login(ctx, "after", "content"); ok || err != nil {
		t.Fatalf("after the date: ok %v err %v, want refused", ok, err)
	}
	if local.Dummy().Runs() != runs+1 {
		t.Fatal("the refusal did not run the dummy bcrypt")
	}
	if u, _ := st.GetUser(ctx, "after"); u.PasswordHash != harbor {
		t.Fatal("the refused Harbor hash was changed")
	}
	// The user who logged in before the date is on bcrypt now.
	if _, ok, _ := local.Login(ctx, "before", "content"); !ok {
		t.Fatal("a user rehashed before the date is refused after it")
	}
}
