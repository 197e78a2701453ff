package throttle

import (
	"sync"
	"time"
)

// Starts bounds how many flows a client network may start per minute at
// endpoints that take no credential but write a row (a sign-in at /login,
// a device authorization at /oauth/device/code): each row lives 10
// minutes, so without a bound anyone could fill the database. Counted in
// this process (a fixed one-minute window per network); a replica does not
// see another's.
type Starts struct {
	perMinute int
	max       int
	now       func() time.Time

	mu     sync.Mutex
	window time.Time
	counts map[string]int
}

// NewStarts allows perMinute starts per network and minute, keeping at
// most max networks per window (past it, new networks are refused until
// the window turns: a flood from many addresses cannot grow the map).
func NewStarts(perMinute, max int, now func() time.Time) *Starts {
	if now == nil {
		now = time.Now
	}
	return &Starts{perMinute: perMinute, max: max, now: now, counts: map[string]int{}}
}

// Allow counts a start from network and reports whether it is within the
// bound. A nil *Starts allows everything.
func (s *Starts) Allow(network string) bool {
	if s == nil {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if w := s.now().Truncate(time.Minute); !w.Equal(s.window) {
		s.window, s.counts = w, map[string]int{}
	}
	n, known := s.counts[network]
	if !known && len(s.counts) >= s.max {
		return false
	}
	if n >= s.perMinute {
		return false
	}
	s.counts[network] = n + 1
	return true
}
