package oidc

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// Bounds on what a provider's claims may make.
const (
	maxNameLen   = 255
	maxGroupLen  = 255
	maxGroups    = 1000
	maxEmailLen  = 255
	maxDisplayLn = 255
)

// claimString reads a claim as a string: a string, or a number or boolean
// written as text; false when absent or of another kind.
func claimString(claims map[string]any, key string) (string, bool) {
	switch v := claims[key].(type) {
	case string:
		return v, true
	case float64:
		return strings.TrimSuffix(fmt.Sprintf("%f", v), ".000000"), true
	case bool:
		return fmt.Sprint(v), true
	}
	return "", false
}

// claimGroups reads the groups claim: a list of strings, or one string.
// Absent means no groups; anything else is an error.
func claimGroups(claims map[string]any, key string) ([]string, error) {
	var out []string
	switch v := claims[key].(type) {
	case nil:
		return nil, nil
	case string:
		out = []string{v}
	case []any:
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("claim %s: a list of strings is wanted, it holds a %T", key, e)
			}
			out = append(out, s)
		}
	default:
		return nil, fmt.Errorf("claim %s: a list of strings is wanted, not a %T", key, v)
	}
	if len(out) > maxGroups {
		return nil, fmt.Errorf("claim %s: %d groups, at most %d", key, len(out), maxGroups)
	}
	clean := out[:0]
	for _, g := range out {
		g = strings.TrimSpace(g)
		switch {
		case g == "":
			continue
		case len(g) > maxGroupLen || strings.ContainsFunc(g, unicode.IsControl):
			return nil, fmt.Errorf("claim %s: a group name longer than %d bytes or with control characters", key, maxGroupLen)
		}
		clean = append(clean, g)
	}
	slices.Sort(clean)
	return slices.Compact(clean), nil
}

// validUsername checks the name a claim gives before it becomes a user.
func validUsername(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("empty")
	case len(name) > maxNameLen:
		return fmt.Errorf("longer than %d bytes", maxNameLen)
	case strings.ContainsFunc(name, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }):
		return fmt.Errorf("has spaces or control characters")
	case strings.ContainsAny(name, ":$#/"):
		// ':' splits Basic credentials, '$' starts robot names, '#' marks
		// retired accounts, '/' is no name.
		return fmt.Errorf("has one of : $ # /")
	}
	return nil
}

// anyOf reports whether one of have is in want.
func anyOf(have, want []string) bool {
	for _, h := range have {
		if slices.Contains(want, h) {
			return true
		}
	}
	return false
}

// clip bounds a claim value kept as text.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
