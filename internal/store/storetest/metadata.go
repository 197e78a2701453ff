package storetest

import (
	"maps"
	"reflect"
	"testing"

	"github.com/authserver/authserver/internal/store"
)

// testMetadata checks that project metadata and a robot's other access
// entries are kept as written, replaced whole, and gone with their project.
func testMetadata(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustProject(t, s, "team", false)
	p, err := s.GetProject(ctx, "team")
	if err != nil {
		t.Fatal(err)
	}
	if md, err := s.ProjectMetadata(ctx, p.ID); err != nil || len(md) != 0 {
		t.Errorf("ProjectMetadata of a new project = %v, %v", md, err)
	}
	md := map[string]string{"auto_scan": "true", "severity": "low", "proxy_speed_kb": "-1", "public": "ignored"}
	if err := s.SetProjectMetadata(ctx, p.ID, md); err != nil {
		t.Fatal(err)
	}
	want := maps.Clone(md)
	delete(want, "public")
	if got, err := s.ProjectMetadata(ctx, p.ID); err != nil || !maps.Equal(got, want) {
		t.Errorf("ProjectMetadata = %v, %v; want %v", got, err, want)
	}
	if err := s.SetProjectMetadata(ctx, p.ID, map[string]string{"severity": "high"}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ProjectMetadata(ctx, p.ID); err != nil || !maps.Equal(got, map[string]string{"severity": "high"}) {
		t.Errorf("after a replacement: %v, %v", got, err)
	}
	const missing = 1 << 40
	wantErr(t, "SetProjectMetadata(missing)", s.SetProjectMetadata(ctx, missing, md), store.ErrNotFound)
	_, err = s.ProjectMetadata(ctx, missing)
	wantErr(t, "ProjectMetadata(missing)", err, store.ErrNotFound)

	other := []store.RobotAccess{{Resource: "artifact", Action: "read"}, {Resource: "tag", Action: "create", Effect: "allow"},
		{Resource: "odd / ;:%", Action: "*", Effect: "deny"}}
	r := store.Robot{Name: "team+scan", Project: "team", SecretHash: "h", Permissions: []store.RobotPermission{
		{Project: "team", Other: other}}}
	if err := s.CreateRobot(ctx, &r); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetRobot(ctx, "team+scan")
	if err != nil || len(got.Permissions) != 1 || len(got.Permissions[0].Actions) != 0 || !reflect.DeepEqual(got.Permissions[0].Other, other) {
		t.Errorf("robot with other access = %+v, %v", got.Permissions, err)
	}
	got, err = s.ModifyRobot(ctx, "team+scan", func(r store.Robot) (store.Robot, error) {
		r.Permissions = []store.RobotPermission{{Project: "team", Actions: []string{"pull"}, Other: other[:1]}}
		return r, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if again, err := s.GetRobot(ctx, "team+scan"); err != nil || !reflect.DeepEqual(again.Permissions, got.Permissions) ||
		!reflect.DeepEqual(again.Permissions[0].Other, other[:1]) || len(again.Permissions[0].Actions) != 1 {
		t.Errorf("after ModifyRobot: %+v, %v", again.Permissions, err)
	}
	// A system robot's entries of kind system, kept as given and
	// replaced whole; a project robot has none.
	sys := store.Robot{Name: "sys", Project: store.SystemRobotProject, SecretHash: "h", Permissions: store.OneProject("*", "pull"),
		SystemAccess: other}
	if err := s.CreateRobot(ctx, &sys); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetRobot(ctx, "sys"); err != nil || !reflect.DeepEqual(got.SystemAccess, other) {
		t.Errorf("system access = %+v, %v", got.SystemAccess, err)
	}
	if got, err := s.ModifyRobot(ctx, "sys", func(r store.Robot) (store.Robot, error) {
		r.SystemAccess = other[1:2]
		return r, nil
	}); err != nil || !reflect.DeepEqual(got.SystemAccess, other[1:2]) {
		t.Errorf("after ModifyRobot: %+v, %v", got.SystemAccess, err)
	}
	if got, err := s.GetRobot(ctx, "team+scan"); err != nil || got.SystemAccess != nil {
		t.Errorf("a project robot's system access: %+v, %v", got.SystemAccess, err)
	}
	bad := store.Robot{Name: "team+sys", Project: "team", SecretHash: "h", Permissions: store.OneProject("team", "pull"), SystemAccess: other}
	wantErr(t, "CreateRobot(a project robot with kind system entries)", s.CreateRobot(ctx, &bad), errPlain)
	if err := s.DeleteProject(ctx, "team"); err != nil {
		t.Fatal(err)
	}
	_, err = s.ProjectMetadata(ctx, p.ID)
	wantErr(t, "ProjectMetadata of a deleted project", err, store.ErrNotFound)
}
