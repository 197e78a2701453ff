package readcache

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/store"
)

// gated is a policy version whose reads start when told and end when
// released: read n returns n.
type gated struct {
	reads   atomic.Int64
	started chan int64
	release chan error
}

func newGated() *gated {
	return &gated{started: make(chan int64, 100), release: make(chan error, 100)}
}

func (g *gated) PolicyVersion(context.Context) (int64, error) {
	n := g.reads.Add(1)
	g.started <- n
	if err := <-g.release; err != nil {
		return 0, err
	}
	return n, nil
}

// A caller that arrives while a read is under way does not take its
// result: it gets the next read's, which the waiters share.
func TestVersionsNeverOlderThanTheCall(t *testing.T) {
	g := newGated()
	vs := &versions{st: g, stats: noStats{}}
	ctx := context.Background()
	first := make(chan int64)
	go func() { v, _ := vs.read(ctx); first <- v }()
	if n := <-g.started; n != 1 {
		t.Fatalf("first read is read %d", n)
	}
	// Ten callers arrive while read 1 is under way.
	var wg sync.WaitGroup
	got := make(chan int64, 10)
	for range 10 {
		wg.Go(func() {
			v, err := vs.read(ctx)
			if err != nil {
				t.Error(err)
			}
			got <- v
		})
	}
	waitFor(t, func() bool { vs.mu.Lock(); defer vs.mu.Unlock(); return vs.next != nil })
	time.Sleep(20 * time.Millisecond) // let every caller join
	g.release <- nil                  // read 1 ends
	if v := <-first; v != 1 {
		t.Fatalf("first caller got %d, want 1", v)
	}
	if n := <-g.started; n != 2 {
		t.Fatalf("second read is read %d", n)
	}
	for range 10 { // read 2, and any read a caller slow to arrive started
		g.release <- nil
	}
	wg.Wait()
	close(got)
	for v := range got {
		if v < 2 {
			t.Fatalf("a caller that arrived during read 1 got version %d: a read started before it called", v)
		}
	}
	// Every caller joined read 2 unless the machine held one back for
	// the 20 ms above.
	if n := g.reads.Load(); n > 3 {
		t.Fatalf("%d reads for 11 callers: the waiters did not share", n)
	}
	for len(g.started) > 0 {
		<-g.started
	}
	for len(g.release) > 0 {
		<-g.release
	}
	g.reads.Store(2)
	// Alone again: a caller reads at once.
	go func() { v, _ := vs.read(ctx); first <- v }()
	if n := <-g.started; n != 3 {
		t.Fatalf("a caller alone waited for something: read %d", n)
	}
	g.release <- nil
	if v := <-first; v != 3 {
		t.Fatalf("alone: %d, want 3", v)
	}
}

// The store's error reaches every caller of that read; a waiter whose
// context ends stops waiting, and the read still serves the others.
func TestVersionsErrorsAndCancel(t *testing.T) {
	g := newGated()
	vs := &versions{st: g, stats: noStats{}}
	ctx := context.Background()
	errDown := errors.New("down")
	first := make(chan error)
	go func() { _, err := vs.read(ctx); first <- err }()
	<-g.started
	runner := make(chan error)
	go func() { _, err := vs.read(ctx); runner <- err }()
	waitFor(t, func() bool { vs.mu.Lock(); defer vs.mu.Unlock(); return vs.next != nil })
	cctx, cancel := context.WithCancel(ctx)
	quitter := make(chan error)
	go func() { _, err := vs.read(cctx); quitter <- err }()
	time.Sleep(10 * time.Millisecond)
	cancel()
	if err := <-quitter; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled waiter: %v", err)
	}
	g.release <- errDown
	if err := <-first; !errors.Is(err, errDown) {
		t.Fatalf("first: %v, want the store's error", err)
	}
	<-g.started
	g.release <- nil
	if err := <-runner; err != nil {
		t.Fatalf("next read: %v", err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(time.Millisecond)
	}
}

// hung is a database that takes connections but never answers.
type hung struct{}

func (hung) PolicyVersion(ctx context.Context) (int64, error) {
	<-ctx.Done()
	return 0, ctx.Err()
}

// TestVersionsReadBounded: the shared read runs without its callers'
// cancellation, so it has its own bound; when it passes, the caller that
// ran it and those that waited get ErrUnavailable (503), not a hang.
func TestVersionsReadBounded(t *testing.T) {
	vs := &versions{st: hung{}, stats: noStats{}, timeout: 50 * time.Millisecond}
	errs := make(chan error, 3)
	for range 3 {
		go func() { _, err := vs.read(context.Background()); errs <- err }()
	}
	for range 3 {
		select {
		case err := <-errs:
			if !errors.Is(err, store.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("read of a hung database: %v, want ErrUnavailable from its deadline", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a read of a hung database did not end")
		}
	}
}

// A caller that arrives while a read is about to begin (its runner
// yielding) joins it: that read's result comes after the call.
func TestVersionsJoinReadNotBegun(t *testing.T) {
	g := newGated()
	vs := &versions{st: g, stats: noStats{}}
	ctx := context.Background()
	r := &versionRead{done: make(chan struct{})}
	vs.cur = r // as the runner leaves it before it has begun
	joined := make(chan int64, 1)
	go func() { v, _ := vs.read(ctx); joined <- v }()
	time.Sleep(10 * time.Millisecond) // let it arrive
	vs.mu.Lock()
	next := vs.next
	vs.mu.Unlock()
	if next != nil {
		t.Fatal("a caller arriving before the read began waits for another read")
	}
	go vs.run(ctx, r)
	if n := <-g.started; n != 1 {
		t.Fatalf("read %d, want 1", n)
	}
	g.release <- nil
	if v := <-joined; v != 1 {
		t.Fatalf("joiner got %d, want 1 (the read it joined)", v)
	}
	if n := g.reads.Load(); n != 1 {
		t.Fatalf("%d reads, want 1", n)
	}
}
