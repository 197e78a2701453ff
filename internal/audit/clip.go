package audit

import (
	"strconv"
	"unicode/utf8"
)

// Bounds on what a client's free text may occupy in the audit trail and the
// log. Request parsing already refuses names over its field limits; these
// cuts are the second line, so nothing a client sends reaches storage or a
// log line unbounded. Every log line and record that carries client text
// clips it with these functions.
const (
	// MaxRecordedBytes is the most of one free-text field (user agent,
	// subject, client_id, account, one scope) that is recorded or logged.
	MaxRecordedBytes = 256
	// MaxRecordedScopes bounds the requested or granted scopes recorded for
	// one request, in bytes over all entries.
	MaxRecordedScopes = 8 << 10
)

// Clip cuts s to MaxRecordedBytes (on a rune boundary) and says so in a
// marker, "…(truncated N bytes)", that names how much was left out.
func Clip(s string) string {
	return ClipTo(s, MaxRecordedBytes)
}

// ClipTo cuts s to n bytes, as Clip does.
func ClipTo(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…(truncated " + strconv.Itoa(len(s)-cut) + " bytes)"
}

// ClipScopes cuts each scope with Clip and the list to about
// MaxRecordedScopes bytes; a last entry "…(truncated N scopes)" says how
// many were left out.
func ClipScopes(list []string) []string {
	total := 0
	for i, s := range list {
		s = Clip(s)
		if total+len(s) > MaxRecordedScopes {
			return append(list[:i:i], "…(truncated "+strconv.Itoa(len(list)-i)+" scopes)")
		}
		total += len(s)
		list[i] = s
	}
	return list
}
