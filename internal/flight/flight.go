package flight

import (
	"context"
	"sync"
)

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
// shared is true for the callers that only waited. fn gets a context with
// ctx's values that the first caller's cancellation does not end (the
// others still need the result); each caller stops waiting when its own
// ctx ends, with ctx.Err().
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
		go func() {
			defer func() {
				g.mu.Lock()
				delete(g.m, key)
				g.mu.Unlock()
				close(c.done)
			}()
			c.res, c.err = fn(context.WithoutCancel(ctx))
		}()
	}
	select {
	case <-c.done:
		return c.res, running, c.err
	case <-ctx.Done():
		var zero R
		return zero, running, ctx.Err()
	}
}
