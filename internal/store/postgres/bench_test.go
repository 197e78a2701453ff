//go:build integration

package postgres_test

import (
	"fmt"
	"testing"

	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/store/postgres"
	"github.com/authserver/authserver/internal/testenv/pgtest"
)

// benchSeed fills a directory shaped like a large installation, in SQL
// (the store's methods would take minutes): 20,000 users, 2,000
// projects, 200,000 memberships (10 a user), 200 local groups (each user
// in one, each group in one project), p0001 with every user as a member,
// the local group "wide" in 1,000 projects and u00001 in it, 20 LDAP
// groups (ldap0 in 1,000 projects, the others in 100), 101 robots and
// 400 repository rules about others plus one of each kind about the
// principals measured, on p0001 to p0003.
const benchSeed = `
INSERT INTO users (name) SELECT 'u' || lpad(i::text, 5, '0') FROM generate_series(0, 19999) i;
INSERT INTO projects (name) SELECT 'p' || lpad(i::text, 4, '0') FROM generate_series(0, 1999) i;
INSERT INTO members (project_id, user_id, role)
  SELECT p.id, u.id, (ARRAY['projectAdmin','maintainer','developer','guest','limitedGuest'])[1 + (i + k) % 5]
  FROM generate_series(0, 19999) i CROSS JOIN generate_series(0, 9) k
  JOIN users u ON u.name = 'u' || lpad(i::text, 5, '0') JOIN projects p ON p.name = 'p' || lpad(((i + k * 7) % 2000)::text, 4, '0');
INSERT INTO members (project_id, user_id, role) SELECT p.id, u.id, 'guest' FROM projects p, users u WHERE p.name = 'p0001'
  ON CONFLICT DO NOTHING;
INSERT INTO groups (name) SELECT 'g' || lpad(i::text, 3, '0') FROM generate_series(0, 199) i;
INSERT INTO user_groups (group_id, user_id) SELECT g.id, u.id FROM users u JOIN groups g ON g.name = 'g' || lpad((substr(u.name, 2)::int % 200)::text, 3, '0');
INSERT INTO members (project_id, group_id, role) SELECT p.id, g.id, 'developer' FROM groups g JOIN projects p ON p.name = 'p' || lpad(substr(g.name, 2), 4, '0');
INSERT INTO groups (name) VALUES ('wide');
INSERT INTO members (project_id, group_id, role) SELECT p.id, g.id, 'developer' FROM projects p, groups g WHERE g.name = 'wide' AND p.id % 2 = 0;
INSERT INTO user_groups (group_id, user_id) SELECT g.id, u.id FROM groups g, users u WHERE g.name = 'wide' AND u.name = 'u00001';
INSERT INTO groups (name, dn, dn_norm) SELECT 'ldap' || i, 'CN=ldap' || i || ',OU=groups,DC=example,DC=org', 'cn=ldap' || i || ',ou=groups,dc=example,dc=org'
  FROM generate_series(0, 19) i;
INSERT INTO members (project_id, group_id, role) SELECT p.id, g.id, 'guest' FROM projects p, groups g WHERE g.name = 'ldap0' AND p.id % 2 = 1;
INSERT INTO members (project_id, group_id, role) SELECT p.id, g.id, 'maintainer' FROM groups g JOIN projects p ON p.id % 20 = substr(g.name, 5)::int
  WHERE g.name LIKE 'ldap%' AND g.name <> 'ldap0' AND p.id <= 2000 ON CONFLICT DO NOTHING;
INSERT INTO robots (name, project_id, secret_hash, created_at, updated_at) SELECT 'robot$' || p.name || '+ci', p.id, 'x', now(), now()
  FROM projects p WHERE p.id <= 101;
INSERT INTO repository_rules (project_id, pattern, user_id, actions) SELECT 1 + (i * 37) % 2000, 'u' || i || '/*', 100 + i * 61, 'pull' FROM generate_series(1, 200) i;
INSERT INTO repository_rules (project_id, pattern, group_id, actions) SELECT 1 + (i * 53) % 2000, 'g' || i || '/*', 1 + i, 'pull,push' FROM generate_series(1, 100) i;
INSERT INTO repository_rules (project_id, pattern, robot_id, actions) SELECT r.project_id, 'r/*', r.id, 'push' FROM robots r WHERE r.name <> 'robot$p0001+ci';
INSERT INTO repository_rules (project_id, pattern, user_id, actions, deny) SELECT p.id, 'release/*', u.id, 'push', true FROM projects p, users u WHERE p.name = 'p0001' AND u.name = 'u00001';
INSERT INTO repository_rules (project_id, pattern, group_id, actions) SELECT p.id, 'tools/*', g.id, 'push' FROM projects p, groups g WHERE p.name = 'p0002' AND g.name = 'wide';
INSERT INTO repository_rules (project_id, pattern, group_id, actions) SELECT p.id, 'ldap/*', g.id, 'push' FROM projects p, groups g WHERE p.name = 'p0003' AND g.name = 'ldap0';
INSERT INTO repository_rules (project_id, pattern, robot_id, actions) SELECT p.id, 'ci/*', r.id, 'pull,push' FROM projects p, robots r WHERE p.name = 'p0001' AND r.name = 'robot$p0001+ci';
INSERT INTO repository_rules (project_id, pattern, authenticated, actions) SELECT p.id, 'shared/*', true, 'pull' FROM projects p WHERE p.name IN ('p0002', 'p0010');
ANALYZE`

// BenchmarkProjectAccess is the permission query on PostgreSQL (one per
// token request) through the store, as the server runs it (pgx, generic
// plans), each principal asking for p0001, p0002 and p0003 of the
// directory of benchSeed: a user with direct roles, a local group in
// 1,000 projects and a rule (user); an LDAP user with 20 group DNs (ldap);
// a robot with a rule (robot); the anonymous caller (anonymous). The
// results are checked once before timing.
func BenchmarkProjectAccess(b *testing.B) {
	st := pgtest.Open(b)
	ctx := b.Context()
	if _, err := st.Pool().Exec(ctx, benchSeed); err != nil {
		b.Fatalf("seed: %v", err)
	}
	id := func(q, name string) int64 {
		var v int64
		if err := st.Pool().QueryRow(ctx, q, name).Scan(&v); err != nil {
			b.Fatalf("id of %s: %v", name, err)
		}
		return v
	}
	dns := make([]string, 20)
	for i := range dns {
		dns[i] = fmt.Sprintf("CN=ldap%d,OU=groups,DC=example,DC=org", i)
	}
	projects := []string{"p0001", "p0002", "p0003"}
	for _, c := range []struct {
		name          string
		p             store.Principal
		grants, rules int // over the three projects
	}{
		{name: "user", p: store.Principal{UserID: id(`SELECT id FROM users WHERE name = $1`, "u00001"), Authenticated: true}, grants: 4, rules: 3},
		{name: "ldap", p: store.Principal{UserID: id(`SELECT id FROM users WHERE name = $1`, "u00002"), GroupDNs: dns, Authenticated: true},
			grants: 7, rules: 2},
		{name: "robot", p: store.Principal{RobotID: id(`SELECT id FROM robots WHERE name = $1`, "robot$p0001+ci"), Authenticated: true}, rules: 2},
		{name: "anonymous", p: store.Principal{}},
	} {
		b.Run(c.name, func(b *testing.B) { benchProjectAccess(b, st, c.p, projects, c.grants, c.rules) })
	}
}

func benchProjectAccess(b *testing.B, st *postgres.Store, p store.Principal, projects []string, grants, rules int) {
	ctx := b.Context()
	acc, err := st.ProjectAccess(ctx, p, projects)
	if err != nil {
		b.Fatalf("ProjectAccess: %v", err)
	}
	g, r := 0, 0
	for _, pa := range acc {
		g, r = g+len(pa.Grants), r+len(pa.Rules)
	}
	if len(acc) != len(projects) || g != grants || r != rules {
		b.Fatalf("ProjectAccess: %d projects, %d grants, %d rules; want %d, %d, %d: %+v", len(acc), g, r, len(projects), grants, rules, acc)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := st.ProjectAccess(ctx, p, projects); err != nil {
			b.Fatal(err)
		}
	}
}
