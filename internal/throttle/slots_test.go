package throttle

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestSlotsBounds(t *testing.T) {
	tests := []struct {
		name         string
		total, per   int
		nets         []string // one Acquire per entry, held
		wantAdmitted int
	}{
		{name: "per network", total: 10, per: 2, nets: []string{"a", "a", "a", "a"}, wantAdmitted: 2},
		{name: "in all", total: 3, per: 2, nets: []string{"a", "a", "b", "b", "c"}, wantAdmitted: 3},
		{name: "each network its own", total: 10, per: 2, nets: []string{"a", "b", "c", "a", "b", "c"}, wantAdmitted: 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSlots(tt.total, tt.per, 10*time.Millisecond)
			admitted := 0
			for _, n := range tt.nets {
				if _, err := s.Acquire(context.Background(), n); err == nil {
					admitted++
				} else if !errors.Is(err, ErrNoSlot) {
					t.Fatal(err)
				}
			}
			if admitted != tt.wantAdmitted || s.InUse() != tt.wantAdmitted {
				t.Fatalf("admitted %d (in use %d), want %d", admitted, s.InUse(), tt.wantAdmitted)
			}
		})
	}
}

// TestSlotsOtherNetworkServed: a network with a long queue does not hold
// up another network's check, and a release goes to the next network in
// turn.
func TestSlotsOtherNetworkServed(t *testing.T) {
	s := NewSlots(3, 2, time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var order []string
	var attackers []func()
	for range 2 {
		rel, err := s.Acquire(ctx, "attacker")
		if err != nil {
			t.Fatal(err)
		}
		attackers = append(attackers, rel)
	}
	var wg sync.WaitGroup
	for range 20 { // the attacker's queue
		wg.Go(func() {
			rel, err := s.Acquire(ctx, "attacker")
			if err == nil {
				mu.Lock()
				order = append(order, "attacker")
				mu.Unlock()
				rel()
			}
		})
	}
	time.Sleep(20 * time.Millisecond)
	rel, err := s.Acquire(ctx, "user") // the third slot is free for another network
	if err != nil {
		t.Fatalf("another network waits behind the attacker: %v", err)
	}
	rel()
	// Two users queue behind a full house; releases alternate networks.
	hold, _ := s.Acquire(ctx, "user")
	done := make(chan struct{})
	go func() {
		r, err := s.Acquire(ctx, "user2")
		if err == nil {
			mu.Lock()
			order = append(order, "user2")
			mu.Unlock()
			r()
		}
		close(done)
	}()
	time.Sleep(20 * time.Millisecond)
	attackers[0]() // frees an attacker slot: the attacker's next, by per-network order
	hold()         // frees the user slot: user2 is served although 19 attackers wait
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("user2 not served")
	}
	attackers[1]()
	wg.Wait()
	if n := s.InUse(); n != 0 {
		t.Fatalf("%d slots still held", n)
	}
	if len(order) != 21 {
		t.Fatalf("%d checks ran, want 21", len(order))
	}
}

func TestSlotsWaitRunsOut(t *testing.T) {
	s := NewSlots(1, 1, 30*time.Millisecond)
	rel, _ := s.Acquire(context.Background(), "a")
	start := time.Now()
	if _, err := s.Acquire(context.Background(), "b"); !errors.Is(err, ErrNoSlot) {
		t.Fatalf("err %v, want ErrNoSlot", err)
	}
	if time.Since(start) < 30*time.Millisecond {
		t.Fatal("gave up before the wait")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Acquire(ctx, "b"); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want canceled", err)
	}
	rel()
	rel() // a second release is harmless
	if s.InUse() != 0 || len(s.queues) != 0 || len(s.turns) != 0 {
		t.Fatalf("state left: in use %d, queues %v, turns %v", s.InUse(), s.queues, s.turns)
	}
	var nilSlots *Slots
	r, err := nilSlots.Acquire(context.Background(), "a")
	if err != nil {
		t.Fatal(err)
	}
	r()
}
