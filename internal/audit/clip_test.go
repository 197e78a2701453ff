package audit

import (
	"fmt"
	"strings"
	"testing"
)

func TestClip(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{name: "short", in: "dev", want: "dev"},
		{name: "at the limit", in: strings.Repeat("a", MaxRecordedBytes), want: strings.Repeat("a", MaxRecordedBytes)},
		{name: "over", in: strings.Repeat("a", MaxRecordedBytes+10), want: strings.Repeat("a", MaxRecordedBytes) + "…(truncated 10 bytes)"},
		{name: "rune boundary", in: strings.Repeat("a", MaxRecordedBytes-1) + "é" + "b",
			want: strings.Repeat("a", MaxRecordedBytes-1) + "…(truncated 3 bytes)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Clip(tt.in); got != tt.want {
				t.Fatalf("Clip = %q, want %q", got, tt.want)
			}
		})
	}
	var many []string
	for i := range 200 {
		many = append(many, fmt.Sprintf("repository:p/%s%d:pull", strings.Repeat("n", 240), i))
	}
	got := ClipScopes(many)
	total := 0
	for _, s := range got {
		total += len(s)
	}
	if total > MaxRecordedScopes+64 || !strings.HasPrefix(got[len(got)-1], "…(truncated ") {
		t.Fatalf("ClipScopes: %d entries, %d bytes, last %q", len(got), total, got[len(got)-1])
	}
}
