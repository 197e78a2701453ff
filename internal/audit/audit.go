package audit

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/authserver/authserver/internal/metrics"
	"github.com/authserver/authserver/internal/store"
)

// Config tunes the writer.
type Config struct {
	// Buffer is how many records may wait to be written (default 10000).
	Buffer int
	// Batch is the most records written in one transaction (default 500).
	Batch int
	// Interval is how often a partial batch is written (default 1s).
	Interval time.Duration
	// Retention is how long records are kept; 0 keeps them forever.
	Retention time.Duration
	// PruneEvery is how often old records are deleted (default 1h).
	PruneEvery time.Duration
	// Sync makes Commit wait until the record is written (audit.mode:
	// sync); without it Commit is Record.
	Sync bool
	// SyncWait bounds that wait, retries included (default 5s).
	SyncWait time.Duration
	// Committers is how many batches of Commit may be written at once
	// (default 1). A database that flushes concurrent commits together
	// (PostgreSQL) takes several, so a record arriving while a batch is
	// written need not wait for it; SQLite writes one at a time anyway.
	Committers int
}

// Writer buffers records and writes them in the background: Record queues
// without waiting; Commit, in sync mode, waits for the batch that holds
// its record (sync.go).
type Writer struct {
	st      store.Audit
	cfg     Config
	log     *slog.Logger
	metrics *metrics.Metrics

	ch      chan store.AuditRecord
	flushCh chan chan struct{}
	commits chan commit   // Commit's records (sync mode)
	stopped chan struct{} // closed when both loops have returned
	done    chan struct{}
	once    sync.Once
}

// New starts a writer. Close it to flush and stop.
func New(st store.Audit, cfg Config, log *slog.Logger, m *metrics.Metrics) *Writer {
	if cfg.Buffer <= 0 {
		cfg.Buffer = 10000
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 500
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.PruneEvery <= 0 {
		cfg.PruneEvery = time.Hour
	}
	if cfg.SyncWait <= 0 {
		cfg.SyncWait = 5 * time.Second
	}
	cfg.Committers = max(cfg.Committers, 1)
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	w := &Writer{st: st, cfg: cfg, log: log, metrics: m,
		ch: make(chan store.AuditRecord, cfg.Buffer), flushCh: make(chan chan struct{}), done: make(chan struct{}),
		commits: make(chan commit, cfg.Buffer), stopped: make(chan struct{})}
	var loops sync.WaitGroup
	loops.Go(w.run)
	for range w.cfg.Committers {
		loops.Go(w.runCommits)
	}
	go func() { loops.Wait(); close(w.stopped) }()
	return w
}

// Record queues r. It never blocks: when the buffer is full the record is
// dropped and counted in authserver_audit_records_dropped_total.
func (w *Writer) Record(r store.AuditRecord) {
	if w == nil {
		return
	}
	if r.Time.IsZero() {
		r.Time = time.Now()
	}
	select {
	case w.ch <- r:
	default:
		w.metrics.AuditDrop(1)
	}
}

// Flush waits until everything queued so far is written (or ctx ends).
func (w *Writer) Flush(ctx context.Context) {
	if w == nil {
		return
	}
	ack := make(chan struct{})
	select {
	case w.flushCh <- ack:
	case <-w.done:
		return
	case <-ctx.Done():
		return
	}
	select {
	case <-ack:
	case <-ctx.Done():
	}
}

// Close flushes and stops the writer, writing what Commit still holds.
// Records sent after Close are dropped.
func (w *Writer) Close(ctx context.Context) {
	if w == nil {
		return
	}
	w.Flush(ctx)
	w.once.Do(func() { close(w.done) })
	select {
	case <-w.stopped:
	case <-ctx.Done():
	}
}

func (w *Writer) run() {
	tick := time.NewTicker(w.cfg.Interval)
	defer tick.Stop()
	prune := time.NewTicker(w.cfg.PruneEvery)
	defer prune.Stop()
	batch := make([]store.AuditRecord, 0, w.cfg.Batch)
	write := func() {
		if len(batch) == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := w.st.AppendAudit(ctx, batch); err != nil {
			w.log.Error("audit write failed; records dropped", "records", len(batch), "err", err)
			w.metrics.AuditDrop(len(batch))
		}
		batch = batch[:0]
	}
	add := func(r store.AuditRecord) {
		batch = append(batch, r)
		if len(batch) == w.cfg.Batch {
			write()
		}
	}
	drain := func() {
		for {
			select {
			case r := <-w.ch:
				add(r)
			default:
				write()
				return
			}
		}
	}
	w.pruneOld()
	for {
		select {
		case r := <-w.ch:
			add(r)
		case <-tick.C:
			write()
		case ack := <-w.flushCh:
			drain()
			close(ack)
		case <-prune.C:
			w.pruneOld()
		case <-w.done:
			drain()
			return
		}
	}
}

func (w *Writer) pruneOld() {
	if w.cfg.Retention <= 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n, err := w.st.PruneAudit(ctx, time.Now().Add(-w.cfg.Retention))
	if err != nil {
		w.log.Warn("audit prune failed", "err", err)
		return
	}
	if n > 0 {
		w.log.Info("audit records pruned", "records", n, "retention", w.cfg.Retention)
	}
}
