package api_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/oidctest"
	"github.com/authserver/authserver/internal/store"
)

// TestFederatedRobotAPI: the authserver_federation extension of the robot
// JSON on POST, GET, list and PUT, the refusals, and a robot made through
// the API logging in at the token endpoint with a real issuer's JWT.
func TestFederatedRobotAPI(t *testing.T) {
	backends(t, func(t *testing.T, f *fixture) {
		is := oidctest.New(t)
		fed, err := authn.NewFederation(config.Federation{Issuers: []config.FederationIssuer{{Name: "github", URL: is.URL,
			Audiences: []string{"harbor-registry"}, AllowHTTP: true, Algorithms: []string{"RS256"},
			MaxTokenAge: config.Duration(time.Hour)}}}, authn.FederationOptions{})
		if err != nil {
			t.Fatal(err)
		}
		f.robots.SetFederation(fed, nil)
		want(t, f.do("root", "POST", "/api/v2.0/projects", map[string]any{"project_name": "team"}), 201, "project")

		policy := map[string]any{"issuer": "github", "conditions": []map[string]string{
			{"claim": "repository", "pattern": "org/app"}, {"claim": "ref", "pattern": "refs/heads/*"}}}
		robot := func(name string, fed any, extra ...any) map[string]any {
			b := map[string]any{"name": name, "level": "project", "duration": -1, "permissions": []any{map[string]any{
				"kind": "project", "namespace": "team", "access": []any{map[string]any{"resource": "repository", "action": "push"}}}}}
			if fed != nil {
				b["authserver_federation"] = fed
			}
			for i := 0; i+1 < len(extra); i += 2 {
				b[extra[i].(string)] = extra[i+1]
			}
			return b
		}

		// POST: a federated robot, no secret.
		r := f.do("root", "POST", "/api/v2.0/robots", robot("gh", policy))
		want(t, r, 201, "create federated")
		var created map[string]any
		r.json(t, &created)
		if created["secret"] != "" || created["name"] != "robot$team+gh" || !reflect.DeepEqual(created["authserver_federation"], jsonOf(t, policy)) {
			t.Fatalf("created %v", created)
		}
		id := fmt.Sprint(created["id"])

		// GET and list show the policy; a robot with a secret has none.
		want(t, f.do("root", "POST", "/api/v2.0/robots", robot("plain", nil)), 201, "create plain")
		var one map[string]any
		f.do("root", "GET", "/api/v2.0/robots/"+id, nil).json(t, &one)
		if !reflect.DeepEqual(one["authserver_federation"], jsonOf(t, policy)) {
			t.Fatalf("GET %v", one)
		}
		var list []map[string]any
		f.do("root", "GET", "/api/v2.0/projects/team/robots", nil).json(t, &list)
		if len(list) != 2 || list[0]["name"] != "robot$team+gh" || list[0]["authserver_federation"] == nil {
			t.Fatalf("list %v", list)
		}
		if _, ok := list[1]["authserver_federation"]; ok || list[1]["name"] != "robot$team+plain" {
			t.Fatalf("a robot with a secret shows a policy: %v", list[1])
		}

		// It logs in with a JWT meeting the policy, and not with another.
		token := func(jwt string) int {
			q := url.Values{"service": {"test-registry"}, "scope": {"repository:team/app:push"}}
			return f.doPw("robot$team+gh", jwt, "GET", "/service/token?"+q.Encode(), nil).status
		}
		if s := token(is.Mint("harbor-registry", oidctest.GitHub("org/app", "refs/heads/main"))); s != 200 {
			t.Fatalf("login with a matching JWT: %d", s)
		}
		if s := token(is.Mint("harbor-registry", oidctest.GitHub("org/app", "refs/tags/v1"))); s != 401 {
			t.Fatalf("login with a tag's JWT: %d, want 401", s)
		}

		// PUT replaces the conditions (the issuer may be given again).
		tags := map[string]any{"issuer": "github", "conditions": []map[string]string{
			{"claim": "repository", "pattern": "org/app"}, {"claim": "ref_type", "pattern": "tag"}}}
		want(t, f.do("root", "PUT", "/api/v2.0/robots/"+id, robot("robot$team+gh", tags, "description", "tags only")), 200, "PUT policy")
		f.do("root", "GET", "/api/v2.0/robots/"+id, nil).json(t, &one)
		if !reflect.DeepEqual(one["authserver_federation"], jsonOf(t, tags)) || one["description"] != "tags only" {
			t.Fatalf("after PUT %v", one)
		}
		if s := token(is.Mint("harbor-registry", oidctest.GitHub("org/app", "refs/tags/v1"))); s != 200 {
			t.Fatalf("login with a tag's JWT after PUT: %d", s)
		}
		// A PUT without the extension (a Harbor client) keeps the policy.
		want(t, f.do("root", "PUT", "/api/v2.0/robots/"+id, robot("robot$team+gh", nil, "description", "kept")), 200, "PUT without policy")
		f.do("root", "GET", "/api/v2.0/robots/"+id, nil).json(t, &one)
		if !reflect.DeepEqual(one["authserver_federation"], jsonOf(t, tags)) {
			t.Fatalf("a PUT without authserver_federation changed the policy: %v", one)
		}

		var plain map[string]any
		for _, rb := range list {
			if rb["name"] == "robot$team+plain" {
				plain = rb
			}
		}
		plainID := fmt.Sprint(plain["id"])
		tests := []struct {
			name, method, path string
			body               any
			status             int
			code               string
		}{
			{"unknown issuer", "POST", "/api/v2.0/robots", robot("gl", map[string]any{"issuer": "gitlab",
				"conditions": []map[string]string{{"claim": "project_path", "pattern": "g/app"}}}), 400, "BAD_REQUEST"},
			{"no conditions", "POST", "/api/v2.0/robots", robot("x", map[string]any{"issuer": "github", "conditions": []any{}}), 400, "BAD_REQUEST"},
			{"pattern only *", "POST", "/api/v2.0/robots", robot("x", map[string]any{"issuer": "github",
				"conditions": []map[string]string{{"claim": "sub", "pattern": "*"}}}), 400, "BAD_REQUEST"},
			{"secret and policy", "POST", "/api/v2.0/robots", robot("x", policy, "secret", "Secret-123"), 400, "BAD_REQUEST"},
			{"unknown field in policy", "POST", "/api/v2.0/robots", robot("x", map[string]any{"issuer": "github", "audience": "x",
				"conditions": []map[string]string{{"claim": "sub", "pattern": "a"}}}), 400, "BAD_REQUEST"},
			{"policy on a robot with a secret", "PUT", "/api/v2.0/robots/" + plainID, robot("robot$team+plain", policy), 400, "BAD_REQUEST"},
			{"unknown issuer on PUT", "PUT", "/api/v2.0/robots/" + id, robot("robot$team+gh", map[string]any{"issuer": "gitlab",
				"conditions": []map[string]string{{"claim": "sub", "pattern": "a"}}}), 400, "BAD_REQUEST"},
			{"secret of a federated robot", "PATCH", "/api/v2.0/robots/" + id, map[string]string{"secret": ""}, 400, "BAD_REQUEST"},
			{"chosen secret of a federated robot", "PATCH", "/api/v2.0/robots/" + id, map[string]string{"secret": "Secret-123"}, 400, "BAD_REQUEST"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := f.do("root", tt.method, tt.path, tt.body)
				want(t, r, tt.status, tt.name)
				if r.errcode() != tt.code {
					t.Errorf("errcode %q, want %q", r.errcode(), tt.code)
				}
			})
		}
		// None of them changed anything.
		rb, err := f.st.GetRobot(t.Context(), "team+gh")
		if err != nil {
			t.Fatal(err)
		}
		if rb.SecretHash != "" || !reflect.DeepEqual(rb.Trust, &store.TrustPolicy{Issuer: "github", Conditions: []store.ClaimCondition{
			{Claim: "repository", Pattern: "org/app"}, {Claim: "ref_type", Pattern: "tag"}}}) {
			t.Errorf("after the refusals: %+v", rb)
		}
		if rs, _ := f.st.ListRobots(t.Context(), "team"); len(rs) != 2 {
			t.Errorf("robots after the refusals: %d, want 2", len(rs))
		}
	})
}

// jsonOf is v as encoding/json decodes it into an any.
func jsonOf(t *testing.T, v any) any {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestOpenAPIRobotSchemas: the robot schemas of /api/openapi.json name
// exactly the fields the API sends for a federated robot, and the robot
// routes refer to them.
func TestOpenAPIRobotSchemas(t *testing.T) {
	f := newFixture(t, "sqlite")
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
	fed := got["authserver_federation"].(map[string]any)
	for _, tt := range []struct {
		name   string
		schema string
		sent   map[string]any
	}{
		{"GET robot", "Robot", got},
		{"POST response", "RobotCreated", created},
		{"POST body", "RobotCreate", body},
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
		{"POST /robots result", schemaOf(robots["post"].Responses["2XX"]["content"]), ref("RobotCreated")},
		{"GET /robots result", schemaOf(robots["get"].Responses["2XX"]["content"]), ref("RobotList")},
		{"GET /robots/{id} result", schemaOf(one["get"].Responses["2XX"]["content"]), ref("Robot")},
		{"PUT /robots/{id} body", schemaOf(one["put"].RequestBody["content"]), ref("RobotCreate")},
		{"PATCH /robots/{id} body", schemaOf(one["patch"].RequestBody["content"]), ref("RobotSecret")},
	} {
		if tt.got != tt.want {
			t.Errorf("%s: schema %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}
