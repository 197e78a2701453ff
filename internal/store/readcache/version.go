package readcache

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/authserver/authserver/internal/store"
)

// versions reads the policy version for many requests at once, without
// letting any of them see a version read before it arrived: a caller
// takes the result of a read that starts after it called, never of one
// already under way. With no read under way the caller starts one: it first
// lets the goroutines ready to run go on (one runtime.Gosched), and those
// that ask meanwhile join it, since it has not begun; while a read is under
// way, every caller that arrives waits for the one next read, which the
// first of them runs (the same way) as soon as the current one ends. Under
// load (16 connections on 2 cores) one read serves about three requests;
// alone, a request reads at once.
type versions struct {
	st    store.PolicyVersions
	stats Stats
	// timeout bounds one read (none when zero): it runs without its
	// caller's cancellation, since others wait for it.
	timeout time.Duration

	mu   sync.Mutex
	cur  *versionRead // under way or about to begin (started false), nil when none
	next *versionRead // to start when cur ends; whoever made it runs it
}

// ReadTimeout is the bound Store.BoundReads is meant for: a database
// across a network that stops answering without refusing connections (a
// partition) then fails the requests waiting for the read with a 503
// after this long, rather than holding every authenticated request until
// TCP gives up. A read normally takes well under a millisecond.
const ReadTimeout = 5 * time.Second

type versionRead struct {
	started bool // under mu: the store read has begun; callers arriving now take the next one
	done    chan struct{}
	v       int64
	err     error
}

// read returns a policy version read in full after read was called, or the
// store's error; ctx's end stops the wait (ctx.Err()), not a read another
// caller waits for.
func (vs *versions) read(ctx context.Context) (int64, error) {
	vs.mu.Lock()
	if vs.cur == nil {
		r := &versionRead{done: make(chan struct{})}
		vs.cur = r
		vs.mu.Unlock()
		vs.run(ctx, r)
		return r.v, r.err
	}
	if !vs.cur.started {
		// Not begun yet: its result is read after this call.
		r := vs.cur
		vs.mu.Unlock()
		return r.wait(ctx)
	}
	cur, r, runner := vs.cur, vs.next, false
	if r == nil {
		r = &versionRead{done: make(chan struct{})}
		vs.next, runner = r, true
	}
	vs.mu.Unlock()
	if runner {
		// Runs even if ctx ends: the others joined it.
		<-cur.done
		vs.mu.Lock()
		vs.cur, vs.next = r, nil
		vs.mu.Unlock()
		vs.run(ctx, r)
		return r.v, r.err
	}
	return r.wait(ctx)
}

// wait returns r's result once another caller's run has ended it, or
// ctx.Err() when ctx ends first (the read goes on for the others).
func (r *versionRead) wait(ctx context.Context) (int64, error) {
	select {
	case <-r.done:
		return r.v, r.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// run reads into r and ends it; cur is then free for the next caller,
// unless a waiter already made r's successor current.
func (vs *versions) run(ctx context.Context, r *versionRead) {
	// Let the goroutines ready to run go first: requests about to read the
	// version join this read rather than wait for the next (gathering, as
	// the audit committer's gatherMore does).
	runtime.Gosched()
	vs.mu.Lock()
	r.started = true
	vs.mu.Unlock()
	vs.stats.PolicyVersionRead()
	rctx := context.WithoutCancel(ctx)
	if vs.timeout > 0 {
		var cancel context.CancelFunc
		rctx, cancel = context.WithTimeout(rctx, vs.timeout)
		defer cancel()
	}
	r.v, r.err = vs.st.PolicyVersion(rctx)
	if r.err != nil && rctx.Err() != nil {
		r.err = fmt.Errorf("policy version not read within %s: %w", vs.timeout, r.err)
		if !errors.Is(r.err, store.ErrUnavailable) {
			r.err = fmt.Errorf("%w: %w", store.ErrUnavailable, r.err)
		}
	}
	vs.mu.Lock()
	if vs.cur == r && vs.next == nil {
		vs.cur = nil
	}
	vs.mu.Unlock()
	close(r.done)
}
