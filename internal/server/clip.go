package server

import (
	"strconv"
	"unicode/utf8"
)

// Bounds on what a client's free text may occupy in the audit trail and the
// log. Request parsing already refuses names over MaxFieldBytes; these cuts
// are the second line, so nothing a client sends reaches storage unbounded.
const (
	// MaxRecordedBytes is the most of one free-text field (user agent,
	// subject, client_id, account, one scope) that is recorded or logged.
	MaxRecordedBytes = 256
	// maxRecordedScopes bounds the requested or granted scopes recorded for
	// one request, in bytes over all entries.
	maxRecordedScopes = 8 << 10
)

// clipText cuts s to MaxRecordedBytes (on a rune boundary) and says so in a
// marker, "…(truncated N bytes)", that names how much was left out.
func clipText(s string) string {
	return clipTo(s, MaxRecordedBytes)
}

func clipTo(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…(truncated " + strconv.Itoa(len(s)-cut) + " bytes)"
}

// clipScopes cuts each scope with clipText and the list to about
// maxRecordedScopes bytes; a last entry "…(truncated N scopes)" says how
// many were left out.
func clipScopes(list []string) []string {
	total := 0
	for i, s := range list {
		s = clipText(s)
		if total+len(s) > maxRecordedScopes {
			return append(list[:i:i], "…(truncated "+strconv.Itoa(len(list)-i)+" scopes)")
		}
		total += len(s)
		list[i] = s
	}
	return list
}
