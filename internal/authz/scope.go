package authz

import (
	"errors"
	"fmt"
	"strings"
)

// MaxScopes bounds the number of distinct scopes one request may ask for.
const MaxScopes = 100

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

// ErrTooManyScopes is returned when a request asks for more than MaxScopes.
var ErrTooManyScopes = errors.New("too many scopes")

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
// in which they first appear.
func ParseScopes(values []string) ([]Scope, error) {
	var out []Scope
	index := map[[2]string]int{}
	for _, v := range values {
		for _, field := range strings.Fields(v) {
			s, err := ParseScope(field)
			if err != nil {
				return nil, err
			}
			key := [2]string{s.Type, s.Name}
			if i, ok := index[key]; ok {
				out[i].Actions = appendUnique(out[i].Actions, s.Actions...)
				continue
			}
			if len(out) == MaxScopes {
				return nil, fmt.Errorf("%w: at most %d per request", ErrTooManyScopes, MaxScopes)
			}
			index[key] = len(out)
			out = append(out, s)
		}
	}
	return out, nil
}

// ParseScope parses one scope, type[(class)]:name:action[,action...]. The type
// runs to the first colon and the actions follow the last one, so the name
// may itself hold a host:port prefix.
func ParseScope(s string) (Scope, error) {
	first := strings.IndexByte(s, ':')
	last := strings.LastIndexByte(s, ':')
	if first < 0 || first == last {
		return Scope{}, fmt.Errorf("%w %q: want type:name:actions", ErrMalformedScope, s)
	}
	typ, name, actions := s[:first], s[first+1:last], s[last+1:]
	if open := strings.IndexByte(typ, '('); open >= 0 {
		if !strings.HasSuffix(typ, ")") || open == 0 {
			return Scope{}, fmt.Errorf("%w %q: bad resource class", ErrMalformedScope, s)
		}
		typ = typ[:open]
	}
	if !isToken(typ) {
		return Scope{}, fmt.Errorf("%w %q: bad resource type", ErrMalformedScope, s)
	}
	if name == "" || strings.ContainsFunc(name, isControlOrSpace) {
		return Scope{}, fmt.Errorf("%w %q: bad resource name", ErrMalformedScope, s)
	}
	var acts []string
	for _, a := range strings.Split(actions, ",") {
		if a == "" {
			continue
		}
		if a != ActionAll && !isToken(a) {
			return Scope{}, fmt.Errorf("%w %q: bad action %q", ErrMalformedScope, s, a)
		}
		acts = appendUnique(acts, a)
	}
	if len(acts) == 0 {
		return Scope{}, fmt.Errorf("%w %q: no actions", ErrMalformedScope, s)
	}
	return Scope{Type: typ, Name: name, Actions: acts}, nil
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
