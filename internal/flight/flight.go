package flight

import (
	"context"
	"errors"
	"sync"
)

// ErrPanicked is what the callers waiting for a run get when its fn
// panicked (the panic itself goes on up the stack of the caller that ran fn).
var ErrPanicked = errors.New("flight: the shared call panicked")

// Group runs fn once for all callers that ask with the same key while it
// runs: a CI job starting 16 pulls with one credential costs one check,
// not 16. The zero Group is ready to use.
type Group[K comparable, R any] struct {
	mu sync.Mutex
	m  map[K]*call[R]
}

type call[R any] struct {
	done chan struct{}
	res  R
	err  error
}

// Do runs fn for key, or waits for the run already under way for key;
// shared is true for the callers that only waited. The first caller runs
// fn itself, on its own goroutine: a check the credential cache answers
// then costs no goroutine and no wake-up (a third of a reused token's time
// in BenchmarkTokenRequest). fn gets a context with ctx's values that the
// first caller's cancellation does not end (the others still need the
// result), so that caller returns when fn does, and then with ctx.Err() if
// its ctx ended meanwhile; every other caller stops waiting as soon as its
// own ctx ends, with ctx.Err(). If fn panics, the callers waiting get
// ErrPanicked and the panic goes on up the first caller's stack.
func (g *Group[K, R]) Do(ctx context.Context, key K, fn func(context.Context) (R, error)) (res R, shared bool, err error) {
	g.mu.Lock()
	if g.m == nil {
		g.m = map[K]*call[R]{}
	}
	c, running := g.m[key]
	if !running {
		c = &call[R]{done: make(chan struct{})}
		g.m[key] = c
	}
	g.mu.Unlock()
	if !running {
		ended := false
		defer func() {
			if !ended {
				c.err = ErrPanicked
			}
			g.mu.Lock()
			delete(g.m, key)
			g.mu.Unlock()
			close(c.done)
		}()
		c.res, c.err = fn(context.WithoutCancel(ctx))
		ended = true
		if err := ctx.Err(); err != nil {
			var zero R
			return zero, false, err
		}
		return c.res, false, c.err
	}
	select {
	case <-c.done:
		return c.res, running, c.err
	case <-ctx.Done():
		var zero R
		return zero, running, ctx.Err()
	}
}
