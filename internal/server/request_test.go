package server

import (
	"strconv"
	"testing"
)

// TestParseBool: parseBool says true exactly where strconv.ParseBool does.
func TestParseBool(t *testing.T) {
	for _, s := range []string{"", "1", "0", "t", "T", "TRUE", "true", "True", "f", "false", "yes", "tRuE", " true", "2"} {
		b, err := strconv.ParseBool(s)
		if want := err == nil && b; parseBool(s) != want {
			t.Errorf("parseBool(%q) = %v, want %v", s, parseBool(s), want)
		}
	}
}
