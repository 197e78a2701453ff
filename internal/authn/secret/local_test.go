package secret

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/testenv/sqlitetest"
)

func TestLocalLogin(t *testing.T) {
	ctx := context.Background()
	st := sqlitetest.Open(t)
	add := func(u store.User, pw string) {
		if pw != "" {
			h, err := HashPassword(pw, 4)
			if err != nil {
				t.Fatal(err)
			}
			u.PasswordHash = h
		}
		if err := st.CreateUser(ctx, &u); err != nil {
			t.Fatal(err)
		}
	}
	add(store.User{Name: "alice", Source: store.SourceLocal}, "alice-pw")
	add(store.User{Name: "root", Admin: true, Source: store.SourceLocal}, "root-pw")
	add(store.User{Name: "off", Disabled: true, Source: store.SourceLocal}, "off-pw")
	add(store.User{Name: "dirk", Source: store.SourceLDAP}, "")
	local, err := NewLocal(st, 4)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, user, pass string
		ok               bool
		admin            bool
	}{
		{name: "right password", user: "alice", pass: "alice-pw", ok: true},
		{name: "sysadmin", user: "root", pass: "root-pw", ok: true, admin: true},
		{name: "wrong password", user: "alice", pass: "nope"},
		{name: "case matters", user: "Alice", pass: "alice-pw"},
		{name: "unknown user", user: "nobody", pass: "x"},
		{name: "disabled", user: "off", pass: "off-pw"},
		{name: "ldap user has no local password", user: "dirk", pass: ""},
		{name: "ldap user with a guess", user: "dirk", pass: "authserver-dummy-password"},
		{name: "empty password", user: "alice", pass: ""},
		{name: "empty user", user: "", pass: "alice-pw"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, ok, err := local.Login(ctx, tt.user, tt.pass)
			if err != nil {
				t.Fatal(err)
			}
			if ok != tt.ok || id.Admin != tt.admin {
				t.Fatalf("ok=%v admin=%v, want %v %v", ok, id.Admin, tt.ok, tt.admin)
			}
			if ok && (id.Name != tt.user || id.UserID == 0 || id.Method != authn.MethodPassword) {
				t.Fatalf("identity %+v", id)
			}
		})
	}

	st.Close()
	if _, _, err := local.Login(ctx, "alice", "alice-pw"); !errors.Is(err, authn.ErrUnavailable) {
		t.Fatalf("closed store: err = %v, want ErrUnavailable", err)
	}
}

func TestHashPassword(t *testing.T) {
	if _, err := HashPassword("", 4); err == nil {
		t.Fatal("empty password accepted")
	}
	if _, err := HashPassword(strings.Repeat("x", 73), 4); err == nil {
		t.Fatal("73-byte password accepted (bcrypt would truncate it)")
	}
	h, err := HashPassword("pw", 4)
	if err != nil || !strings.HasPrefix(h, "$2a$04$") {
		t.Fatalf("hash %q, %v", h, err)
	}
}

type countStats struct{ hits, misses int }

func (c *countStats) Cache(_ string, hit bool) {
	if hit {
		c.hits++
	} else {
		c.misses++
	}
}

func TestLocalCredentialCache(t *testing.T) {
	ctx := context.Background()
	st := sqlitetest.Open(t)
	hash, _ := HashPassword("pw1", 4)
	u := store.User{Name: "alice", PasswordHash: hash, Source: store.SourceLocal}
	if err := st.CreateUser(ctx, &u); err != nil {
		t.Fatal(err)
	}
	local, _ := NewLocal(st, 4)
	stats := &countStats{}
	if err := local.SetCache(time.Minute, 100, stats); err != nil {
		t.Fatal(err)
	}
	login := func(pw string) bool {
		t.Helper()
		_, ok, err := local.Login(ctx, "alice", pw)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	steps := []struct {
		name   string
		change func()
		pw     string
		ok     bool
		hits   int
	}{
		{name: "first login verifies", pw: "pw1", ok: true, hits: 0},
		{name: "second is a hit", pw: "pw1", ok: true, hits: 1},
		{name: "wrong password never hits", pw: "bad", ok: false, hits: 1},
		{name: "wrong password again", pw: "bad", ok: false, hits: 1},
		{name: "still a hit", pw: "pw1", ok: true, hits: 2},
		{name: "password changed elsewhere", change: func() {
			u, _ := st.GetUser(ctx, "alice")
			u.PasswordHash, _ = HashPassword("pw2", 4)
			_ = st.UpdateUser(ctx, u)
		}, pw: "pw1", ok: false, hits: 2},
		{name: "new password works", pw: "pw2", ok: true, hits: 2},
		{name: "and is cached", pw: "pw2", ok: true, hits: 3},
		{name: "disabled elsewhere", change: func() {
			u, _ := st.GetUser(ctx, "alice")
			u.Disabled = true
			_ = st.UpdateUser(ctx, u)
		}, pw: "pw2", ok: false, hits: 3},
		{name: "deleted elsewhere", change: func() { _ = st.DeleteUser(ctx, "alice") }, pw: "pw2", ok: false, hits: 3},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if s.change != nil {
				s.change()
			}
			if got := login(s.pw); got != s.ok {
				t.Fatalf("login = %v, want %v", got, s.ok)
			}
			if stats.hits != s.hits {
				t.Fatalf("%d hits, want %d", stats.hits, s.hits)
			}
		})
	}
}
