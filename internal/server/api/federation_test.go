package api_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/authserver/authserver/internal/store"
)

// TestOpenAPIRobotSchemas: the robot schemas of /api/openapi.json name
// exactly the fields the API takes and sends for a federated robot (refused too, for
// a stored policy that pins no workload), and the robot routes refer to
// them.
func TestOpenAPIRobotSchemas(t *testing.T) {
	f := newFixture(t, sqliteStore(t))
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]any `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
		Paths map[string]map[string]struct {
			RequestBody map[string]any            `json:"requestBody"`
			Responses   map[string]map[string]any `json:"responses"`
		} `json:"paths"`
	}
	f.do("", "GET", "/api/openapi.json", nil).json(t, &doc)
	want(t, f.do("root", "POST", "/api/v2.0/projects", map[string]any{"project_name": "team"}), 201, "project")
	body := map[string]any{"name": "gh", "level": "project", "duration": -1, "description": "d", "disable": false, "secret": "",
		"permissions":           []any{map[string]any{"kind": "project", "namespace": "team", "access": []any{map[string]any{"resource": "repository", "action": "pull", "effect": "allow"}}}},
		"authserver_federation": map[string]any{"issuer": "github", "conditions": []any{map[string]string{"claim": "sub", "pattern": "a"}}}}
	r := f.do("root", "POST", "/api/v2.0/robots", body)
	want(t, r, 201, "create")
	var created map[string]any
	r.json(t, &created)
	var got map[string]any
	f.do("root", "GET", fmt.Sprintf("/api/v2.0/robots/%v", created["id"]), nil).json(t, &got)
	keys := func(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }
	perm := got["permissions"].([]any)[0].(map[string]any)
	// A robot stored before trust policies had to pin the workload (aud
	// alone) is shown with the reason every login of it is refused.
	if err := f.st.CreateRobot(t.Context(), &store.Robot{Name: "team+old", Project: "team", Permissions: store.OneProject("team", "pull"),
		Trust: &store.TrustPolicy{Issuer: "github", Conditions: []store.ClaimCondition{{Claim: "aud", Pattern: "harbor-registry"}}}}); err != nil {
		t.Fatal(err)
	}
	var list []map[string]any
	f.do("root", "GET", "/api/v2.0/projects/team/robots", nil).json(t, &list)
	var fed map[string]any
	for _, r := range list {
		if r["name"] == "robot$team+old" {
			fed = r["authserver_federation"].(map[string]any)
		}
	}
	if refused, _ := fed["refused"].(string); !strings.Contains(refused, "no condition pins the workload's identity") {
		t.Fatalf("a stored policy that pins nothing shows %v, want the reason it is refused", fed)
	}
	if _, ok := got["authserver_federation"].(map[string]any)["refused"]; ok {
		t.Fatalf("a policy that pins shows refused: %v", got)
	}
	for _, tt := range []struct {
		name   string
		schema string
		sent   map[string]any
	}{
		{"GET robot", "Robot", got},
		{"POST response", "RobotCreated", created},
		{"POST body", "RobotCreate", withPutFields(body)},
		{"permission", "RobotPermission", perm},
		{"access", "RobotAccess", body["permissions"].([]any)[0].(map[string]any)["access"].([]any)[0].(map[string]any)},
		{"federation", "RobotFederation", fed},
		{"condition", "ClaimCondition", fed["conditions"].([]any)[0].(map[string]any)},
	} {
		if d := keys(doc.Components.Schemas[tt.schema].Properties); !slices.Equal(d, keys(tt.sent)) {
			t.Errorf("%s: schema %s has %v, the API has %v", tt.name, tt.schema, d, keys(tt.sent))
		}
	}
	ref := func(name string) string { return "#/components/schemas/" + name }
	schemaOf := func(content any) string {
		c, _ := content.(map[string]any)
		j, _ := c["application/json"].(map[string]any)
		s, _ := j["schema"].(map[string]any)
		r, _ := s["$ref"].(string)
		return r
	}
	robots, one := doc.Paths["/api/v2.0/robots"], doc.Paths["/api/v2.0/robots/{robot_id}"]
	for _, tt := range []struct{ name, got, want string }{
		{"POST /robots body", schemaOf(robots["post"].RequestBody["content"]), ref("RobotCreate")},
		{"POST /robots result", schemaOf(robots["post"].Responses["201"]["content"]), ref("RobotCreated")},
		{"GET /robots result", schemaOf(robots["get"].Responses["200"]["content"]), ref("RobotList")},
		{"GET /robots/{id} result", schemaOf(one["get"].Responses["200"]["content"]), ref("Robot")},
		{"PUT /robots/{id} body", schemaOf(one["put"].RequestBody["content"]), ref("RobotCreate")},
		{"PATCH /robots/{id} body", schemaOf(one["patch"].RequestBody["content"]), ref("RobotSecret")},
	} {
		if tt.got != tt.want {
			t.Errorf("%s: schema %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

// withPutFields is a robot body with the fields of a robot read back that
// clients send again on PUT, and the API takes (and ignores) on POST too.
func withPutFields(body map[string]any) map[string]any {
	out := maps.Clone(body)
	for _, k := range []string{"id", "editable", "expires_at", "creation_time", "update_time"} {
		out[k] = nil
	}
	return out
}
