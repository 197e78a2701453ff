package storetest

import (
	"errors"
	"fmt"
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

	if got, err := s.GetMember(ctx, ms[1].ID); err != nil || got != (store.Member{ID: ms[1].ID, Project: "team",
		Kind: store.MemberGroup, Name: "ops", EntityID: g.ID, Role: store.RoleDeveloper}) {
		t.Errorf("GetMember(%d) = %+v, %v", ms[1].ID, got, err)
	}
	_, err = s.GetMember(ctx, missing)
	wantErr(t, "GetMember(missing)", err, store.ErrNotFound)
}

// testAddMember checks that AddMember makes a membership only once, and
// reports its id.
func testAddMember(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mustUser(t, s, "alice")
	mustProject(t, s, "team", false)
	m := store.Member{Project: "team", Kind: store.MemberUser, Name: "alice", Role: store.RoleGuest}
	if err := s.AddMember(ctx, &m); err != nil || m.ID == 0 || m.EntityID != u.ID {
		t.Fatalf("AddMember = %+v, %v", m, err)
	}
	again := store.Member{Project: "team", Kind: store.MemberUser, Name: "alice", Role: store.RoleProjectAdmin}
	wantErr(t, "AddMember twice", s.AddMember(ctx, &again), store.ErrAlreadyExists)
	if got, err := s.GetMember(ctx, m.ID); err != nil || got.Role != store.RoleGuest {
		t.Errorf("after a second AddMember: %+v, %v", got, err)
	}
	for _, bad := range []store.Member{
		{Project: "nope", Kind: store.MemberUser, Name: "alice", Role: store.RoleGuest},
		{Project: "team", Kind: store.MemberUser, Name: "nobody", Role: store.RoleGuest},
		{Project: "team", Kind: store.MemberGroup, Name: "nobody", Role: store.RoleGuest},
	} {
		wantErr(t, fmt.Sprintf("AddMember(%+v)", bad), s.AddMember(ctx, &bad), store.ErrNotFound)
	}
	bad := store.Member{Project: "team", Kind: "robot", Name: "alice", Role: store.RoleGuest}
	if err := s.AddMember(ctx, &bad); err == nil || errors.Is(err, store.ErrUnavailable) {
		t.Errorf("AddMember of an unknown kind: %v, want a plain error", err)
	}
}
