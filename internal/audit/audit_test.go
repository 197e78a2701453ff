package audit

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/authserver/authserver/internal/metrics"
	"github.com/authserver/authserver/internal/store"
)

// memAudit is a store.Audit in memory that can be made slow or failing,
// to test the writer's buffering; the SQL backends are tested by the store
// conformance suite.
type memAudit struct {
	mu      sync.Mutex
	records []store.AuditRecord
	batches int
	block   chan struct{}
	fail    error
	failN   int // fail this many calls first (with fail)
	calls   int
	pruned  time.Time
	handed  int // records handed to AppendAudit, blocked or not
}

func (m *memAudit) AppendAudit(_ context.Context, rs []store.AuditRecord) error {
	m.mu.Lock()
	m.handed += len(rs)
	m.mu.Unlock()
	if m.block != nil {
		<-m.block
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	if m.fail != nil && (m.failN == 0 || m.calls <= m.failN) {
		return m.fail
	}
	m.batches++
	m.records = append(m.records, rs...)
	return nil
}
func (m *memAudit) ListAudit(context.Context, store.AuditFilter) ([]store.AuditRecord, error) {
	return nil, nil
}
func (m *memAudit) PruneAudit(_ context.Context, before time.Time) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pruned = before
	return 0, nil
}
func (m *memAudit) handedOver() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.handed
}
func (m *memAudit) count() (int, int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.records), m.batches
}

func TestBatchedAndFlushed(t *testing.T) {
	st := &memAudit{}
	w := New(st, Config{Batch: 10, Interval: time.Hour, Retention: 24 * time.Hour}, nil, nil)
	for i := 0; i < 25; i++ {
		w.Record(store.AuditRecord{Subject: "u"})
	}
	w.Close(context.Background())
	n, batches := st.count()
	if n != 25 || batches != 3 {
		t.Fatalf("%d records in %d batches, want 25 in 3", n, batches)
	}
	if st.pruned.IsZero() || time.Since(st.pruned) < 23*time.Hour {
		t.Fatalf("prune cutoff %v", st.pruned)
	}
}

func TestNeverBlocksAndCountsDrops(t *testing.T) {
	st := &memAudit{block: make(chan struct{})}
	m := metrics.New("test")
	w := New(st, Config{Buffer: 5, Batch: 1, Interval: time.Hour}, nil, m)
	done := make(chan struct{})
	go func() {
		for i := 0; i < 100; i++ {
			w.Record(store.AuditRecord{Subject: "u"})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Record blocked on a stuck store")
	}
	dropped := testutil.ToFloat64(m.AuditDropped)
	if dropped < 90 {
		t.Fatalf("dropped %v, want at least 90", dropped)
	}
	close(st.block)
	w.Close(context.Background())
	n, _ := st.count()
	if float64(n)+dropped != 100 {
		t.Fatalf("written %d + dropped %v != 100", n, dropped)
	}
}

func TestStoreFailureCounted(t *testing.T) {
	st := &memAudit{fail: errors.New("disk full")}
	m := metrics.New("test")
	w := New(st, Config{Interval: time.Hour}, nil, m)
	w.Record(store.AuditRecord{})
	w.Record(store.AuditRecord{})
	w.Close(context.Background())
	if got := testutil.ToFloat64(m.AuditDropped); got != 2 {
		t.Fatalf("dropped %v, want 2", got)
	}
}

func TestNilWriter(t *testing.T) {
	var w *Writer
	w.Record(store.AuditRecord{})
	w.Flush(context.Background())
	w.Close(context.Background())
}
