package authz

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// parseCase parses values and checks the error against want (nil for a
// case that parses): errors.Is, and a message that does not echo a huge
// input. It reports whether the case ended in the error it wanted.
func parseCase(t *testing.T, values []string, want error) ([]Scope, bool) {
	t.Helper()
	got, err := ParseScopes(values)
	if want == nil {
		if err != nil {
			t.Fatal(err)
		}
		return got, false
	}
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
	if len(err.Error()) > 300 {
		t.Fatalf("error message of %d bytes echoes the input", len(err.Error()))
	}
	return nil, true
}

func TestParseScopes(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		want   []Scope
		err    error
	}{
		{name: "none", values: nil, want: nil},
		{name: "empty values ignored", values: []string{"", "  "}, want: nil},
		{name: "one", values: []string{"repository:team/app:pull"},
			want: []Scope{{"repository", "team/app", []string{"pull"}}}},
		{name: "several actions", values: []string{"repository:team/app:pull,push"},
			want: []Scope{{"repository", "team/app", []string{"pull", "push"}}}},
		{name: "repeated values", values: []string{"repository:a/b:pull", "repository:c/d:push"},
			want: []Scope{{"repository", "a/b", []string{"pull"}}, {"repository", "c/d", []string{"push"}}}},
		{name: "space joined", values: []string{"repository:a/b:pull repository:c/d:push"},
			want: []Scope{{"repository", "a/b", []string{"pull"}}, {"repository", "c/d", []string{"push"}}}},
		{name: "duplicates merged", values: []string{"repository:a/b:pull", "repository:a/b:push,pull", "repository:a/b:pull"},
			want: []Scope{{"repository", "a/b", []string{"pull", "push"}}}},
		{name: "host and port in name", values: []string{"repository:localhost:5000/team/app:pull"},
			want: []Scope{{"repository", "localhost:5000/team/app", []string{"pull"}}}},
		{name: "class dropped", values: []string{"repository(plugin):team/app:pull"},
			want: []Scope{{"repository", "team/app", []string{"pull"}}}},
		{name: "catalog", values: []string{"registry:catalog:*"},
			want: []Scope{{"registry", "catalog", []string{"*"}}}},
		{name: "empty action skipped", values: []string{"repository:a/b:pull,,push"},
			want: []Scope{{"repository", "a/b", []string{"pull", "push"}}}},
		{name: "unknown type parses", values: []string{"plugin:x:y"},
			want: []Scope{{"plugin", "x", []string{"y"}}}},
		{name: "no colon", values: []string{"repository"}, err: ErrMalformedScope},
		{name: "one colon", values: []string{"repository:a/b"}, err: ErrMalformedScope},
		{name: "empty repository name (zot's catalog)", values: []string{"repository::pull"},
			want: []Scope{{"repository", "", []string{"pull"}}}},
		{name: "empty name of another type", values: []string{"registry::*"}, err: ErrMalformedScope},
		{name: "empty type", values: []string{":a/b:pull"}, err: ErrMalformedScope},
		{name: "no actions", values: []string{"repository:a/b:"}, err: ErrMalformedScope},
		{name: "bad action", values: []string{"repository:a/b:pu;ll"}, err: ErrMalformedScope},
		{name: "unclosed class", values: []string{"repository(x:a/b:pull"}, err: ErrMalformedScope},
		{name: "control character", values: []string{"repository:a/\x01b:pull"}, err: ErrMalformedScope},
		{name: "name not UTF-8 (would reach the token as U+FFFD)", values: []string{"repository:team/a\xde\xdeb:pull"}, err: ErrMalformedScope},
		{name: "one bad spoils all", values: []string{"repository:a/b:pull", "nonsense"}, err: ErrMalformedScope},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, failed := parseCase(t, tt.values, tt.err)
			if failed {
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestParseScopesLimit(t *testing.T) {
	var many []string
	for i := 0; i < MaxScopes; i++ {
		many = append(many, fmt.Sprintf("repository:p/r%d:pull", i))
	}
	if _, err := ParseScopes(many); err != nil {
		t.Fatalf("%d scopes: %v", MaxScopes, err)
	}
	// Duplicates do not count twice.
	if _, err := ParseScopes(append(many, many[0])); err != nil {
		t.Fatalf("duplicate counted: %v", err)
	}
	if _, err := ParseScopes(append(many, "repository:p/extra:pull")); !errors.Is(err, ErrTooManyScopes) {
		t.Fatalf("err = %v, want ErrTooManyScopes", err)
	}
}

// actionList is n distinct actions a0..a(n-1), comma-joined, from offset.
func actionList(from, n int) string {
	acts := make([]string, n)
	for i := range acts {
		acts[i] = fmt.Sprintf("a%d", from+i)
	}
	return strings.Join(acts, ",")
}

// TestParseScopesBounds holds the pre-authentication limits: at most
// MaxActions distinct actions per scope (also after merging), names of at
// most MaxNameLength bytes, and error messages that do not echo a huge input.
func TestParseScopesBounds(t *testing.T) {
	name255 := "p/" + strings.Repeat("n", MaxNameLength-2)
	tests := []struct {
		name    string
		values  []string
		err     error
		actions int // when err is nil: the actions of the one scope parsed
	}{
		{name: "16 actions", values: []string{"repository:a/b:" + actionList(0, 16)}, actions: 16},
		{name: "17 actions", values: []string{"repository:a/b:" + actionList(0, 17)}, err: ErrTooManyActions},
		{name: "40,000 actions", values: []string{"repository:a/b:" + actionList(0, 40000)}, err: ErrTooManyActions},
		{name: "duplicates are not counted", values: []string{"repository:a/b:" + strings.Repeat("pull,", 10000) + actionList(0, 15)}, actions: 16},
		{name: "17 after merging", values: []string{"repository:a/b:" + actionList(0, 10), "repository:a/b:" + actionList(5, 12)},
			err: ErrTooManyActions},
		{name: "16 after merging", values: []string{"repository:a/b:" + actionList(0, 10), "repository:a/b:" + actionList(5, 11)}, actions: 16},
		{name: "255-byte name", values: []string{"repository:" + name255 + ":pull"}, actions: 1},
		{name: "256-byte name", values: []string{"repository:" + name255 + "x:pull"}, err: ErrNameTooLong},
		{name: "long name with a host", values: []string{"repository:localhost:5000/" + name255 + ":pull"}, err: ErrNameTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, failed := parseCase(t, tt.values, tt.err)
			if failed {
				return
			}
			if len(got) != 1 || len(got[0].Actions) != tt.actions {
				t.Fatalf("got %d scopes, want one with %d actions", len(got), tt.actions)
			}
		})
	}
}

func FuzzParseScopes(f *testing.F) {
	for _, seed := range []string{
		"repository:team/app:pull,push",
		"repository:localhost:5000/a/b:pull repository:c/d:*",
		"registry:catalog:*",
		"repository(plugin):x/y:pull",
		"::", "a:b:", ":::", "repository:a:b:c:d",
		"repository:team/../secret/app:pull", "repository:Team/app:pull", "repository:team//app:pull",
		"repository:[::1]:5000/a__b/c---d.e:push", "repository::pull",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		// The scanner and the grammar's regexp agree on every string.
		if got, want := validRepositoryName(in), ourName.MatchString(in); got != want {
			t.Fatalf("validRepositoryName(%q) = %v, the grammar says %v", in, got, want)
		}
		scopes, err := ParseScopes([]string{in})
		if err != nil {
			return
		}
		if len(scopes) > MaxScopes {
			t.Fatalf("%d scopes from %q, limit %d", len(scopes), in, MaxScopes)
		}
		for _, s := range scopes {
			if s.Type == "" || (s.Name == "" && s.Type != TypeRepository) || len(s.Actions) == 0 {
				t.Fatalf("empty part in %#v from %q", s, in)
			}
			if len(s.Actions) > MaxActions || len(s.Name) > MaxNameLength {
				t.Fatalf("%d actions, %d-byte name from %q: over the limits", len(s.Actions), len(s.Name), in)
			}
			seen := map[string]bool{}
			for _, a := range s.Actions {
				if seen[a] {
					t.Fatalf("action %q twice in %#v", a, s)
				}
				seen[a] = true
			}
			// Every repository name granted on is one distribution's
			// reference grammar accepts (the empty one is zot's catalog).
			if s.Type == TypeRepository && s.Name != "" && (!ourName.MatchString(s.Name) || !distributionName.MatchString(s.Name)) {
				t.Fatalf("repository name %q from %q is outside the reference grammar", s.Name, in)
			}
			if strings.ContainsAny(s.Type, ":() ") {
				t.Fatalf("type %q from %q", s.Type, in)
			}
			for _, a := range s.Actions {
				if a == "" || strings.ContainsAny(a, ":, ") {
					t.Fatalf("action %q from %q", a, in)
				}
			}
			// A parsed scope re-parses to itself.
			again, err := ParseScope(s.String())
			if err != nil || !reflect.DeepEqual(again, s) {
				t.Fatalf("round trip of %#v: %#v, %v", s, again, err)
			}
		}
	})
}
