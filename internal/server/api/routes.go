package api

import "net/http"

// Path prefixes under /api.
const (
	harborPrefix = "/v2.0"
	extPrefix    = "/authserver/v1"
)

// routes is every endpoint: the router and the OpenAPI document are both
// built from it.
func (a *API) routes() []route {
	h, x := harborPrefix, extPrefix
	const pid = "/projects/{project_name_or_id}"
	type fn = func(*call) error
	r := func(method, path, summary string, f fn) route {
		return route{method: method, path: path, summary: summary, fn: f}
	}
	anon := func(rt route) route { rt.anonymous = true; return rt }
	schema := func(body, result string, rt route) route { rt.body, rt.result = body, result; return rt }
	return []route{
		anon(r(http.MethodGet, h+"/ping", "Liveness: the text Pong", (*call).ping)),
		anon(r(http.MethodGet, h+"/systeminfo", "Harbor system information", (*call).systeminfo)),
		anon(r(http.MethodGet, h+"/health", "Health", (*call).health)),
		r(http.MethodGet, h+"/configurations", "Configuration items automation reads (sysadmin)", (*call).configurations),

		r(http.MethodPost, h+"/users", "Create a local user (sysadmin)", (*call).createUser),
		r(http.MethodGet, h+"/users", "List users (sysadmin)", (*call).listUsers),
		r(http.MethodGet, h+"/users/search", "Search users by name", (*call).searchUsers),
		r(http.MethodGet, h+"/users/current", "The caller", (*call).currentUser),
		r(http.MethodGet, h+"/users/{user_id}", "One user (sysadmin, or oneself)", (*call).getUser),
		r(http.MethodPut, h+"/users/{user_id}", "Change email and real name", (*call).updateUser),
		r(http.MethodDelete, h+"/users/{user_id}", "Delete a user (sysadmin)", (*call).deleteUser),
		r(http.MethodPut, h+"/users/{user_id}/sysadmin", "Grant or revoke sysadmin (sysadmin)", (*call).setSysadmin),
		r(http.MethodPut, h+"/users/{user_id}/password", "Change a local user's password", (*call).setPassword),

		r(http.MethodPost, h+"/usergroups", "Create a group (sysadmin)", (*call).createGroup),
		r(http.MethodGet, h+"/usergroups", "List groups (sysadmin)", (*call).listGroups),
		r(http.MethodGet, h+"/usergroups/{group_id}", "One group (sysadmin)", (*call).getGroup),
		r(http.MethodPut, h+"/usergroups/{group_id}", "Update a group (sysadmin; no renames)", (*call).updateGroup),
		r(http.MethodDelete, h+"/usergroups/{group_id}", "Delete a group (sysadmin)", (*call).deleteGroup),

		r(http.MethodPost, h+"/projects", "Create a project", (*call).createProject),
		anon(r(http.MethodGet, h+"/projects", "List the projects the caller may see", (*call).listProjects)),
		anon(r(http.MethodHead, h+"/projects", "Does project_name exist (for the caller)", (*call).headProject)),
		anon(r(http.MethodGet, h+pid, "One project", (*call).getProject)),
		r(http.MethodPut, h+pid, "Change a project's metadata (projectAdmin)", (*call).updateProject),
		r(http.MethodDelete, h+pid, "Delete a project (projectAdmin)", (*call).deleteProject),
		r(http.MethodGet, h+pid+"/members", "List members", (*call).listMembers),
		r(http.MethodPost, h+pid+"/members", "Add a member (projectAdmin)", (*call).addMember),
		r(http.MethodGet, h+pid+"/members/{mid}", "One member", (*call).getMember),
		r(http.MethodPut, h+pid+"/members/{mid}", "Change a member's role (projectAdmin)", (*call).updateMember),
		r(http.MethodDelete, h+pid+"/members/{mid}", "Remove a member (projectAdmin)", (*call).deleteMember),
		schema("", "RobotList", r(http.MethodGet, h+pid+"/robots", "List a project's robots (projectAdmin)", (*call).projectRobots)),
		r(http.MethodGet, h+"/projects/{project_name}/repositories", "A project's repositories, from the registry's catalog (registry.url; else none)", (*call).listRepositories),
		r(http.MethodDelete, h+"/projects/{project_name}/repositories/{repository_name}", "Delete a repository's manifests through the registry (registry.url)", (*call).deleteRepository),

		schema("RobotCreate", "RobotCreated", r(http.MethodPost, h+"/robots", "Create a robot (authserver_federation: a federated robot, no secret)", (*call).createRobot)),
		schema("", "RobotList", r(http.MethodGet, h+"/robots", "List robots (q=Level=project,ProjectID=N)", (*call).listRobots)),
		schema("", "Robot", r(http.MethodGet, h+"/robots/{robot_id}", "One robot", (*call).getRobot)),
		schema("RobotCreate", "", r(http.MethodPut, h+"/robots/{robot_id}", "Update a robot (authserver_federation replaces a federated robot's policy)", (*call).updateRobot)),
		schema("RobotSecret", "RobotSecret", r(http.MethodPatch, h+"/robots/{robot_id}", "Refresh or set a robot's secret (400 for a federated robot)", (*call).refreshRobot)),
		r(http.MethodDelete, h+"/robots/{robot_id}", "Delete a robot", (*call).deleteRobot),

		r(http.MethodGet, x+"/users/current/tokens", "The caller's personal access tokens", (*call).listPATs),
		r(http.MethodPost, x+"/users/current/tokens", "Create a personal access token", (*call).createPAT),
		r(http.MethodDelete, x+"/users/current/tokens/{name}", "Revoke a personal access token", (*call).revokePAT),
		r(http.MethodGet, x+"/users/current/refresh_tokens", "The caller's refresh tokens", (*call).listRefreshTokens),
		r(http.MethodDelete, x+"/users/current/refresh_tokens/{id}", "Revoke a refresh token", (*call).revokeRefreshToken),
		r(http.MethodGet, x+"/audit", "The audit trail (sysadmin)", (*call).audit),
		r(http.MethodPost, x+"/explain", "What a user, robot or anonymous would be granted (sysadmin)", (*call).explain),
		anon(r(http.MethodGet, "/openapi.json", "This document", (*call).openapi)),
	}
}
