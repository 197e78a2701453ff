//go:build integration

package throttle

import (
	"testing"

	"github.com/authserver/authserver/internal/testenv"
	"github.com/authserver/authserver/internal/testenv/pgtest"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestSharedPostgres runs the shared throttle's rules on PostgreSQL, where
// replicas really run at once (row locks, not SQLite's one writer).
func TestSharedPostgres(t *testing.T) {
	for _, tt := range sharedTests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, pgtest.Open(t)) })
	}
	t.Run("Rules", func(t *testing.T) {
		th := NewShared(pgtest.Open(t), cfg(), newClock().now)
		for range 3 {
			fail(t, th, "alice", "10.0.0.1")
		}
		if !blocked(t, th, "alice", "10.0.0.1") {
			t.Fatal("not blocked after 3 failures")
		}
		succeed(t, th, "alice", "10.0.0.2")
	})
}

// BenchmarkLoginPostgres is BenchmarkLogin on PostgreSQL.
func BenchmarkLoginPostgres(b *testing.B) {
	benchLogins(b, NewShared(pgtest.Open(b), cfg(), nil))
}
