//go:build integration

package harborclient

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goharbor/go-client/pkg/harbor"
	v2 "github.com/goharbor/go-client/pkg/sdk/v2.0/client"
	"github.com/goharbor/go-client/pkg/sdk/v2.0/client/member"
	"github.com/goharbor/go-client/pkg/sdk/v2.0/client/ping"
	"github.com/goharbor/go-client/pkg/sdk/v2.0/client/project"
	"github.com/goharbor/go-client/pkg/sdk/v2.0/client/robot"
	"github.com/goharbor/go-client/pkg/sdk/v2.0/client/systeminfo"
	"github.com/goharbor/go-client/pkg/sdk/v2.0/client/user"
	"github.com/goharbor/go-client/pkg/sdk/v2.0/models"
)

// server is an authserver process built from this repository (../..),
// on SQLite in a temp dir. (The PostgreSQL runs of the same API are in
// internal/server/api; this module imports no product package.)
type server struct {
	url, adminPass string
}

func start(t *testing.T) *server {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "authserver")
	build := exec.Command("go", "build", "-o", bin, "./cmd/authserver")
	build.Dir = "../.."
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build authserver: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	keys := filepath.Join(dir, "keys")
	if out, err := exec.Command(bin, "keygen", "--dir", keys).CombinedOutput(); err != nil {
		t.Fatalf("keygen: %v\n%s", err, out)
	}
	cfg := fmt.Sprintf(`server:
  addr: 127.0.0.1:%d
token:
  issuer: harbor-token-issuer
  service: harbor-registry
  expiration: 30m
  key: %s
  certificate: %s
  kid: thumbprint
storage:
  driver: sqlite
  dsn: %q
passwords:
  bcrypt_cost: 4
api:
  project_creation: everyone
`, port, filepath.Join(keys, "token.key"), filepath.Join(keys, "token.crt"), filepath.Join(dir, "authserver.db"))
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	s := &server{url: "http://127.0.0.1:" + strconv.Itoa(port), adminPass: "Admin-pw-" + strconv.Itoa(port)}
	cmd := exec.Command(bin, "serve", "--config", cfgPath)
	cmd.Env = append(os.Environ(), "AUTHSERVER_ADMIN_PASSWORD="+s.adminPass, "AUTHSERVER_CONFIG=")
	logf, err := os.Create(filepath.Join(dir, "authserver.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // the process this test started, by its pid
		_ = cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("authserver log:\n%s", b)
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.url + "/api/v2.0/ping")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("authserver did not answer: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *server) client(t *testing.T, user, pass string) *v2.HarborAPI {
	t.Helper()
	cs, err := harbor.NewClientSet(&harbor.ClientSetConfig{URL: s.url + "/api/v2.0", Username: user, Password: pass})
	if err != nil {
		t.Fatal(err)
	}
	return cs.V2()
}

func ptr[T any](v T) *T { return &v }

func must[T any](t *testing.T, what string) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
}

func TestGoClient(t *testing.T) {
	s := start(t)
	ctx := context.Background()
	adm := s.client(t, "admin", s.adminPass)

	must[*ping.GetPingOK](t, "ping")(adm.Ping.GetPing(ctx, &ping.GetPingParams{}))
	si := must[*systeminfo.GetSystemInfoOK](t, "systeminfo")(adm.Systeminfo.GetSystemInfo(ctx, &systeminfo.GetSystemInfoParams{}))
	if si.Payload.AuthMode == nil || *si.Payload.AuthMode != "db_auth" || !strings.Contains(*si.Payload.HarborVersion, "authserver") {
		t.Errorf("systeminfo %+v", si.Payload)
	}

	// Users, then paging through them.
	for _, name := range []string{"alice", "bob", "carol"} {
		must[*user.CreateUserCreated](t, "create "+name)(adm.User.CreateUser(ctx, &user.CreateUserParams{
			UserReq: &models.UserCreationReq{Username: name, Email: name + "@example.org", Realname: name, Password: "Pw-" + name + "-1"}}))
	}
	var names []string
	for page := int64(1); ; page++ {
		res := must[*user.ListUsersOK](t, "list users")(adm.User.ListUsers(ctx, &user.ListUsersParams{Page: ptr(page), PageSize: ptr(int64(2))}))
		if res.XTotalCount != 4 {
			t.Errorf("X-Total-Count %d", res.XTotalCount)
		}
		if len(res.Payload) == 0 {
			break
		}
		for _, u := range res.Payload {
			names = append(names, u.Username)
		}
	}
	if strings.Join(names, ",") != "admin,alice,bob,carol" {
		t.Errorf("paged users %v", names)
	}
	// The Link header works when followed (its path is the API's own),
	// and q filters.
	first := must[*user.ListUsersOK](t, "list users")(adm.User.ListUsers(ctx, &user.ListUsersParams{Page: ptr(int64(1)), PageSize: ptr(int64(3))}))
	next := ""
	for _, l := range strings.Split(first.Link, ",") {
		if strings.Contains(l, `rel="next"`) {
			next = strings.Trim(strings.TrimSpace(strings.Split(l, ";")[0]), "<>")
		}
	}
	linkReq, _ := http.NewRequest("GET", s.url+next, nil)
	linkReq.SetBasicAuth("admin", s.adminPass)
	if res, err := http.DefaultClient.Do(linkReq); err != nil || res.StatusCode != 200 || !strings.HasPrefix(next, "/api/v2.0/users?") {
		t.Errorf("following Link %q (%q): %v %v", next, first.Link, res, err)
	} else {
		var rest []struct{ Username string }
		if err := json.NewDecoder(res.Body).Decode(&rest); err != nil || len(rest) != 1 || rest[0].Username != "carol" {
			t.Errorf("the next page: %+v, %v", rest, err)
		}
		res.Body.Close()
	}
	bobOnly := must[*user.ListUsersOK](t, "q")(adm.User.ListUsers(ctx, &user.ListUsersParams{Q: ptr("username=bob")}))
	if len(bobOnly.Payload) != 1 || bobOnly.Payload[0].Username != "bob" || bobOnly.XTotalCount != 1 {
		t.Errorf("q=username=bob: %+v", bobOnly.Payload)
	}

	// Alice creates a project (she becomes its projectAdmin) and reads it
	// by name and by id.
	alice := s.client(t, "alice", "Pw-alice-1")
	created := must[*project.CreateProjectCreated](t, "create project")(alice.Project.CreateProject(ctx, &project.CreateProjectParams{
		Project: &models.ProjectReq{ProjectName: "team", Metadata: &models.ProjectMetadata{Public: "false", AutoScan: ptr("true")}}}))
	byName := must[*project.GetProjectOK](t, "get by name")(alice.Project.GetProject(ctx, &project.GetProjectParams{
		ProjectNameOrID: "team", XIsResourceName: ptr(true)}))
	id := created.Location[strings.LastIndexByte(created.Location, '/')+1:]
	byID := must[*project.GetProjectOK](t, "get by id")(alice.Project.GetProject(ctx, &project.GetProjectParams{ProjectNameOrID: id}))
	if byName.Payload.Name != "team" || byID.Payload.ProjectID != byName.Payload.ProjectID || byID.Payload.CurrentUserRoleID != 1 ||
		byID.Payload.Metadata.Public != "false" {
		t.Errorf("project by name %+v, by id %+v", byName.Payload, byID.Payload)
	}

	// Members: a user, and an LDAP group by DN.
	must[*member.CreateProjectMemberCreated](t, "member bob")(alice.Member.CreateProjectMember(ctx, &member.CreateProjectMemberParams{
		ProjectNameOrID: "team", XIsResourceName: ptr(true),
		ProjectMember: &models.ProjectMember{RoleID: 2, MemberUser: &models.UserEntity{Username: "bob"}}}))
	// A group authserver does not know yet (and no directory to ask): a
	// sysadmin makes it up on the way; a projectAdmin names existing ones.
	must[*member.CreateProjectMemberCreated](t, "member group")(adm.Member.CreateProjectMember(ctx, &member.CreateProjectMemberParams{
		ProjectNameOrID: "team", XIsResourceName: ptr(true),
		ProjectMember: &models.ProjectMember{RoleID: 3, MemberGroup: &models.UserGroup{GroupName: "devs", GroupType: 1, LdapGroupDn: "cn=devs,ou=groups,dc=example,dc=org"}}}))
	ms := must[*member.ListProjectMembersOK](t, "members")(alice.Member.ListProjectMembers(ctx, &member.ListProjectMembersParams{
		ProjectNameOrID: "team", XIsResourceName: ptr(true)}))
	var got []string
	for _, m := range ms.Payload {
		got = append(got, fmt.Sprintf("%s:%s:%s", m.EntityType, m.EntityName, m.RoleName))
	}
	if strings.Join(got, " ") != "u:alice:projectAdmin u:bob:developer g:devs:guest" {
		t.Errorf("members %v", got)
	}

	// A project robot whose secret gets exactly its permissions.
	rb := must[*robot.CreateRobotCreated](t, "robot")(alice.Robot.CreateRobot(ctx, &robot.CreateRobotParams{Robot: &models.RobotCreate{
		Name: "ci", Level: "project", Duration: -1, Permissions: []*models.RobotPermission{{Kind: "project", Namespace: "team",
			Access: []*models.Access{{Resource: "repository", Action: "pull"}, {Resource: "repository", Action: "push"}}}}}}))
	if rb.Payload.Name != "robot$team+ci" || rb.Payload.Secret == "" {
		t.Fatalf("robot %+v", rb.Payload)
	}
	req, _ := http.NewRequest("GET", s.url+"/service/token?service=harbor-registry&scope=repository:team/app:pull,push,delete", nil)
	req.SetBasicAuth(rb.Payload.Name, rb.Payload.Secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != 200 {
		t.Fatalf("token: %d %v", resp.StatusCode, err)
	}
	parts := strings.Split(tok.Token, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var cl struct {
		Access []struct {
			Type, Name string
			Actions    []string
		}
	}
	if err := json.Unmarshal(payload, &cl); err != nil || len(cl.Access) != 1 || strings.Join(cl.Access[0].Actions, ",") != "pull,push" {
		t.Errorf("robot token access %s (%v)", payload, err)
	}
	// A robot with access entries beside pull: they read back, and grant
	// nothing at the token endpoint.
	scan := must[*robot.CreateRobotCreated](t, "robot with other access")(alice.Robot.CreateRobot(ctx, &robot.CreateRobotParams{Robot: &models.RobotCreate{
		Name: "scan", Level: "project", Duration: -1, Permissions: []*models.RobotPermission{{Kind: "project", Namespace: "team",
			Access: []*models.Access{{Resource: "repository", Action: "pull"}, {Resource: "artifact", Action: "read"}, {Resource: "scan", Action: "create"}}}}}}))
	scanRead := must[*robot.GetRobotByIDOK](t, "read robot")(alice.Robot.GetRobotByID(ctx, &robot.GetRobotByIDParams{RobotID: scan.Payload.ID}))
	var entries []string
	for _, a := range scanRead.Payload.Permissions[0].Access {
		entries = append(entries, a.Resource+":"+a.Action)
	}
	if strings.Join(entries, " ") != "repository:pull artifact:read scan:create" {
		t.Errorf("robot access read back: %v", entries)
	}
	robots := must[*robot.ListRobotOK](t, "list robots")(alice.Robot.ListRobot(ctx, &robot.ListRobotParams{Q: ptr("Level=project,ProjectID=" + id)}))
	if len(robots.Payload) != 2 || robots.Payload[0].Permissions[0].Namespace != "team" {
		t.Errorf("robots %+v", robots.Payload)
	}

	// Paging projects until an empty page.
	for i := range 4 {
		must[*project.CreateProjectCreated](t, "more projects")(adm.Project.CreateProject(ctx, &project.CreateProjectParams{
			Project: &models.ProjectReq{ProjectName: fmt.Sprintf("p%d", i)}}))
	}
	n := 0
	for page := int64(1); page < 20; page++ {
		res := must[*project.ListProjectsOK](t, "list projects")(adm.Project.ListProjects(ctx, &project.ListProjectsParams{Page: ptr(page), PageSize: ptr(int64(2))}))
		if len(res.Payload) == 0 {
			break
		}
		n += len(res.Payload)
	}
	if n != 5 {
		t.Errorf("paged %d projects, want 5", n)
	}

	// Bob, a developer, may not add members.
	bob := s.client(t, "bob", "Pw-bob-1")
	if _, err := bob.Member.CreateProjectMember(ctx, &member.CreateProjectMemberParams{ProjectNameOrID: "team", XIsResourceName: ptr(true),
		ProjectMember: &models.ProjectMember{RoleID: 1, MemberUser: &models.UserEntity{Username: "carol"}}}); err == nil {
		t.Error("a developer added a member")
	}
	must[*project.DeleteProjectOK](t, "delete project")(alice.Project.DeleteProject(ctx, &project.DeleteProjectParams{ProjectNameOrID: "team", XIsResourceName: ptr(true)}))
}
