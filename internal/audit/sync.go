package audit

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/authserver/authserver/internal/store"
)

// ErrNotRecorded is an issued token's record that could not be written
// within Config.SyncWait (or before its request ended): the token must not
// be handed out. It wraps store.ErrUnavailable, so it is answered 503.
var ErrNotRecorded = fmt.Errorf("%w: audit record not written", store.ErrUnavailable)

// commit is a record waiting for its batch (Commit).
type commit struct {
	rec      store.AuditRecord
	deadline time.Time
	done     chan error // buffered: the writer never waits for a caller that left
}

// Commit records an issued token's record. In sync mode (audit.mode: sync)
// it returns once the record is committed: records of requests arriving
// while a batch is written wait together and go in the next one (group
// commit: one transaction for many tokens). A batch that fails is retried
// until SyncWait has passed since its newest record arrived; a record not
// written by then, or when ctx ends first, is ErrNotRecorded (the record
// may still be written later: a record without a token is harmless, a
// token without a record is what this prevents). A failure that is
// retried after an ambiguous commit may write a record twice. In async
// mode Commit is Record and returns nil. Commit is Begin, then Wait.
func (w *Writer) Commit(ctx context.Context, r store.AuditRecord) error {
	p := w.Begin(ctx, r)
	return p.Wait(ctx)
}

// Pending is a record Begin queued for a commit; Wait waits for it.
type Pending struct {
	c     commit
	wait  time.Duration
	timer *time.Timer // wait from Begin; nil when there is nothing to wait for
	err   error       // Begin's: the record was not queued
}

// noWait is the Pending of a record there is no commit to wait for
// (async mode); Wait only reads it.
var noWait = &Pending{}

// Begin queues r for the next commit (Commit's first half) and returns at
// once, unless the queue is full: then it waits for room (up to
// SyncWait). The caller does its own work meanwhile (the token is signed
// while its record is written) and then calls Wait, exactly once.
func (w *Writer) Begin(ctx context.Context, r store.AuditRecord) *Pending {
	if w == nil {
		return noWait
	}
	if !w.cfg.Sync {
		w.Record(r)
		return noWait
	}
	if r.Time.IsZero() {
		r.Time = time.Now()
	}
	p := &Pending{c: commit{rec: r, deadline: time.Now().Add(w.cfg.SyncWait), done: make(chan error, 1)},
		wait: w.cfg.SyncWait, timer: time.NewTimer(w.cfg.SyncWait)}
	select {
	case w.commits <- p.c:
	case <-w.done:
		p.err = fmt.Errorf("%w: shutting down", ErrNotRecorded)
	case <-ctx.Done():
		p.err = fmt.Errorf("%w: %w", ErrNotRecorded, ctx.Err())
	case <-p.timer.C:
		p.err = fmt.Errorf("%w: %d records already waiting", ErrNotRecorded, cap(w.commits))
	}
	return p
}

// Wait returns once p's record is committed (nil) or cannot be
// (ErrNotRecorded): it was not queued, ctx ended, SyncWait passed since
// Begin, or its batch failed. Without a commit to wait for it returns nil.
func (p *Pending) Wait(ctx context.Context) error {
	if p.timer == nil {
		return p.err
	}
	defer p.timer.Stop()
	if p.err != nil {
		return p.err
	}
	select {
	case err := <-p.c.done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrNotRecorded, ctx.Err())
	case <-p.timer.C:
		return fmt.Errorf("%w: not committed within %s", ErrNotRecorded, p.wait)
	}
}

// Waits reports whether Commit waits for its record to be written (sync
// mode); when it does not, Commit is Record.
func (w *Writer) Waits() bool { return w != nil && w.cfg.Sync }

// runCommits writes Commit's records: whatever is waiting when a batch
// starts (up to Batch) goes in one transaction. After Close, it writes what
// is still waiting, then returns.
func (w *Writer) runCommits() {
	batch := make([]commit, 0, w.cfg.Batch)
	for {
		var first commit
		select {
		case first = <-w.commits:
		case <-w.done:
			select {
			case first = <-w.commits:
			default:
				return
			}
		}
		w.commitBatch(w.gatherMore(append(batch[:0], first)))
	}
}

// gatherMore is gather that first lets the goroutines ready to run go on
// (runtime.Gosched), as long as that brings more records: requests whose
// records are on their way join this batch instead of waiting for the
// next commit. Each commit writes its pages once, so a batch of many
// costs little more than a batch of one.
func (w *Writer) gatherMore(batch []commit) []commit {
	for range 4 {
		n := len(batch)
		runtime.Gosched()
		if batch = w.gather(batch); len(batch) == n || len(batch) >= w.cfg.Batch {
			break
		}
	}
	return batch
}

// gather adds to batch what is waiting, up to Batch records.
func (w *Writer) gather(batch []commit) []commit {
	for len(batch) < w.cfg.Batch {
		select {
		case c := <-w.commits:
			batch = append(batch, c)
		default:
			return batch
		}
	}
	return batch
}

// Backoff between attempts at a batch that failed: doubling from
// firstRetry to maxRetry, and at most a quarter of SyncWait, so a record
// arriving meanwhile is still written within its wait once the database
// is back.
const (
	firstRetry = 20 * time.Millisecond
	maxRetry   = 500 * time.Millisecond
)

// commitBatch writes batch, retrying until the last of its deadlines (the
// records that arrive meanwhile join the retry), and tells each waiter
// how it went. The first attempt is made whatever the deadlines.
func (w *Writer) commitBatch(batch []commit) {
	limit := min(maxRetry, w.cfg.SyncWait/4)
	var err error
	for attempt, wait := 1, firstRetry; ; attempt, wait = attempt+1, min(2*wait, limit) {
		if attempt > 1 {
			batch = w.gather(batch)
		}
		recs := make([]store.AuditRecord, len(batch))
		deadline := time.Now().Add(time.Second) // the first attempt's, at least
		for i, c := range batch {
			recs[i] = c.rec
			if c.deadline.After(deadline) {
				deadline = c.deadline
			}
		}
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		err = w.st.AppendAudit(ctx, recs)
		cancel()
		if err == nil {
			break
		}
		last := batch[0].deadline
		for _, c := range batch {
			if c.deadline.After(last) {
				last = c.deadline
			}
		}
		if time.Now().Add(wait).After(last) {
			w.log.Error("audit write failed; tokens of these records were refused (503)", "records", len(recs),
				"attempts", attempt, "err", err)
			w.metrics.AuditDrop(len(recs))
			err = fmt.Errorf("%w: %w", ErrNotRecorded, err)
			break
		}
		if attempt == 1 {
			w.log.Warn("audit write failed; retrying", "records", len(recs), "err", err)
		}
		time.Sleep(wait)
	}
	for _, c := range batch {
		c.done <- err
	}
}
