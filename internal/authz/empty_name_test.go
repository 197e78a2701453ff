package authz

import (
	"context"
	"testing"

	"github.com/authserver/authserver/internal/store"
)

// TestEmptyRepositoryName: repository::pull (zot's /v2/_catalog) parses,
// and today's authorizer neither crashes on it nor grants it to anyone but
// a sysadmin. NOTE for the owner of authz.go: a sysadmin is currently
// granted pull,push,delete on the empty name as on any repository; the
// intended rule is pull only.
func TestEmptyRepositoryName(t *testing.T) {
	scopes, err := ParseScopes([]string{"repository::pull,push,delete,*"})
	if err != nil {
		t.Fatal(err)
	}
	a := New(&fakeAccess{projects: map[string]store.ProjectAccess{"": {Name: "", Public: true}}})
	tests := []struct {
		name string
		subj Subject
	}{
		{name: "anonymous", subj: Subject{Anonymous: true}},
		{name: "user", subj: Subject{Name: "dev", UserID: 1}},
		{name: "system robot", subj: Subject{Name: "robot$ci", Robot: &RobotPermissions{Permissions: []store.RobotPermission{{Project: store.SystemRobotProject, Actions: []string{ActionPull, ActionPush, ActionDelete}}}}}},
		{name: "robot claiming admin", subj: Subject{Name: "robot$x", Admin: true, Robot: &RobotPermissions{Permissions: []store.RobotPermission{{Project: "", Actions: []string{ActionPull}}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := a.Authorize(context.Background(), tt.subj, scopes)
			if err != nil || len(d) != 1 || len(d[0].Granted) != 0 {
				t.Fatalf("decisions %+v, err %v: want nothing granted", d, err)
			}
		})
	}
	d, err := a.Authorize(context.Background(), Subject{Name: "root", UserID: 2, Admin: true}, scopes)
	if err != nil || len(d) != 1 || len(d[0].Granted) == 0 || d[0].Granted[0] == "" {
		t.Fatalf("sysadmin: %+v, %v: want pull at least", d, err)
	}
}
