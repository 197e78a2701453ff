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
func TestLeaderLeaves(t *testing.T) {
	var g Group[string, string]
	release := make(chan struct{})
	started := make(chan struct{})
	fn := func(ctx context.Context) (string, error) {
		close(started)
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
	ferr := make(chan error, 1)
	go func() {
		r, shared, err := g.Do(context.Background(), "k", fn)
		if r != "ok" || !shared {
			err = errors.Join(err, errors.New("follower did not share the result"))
		}
		ferr <- err
	}()
	time.Sleep(10 * time.Millisecond)
	cancel()
	if err := <-lerr; !errors.Is(err, context.Canceled) {
		t.Fatalf("leader: %v, want canceled", err)
	}
	close(release)
	if err := <-ferr; err != nil {
		t.Fatal(err)
	}
}
