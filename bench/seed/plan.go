package main

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/authserver/authserver/internal/store"
)

// Name formats of seeded rows. The widths fix the largest counts (and keep
// the names sortable, so a name range is an index range scan).
const (
	userFormat    = "user%06d"
	projectFormat = "proj%05d"
	groupFormat   = "grp%05d"

	maxUsers    = 1_000_000
	maxProjects = 100_000
	maxGroups   = 100_000
)

// plan is the dataset to seed. Every row is a pure function of the counts,
// so two runs with the same flags describe the same rows:
//
//   - users user000000…: local, all with the one shared password hash;
//   - projects proj00000…: project p is public when publicEvery > 0 and
//     p % publicEvery == 0;
//   - memberships: membership g (0 ≤ g < members) belongs to user u = g % users
//     in round r = g / users, on project (u + r) % projects with role
//     store.Roles[(u + r) % 5]. A user holds members/users memberships (one
//     more for the first members%users users), in distinct projects since
//     there are at most `projects` rounds;
//   - groups grp00000…: local; user u is in group u % groups, and group k
//     holds role store.Roles[k % 5] in project k % projects.
type plan struct {
	users, projects, members, groups int
	publicEvery                      int
}

func (p plan) validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if p.users < 0 || p.users > maxUsers {
		bad("--users %d: want 0 to %d", p.users, maxUsers)
	}
	if p.projects < 0 || p.projects > maxProjects {
		bad("--projects %d: want 0 to %d", p.projects, maxProjects)
	}
	if p.groups < 0 || p.groups > maxGroups {
		bad("--groups %d: want 0 to %d", p.groups, maxGroups)
	}
	if p.members < 0 || int64(p.members) > int64(p.users)*int64(p.projects) {
		bad("--members %d: want 0 to users × projects (%d), one membership per user and project",
			p.members, int64(p.users)*int64(p.projects))
	}
	if p.groups > 0 && (p.users == 0 || p.projects == 0) {
		bad("--groups %d: groups need at least one user and one project", p.groups)
	}
	if p.publicEvery < 0 {
		bad("--public-every %d: want 0 (no public project) or more", p.publicEvery)
	}
	return errors.Join(errs...)
}

func userName(i int) string    { return fmt.Sprintf(userFormat, i) }
func projectName(i int) string { return fmt.Sprintf(projectFormat, i) }
func groupName(i int) string   { return fmt.Sprintf(groupFormat, i) }

func (p plan) public(project int) bool {
	return p.publicEvery > 0 && project%p.publicEvery == 0
}

// membership returns the user, project and role of membership g.
func (p plan) membership(g int) (user, project int, role store.Role) {
	u, r := g%p.users, g/p.users
	return u, (u + r) % p.projects, store.Roles[(u+r)%len(store.Roles)]
}

// groupOf returns the group user u is in.
func (p plan) groupOf(u int) int { return u % p.groups }

// groupGrant returns the project and role of group k.
func (p plan) groupGrant(k int) (project int, role store.Role) {
	return k % p.projects, store.Roles[k%len(store.Roles)]
}

// kind is one family of seeded names.
type kind struct {
	table  string
	format string
	prefix string
	width  int
}

var (
	usersKind    = kind{table: "users", format: userFormat, prefix: "user", width: 6}
	projectsKind = kind{table: "projects", format: projectFormat, prefix: "proj", width: 5}
	groupsKind   = kind{table: "groups", format: groupFormat, prefix: "grp", width: 5}
)

// bounds returns the first and last seeded name of n rows, the range a
// store query scans for them.
func (k kind) bounds(n int) (lo, hi string) {
	return fmt.Sprintf(k.format, 0), fmt.Sprintf(k.format, n-1)
}

// index parses a seeded name back to its number; ok is false for any name
// that is not exactly one of ours.
func (k kind) index(name string, n int) (int, bool) {
	if len(name) != len(k.prefix)+k.width || name[:len(k.prefix)] != k.prefix {
		return 0, false
	}
	i, err := strconv.Atoi(name[len(k.prefix):])
	if err != nil || i < 0 || i >= n {
		return 0, false
	}
	return i, true
}
