package audit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/store"
)

// TestCommitWaitsForItsBatch: in sync mode no Commit returns before its
// record is written; records arriving while a batch is written wait
// together and go in few transactions (group commit).
func TestCommitWaitsForItsBatch(t *testing.T) {
	st := &memAudit{block: make(chan struct{})}
	w := New(st, Config{Sync: true, Interval: time.Hour}, nil, nil)
	defer w.Close(context.Background())
	var wg sync.WaitGroup
	returned := make(chan error, 20)
	for i := range 20 {
		wg.Go(func() { returned <- w.Commit(context.Background(), store.AuditRecord{JTI: fmt.Sprint(i)}) })
	}
	// Every record is either in the batch the store holds or queued.
	for deadline := time.Now().Add(10 * time.Second); st.handedOver()+len(w.commits) < 20; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d records handed to the store and %d queued, want 20", st.handedOver(), len(w.commits))
		}
	}
	if len(returned) != 0 {
		t.Fatal("Commit returned before the store wrote anything")
	}
	close(st.block)
	wg.Wait()
	close(returned)
	for err := range returned {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n, batches := st.count(); n != 20 || batches > 2 {
		t.Fatalf("%d records in %d transactions, want 20 in at most 2 (the first, then the others together)", n, batches)
	}
}

// TestBeginThenWait: Begin queues the record and returns while the store
// is still writing (the token is signed meanwhile); Wait returns only once
// the record is written. In async mode Wait has nothing to wait for.
func TestBeginThenWait(t *testing.T) {
	st := &memAudit{block: make(chan struct{})}
	w := New(st, Config{Sync: true, Interval: time.Hour}, nil, nil)
	defer w.Close(context.Background())
	p := w.Begin(context.Background(), store.AuditRecord{JTI: "a"})
	waited := make(chan error, 1)
	go func() { waited <- p.Wait(context.Background()) }()
	for deadline := time.Now().Add(10 * time.Second); st.handedOver() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the record never reached the store")
		}
	}
	select {
	case err := <-waited:
		t.Fatalf("Wait returned before the record was written: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	close(st.block)
	if err := <-waited; err != nil {
		t.Fatal(err)
	}
	if n, _ := st.count(); n != 1 {
		t.Fatalf("%d records, want 1", n)
	}

	stuck := &memAudit{block: make(chan struct{})}
	w2 := New(stuck, Config{Sync: true, Interval: time.Hour}, nil, nil)
	defer w2.Close(context.Background())
	defer close(stuck.block)
	ctx, cancel := context.WithCancel(context.Background())
	p = w2.Begin(ctx, store.AuditRecord{JTI: "b"})
	cancel()
	if err := p.Wait(ctx); !errors.Is(err, ErrNotRecorded) {
		t.Fatalf("Wait for a caller that left: %v, want ErrNotRecorded", err)
	}

	async := New(&memAudit{block: make(chan struct{})}, Config{Interval: time.Hour}, nil, nil)
	if err := async.Begin(context.Background(), store.AuditRecord{}).Wait(context.Background()); err != nil {
		t.Fatalf("async: %v", err)
	}
}

// TestCommitRetried: a batch that fails is retried; the caller waits and
// gets nil once it is written.
func TestCommitRetried(t *testing.T) {
	st := &memAudit{fail: errors.New("connection refused"), failN: 3}
	w := New(st, Config{Sync: true, SyncWait: 5 * time.Second}, nil, nil)
	defer w.Close(context.Background())
	if err := w.Commit(context.Background(), store.AuditRecord{JTI: "a"}); err != nil {
		t.Fatalf("Commit after 3 failed attempts: %v", err)
	}
	if n, _ := st.count(); n != 1 {
		t.Fatalf("%d records written, want 1", n)
	}
}

// TestCommitRefusedWhenNotWritten: a record that cannot be written within
// SyncWait is ErrNotRecorded, which is store.ErrUnavailable (503).
func TestCommitRefusedWhenNotWritten(t *testing.T) {
	st := &memAudit{fail: errors.New("connection refused")}
	w := New(st, Config{Sync: true, SyncWait: 200 * time.Millisecond}, nil, nil)
	defer w.Close(context.Background())
	start := time.Now()
	err := w.Commit(context.Background(), store.AuditRecord{JTI: "a"})
	if !errors.Is(err, ErrNotRecorded) || !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Commit with the store down: %v, want ErrNotRecorded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Commit took %s, SyncWait is 200ms", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := w.Commit(ctx, store.AuditRecord{}); !errors.Is(err, ErrNotRecorded) {
		t.Fatalf("Commit for a caller that left: %v", err)
	}
}

// TestCommitAsync: in async mode Commit queues and returns at once, even
// with the store stuck.
func TestCommitAsync(t *testing.T) {
	st := &memAudit{block: make(chan struct{})}
	w := New(st, Config{Interval: time.Hour}, nil, nil)
	done := make(chan error)
	go func() { done <- w.Commit(context.Background(), store.AuditRecord{}) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("async Commit waited for the store")
	}
	close(st.block)
	w.Close(context.Background())
	if n, _ := st.count(); n != 1 {
		t.Fatalf("%d records, want 1", n)
	}
}
