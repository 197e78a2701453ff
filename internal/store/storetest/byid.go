package storetest

import (
	"testing"

	"github.com/authserver/authserver/internal/store"
)

// testByID checks the lookups by numeric ID that the REST API's paths use,
// and the IDs ListMembers reports.
func testByID(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustUser(t, s, "alice")
	mustProject(t, s, "team", false)
	mustGroup(t, s, "ops", opsDN)
	p, err := s.GetProject(ctx, "team")
	if err != nil {
		t.Fatal(err)
	}
	g, err := s.GetGroup(ctx, "ops")
	if err != nil {
		t.Fatal(err)
	}
	r := store.Robot{Name: "team+ci", Project: "team", Permissions: store.OneProject("team", "pull"), SecretHash: "h1"}
	if err := s.CreateRobot(ctx, &r); err != nil {
		t.Fatal(err)
	}

	if got, err := s.GetUserByID(ctx, u.ID); err != nil || got.Name != "alice" || got.ID != u.ID {
		t.Errorf("GetUserByID(%d) = %+v, %v", u.ID, got, err)
	}
	if got, err := s.GetProjectByID(ctx, p.ID); err != nil || got != p {
		t.Errorf("GetProjectByID(%d) = %+v, %v; want %+v", p.ID, got, err, p)
	}
	if got, err := s.GetGroupByID(ctx, g.ID); err != nil || got != g {
		t.Errorf("GetGroupByID(%d) = %+v, %v; want %+v", g.ID, got, err, g)
	}
	if got, err := s.GetRobotByID(ctx, r.ID); err != nil || got.Name != "team+ci" || got.Project != "team" {
		t.Errorf("GetRobotByID(%d) = %+v, %v", r.ID, got, err)
	}
	const missing = 1 << 40
	_, err = s.GetUserByID(ctx, missing)
	wantErr(t, "GetUserByID(missing)", err, store.ErrNotFound)
	_, err = s.GetProjectByID(ctx, missing)
	wantErr(t, "GetProjectByID(missing)", err, store.ErrNotFound)
	_, err = s.GetGroupByID(ctx, missing)
	wantErr(t, "GetGroupByID(missing)", err, store.ErrNotFound)
	_, err = s.GetRobotByID(ctx, missing)
	wantErr(t, "GetRobotByID(missing)", err, store.ErrNotFound)

	mustMember(t, s, "team", store.MemberUser, "alice", store.RoleGuest)
	mustMember(t, s, "team", store.MemberGroup, "ops", store.RoleDeveloper)
	ms, err := s.ListMembers(ctx, "team")
	if err != nil || len(ms) != 2 {
		t.Fatalf("ListMembers = %+v, %v", ms, err)
	}
	if ms[0].EntityID != u.ID || ms[1].EntityID != g.ID || ms[0].ID == ms[1].ID || ms[0].ID == 0 || ms[1].ID == 0 {
		t.Errorf("members %+v: want distinct ids, entity ids %d and %d", ms, u.ID, g.ID)
	}
	// Replacing a role keeps the membership's ID.
	mustMember(t, s, "team", store.MemberUser, "alice", store.RoleMaintainer)
	again, err := s.ListMembers(ctx, "team")
	if err != nil || again[0].ID != ms[0].ID || again[0].Role != store.RoleMaintainer {
		t.Errorf("after a role change: %+v, %v; want id %d", again, err, ms[0].ID)
	}
}
