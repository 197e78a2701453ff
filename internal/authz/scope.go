package authz

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits on what one request may ask for. They are checked while parsing,
// before any credential is looked at, so an unauthenticated request cannot
// make the server work harder than these bounds allow; parsing is linear in
// the size of the input.
const (
	// MaxScopes bounds the number of distinct scopes (type and name) one
	// request may ask for.
	MaxScopes = 100
	// MaxActions bounds the distinct actions of one scope, after scopes
	// naming the same resource are merged. The registry knows four.
	MaxActions = 16
	// MaxNameLength is the longest resource name, distribution's limit on a
	// repository name.
	MaxNameLength = 255
)

// Resource types and actions the registry uses.
const (
	TypeRepository = "repository"
	TypeRegistry   = "registry"

	ActionPull   = "pull"
	ActionPush   = "push"
	ActionDelete = "delete"
	ActionAll    = "*"
)

// ErrMalformedScope is wrapped by every parse error; clients get 400.
var ErrMalformedScope = errors.New("malformed scope")

// ErrUnavailable marks a permission store that could not be asked (503);
// any other Authorize error is a bug (500).
var ErrUnavailable = errors.New("permission store unavailable")

// ErrTooManyScopes is returned when a request asks for more than MaxScopes.
var ErrTooManyScopes = errors.New("too many scopes")

// ErrTooManyActions is returned when a scope holds more than MaxActions
// distinct actions.
var ErrTooManyActions = errors.New("too many actions")

// ErrNameTooLong is returned for a resource name over MaxNameLength bytes.
var ErrNameTooLong = errors.New("resource name too long")

// Scope is one requested resource with its actions, without the
// resource class (which never goes into a token).
type Scope struct {
	Type    string
	Name    string
	Actions []string // de-duplicated, in the order first asked
}

// String formats the scope as the registry would: type:name:a,b.
func (s Scope) String() string {
	return s.Type + ":" + s.Name + ":" + strings.Join(s.Actions, ",")
}

// ParseScopes parses the scope values of one request. Each value may hold
// several scopes separated by spaces; empty values are ignored. Scopes naming
// the same type and name are merged (their actions united), keeping the order
// in which they first appear. Past MaxScopes scopes or MaxActions actions in
// one scope it stops with an error, so its work is linear in the input.
func ParseScopes(values []string) ([]Scope, error) {
	var out []Scope
	var seen []map[string]struct{} // seen[i]: the actions of out[i]
	index := map[[2]string]int{}
	for _, v := range values {
		for _, field := range strings.Fields(v) {
			s, err := ParseScope(field)
			if err != nil {
				return nil, err
			}
			key := [2]string{s.Type, s.Name}
			i, ok := index[key]
			if !ok {
				if len(out) == MaxScopes {
					return nil, fmt.Errorf("%w: at most %d per request", ErrTooManyScopes, MaxScopes)
				}
				i = len(out)
				index[key] = i
				out = append(out, Scope{Type: s.Type, Name: s.Name})
				seen = append(seen, make(map[string]struct{}, len(s.Actions)))
			}
			for _, a := range s.Actions {
				if _, dup := seen[i][a]; dup {
					continue
				}
				if len(out[i].Actions) == MaxActions {
					return nil, fmt.Errorf("%w in scope %s: at most %d", ErrTooManyActions, clip(field), MaxActions)
				}
				seen[i][a] = struct{}{}
				out[i].Actions = append(out[i].Actions, a)
			}
		}
	}
	return out, nil
}

// ParseScope parses one scope, type[(class)]:name:action[,action...]. The type
// runs to the first colon and the actions follow the last one, so the name
// may itself hold a host:port prefix. A repository name must follow
// distribution's reference grammar (validRepositoryName), so "team/../x" or
// "Team/x" is refused rather than granted as written; the names of other
// types only need to be printable UTF-8. The name may be empty only for a
// repository: zot asks repository::pull for /v2/_catalog.
func ParseScope(s string) (Scope, error) {
	first := strings.IndexByte(s, ':')
	last := strings.LastIndexByte(s, ':')
	if first < 0 || first == last {
		return Scope{}, fmt.Errorf("%w %s: want type:name:actions", ErrMalformedScope, clip(s))
	}
	typ, name, actions := s[:first], s[first+1:last], s[last+1:]
	if open := strings.IndexByte(typ, '('); open >= 0 {
		if !strings.HasSuffix(typ, ")") || open == 0 {
			return Scope{}, fmt.Errorf("%w %s: bad resource class", ErrMalformedScope, clip(s))
		}
		typ = typ[:open]
	}
	if !isToken(typ) {
		return Scope{}, fmt.Errorf("%w %s: bad resource type", ErrMalformedScope, clip(s))
	}
	if len(name) > MaxNameLength {
		return Scope{}, fmt.Errorf("%w: %d bytes in %s, at most %d", ErrNameTooLong, len(name), clip(s), MaxNameLength)
	}
	// A name that is not UTF-8 would reach the token mangled (JSON turns
	// each bad byte into U+FFFD), granting another name than the one asked.
	if (name == "" && typ != TypeRepository) || strings.ContainsFunc(name, isControlOrSpace) || !utf8.ValidString(name) {
		return Scope{}, fmt.Errorf("%w %s: bad resource name", ErrMalformedScope, clip(s))
	}
	if typ == TypeRepository && name != "" && !validRepositoryName(name) {
		return Scope{}, fmt.Errorf("%w %s: bad repository name: %s", ErrMalformedScope, clip(s), repositoryGrammar)
	}
	var acts []string
	seen := map[string]struct{}{}
	for a := range strings.SplitSeq(actions, ",") {
		if a == "" {
			continue
		}
		if a != ActionAll && !isToken(a) {
			return Scope{}, fmt.Errorf("%w %s: bad action %s", ErrMalformedScope, clip(s), clip(a))
		}
		if _, dup := seen[a]; dup {
			continue
		}
		if len(acts) == MaxActions {
			return Scope{}, fmt.Errorf("%w in scope %s: at most %d", ErrTooManyActions, clip(s), MaxActions)
		}
		seen[a] = struct{}{}
		acts = append(acts, a)
	}
	if len(acts) == 0 {
		return Scope{}, fmt.Errorf("%w %s: no actions", ErrMalformedScope, clip(s))
	}
	return Scope{Type: typ, Name: name, Actions: acts}, nil
}

// clipLen bounds how much of a client's input an error message quotes.
const clipLen = 64

// clip quotes s for an error message, cut to clipLen bytes.
func clip(s string) string {
	if len(s) <= clipLen {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:clipLen]) + "…(truncated " + strconv.Itoa(len(s)-clipLen) + " bytes)"
}

// isToken reports whether s is a non-empty word of letters, digits, '-', '_'
// or '.', which covers every resource type and action in use.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
		default:
			return false
		}
	}
	return true
}

func isControlOrSpace(r rune) bool { return r <= ' ' || r == 0x7f }

// appendUnique appends the items not yet in list. It scans, so it is only
// for short lists (intersect's, at most MaxActions long).
func appendUnique(list []string, items ...string) []string {
	for _, it := range items {
		dup := false
		for _, have := range list {
			if have == it {
				dup = true
				break
			}
		}
		if !dup {
			list = append(list, it)
		}
	}
	return list
}
