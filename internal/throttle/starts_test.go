package throttle

import (
	"testing"
	"time"
)

func TestStarts(t *testing.T) {
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	s := NewStarts(3, 2, func() time.Time { return now })
	for i := range 3 {
		if !s.Allow("10.0.0.0/24") {
			t.Fatalf("start %d refused", i+1)
		}
	}
	if s.Allow("10.0.0.0/24") {
		t.Error("a fourth start within the minute allowed")
	}
	if !s.Allow("10.0.1.0/24") {
		t.Error("another network refused")
	}
	if s.Allow("10.0.2.0/24") {
		t.Error("a third network allowed past max")
	}
	now = now.Add(time.Minute)
	if !s.Allow("10.0.0.0/24") || !s.Allow("10.0.2.0/24") {
		t.Error("the next minute still refuses")
	}
	var none *Starts
	if !none.Allow("x") {
		t.Error("a nil Starts refused")
	}
}
