package federation

import (
	"strings"
	"testing"
)

// TestSplitSignature: the verified-JWT cache splits a JWT after its last
// '.', whatever the number of dots.
func TestSplitSignature(t *testing.T) {
	for _, raw := range []string{"", "a", ".", "..", "...", "a.b", "a.b.c", "h.p.", "a..b", "a.b.c.d", "a.b.c.d.e", ".b.c"} {
		i := strings.LastIndexByte(raw, '.') + 1
		if signed, sig := splitSignature(raw); signed != raw[:i] || sig != raw[i:] {
			t.Errorf("splitSignature(%q) = %q, %q; want %q, %q", raw, signed, sig, raw[:i], raw[i:])
		}
	}
}
