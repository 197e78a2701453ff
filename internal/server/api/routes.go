package api

import "net/http"

// Path prefixes under /api.
const (
	harborPrefix = "/v2.0"
	extPrefix    = "/authserver/v1"
)

// routes is every endpoint: the router and the OpenAPI document are both
// built from it. Each names the query parameters it takes (any other is
// 400) and the schemas of its request body and 2XX response (schemas.go).
func (a *API) routes() []route {
	h, x := harborPrefix, extPrefix
	const pid = "/projects/{project_name_or_id}"
	type fn = func(*call) error
	r := func(method, path, summary string, f fn) route {
		return route{method: method, path: path, summary: summary, fn: f}
	}
	anon := func(rt route) route { rt.anonymous = true; return rt }
	schema := func(body, result string, rt route) route { rt.body, rt.result = body, result; return rt }
	takes := func(query []param, rt route) route { rt.query = query; return rt }
	str := func(name, desc string) param { return param{name: name, typ: "string", desc: desc} }
	users, projects, robots, projectRobots, repositories := a.userKeys(), projectKeys(), a.robotKeys(), a.projectRobotKeys(), repositoryKeys()
	return []route{
		anon(r(http.MethodGet, h+"/ping", "Liveness: the text Pong", (*call).ping)),
		anon(schema("", "SystemInfo", r(http.MethodGet, h+"/systeminfo", "Harbor system information", (*call).systeminfo))),
		anon(schema("", "Health", r(http.MethodGet, h+"/health", "Health", (*call).health))),
		schema("", "Configurations", r(http.MethodGet, h+"/configurations", "Configuration items automation reads (sysadmin)", (*call).configurations)),

		schema("UserCreationReq", "", r(http.MethodPost, h+"/users", "Create a local user (sysadmin)", (*call).createUser)),
		takes(listParams(users, str("username", "users whose name contains this, in any case"),
			str("email", "users whose email contains this, in any case")),
			schema("", "UserList", r(http.MethodGet, h+"/users", "List users (sysadmin)", (*call).listUsers))),
		takes(append([]param{{name: "username", typ: "string", desc: "part of the name", required: true}}, pageParams...),
			schema("", "UserSearchList", r(http.MethodGet, h+"/users/search", "Search users by name", (*call).searchUsers))),
		schema("", "UserResp", r(http.MethodGet, h+"/users/current", "The caller", (*call).currentUser)),
		schema("", "UserResp", r(http.MethodGet, h+"/users/{user_id}", "One user (sysadmin, or oneself)", (*call).getUser)),
		schema("UserProfile", "", r(http.MethodPut, h+"/users/{user_id}", "Change email, real name and comment", (*call).updateUser)),
		r(http.MethodDelete, h+"/users/{user_id}", "Delete a user (sysadmin)", (*call).deleteUser),
		schema("UserSysAdminFlag", "", r(http.MethodPut, h+"/users/{user_id}/sysadmin", "Grant or revoke sysadmin (sysadmin)", (*call).setSysadmin)),
		schema("PasswordReq", "", r(http.MethodPut, h+"/users/{user_id}/password", "Change a local user's password", (*call).setPassword)),

		schema("UserGroup", "", r(http.MethodPost, h+"/usergroups", "Create a group (sysadmin)", (*call).createGroup)),
		takes(append(pageParams[:2:2], str("group_name", "groups whose name contains this, in any case"),
			str("ldap_group_dn", "the group with this DN (in any case)")),
			schema("", "UserGroupList", r(http.MethodGet, h+"/usergroups", "List groups (sysadmin)", (*call).listGroups))),
		schema("", "UserGroup", r(http.MethodGet, h+"/usergroups/{group_id}", "One group (sysadmin; anyone for a group in a project they can read)", (*call).getGroup)),
		schema("UserGroup", "", r(http.MethodPut, h+"/usergroups/{group_id}", "Update a group (sysadmin; no renames)", (*call).updateGroup)),
		r(http.MethodDelete, h+"/usergroups/{group_id}", "Delete a group (sysadmin)", (*call).deleteGroup),

		schema("ProjectReq", "", r(http.MethodPost, h+"/projects", "Create a project", (*call).createProject)),
		anon(takes(listParams(projects, str("name", "projects whose name contains this, in any case"),
			param{name: "public", typ: "boolean", desc: "public or private projects only"},
			str("owner", "projects this user created"), param{name: "with_detail", typ: "boolean", desc: "ignored: details are always given"}),
			schema("", "ProjectList", r(http.MethodGet, h+"/projects", "List the projects the caller may see", (*call).listProjects)))),
		anon(takes([]param{{name: "project_name", typ: "string", desc: "the name", required: true}},
			r(http.MethodHead, h+"/projects", "Does project_name exist (for the caller)", (*call).headProject))),
		anon(schema("", "Project", r(http.MethodGet, h+pid, "One project", (*call).getProject))),
		schema("ProjectReq", "", r(http.MethodPut, h+pid, "Change a project's metadata (projectAdmin)", (*call).updateProject)),
		r(http.MethodDelete, h+pid, "Delete a project (projectAdmin; 412 while the registry holds repositories under it)", (*call).deleteProject),
		takes(append(pageParams[:2:2], str("entityname", "members whose name contains this, in any case")),
			schema("", "ProjectMemberList", r(http.MethodGet, h+pid+"/members", "List members", (*call).listMembers))),
		schema("ProjectMember", "", r(http.MethodPost, h+pid+"/members", "Add a member (projectAdmin)", (*call).addMember)),
		schema("", "ProjectMemberEntity", r(http.MethodGet, h+pid+"/members/{mid}", "One member", (*call).getMember)),
		schema("ProjectMember", "", r(http.MethodPut, h+pid+"/members/{mid}", "Change a member's role (projectAdmin)", (*call).updateMember)),
		r(http.MethodDelete, h+pid+"/members/{mid}", "Remove a member (projectAdmin)", (*call).deleteMember),
		takes(listParams(projectRobots), schema("", "RobotList", r(http.MethodGet, h+pid+"/robots", "List a project's robots (projectAdmin)", (*call).projectRobots))),
		takes(listParams(repositories), schema("", "RepositoryList", r(http.MethodGet, h+"/projects/{project_name}/repositories",
			"A project's repositories, from the registry's catalog (registry.url; else none)", (*call).listRepositories))),
		r(http.MethodDelete, h+"/projects/{project_name}/repositories/{repository_name}",
			"Delete a repository's manifests through the registry (registry.url; its storage.delete.enabled)", (*call).deleteRepository),

		schema("RobotCreate", "RobotCreated", r(http.MethodPost, h+"/robots", "Create a robot (authserver_federation: a federated robot, no secret)", (*call).createRobot)),
		takes(listParams(robots), schema("", "RobotList", r(http.MethodGet, h+"/robots", "List robots (q=Level=project,ProjectID=N)", (*call).listRobots))),
		schema("", "Robot", r(http.MethodGet, h+"/robots/{robot_id}", "One robot", (*call).getRobot)),
		schema("RobotCreate", "", r(http.MethodPut, h+"/robots/{robot_id}", "Update a robot (authserver_federation replaces a federated robot's policy)", (*call).updateRobot)),
		schema("RobotSecret", "RobotSecret", r(http.MethodPatch, h+"/robots/{robot_id}", "Refresh or set a robot's secret (400 for a federated robot)", (*call).refreshRobot)),
		r(http.MethodDelete, h+"/robots/{robot_id}", "Delete a robot", (*call).deleteRobot),

		schema("", "PATList", r(http.MethodGet, x+"/users/current/tokens", "The caller's personal access tokens", (*call).listPATs)),
		schema("PATCreate", "PATCreated", r(http.MethodPost, x+"/users/current/tokens", "Create a personal access token", (*call).createPAT)),
		r(http.MethodDelete, x+"/users/current/tokens/{name}", "Revoke a personal access token", (*call).revokePAT),
		schema("", "RefreshTokenList", r(http.MethodGet, x+"/users/current/refresh_tokens", "The caller's refresh tokens", (*call).listRefreshTokens)),
		r(http.MethodDelete, x+"/users/current/refresh_tokens/{id}", "Revoke a refresh token", (*call).revokeRefreshToken),
		takes(auditParams, schema("", "AuditList", r(http.MethodGet, x+"/audit", "The audit trail (sysadmin)", (*call).audit))),
		schema("ExplainReq", "Explanation", r(http.MethodPost, x+"/explain", "What a user, robot or anonymous would be granted (sysadmin)", (*call).explain)),
		schema("", "RuleList", r(http.MethodGet, x+pid+"/rules", "A project's repository rules", (*call).listRules)),
		schema("RuleCreate", "Rule", r(http.MethodPost, x+pid+"/rules", "Add a repository rule (projectAdmin)", (*call).addRule)),
		r(http.MethodDelete, x+pid+"/rules/{rule_id}", "Remove a repository rule (projectAdmin)", (*call).removeRule),
		schema("", "RobotPolicy", r(http.MethodGet, x+"/robots/{robot_id}/policy", "A robot's repository patterns, networks and token lifetime", (*call).getRobotPolicy)),
		schema("RobotPolicy", "RobotPolicy", r(http.MethodPut, x+"/robots/{robot_id}/policy", "Replace a robot's repository patterns, networks and token lifetime", (*call).setRobotPolicy)),
		schema("AllowFrom", "AllowFrom", r(http.MethodPut, x+"/users/{user_id}/allow_from", "Set the networks a user may log in from (sysadmin)", (*call).setUserAllowFrom)),
		takes([]param{{name: "dry_run", typ: "boolean", desc: "work out the differences, change nothing"},
			{name: "prune", typ: "boolean", desc: "also remove what the document does not name"}},
			schema("PolicyDocument", "ApplyResult", r(http.MethodPost, x+"/apply",
				"Make groups and projects match a policy document in one transaction (sysadmin; docs/POLICY.md)", (*call).applyPolicy))),
		schema("", "PolicyDocument", r(http.MethodGet, x+"/export", "Today's groups and projects as a policy document, no secret (sysadmin)", (*call).exportPolicy)),
		anon(r(http.MethodGet, "/openapi.json", "This document", (*call).openapi)),
	}
}

// auditParams are the audit trail's filters and paging.
var auditParams = []param{
	{name: "kind", typ: "string", desc: "token or admin"},
	{name: "user", typ: "string", desc: "the subject"},
	{name: "since", typ: "string", desc: "a duration back from now: 90s, 30m, 12h, 7d"},
	{name: "result", typ: "string", desc: "issued, unauthorized, throttled or done"},
	{name: "jti", typ: "string", desc: "an issued token's id (its jti claim)"},
	{name: "limit", typ: "integer", desc: "records a page, 1 to 10000 (default 100): page_size by its older name"},
	{name: "page", typ: "integer", desc: "the page, from 1"},
	{name: "page_size", typ: "integer", desc: "records a page, 1 to 10000 (default 100)"},
}
