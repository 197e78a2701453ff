package api_test

import (
	"fmt"
	"testing"
)

// projectRobot creates project and, as user (who becomes its projectAdmin),
// a pull robot named name in it; it returns the robot's id.
func (f *fixture) projectRobot(user, project, name string) string {
	f.t.Helper()
	want(f.t, f.do(user, "POST", "/api/v2.0/projects", map[string]any{"project_name": project}), 201, "create "+project)
	r := f.do(user, "POST", "/api/v2.0/robots", map[string]any{"name": name, "level": "project", "duration": -1,
		"permissions": []any{map[string]any{"kind": "project", "namespace": project,
			"access": []any{map[string]string{"resource": "repository", "action": "pull"}}}}})
	want(f.t, r, 201, "create robot "+name)
	var robot map[string]any
	r.json(f.t, &robot)
	return fmt.Sprint(robot["id"])
}

// TestRobotSecretNoOracle: a project admin setting their own robot's
// secret learns nothing about other robots' secrets. With a unique secret
// hash, PATCH answered 409 exactly when some robot in the system had the
// candidate secret.
func TestRobotSecretNoOracle(t *testing.T) {
	backends(t, func(t *testing.T, f *fixture) {
		const secret = "Victim-Secret-1"
		want(t, f.do("root", "POST", "/api/v2.0/robots", map[string]any{"name": "victim", "level": "system", "secret": secret,
			"duration": -1, "permissions": []any{map[string]any{"kind": "project", "namespace": "*",
				"access": []any{map[string]string{"resource": "repository", "action": "pull"}}}}}), 201, "system robot")
		f.user("mallory", false)
		id := f.projectRobot("mallory", "mine", "ci")
		r := f.do("mallory", "PATCH", "/api/v2.0/robots/"+id, map[string]string{"secret": secret})
		want(t, r, 200, "PATCH with the victim's secret")
		// Both robots log in, each found by its name.
		for _, login := range []string{"robot$victim", "robot$mine+ci"} {
			want(t, f.doPw(login, secret, "GET", "/service/token?service=test-registry", nil), 200, login+" with the shared secret")
		}
	})
}
