package api_test

import (
	"fmt"
	"testing"
)

// TestRobotPrefixByID is the regression test of robots.prefix "robot_":
// robot 1 is the system robot stored as "robot_ci" (login
// "robot_robot_ci"), robot 2 the one stored as "ci" (login "robot_ci").
// Changing, refreshing and deleting robot 1 by its id touches robot 1
// only: the API acts on the ids it resolved, never on a name turned back
// into a robot (which took "robot_ci" for robot 2's login).
func TestRobotPrefixByID(t *testing.T) {
	for _, b := range append([]backend{{"sqlite", sqliteStore}}, integrationBackends...) {
		t.Run(b.name, func(t *testing.T) { testRobotPrefixByID(t, newFixturePrefix(t, b.open(t), "robot_")) })
	}
}

func testRobotPrefixByID(t *testing.T, f *fixture) {
	create := func(name string) (int64, string) {
		t.Helper()
		r := f.do("root", "POST", "/api/v2.0/robots", map[string]any{"name": name, "level": "system", "duration": -1,
			"permissions": []any{map[string]any{"kind": "project", "namespace": "*",
				"access": []any{map[string]string{"resource": "repository", "action": "pull"}}}}})
		want(t, r, 201, "create "+name)
		var out struct {
			ID     int64  `json:"id"`
			Name   string `json:"name"`
			Secret string `json:"secret"`
		}
		r.json(t, &out)
		if out.Name != "robot_"+name {
			t.Fatalf("robot %q created as %q", name, out.Name)
		}
		return out.ID, out.Secret
	}
	one, oneSecret := create("robot_ci")
	two, twoSecret := create("ci")
	read := func(id int64) map[string]any {
		t.Helper()
		var r map[string]any
		f.do("root", "GET", fmt.Sprintf("/api/v2.0/robots/%d", id), nil).json(t, &r)
		return r
	}
	token := func(login, secret string) int {
		return f.doPw(login, secret, "GET", "/service/token?service=test-registry", nil).status
	}

	body := read(one)
	body["description"] = "robot one"
	want(t, f.do("root", "PUT", fmt.Sprintf("/api/v2.0/robots/%d", one), body), 200, "update robot one")
	if r1, r2 := read(one), read(two); r1["description"] != "robot one" || r2["description"] != "" {
		t.Errorf("after PUT of robot %d: descriptions %q and %q", one, r1["description"], r2["description"])
	}

	var sec map[string]string
	f.do("root", "PATCH", fmt.Sprintf("/api/v2.0/robots/%d", one), map[string]string{"secret": ""}).json(t, &sec)
	if token("robot_robot_ci", sec["secret"]) != 200 || token("robot_robot_ci", oneSecret) != 401 || token("robot_ci", twoSecret) != 200 {
		t.Errorf("after PATCH of robot %d: the new secret of robot_robot_ci, or robot_ci's own secret, does not work", one)
	}

	want(t, f.do("root", "DELETE", fmt.Sprintf("/api/v2.0/robots/%d", one), nil), 200, "delete robot one")
	want(t, f.do("root", "GET", fmt.Sprintf("/api/v2.0/robots/%d", one), nil), 404, "robot one deleted")
	if r2 := read(two); r2["name"] != "robot_ci" || token("robot_ci", twoSecret) != 200 {
		t.Errorf("robot %d after robot %d was deleted: %v", two, one, r2)
	}
}
