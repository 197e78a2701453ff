package flight

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestSharedWhileRunning(t *testing.T) {
	var g Group[string, int]
	var runs atomic.Int32
	release := make(chan struct{})
	fn := func(context.Context) (int, error) {
		runs.Add(1)
		<-release
		return 42, nil
	}
	var wg sync.WaitGroup
	results := make(chan int, 10)
	for range 10 {
		wg.Go(func() {
			r, _, err := g.Do(context.Background(), "k", fn)
			if err != nil {
				t.Error(err)
			}
			results <- r
		})
	}
	for runs.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // let the others join
	close(release)
	wg.Wait()
	close(results)
	for r := range results {
		if r != 42 {
			t.Fatalf("result %d", r)
		}
	}
	if n := runs.Load(); n != 1 {
		t.Fatalf("fn ran %d times, want 1", n)
	}
	// Once done, the next call runs again.
	release = make(chan struct{})
	close(release)
	if _, shared, _ := g.Do(context.Background(), "k", fn); shared || runs.Load() != 2 {
		t.Fatalf("a call after the run ended: shared %v, runs %d", shared, runs.Load())
	}
}

// TestLeaderLeaves: the first caller's cancellation neither ends the run
// nor the wait of the others.
// TestCallersLeave: the caller running fn returns when fn ends, with its
// own ctx's error if that ended meanwhile, and fn's context is not ended
// by it; a caller that only waits leaves as soon as its ctx ends; the
// others still get the result.
func TestCallersLeave(t *testing.T) {
	var g Group[string, string]
	release := make(chan struct{})
	started := make(chan struct{})
	var once sync.Once
	fn := func(ctx context.Context) (string, error) {
		once.Do(func() { close(started) })
		<-release
		return "ok", ctx.Err()
	}
	lctx, cancel := context.WithCancel(context.Background())
	lerr := make(chan error, 1)
	go func() {
		_, _, err := g.Do(lctx, "k", fn)
		lerr <- err
	}()
	<-started
	join := func(ctx context.Context) chan error {
		ch := make(chan error, 1)
		go func() {
			r, shared, err := g.Do(ctx, "k", fn)
			if err == nil && (r != "ok" || !shared) {
				err = errors.New("follower did not share the result")
			}
			ch <- err
		}()
		return ch
	}
	fctx, fcancel := context.WithCancel(context.Background())
	leaver, follower := join(fctx), join(context.Background())
	time.Sleep(10 * time.Millisecond) // let both join
	fcancel()
	if err := <-leaver; !errors.Is(err, context.Canceled) {
		t.Fatalf("follower that left: %v, want canceled", err)
	}
	cancel()
	select {
	case err := <-lerr:
		t.Fatalf("the caller running fn returned before fn did: %v", err)
	case <-time.After(10 * time.Millisecond):
	}
	close(release)
	if err := <-lerr; !errors.Is(err, context.Canceled) {
		t.Fatalf("leader: %v, want canceled", err)
	}
	if err := <-follower; err != nil {
		t.Fatal(err)
	}
}

// TestPanic: a panic in fn goes up the stack of the caller that ran it,
// the callers waiting get ErrPanicked (never a zero result as success),
// and the key is free again.
func TestPanic(t *testing.T) {
	var g Group[string, int]
	release := make(chan struct{})
	started := make(chan struct{})
	panicked := make(chan any, 1)
	go func() {
		defer func() { panicked <- recover() }()
		_, _, _ = g.Do(context.Background(), "k", func(context.Context) (int, error) {
			close(started)
			<-release
			panic("boom")
		})
	}()
	<-started
	ferr := make(chan error, 1)
	go func() {
		_, _, err := g.Do(context.Background(), "k", func(context.Context) (int, error) { return 1, nil })
		ferr <- err
	}()
	time.Sleep(10 * time.Millisecond) // let it join
	close(release)
	if p := <-panicked; p != "boom" {
		t.Fatalf("recovered %v, want the panic", p)
	}
	if err := <-ferr; !errors.Is(err, ErrPanicked) {
		t.Fatalf("follower: %v, want ErrPanicked", err)
	}
	if r, shared, err := g.Do(context.Background(), "k", func(context.Context) (int, error) { return 7, nil }); r != 7 || shared || err != nil {
		t.Fatalf("after the panic: %d %v %v", r, shared, err)
	}
}
