package api

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/authserver/authserver/internal/admin"
	"github.com/authserver/authserver/internal/store"
)

// Robots, as Harbor's v2 robots: permissions are entries of kind
// "project", each a namespace (a project name, or "*" for every project)
// with repository actions. A project robot (level project) has exactly one,
// its own project; a system robot (level system) one or more, each a
// project or "*", none twice, and entries of kind "system" (namespace "/",
// Harbor's own resources), kept as given and granting nothing.

type robotAccess struct {
	Resource string `json:"resource"`
	Action   string `json:"action"`
	Effect   string `json:"effect,omitempty"`
}

type robotPermission struct {
	Kind      string        `json:"kind"`
	Namespace string        `json:"namespace"`
	Access    []robotAccess `json:"access"`
}

type robotReq struct {
	Name        string            `json:"name"`
	Description string            `json:"description"`
	Secret      string            `json:"secret"`
	Level       string            `json:"level"`
	Disable     bool              `json:"disable"`
	Duration    *int64            `json:"duration"`
	Permissions []robotPermission `json:"permissions"`
	// Federation (an authserver extension) makes, on POST, a federated
	// robot with no secret; on PUT it replaces the robot's policy, and
	// absent it leaves the policy as it is.
	Federation *robotFederation `json:"authserver_federation"`
	// Fields of Robot that clients send back on PUT; ignored.
	ID           int64  `json:"id"`
	Editable     bool   `json:"editable"`
	ExpiresAt    int64  `json:"expires_at"`
	CreationTime string `json:"creation_time"`
	UpdateTime   string `json:"update_time"`
}

type robotResp struct {
	ID           int64             `json:"id"`
	Name         string            `json:"name"`
	Description  string            `json:"description"`
	Level        string            `json:"level"`
	Duration     int64             `json:"duration"`
	Editable     bool              `json:"editable"`
	Disable      bool              `json:"disable"`
	ExpiresAt    int64             `json:"expires_at"`
	Permissions  []robotPermission `json:"permissions"`
	CreationTime string            `json:"creation_time"`
	UpdateTime   string            `json:"update_time"`
	// Federation is the federated robot's trust policy (an authserver
	// extension), omitted when the robot has a secret instead.
	Federation *robotFederation `json:"authserver_federation,omitempty"`
}

// robotFederation is a trust policy on the wire: an issuer of the
// config's federation.issuers and conditions that must all hold
// (docs/FEDERATION.md), the same shape as the CLI's.
type robotFederation = admin.Trust

func toRobot(r admin.Robot) robotResp {
	level := "project"
	if r.Project == store.SystemRobotProject {
		level = "system"
	}
	perms := make([]robotPermission, len(r.Permissions))
	for i, p := range r.Permissions {
		acc := make([]robotAccess, 0, len(p.Actions)+len(p.Other))
		for _, a := range p.Actions {
			acc = append(acc, robotAccess{Resource: "repository", Action: a})
		}
		for _, a := range p.Other {
			acc = append(acc, robotAccess{Resource: a.Resource, Action: a.Action, Effect: a.Effect})
		}
		perms[i] = robotPermission{Kind: "project", Namespace: p.Project, Access: acc}
	}
	if len(r.SystemAccess) > 0 {
		acc := make([]robotAccess, len(r.SystemAccess))
		for i, a := range r.SystemAccess {
			acc[i] = robotAccess{Resource: a.Resource, Action: a.Action, Effect: a.Effect}
		}
		perms = append(perms, robotPermission{Kind: "system", Namespace: "/", Access: acc})
	}
	out := robotResp{ID: r.ID, Name: r.Login, Description: r.Description, Level: level, Editable: true,
		Disable: r.Disabled, Duration: -1, ExpiresAt: -1, Permissions: perms,
		CreationTime: harborTime(r.CreatedAt), UpdateTime: harborTime(r.UpdatedAt), Federation: admin.TrustOf(r)}
	if !r.ExpiresAt.IsZero() {
		out.ExpiresAt = r.ExpiresAt.Unix()
		out.Duration = int64((r.ExpiresAt.Sub(r.CreatedAt) + 24*time.Hour - time.Second) / (24 * time.Hour))
	}
	return out
}

// robotTarget maps the request's level and permissions to a project
// ("*" for a system robot), its permissions and its entries of kind
// system; admin checks the rest (one entry naming its own project for a
// project robot, projects exist, none twice, the caller's own role).
func robotTarget(req robotReq) (string, []store.RobotPermission, []store.RobotAccess, error) {
	if len(req.Permissions) == 0 {
		return "", nil, nil, badf("permissions: want at least one entry")
	}
	var project string
	switch req.Level {
	case "project":
		if len(req.Permissions) != 1 {
			return "", nil, nil, badf("permissions: a project robot has exactly one entry, its project; got %d", len(req.Permissions))
		}
		project = req.Permissions[0].Namespace
		if project == "*" || project == "" {
			return "", nil, nil, badf("permissions[0].namespace: a project robot names its project")
		}
	case "system":
		project = store.SystemRobotProject
	default:
		return "", nil, nil, badf("level %q: want project or system", req.Level)
	}
	var out []store.RobotPermission
	var system []store.RobotAccess
	for i, p := range req.Permissions {
		switch {
		case p.Kind == "system" && req.Level == "system" && p.Namespace == "/":
			for _, a := range p.Access {
				system = append(system, store.RobotAccess{Resource: a.Resource, Action: a.Action, Effect: a.Effect})
			}
			continue
		case p.Kind == "system":
			return "", nil, nil, badf("permissions[%d]: kind \"system\" is a system robot's, with namespace \"/\"", i)
		case p.Kind != "project":
			return "", nil, nil, badf("permissions[%d].kind %q: want \"project\" or \"system\"", i, p.Kind)
		case p.Namespace == "":
			return "", nil, nil, badf("permissions[%d].namespace: want a project name or \"*\"", i)
		}
		// pull, push and delete allowed on repositories are what the
		// token endpoint grants; every other entry (Harbor's artifact,
		// tag, scan, ... resources) is kept as given and grants nothing.
		var actions []string
		var other []store.RobotAccess
		for _, a := range p.Access {
			switch {
			case a.Resource == "repository" && (a.Effect == "" || a.Effect == "allow") &&
				(a.Action == "pull" || a.Action == "push" || a.Action == "delete"):
				if !slices.Contains(actions, a.Action) {
					actions = append(actions, a.Action)
				}
			default:
				other = append(other, store.RobotAccess{Resource: a.Resource, Action: a.Action, Effect: a.Effect})
			}
		}
		if len(actions) == 0 && len(other) == 0 {
			return "", nil, nil, badf("permissions[%d].access: want at least one entry", i)
		}
		out = append(out, store.RobotPermission{Project: p.Namespace, Actions: actions, Other: other})
	}
	return project, out, system, nil
}

// lifetime maps Harbor's duration in days to one: -1 never, 0 the
// default (robots.default_duration; a token's: never).
func lifetime(days int64) (time.Duration, error) {
	switch {
	case days == -1:
		return admin.Never, nil
	case days == 0:
		return 0, nil
	case days < -1 || days > 365*1000:
		return 0, badf("duration %d: want days, or -1 for never", days)
	}
	return time.Duration(days) * 24 * time.Hour, nil
}

func (c *call) createRobot() error {
	var req robotReq
	if err := c.decode(&req); err != nil {
		return err
	}
	project, perms, system, err := robotTarget(req)
	if err != nil {
		return err
	}
	var life time.Duration
	if req.Duration != nil {
		if life, err = lifetime(*req.Duration); err != nil {
			return err
		}
	}
	r, secret, err := c.a.opt.Admin.CreateRobot(c.r.Context(), c.who, admin.NewRobot{Name: req.Name, Project: project,
		Permissions: perms, SystemAccess: system, Description: req.Description, Lifetime: life, Secret: req.Secret, Disabled: req.Disable,
		Trust: req.Federation.Policy()})
	if err != nil {
		return err
	}
	c.w.Header().Set("Location", "/api/v2.0/robots/"+strconv.FormatInt(r.ID, 10))
	rr := toRobot(r)
	out := map[string]any{"id": r.ID, "name": r.Login, "secret": secret,
		"creation_time": harborTime(r.CreatedAt), "expires_at": rr.ExpiresAt}
	if rr.Federation != nil {
		out["authserver_federation"] = rr.Federation
	}
	return c.json(http.StatusCreated, out)
}

// robotKeys are what q and sort name on /robots: Level (project or
// system) and ProjectID choose which robots (and whose right it takes),
// name is with or without the prefix.
func (a *API) robotKeys() listKeys {
	k := a.projectRobotKeys()
	k.q["level"] = qKey{typ: "string"}
	k.q["projectid"] = qKey{typ: "integer"}
	return k
}

// projectRobotKeys are what q and sort name on a project's robots.
func (a *API) projectRobotKeys() listKeys {
	bare := func(v string) (string, error) { return strings.TrimPrefix(v, a.opt.RobotPrefix), nil }
	return listKeys{
		q: map[string]qKey{"name": {field: store.FieldName, typ: "string", conv: bare}, "id": {field: store.FieldID, typ: "integer"}},
		sort: map[string]string{"name": store.FieldName, "id": store.FieldID, "creation_time": store.FieldCreated,
			"update_time": store.FieldUpdated},
	}
}

// listRobots lists the robots q's Level and ProjectID choose: a project's
// (Level=project,ProjectID=N: its projectAdmins), the system robots
// (Level=system), every project robot (Level=project) or every robot
// (sysadmins).
func (c *call) listRobots() error {
	conds, err := c.parseQ()
	if err != nil {
		return err
	}
	var scope admin.RobotScope
	level := ""
	for _, cd := range take(&conds, "level") {
		if cd.match != store.MatchExact || cd.values[0] != "project" && cd.values[0] != "system" {
			return badf("q: Level: want Level=project or Level=system")
		}
		level = cd.values[0]
	}
	for _, cd := range take(&conds, "projectid") {
		id, err := strconv.ParseInt(cd.values[0], 10, 64)
		if cd.match != store.MatchExact || err != nil || id <= 0 {
			return badf("q: ProjectID: want ProjectID=N, a project's id")
		}
		scope.ProjectID = id
	}
	switch {
	case scope.ProjectID != 0 && level == "system":
		return badf("q: a system robot has no ProjectID")
	case level == "system":
		scope.System = true
	case level == "project":
		scope.ProjectsOnly = true
	}
	q, err := c.listQuery(c.a.robotKeys(), conds)
	if err != nil {
		return err
	}
	rs, total, err := c.a.opt.Admin.PageRobots(c.r.Context(), c.who, scope, q)
	if err != nil {
		return err
	}
	return paged(c, q, total, each(rs, toRobot))
}

func (c *call) projectRobots() error {
	p, err := c.project()
	if err != nil {
		return err
	}
	conds, err := c.parseQ()
	if err != nil {
		return err
	}
	q, err := c.listQuery(c.a.projectRobotKeys(), conds)
	if err != nil {
		return err
	}
	rs, total, err := c.a.opt.Admin.PageRobots(c.r.Context(), c.who, admin.RobotScope{ProjectID: p.ID}, q)
	if err != nil {
		return err
	}
	return paged(c, q, total, each(rs, toRobot))
}

func (c *call) robot() (admin.Robot, error) {
	return byID(c, "robot_id", c.a.opt.Admin.GetRobot)
}

func (c *call) getRobot() error { return show(c, c.robot, toRobot) }

func (c *call) updateRobot() error {
	var req robotReq
	r, err := change(c, c.robot, &req)
	if err != nil {
		return err
	}
	if req.Level == "" {
		req.Level = toRobot(r).Level
	}
	project, perms, system, err := robotTarget(req)
	if err != nil {
		return err
	}
	if project != r.Project {
		return badf("permissions: a robot cannot move to another project or level (it is %s robot %q)", toRobot(r).Level, r.Project)
	}
	if req.Name != "" && req.Name != r.Login && req.Name != strings.TrimPrefix(r.Login, c.a.opt.RobotPrefix) {
		return badf("name: robots cannot be renamed")
	}
	ch := admin.RobotChange{Permissions: perms, Description: &req.Description, Disabled: &req.Disable,
		Trust: req.Federation.Policy()}
	if project == store.SystemRobotProject { // PUT replaces the whole list, its kind system entries too
		ch.SystemAccess = &system
	}
	if req.Duration != nil && *req.Duration != toRobot(r).Duration {
		life, err := lifetime(*req.Duration)
		if err != nil {
			return err
		}
		ch.Lifetime = &life
	}
	_, err = c.a.opt.Admin.UpdateRobot(c.r.Context(), c.who, r.ID, ch)
	return c.done(err)
}

func (c *call) refreshRobot() error {
	var req struct {
		Secret string `json:"secret"`
	}
	r, err := change(c, c.robot, &req)
	if err != nil {
		return err
	}
	_, secret, err := c.a.opt.Admin.SetRobotSecret(c.r.Context(), c.who, r.ID, req.Secret)
	if err != nil {
		return err
	}
	return c.ok(map[string]string{"secret": secret})
}

func (c *call) deleteRobot() error {
	return act(c, c.robot, func(r admin.Robot) error {
		_, err := c.a.opt.Admin.DeleteRobot(c.r.Context(), c.who, r.ID)
		return err
	})
}
