//go:build integration

package e2e

import (
	"testing"

	"github.com/authserver/authserver/internal/testenv"
)

// TestPostgres runs authserver on PostgreSQL (a throwaway server started by
// testenv) behind registry v3, with crane: a developer pushes and pulls, an
// outsider is refused, and CLI changes reach the running server.
func TestPostgres(t *testing.T) {
	t.Parallel()
	dsn := testenv.Postgres(t)
	a := startAuthServer(t, authOptions{postgresDSN: dsn})
	reg := startRegistry(t, flavours[0], a)

	pass := map[string]string{"dev": "Pg-dev-pass-1", "outsider": "Pg-outsider-pass-1"}
	for _, name := range []string{"dev", "outsider"} {
		a.addUser(t, name, pass[name])
	}
	a.cli(t, "project", "create", "team")
	a.cli(t, "member", "add", "team", "--user", "dev", "--role", "developer")
	dev := newSession(t, reg, "dev", pass["dev"])
	outsider := newSession(t, reg, "outsider", pass["outsider"])

	tests := []struct {
		name string
		run  func() result
		want bool
	}{
		{"developer pushes", func() result { return dev.cranePush(t, "team/app:1", "postgres-backed push") }, true},
		{"developer pulls", func() result { return dev.cranePull("team/app:1") }, true},
		{"outsider cannot pull", func() result { return outsider.cranePull("team/app:1") }, false},
		{"outsider cannot push", func() result { return outsider.cranePush(t, "team/app:2", "outsider push") }, false},
		{"outsider made guest pulls", func() result {
			a.cli(t, "member", "add", "team", "--user", "outsider", "--role", "guest")
			return outsider.cranePull("team/app:1")
		}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if r := tc.run(); tc.want {
				mustOK(t, r)
			} else {
				mustRefuse(t, r)
			}
		})
	}
}
