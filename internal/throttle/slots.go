package throttle

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrNoSlot is a slow check that found no free slot within the wait.
var ErrNoSlot = errors.New("too many password checks at once")

// Slots bounds the slow credential checks (bcrypt, Harbor's PBKDF2, an
// LDAP bind) that run at once: at most Max in all and PerNetwork from one
// client network. Without it, a hundred simultaneous guesses keep every
// core busy with bcrypt and a normal login waits seconds behind them; with
// it, one network's guesses wait for that network's own slots and a login
// from anywhere else finds a free one. A check waits at most Wait for a
// slot; networks waiting are served in turn, each in arrival order.
type Slots struct {
	max, perNet int
	wait        time.Duration

	mu     sync.Mutex
	inUse  int
	byNet  map[string]int       // slots held per network
	queues map[string][]*waiter // waiters per network, oldest first
	turns  []string             // networks with waiters, in turn order
}

type waiter struct {
	ready   chan struct{}
	granted bool
}

// NewSlots returns a limiter: total slots in all (at least 1), perNet per
// network (at least 1), a wait of at most wait for one.
func NewSlots(total, perNet int, wait time.Duration) *Slots {
	return &Slots{max: max(total, 1), perNet: max(perNet, 1), wait: wait,
		byNet: map[string]int{}, queues: map[string][]*waiter{}}
}

// Max is the number of slots in all.
func (s *Slots) Max() int { return s.max }

// InUse is the number of slots held now.
func (s *Slots) InUse() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inUse
}

// Acquire takes a slot for a check from network (Throttle.Network of the
// client), waiting up to the configured wait; release gives it back and
// must be called exactly once. It fails with ErrNoSlot when the wait runs
// out, or with ctx's error. A nil *Slots never waits.
func (s *Slots) Acquire(ctx context.Context, network string) (release func(), err error) {
	if s == nil {
		return func() {}, nil
	}
	s.mu.Lock()
	if len(s.queues[network]) == 0 && s.free(network) {
		s.take(network)
		s.mu.Unlock()
		return s.releaser(network), nil
	}
	w := &waiter{ready: make(chan struct{})}
	if len(s.queues[network]) == 0 {
		s.turns = append(s.turns, network)
	}
	s.queues[network] = append(s.queues[network], w)
	s.mu.Unlock()

	timer := time.NewTimer(s.wait)
	defer timer.Stop()
	select {
	case <-w.ready:
		return s.releaser(network), nil
	case <-timer.C:
		err = ErrNoSlot
	case <-ctx.Done():
		err = ctx.Err()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if w.granted { // granted as the wait ran out: give it back
		s.put(network)
		s.dispatch()
		return nil, err
	}
	s.dequeue(network, w)
	return nil, err
}

func (s *Slots) free(network string) bool {
	return s.inUse < s.max && s.byNet[network] < s.perNet
}

func (s *Slots) take(network string) {
	s.inUse++
	s.byNet[network]++
}

func (s *Slots) put(network string) {
	s.inUse--
	if s.byNet[network]--; s.byNet[network] <= 0 {
		delete(s.byNet, network)
	}
}

func (s *Slots) releaser(network string) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.put(network)
			s.dispatch()
		})
	}
}

// dispatch hands free slots to waiters, one network at a time in turn.
func (s *Slots) dispatch() {
	for progress := true; progress && s.inUse < s.max; {
		progress = false
		for i := 0; i < len(s.turns) && s.inUse < s.max; {
			net := s.turns[i]
			if !s.free(net) {
				i++
				continue
			}
			q := s.queues[net]
			w := q[0]
			w.granted = true
			close(w.ready)
			s.take(net)
			progress = true
			if len(q) == 1 {
				delete(s.queues, net)
				s.turns = append(s.turns[:i], s.turns[i+1:]...)
				continue
			}
			s.queues[net] = q[1:]
			// This network had its turn: it goes to the back.
			s.turns = append(append(s.turns[:i], s.turns[i+1:]...), net)
		}
	}
}

// dequeue drops a waiter that stopped waiting.
func (s *Slots) dequeue(network string, w *waiter) {
	q := s.queues[network]
	for i, x := range q {
		if x == w {
			q = append(q[:i], q[i+1:]...)
			break
		}
	}
	if len(q) > 0 {
		s.queues[network] = q
		return
	}
	delete(s.queues, network)
	for i, n := range s.turns {
		if n == network {
			s.turns = append(s.turns[:i], s.turns[i+1:]...)
			break
		}
	}
}
