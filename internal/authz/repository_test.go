package authz

import (
	"errors"
	"reflect"
	"regexp"
	"testing"
)

// The grammar of distribution's reference package (reference/regexp.go),
// written out here from its documented productions as regular expressions,
// so the hand-written scanner in repository.go is checked against an
// independent reading of it (here and in FuzzParseScopes).
const (
	grammarComponent  = `[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*`
	grammarPath       = grammarComponent + `(?:/` + grammarComponent + `)*`
	grammarLabel      = `(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])`
	grammarDomainName = grammarLabel + `(?:\.` + grammarLabel + `)*`
	grammarIPv6       = `\[[a-fA-F0-9:]+\]`
)

var (
	// distributionName is distribution's anchored name: [domain '/'] path.
	distributionName = regexp.MustCompile(`^(?:(?:` + grammarDomainName + `|` + grammarIPv6 + `)(?::[0-9]+)?/)?` + grammarPath + `$`)
	// ourName is the part of it validRepositoryName accepts: a domain only
	// when its component holds a ':' (as ProjectOf reads names).
	// An IPv6 literal holds a ':' itself or is followed by a port ("[0]:0").
	ourName = regexp.MustCompile(`^(?:(?:` + grammarDomainName + `:[0-9]+|\[[a-fA-F0-9:]*:[a-fA-F0-9:]*\](?::[0-9]+)?|\[[a-fA-F0-9:]+\]:[0-9]+)/)?` + grammarPath + `$`)
)

// TestRepositoryNames: the names real clients push (nested ones included)
// and registries' host:port forms parse; path tricks, upper case and empty
// components are malformed (400 at the token endpoint), never granted as
// written.
func TestRepositoryNames(t *testing.T) {
	tests := []struct {
		name string
		repo string
		ok   bool
	}{
		{name: "two components", repo: "team/app", ok: true},
		{name: "nested", repo: "team/base/img", ok: true},
		{name: "one component", repo: "busybox", ok: true},
		{name: "separators", repo: "team/a.b/c_d/e__f/g-h/i---j", ok: true},
		{name: "digits", repo: "0/9", ok: true},
		{name: "host and port", repo: "localhost:5000/team/app", ok: true},
		{name: "domain and port", repo: "Registry.Example.com:443/team/app", ok: true},
		{name: "IPv6 and port", repo: "[::1]:5000/team/app", ok: true},
		{name: "IPv6 without port", repo: "[2001:db8::1]/team/app", ok: true},
		{name: "localhost is a project", repo: "localhost/team/app", ok: true},
		{name: "dotted first component is a project", repo: "example.com/team/app", ok: true},

		{name: "dot-dot", repo: "team/../secret/app"},
		{name: "leading dot-dot", repo: "../secret/app"},
		{name: "dot", repo: "team/./app"},
		{name: "upper-case project", repo: "Team/app"},
		{name: "upper-case repository", repo: "team/App"},
		{name: "empty component", repo: "team//app"},
		{name: "trailing slash", repo: "team/app/"},
		{name: "leading slash", repo: "/team/app"},
		{name: "leading separator", repo: "team/.app"},
		{name: "trailing separator", repo: "team/app-"},
		{name: "two dots", repo: "team/a..b"},
		{name: "three underscores", repo: "team/a___b"},
		{name: "dot then dash", repo: "team/a.-b"},
		{name: "escaped slash", repo: "team/a%2fb"},
		{name: "backslash", repo: `team\app`},
		{name: "colon in a path component", repo: "team/a:b"},
		{name: "non-ASCII", repo: "téam/app"},
		{name: "port without a path", repo: "localhost:5000"},
		{name: "host and empty path", repo: "localhost:5000/"},
		{name: "host and empty component", repo: "localhost:5000//app"},
		{name: "host and dot-dot", repo: "localhost:5000/../app"},
		{name: "port not a number", repo: "localhost:http/team/app"},
		{name: "empty port", repo: "localhost:/team/app"},
		{name: "two ports", repo: "localhost:1:2/team/app"},
		{name: "empty host", repo: ":5000/team/app"},
		{name: "host label starts with a dash", repo: "-host:5000/team/app"},
		{name: "empty host label", repo: "a..b:5000/team/app"},
		{name: "underscore in host", repo: "a_b:5000/team/app"},
		{name: "IPv6 not hex", repo: "[zz::1]:5000/team/app"},
		{name: "IPv6 with junk after", repo: "[::1]x/team/app"},
		{name: "bracket without colon", repo: "[abc]/team/app"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := validRepositoryName(tt.repo); got != tt.ok {
				t.Fatalf("validRepositoryName(%q) = %v, want %v", tt.repo, got, tt.ok)
			}
			if got := ourName.MatchString(tt.repo); got != tt.ok {
				t.Fatalf("the grammar's regexp says %v for %q, want %v", got, tt.repo, tt.ok)
			}
			scopes, err := ParseScopes([]string{"repository:" + tt.repo + ":pull"})
			switch {
			case tt.ok && (err != nil || len(scopes) != 1 || scopes[0].Name != tt.repo):
				t.Fatalf("parsed %#v, %v: want the name as written", scopes, err)
			case !tt.ok && !errors.Is(err, ErrMalformedScope):
				t.Fatalf("parsed %#v, %v: want ErrMalformedScope", scopes, err)
			}
		})
	}
}

// TestNonRepositoryNames: only repository names follow the grammar; zot's
// empty catalog name, the registry's catalog and unknown types (which are
// granted nothing) parse as before.
func TestNonRepositoryNames(t *testing.T) {
	tests := []struct {
		name  string
		scope string
		want  Scope
	}{
		{name: "zot's catalog", scope: "repository::pull", want: Scope{TypeRepository, "", []string{"pull"}}},
		{name: "registry catalog", scope: "registry:catalog:*", want: Scope{TypeRegistry, "catalog", []string{"*"}}},
		{name: "unknown type, any name", scope: "plugin:Some/../Name:x", want: Scope{"plugin", "Some/../Name", []string{"x"}}},
		{name: "class dropped, name checked", scope: "repository(plugin):team/app:pull", want: Scope{TypeRepository, "team/app", []string{"pull"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseScopes([]string{tt.scope})
			if err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], tt.want) {
				t.Fatalf("got %#v, %v; want %#v", got, err, tt.want)
			}
		})
	}
	if _, err := ParseScopes([]string{"repository(plugin):team/../x:pull"}); !errors.Is(err, ErrMalformedScope) {
		t.Fatalf("a class does not exempt the name: %v", err)
	}
}
