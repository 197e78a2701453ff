package server

import (
	"reflect"
	"testing"

	"github.com/authserver/authserver/internal/authz"
)

func TestRefusedReasons(t *testing.T) {
	scopes, _ := authz.ParseScopes([]string{"repository:team/app:pull,push repository:nope/x:pull repository:ok/y:pull " +
		"repository:dev/z:* repository:adm/w:*"})
	ds := []authz.Decision{
		{Scope: scopes[0], Granted: []string{"pull"}, Reasons: []string{"role guest in project team directly (pull)"}},
		{Scope: scopes[1], Granted: []string{}, Reasons: []string{"project nope does not exist"}},
		{Scope: scopes[2], Granted: []string{"pull"}, Reasons: []string{"public"}},
		{Scope: scopes[3], Granted: []string{"pull", "push"}, Reasons: []string{"role developer"}},
		{Scope: scopes[4], Granted: []string{"delete", "pull", "push"}, Reasons: []string{"sysadmin"}},
	}
	got := refusedReasons(ds)
	want := []string{
		"repository:team/app: role guest in project team directly (pull)",
		"repository:nope/x: project nope does not exist",
		"repository:dev/z: role developer",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}
