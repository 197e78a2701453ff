//go:build integration

package ldap_test

import (
	"errors"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/authn/authntest"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/testenv"
	"github.com/authserver/authserver/internal/testenv/sqlitetest"
)

func TestLDAPTLS(t *testing.T) {
	s := testenv.Slapd(t)
	tls := func(url string, startTLS bool, ca string, skip bool) func(*config.LDAP) {
		return func(c *config.LDAP) { c.URL, c.StartTLS, c.CAFile, c.InsecureSkipVerify = url, startTLS, ca, skip }
	}
	ldapsIP := "ldaps://127.0.0.1:" + strconv.Itoa(s.TLSPort)
	tests := []struct {
		name    string
		mod     func(*config.LDAP)
		wantErr bool // fails closed: ErrUnavailable, never a 401
	}{
		{name: "ldaps by name, test CA", mod: tls(s.TLSURL(), false, s.CAFile, false)},
		{name: "ldaps by IP, test CA", mod: tls(ldapsIP, false, s.CAFile, false)},
		{name: "starttls, test CA", mod: tls(s.URL(), true, s.CAFile, false)},
		{name: "ldaps, untrusted CA", mod: tls(s.TLSURL(), false, s.OtherCAFile, false), wantErr: true},
		{name: "starttls, untrusted CA", mod: tls(s.URL(), true, s.OtherCAFile, false), wantErr: true},
		{name: "ldaps, system roots", mod: tls(s.TLSURL(), false, "", false), wantErr: true},
		{name: "ldaps, insecure_skip_verify", mod: tls(s.TLSURL(), false, s.OtherCAFile, true)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLDAP(t, ldapConfig(s, "logins", tt.mod))
			_, ok, err := l.Authenticate(t.Context(), "alice", "alice-pw")
			if tt.wantErr {
				if !errors.Is(err, authn.ErrUnavailable) || ok {
					t.Fatalf("Authenticate = %t, %v; want ErrUnavailable", ok, err)
				}
				return
			}
			if err != nil || !ok {
				t.Fatalf("Authenticate = %t, %v; want a login", ok, err)
			}
			if _, ok, err := l.Authenticate(t.Context(), "alice", "wrong"); ok || err != nil {
				t.Errorf("wrong password over TLS: %t, %v; want false, nil", ok, err)
			}
		})
	}
}

// TestLDAPHungServer: a server that accepts connections but never answers
// costs at most the timeout (plus a little), then 503-class.
func TestLDAPHungServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // held open, never answered
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	const timeout = 400 * time.Millisecond
	tests := []struct {
		name string
		mod  func(*config.LDAP)
	}{
		{name: "plain", mod: func(c *config.LDAP) { c.URL = "ldap://" + ln.Addr().String() }},
		{name: "ldaps handshake", mod: func(c *config.LDAP) { c.URL = "ldaps://" + ln.Addr().String() }},
		{name: "starttls", mod: func(c *config.LDAP) { c.URL, c.StartTLS = "ldap://"+ln.Addr().String(), true }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLDAP(t, ldapConfig(testenv.Slapd(t), "logins", withTimeout(timeout), tt.mod))
			start := time.Now()
			_, ok, err := l.Authenticate(t.Context(), "alice", "alice-pw")
			took := time.Since(start)
			if !errors.Is(err, authn.ErrUnavailable) || ok {
				t.Fatalf("Authenticate = %t, %v; want ErrUnavailable", ok, err)
			}
			if took > timeout+500*time.Millisecond {
				t.Errorf("took %v, want about the timeout %v", took, timeout)
			}
		})
	}
}

// TestLDAPOutage stops slapd under a running authenticator: LDAP logins
// fail with ErrUnavailable within the timeout while local users keep
// working, and work again once slapd is back, without a restart.
func TestLDAPOutage(t *testing.T) {
	s := testenv.NewSlapd(t)
	const timeout = time.Second
	l := newLDAP(t, ldapConfig(s, "logins", withTimeout(timeout)))
	st := sqlitetest.Open(t)
	authntest.AddLocal(t, st, "admin", "admin-local-pw", true)
	authntest.AddLocal(t, st, "localuser", "local-pw", false)
	chain := authntest.NewChain(t, st, l)
	login := func(user, pass string) (authn.Identity, bool, error, time.Duration) {
		start := time.Now()
		id, ok, err := chain.Login(t.Context(), user, pass)
		return id, ok, err, time.Since(start)
	}
	if _, ok, err, _ := login("alice", "alice-pw"); !ok || err != nil {
		t.Fatalf("login before the outage: %t, %v", ok, err)
	}

	s.Stop()
	for i := range 2 { // the pooled connections are dead, then dialing fails
		_, ok, err, took := login("alice", "alice-pw")
		if !errors.Is(err, authn.ErrUnavailable) || ok {
			t.Fatalf("LDAP login #%d during the outage = %t, %v; want ErrUnavailable (503)", i, ok, err)
		}
		if took > timeout+500*time.Millisecond {
			t.Errorf("LDAP login #%d during the outage took %v, want within the timeout %v", i, took, timeout)
		}
	}
	for _, u := range []struct{ name, pass string }{{"admin", "admin-local-pw"}, {"localuser", "local-pw"}} {
		if id, ok, err, _ := login(u.name, u.pass); !ok || err != nil || id.Method != authn.MethodPassword {
			t.Errorf("local user %s during the LDAP outage: %+v, %t, %v", u.name, id, ok, err)
		}
	}

	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	if id, ok, err, _ := login("alice", "alice-pw"); !ok || err != nil || id.Name != "alice" {
		t.Fatalf("login after slapd came back: %+v, %t, %v", id, ok, err)
	}
}

func TestLDAPCache(t *testing.T) {
	s := testenv.Slapd(t)
	l := newLDAP(t, ldapConfig(s, "logins", withCache(time.Minute)))
	ctx := t.Context()
	if u, ok, err := l.Authenticate(ctx, "alice", "alice-pw"); !ok || err != nil || u.Cached {
		t.Fatalf("first login: %+v, %t, %v", u, ok, err)
	}
	before := requests(l)
	u, ok, err := l.Authenticate(ctx, "alice", "alice-pw")
	if !ok || err != nil || !u.Cached || len(u.Groups) != 1 || requests(l) != before {
		t.Fatalf("second login not from cache: %+v, %t, %v, %d requests", u, ok, err, requests(l)-before)
	}
	// Failures are never cached, nor answered from another password's entry.
	for i := range 2 {
		before = requests(l)
		if _, ok, err := l.Authenticate(ctx, "alice", "alice-pw-wrong"); ok || err != nil {
			t.Fatalf("wrong password #%d: %t, %v", i, ok, err)
		}
		if requests(l) == before {
			t.Errorf("wrong password #%d answered without asking the directory", i)
		}
	}
	// The key separates username and password: ("alic", "ealice-pw") is not
	// ("alice", "alice-pw") with the boundary moved.
	if _, ok, _ := l.Authenticate(ctx, "alic", "ealice-pw"); ok {
		t.Error("shifted username/password boundary hit the cache")
	}
	// Concurrent identical cold logins share one directory check.
	l2 := newLDAP(t, ldapConfig(s, "many", withCache(time.Minute)))
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if _, ok, err := l2.Authenticate(ctx, "many", "many-pw"); !ok || err != nil {
				t.Errorf("parallel login: %t, %v", ok, err)
			}
		})
	}
	wg.Wait()
	if n := requests(l2); n != 3 {
		t.Errorf("16 parallel cold logins made %d round trips, want 3 (one shared check)", n)
	}
}

// TestLDAPParallelColdLogins runs more concurrent logins than the pools
// hold connections: all succeed, and no more than the pool size is opened.
func TestLDAPParallelColdLogins(t *testing.T) {
	l := newLDAP(t, ldapConfig(testenv.Slapd(t), "logins"))
	users := []struct{ name, pass string }{{"alice", "alice-pw"}, {"bob", "bob-pw"}, {"carol", "carol-pw"}, {"alice", "wrong"}}
	var wg sync.WaitGroup
	for i := range 48 {
		u := users[i%len(users)]
		wg.Go(func() {
			_, ok, err := l.Authenticate(t.Context(), u.name, u.pass)
			if err != nil || ok != (u.pass != "wrong") {
				t.Errorf("%s: %t, %v", u.name, ok, err)
			}
		})
	}
	wg.Wait()
	if d := l.Stats().Dials; d > 16 {
		t.Errorf("%d connections opened, want at most 2 pools of 8", d)
	}
}
