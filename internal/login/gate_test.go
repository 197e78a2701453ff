package login

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/throttle"
)

// backend is a password check that knows one user, counts its checks and,
// when hold is set, keeps each check waiting until hold is closed. Every
// check is slow (authn.SlowCheck, as bcrypt is) except the one its
// credential cache answers: "dev" with "cached".
type backend struct {
	calls   atomic.Int64
	running atomic.Int64
	hold    chan struct{}
	err     error
}

func (b *backend) Login(ctx context.Context, user, pass string) (authn.Identity, bool, error) {
	if user == "dev" && pass == "cached" {
		return authn.Identity{Name: "dev", UserID: 1, Method: authn.MethodPassword}, true, nil
	}
	if err := authn.SlowCheck(ctx); err != nil {
		return authn.Identity{}, false, err
	}
	b.calls.Add(1)
	b.running.Add(1)
	defer b.running.Add(-1)
	if b.hold != nil {
		<-b.hold
	}
	if b.err != nil {
		return authn.Identity{}, false, b.err
	}
	if user == "dev" && pass == "right" {
		return authn.Identity{Name: "dev", UserID: 1, Method: authn.MethodPassword}, true, nil
	}
	return authn.Identity{}, false, nil
}

type records struct {
	mu   sync.Mutex
	recs []store.AuditRecord
}

func (r *records) Record(rec store.AuditRecord) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, rec)
}

func (r *records) count(result string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, rec := range r.recs {
		if rec.Result == result {
			n++
		}
	}
	return n
}

func newGate(b *backend, rec *records) *Gate {
	th := throttle.New(throttle.Config{UserIPLimit: 5, IPLimit: 50, BaseDelay: time.Minute, MaxDelay: time.Hour,
		Forget: time.Hour, MaxEntries: 1000}, nil)
	return New(Options{Passwords: b, Throttle: th, Audit: rec, Realm: "http://auth.test/service/token"})
}

func attempt(user, pass, ip string) Attempt {
	return Attempt{Endpoint: EndpointToken, Grant: GrantBasic, Username: user, Secret: pass, ClientIP: ip}
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func kindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}

// TestBurstReserves: 59 different wrong passwords at once from one address
// reach the check at most user_ip_failures times; the rest, and the right
// password sent while they are in flight, get 429 before any check.
func TestBurstReserves(t *testing.T) {
	b := &backend{hold: make(chan struct{})}
	rec := &records{}
	g := newGate(b, rec)
	errs := make(chan error, 59)
	for i := range 59 {
		go func() {
			_, err := g.Login(context.Background(), attempt("dev", fmt.Sprintf("guess%d", i), "192.0.2.7"))
			errs <- err
		}()
	}
	waitFor(t, "5 checks in flight and 54 refusals", func() bool { return b.running.Load() == 5 && len(errs) == 54 })
	if _, err := g.Login(context.Background(), attempt("dev", "right", "192.0.2.7")); kindOf(err) != KindThrottled {
		t.Fatalf("the right password during the burst: %v, want throttled", err)
	}
	close(b.hold)
	unauthorized, throttled := 0, 0
	for range 59 {
		switch err := <-errs; kindOf(err) {
		case KindUnauthorized:
			unauthorized++
		case KindThrottled:
			throttled++
			var e *Error
			errors.As(err, &e)
			if e.RetryAfter <= 0 {
				t.Fatal("429 without a wait")
			}
		default:
			t.Fatalf("unexpected %v", err)
		}
	}
	if n := b.calls.Load(); n != 5 || unauthorized != 5 || throttled != 54 {
		t.Fatalf("%d checks, %d refused, %d throttled; want 5, 5, 54", n, unauthorized, throttled)
	}
	if rec.count(store.AuditUnauthorized) != 5 || rec.count(store.AuditThrottled) != 55 {
		t.Fatalf("audit: %d unauthorized, %d throttled records", rec.count(store.AuditUnauthorized), rec.count(store.AuditThrottled))
	}
	// The owner elsewhere is not affected.
	if _, err := g.Login(context.Background(), attempt("dev", "right", "198.51.100.1")); err != nil {
		t.Fatalf("owner from another address: %v", err)
	}
}

// TestIdenticalAttemptsShare: 50 identical logins at once (a CI burst) are
// one check and one attempt; all of them get the identity.
func TestIdenticalAttemptsShare(t *testing.T) {
	b := &backend{hold: make(chan struct{})}
	g := newGate(b, &records{})
	var wg sync.WaitGroup
	var ok atomic.Int64
	for range 50 {
		wg.Go(func() {
			if id, err := g.Login(context.Background(), attempt("dev", "right", "192.0.2.7")); err == nil && id.Name == "dev" {
				ok.Add(1)
			}
		})
	}
	waitFor(t, "the check to start", func() bool { return b.running.Load() == 1 })
	time.Sleep(20 * time.Millisecond) // let the others join
	close(b.hold)
	wg.Wait()
	if ok.Load() != 50 || b.calls.Load() != 1 {
		t.Fatalf("%d of 50 logged in with %d checks; want 50 with 1", ok.Load(), b.calls.Load())
	}
	// The same wrong password 50 times at once is one failure, not 50.
	b.calls.Store(0)
	b.hold = make(chan struct{})
	for range 50 {
		wg.Go(func() { _, _ = g.Login(context.Background(), attempt("dev", "wrong", "192.0.2.7")) })
	}
	waitFor(t, "the check to start", func() bool { return b.running.Load() == 1 })
	time.Sleep(20 * time.Millisecond)
	close(b.hold)
	wg.Wait()
	b.hold = nil
	if _, err := g.Login(context.Background(), attempt("dev", "right", "192.0.2.7")); err != nil || b.calls.Load() != 2 {
		t.Fatalf("after one shared failure: %v after %d checks", err, b.calls.Load())
	}
}

// TestLimitsFirst: a name or secret over its limit is 400 before the
// throttle or any check; a refusal there is neither counted nor audited.
func TestLimitsFirst(t *testing.T) {
	b := &backend{}
	rec := &records{}
	g := newGate(b, rec)
	for _, a := range []Attempt{
		attempt("dev", strings.Repeat("p", MaxSecretBytes+1), "192.0.2.7"),
		attempt(strings.Repeat("u", MaxNameBytes+1), "x", "192.0.2.7"),
		{Endpoint: EndpointToken, Grant: GrantRefresh, Secret: strings.Repeat("r", MaxSecretBytes+1), ClientIP: "192.0.2.7"},
	} {
		if _, err := g.Login(context.Background(), a); kindOf(err) != KindBadInput {
			t.Fatalf("%.40s…: %v, want bad input", a.Username, err)
		}
	}
	if _, err := g.Login(context.Background(), attempt("dev", strings.Repeat("p", MaxSecretBytes), "192.0.2.7")); kindOf(err) != KindUnauthorized {
		t.Fatalf("a secret at the limit: %v, want checked and refused", err)
	}
	if b.calls.Load() != 1 || len(rec.recs) != 1 {
		t.Fatalf("%d checks, %d records; want 1, 1", b.calls.Load(), len(rec.recs))
	}
}

// TestNoVerdictNotCounted: an unavailable backend and a busy server are
// 503 and count nothing against the throttle; a bug is neither.
func TestNoVerdictNotCounted(t *testing.T) {
	tests := []struct {
		name string
		err  error
		kind Kind
	}{
		{name: "unavailable", err: fmt.Errorf("local login: %w: %w", authn.ErrUnavailable, errors.New("database is locked")), kind: KindUnavailable},
		{name: "busy", err: fmt.Errorf("slow check: %w: %w", authn.ErrBusy, throttle.ErrNoSlot), kind: KindBusy},
		{name: "bug", err: errors.New("nil map"), kind: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &backend{err: tt.err}
			rec := &records{}
			g := newGate(b, rec)
			for range 10 {
				_, err := g.Login(context.Background(), attempt("dev", "right", "192.0.2.7"))
				if kindOf(err) != tt.kind || !errors.Is(err, tt.err) {
					t.Fatalf("%v: kind %d, want %d", err, kindOf(err), tt.kind)
				}
				if tt.kind == KindBusy && err.(*Error).RetryAfter <= 0 {
					t.Fatal("busy without Retry-After")
				}
			}
			b.err = nil
			if _, err := g.Login(context.Background(), attempt("dev", "right", "192.0.2.7")); err != nil {
				t.Fatalf("after 10 attempts without a verdict: %v", err)
			}
			if len(rec.recs) != 0 {
				t.Fatalf("%d audit records of attempts without a verdict", len(rec.recs))
			}
		})
	}
}

// TestRefusalRecord: a refusal's audit record names the endpoint and what
// was tried, clipped, never the secret.
func TestRefusalRecord(t *testing.T) {
	rec := &records{}
	g := newGate(&backend{}, rec)
	a := Attempt{Endpoint: EndpointAPI, Grant: GrantBasic, Username: "dev", Secret: "s3cret-guess", ClientIP: "192.0.2.7",
		UserAgent: strings.Repeat("a", 5000), RequestID: "req-1"}
	if _, err := g.Login(context.Background(), a); kindOf(err) != KindUnauthorized {
		t.Fatal(err)
	}
	r := rec.recs[0]
	if r.Endpoint != EndpointAPI || r.Subject != "dev" || r.Result != store.AuditUnauthorized || r.Method != authn.MethodPassword ||
		r.RequestID != "req-1" || r.ClientIP != "192.0.2.7" || len(r.UserAgent) > 400 {
		t.Fatalf("record %+v", r)
	}
	if strings.Contains(fmt.Sprintf("%+v", r), "s3cret") {
		t.Fatal("the secret reached the audit record")
	}
}

// counting is a Limiter that counts the reservations held and settled.
type counting struct {
	throttle.Limiter
	holds, failed, succeeded, released atomic.Int64
}

func (c *counting) Admit(ctx context.Context, user, ip string) (throttle.Reservation, time.Duration, error) {
	r, wait, err := c.Limiter.Admit(ctx, user, ip)
	if r != nil {
		r = &countingReservation{r, c}
	}
	return r, wait, err
}

type countingReservation struct {
	throttle.Reservation
	c *counting
}

func (r *countingReservation) Hold(ctx context.Context) (time.Duration, error) {
	r.c.holds.Add(1)
	return r.Reservation.Hold(ctx)
}
func (r *countingReservation) Failed(ctx context.Context) error {
	r.c.failed.Add(1)
	return r.Reservation.Failed(ctx)
}
func (r *countingReservation) Succeeded(ctx context.Context) error {
	r.c.succeeded.Add(1)
	return r.Reservation.Succeeded(ctx)
}
func (r *countingReservation) Released(ctx context.Context) error {
	r.c.released.Add(1)
	return r.Reservation.Released(ctx)
}

// TestCacheHitHoldsNothing: a login the credential cache answers is
// admitted (a read) but never held: no reservation is written for it,
// while a cache miss holds one before its slow check. A blocked pair is
// refused before the cache is asked, so a guesser cannot use the cache to
// test passwords while blocked.
func TestCacheHitHoldsNothing(t *testing.T) {
	b := &backend{}
	th := &counting{Limiter: throttle.New(throttle.Config{UserIPLimit: 3, IPLimit: 50, BaseDelay: time.Minute,
		MaxDelay: time.Hour, Forget: time.Hour}, nil)}
	g := New(Options{Passwords: b, Throttle: th})
	for range 20 {
		if _, err := g.Login(context.Background(), attempt("dev", "cached", "192.0.2.7")); err != nil {
			t.Fatal(err)
		}
	}
	if th.holds.Load() != 0 || th.succeeded.Load() != 20 || b.calls.Load() != 0 {
		t.Fatalf("20 cache hits: %d holds, %d successes, %d slow checks; want 0, 20, 0", th.holds.Load(), th.succeeded.Load(), b.calls.Load())
	}
	if _, err := g.Login(context.Background(), attempt("dev", "right", "192.0.2.7")); err != nil || th.holds.Load() != 1 {
		t.Fatalf("a cache miss: %v with %d holds, want success with 1", err, th.holds.Load())
	}
	for range 3 {
		if _, err := g.Login(context.Background(), attempt("dev", "wrong", "192.0.2.7")); kindOf(err) != KindUnauthorized {
			t.Fatalf("wrong password: %v", err)
		}
	}
	if _, err := g.Login(context.Background(), attempt("dev", "cached", "192.0.2.7")); kindOf(err) != KindThrottled {
		t.Fatalf("the cached credential from a blocked pair: %v, want throttled", err)
	}
}

// TestFastFailuresCount: a failure that ran no slow check (an unguessable
// secret checked by its hash) holds nothing but is counted when settled,
// so the sequential budget is the same.
func TestFastFailuresCount(t *testing.T) {
	th := &counting{Limiter: throttle.New(throttle.Config{UserIPLimit: 3, IPLimit: 50, BaseDelay: time.Minute,
		MaxDelay: time.Hour, Forget: time.Hour}, nil)}
	g := New(Options{Passwords: fastRefusal{}, Throttle: th})
	for i := range 5 {
		_, err := g.Login(context.Background(), attempt("robot$ci", fmt.Sprint("guess", i), "192.0.2.7"))
		if want := map[bool]Kind{true: KindUnauthorized, false: KindThrottled}[i < 3]; kindOf(err) != want {
			t.Fatalf("attempt %d: %v, want kind %d", i+1, err, want)
		}
	}
	if th.holds.Load() != 0 || th.failed.Load() != 3 {
		t.Fatalf("%d holds, %d failures; want 0, 3", th.holds.Load(), th.failed.Load())
	}
}

// fastRefusal refuses every credential without a slow check.
type fastRefusal struct{}

func (fastRefusal) Login(context.Context, string, string) (authn.Identity, bool, error) {
	return authn.Identity{}, false, nil
}
