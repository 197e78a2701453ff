package app_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"testing"

	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/oidctest"
	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/testenv"
)

// apiBackend points a config at a fresh store of one kind.
type apiBackend struct {
	name string
	use  func(t *testing.T, cfg *config.Config)
}

// apiBackends runs fn once on SQLite (apptest's default) and, under -tags
// integration, once more on a throwaway PostgreSQL (postgres_test.go);
// useStore sets the backend on the config fn builds its stack from.
func apiBackends(t *testing.T, fn func(t *testing.T, useStore func(*config.Config))) {
	for _, b := range append([]apiBackend{{"sqlite", func(*testing.T, *config.Config) {}}}, integrationBackends...) {
		t.Run(b.name, func(t *testing.T) { fn(t, func(c *config.Config) { b.use(t, c) }) })
	}
}

// apiReply is one answer of the stack.
type apiReply struct {
	status int
	body   []byte
}

// json decodes the body into v, failing the test when it cannot.
func (r apiReply) json(t *testing.T, v any) {
	t.Helper()
	testenv.DecodeJSON(t, r.body, v)
}

// errcode is the first error code of an errcode body, "" when none.
func (r apiReply) errcode() string { return testenv.ErrorCode(r.body) }

// do serves method path as user (root or dev, with their passwords) with
// body JSON-encoded (nil: none).
func (s *apiServer) do(user, method, path string, body any) apiReply {
	s.t.Helper()
	var text string
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			s.t.Fatal(err)
		}
		text = string(data)
	}
	status, data := s.call(method, path, user, apiPassword(user), text)
	return apiReply{status: status, body: data}
}

// want fails the test unless r has status.
func want(t *testing.T, r apiReply, status int, what string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d; body %s", what, r.status, status, r.body)
	}
}

// TestFederatedRobotAPI: the authserver_federation extension of the robot
// JSON on POST, GET, list and PUT, the refusals, and a robot made through
// the API logging in at the token endpoint with a real issuer's JWT.
func TestFederatedRobotAPI(t *testing.T) {
	apiBackends(t, func(t *testing.T, useStore func(*config.Config)) {
		is := oidctest.New(t)
		f := newAPIServer(t, func(c *config.Config) {
			useStore(c)
			c.Federation = fedIssuer(is)
		})
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
			q := url.Values{"service": {f.app.Config.Token.Service}, "scope": {"repository:team/app:push"}}
			status, _ := f.call("GET", "/service/token?"+q.Encode(), "robot$team+gh", jwt, "")
			return status
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
			{"aud alone (pins no workload)", "POST", "/api/v2.0/robots", robot("x", map[string]any{"issuer": "github",
				"conditions": []map[string]string{{"claim": "aud", "pattern": "harbor-registry"}}}), 400, "BAD_REQUEST"},
			{"a branch of any repository", "POST", "/api/v2.0/robots", robot("x", map[string]any{"issuer": "github",
				"conditions": []map[string]string{{"claim": "ref", "pattern": "refs/heads/main"}}}), 400, "BAD_REQUEST"},
			{"repository with a leading *", "POST", "/api/v2.0/robots", robot("x", map[string]any{"issuer": "github",
				"conditions": []map[string]string{{"claim": "repository", "pattern": "*/app"}}}), 400, "BAD_REQUEST"},
			{"iss beside a pin", "POST", "/api/v2.0/robots", robot("x", map[string]any{"issuer": "github",
				"conditions": []map[string]string{{"claim": "repository", "pattern": "org/app"}, {"claim": "iss", "pattern": is.URL}}}), 400, "BAD_REQUEST"},
			{"PUT a policy that pins nothing", "PUT", "/api/v2.0/robots/" + id, robot("robot$team+gh", map[string]any{"issuer": "github",
				"conditions": []map[string]string{{"claim": "ref_type", "pattern": "tag"}}}), 400, "BAD_REQUEST"},
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
		rb, err := f.app.Store.GetRobot(t.Context(), "team+gh")
		if err != nil {
			t.Fatal(err)
		}
		if rb.SecretHash != "" || !reflect.DeepEqual(rb.Trust, &store.TrustPolicy{Issuer: "github", Conditions: []store.ClaimCondition{
			{Claim: "repository", Pattern: "org/app"}, {Claim: "ref_type", Pattern: "tag"}}}) {
			t.Errorf("after the refusals: %+v", rb)
		}
		if rs, _ := f.app.Store.ListRobots(t.Context(), "team"); len(rs) != 2 {
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
