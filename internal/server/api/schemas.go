package api

import (
	"reflect"
	"strings"

	"github.com/authserver/authserver/internal/admin"
)

// schemas are the OpenAPI components the document describes bodies with;
// a route names its request and response schema (route.body, route.result).
// Each object lists every field the API reads or writes and no other
// (additionalProperties: false): a request field the API does not take is
// 400, and the API test suite checks every request and response against
// them (openapi_test.go).
// typeSchema is the strict object schema of a struct type of JSON fields
// (strings, booleans, integers, slices and structs of them): the policy
// document's, so it never drifts from the type the API decodes into.
func typeSchema(t reflect.Type) map[string]any {
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int64:
		return map[string]any{"type": "integer", "format": "int64"}
	case reflect.Slice:
		return map[string]any{"type": "array", "items": typeSchema(t.Elem())}
	case reflect.Struct:
		props := map[string]any{}
		for i := range t.NumField() {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			props[name] = typeSchema(t.Field(i).Type)
		}
		return map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	}
	panic("typeSchema: unsupported type " + t.String())
}

func schemas() map[string]any {
	obj := func(props map[string]any, required ...string) map[string]any {
		s := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
		if len(required) > 0 {
			s["required"] = required
		}
		return s
	}
	str := map[string]any{"type": "string"}
	integer := map[string]any{"type": "integer", "format": "int64"}
	boolean := map[string]any{"type": "boolean"}
	when := map[string]any{"type": "string", "format": "date-time"}
	strs := map[string]any{"type": "array", "items": str}
	desc := func(s map[string]any, d string) map[string]any {
		out := map[string]any{"description": d}
		for k, v := range s {
			out[k] = v
		}
		return out
	}
	ref := func(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }
	arrayOf := func(item any) map[string]any { return map[string]any{"type": "array", "items": item} }
	permissions := arrayOf(ref("RobotPermission"))
	// userBody is every field of Harbor's user schemas, taken by every
	// user endpoint (each reads its own and ignores the rest, as Harbor).
	userBody := obj(map[string]any{
		"username": str, "email": str, "realname": str, "comment": str, "password": str, "new_password": str,
		"old_password": str, "sysadmin_flag": boolean, "user_id": integer, "admin_role_in_auth": boolean,
		"oidc_user_meta": map[string]any{"type": "object", "description": "ignored"}, "creation_time": str, "update_time": str,
	})
	group := obj(map[string]any{"id": integer, "group_name": str, "ldap_group_dn": str,
		"group_type": desc(integer, "1 LDAP (ldap_group_dn set), 3 OIDC (from the groups claim at SSO sign-in), 0 a local group of authserver's")})
	robotReq := obj(map[string]any{
		"name": str, "description": str, "secret": str, "disable": boolean, "permissions": permissions,
		"level":                 map[string]any{"type": "string", "enum": []string{"project", "system"}},
		"duration":              desc(integer, "days; -1 never; absent or 0 robots.default_duration"),
		"authserver_federation": ref("RobotFederation"),
		"id":                    desc(integer, "ignored (PUT sends the robot back)"), "editable": desc(boolean, "ignored"),
		"expires_at": desc(integer, "ignored"), "creation_time": desc(str, "ignored"), "update_time": desc(str, "ignored"),
	})
	return map[string]any{
		"Errors": obj(map[string]any{"errors": arrayOf(obj(map[string]any{"code": str, "message": str}, "code", "message"))}, "errors"),

		"SystemInfo": obj(map[string]any{"auth_mode": str, "primary_auth_mode": boolean, "harbor_version": str,
			"registry_url": desc(str, "registry.url, else authserver's own URL"), "external_url": str, "self_registration": boolean,
			"read_only": boolean, "with_chartmuseum": boolean, "has_ca_root": boolean, "project_creation_restriction": str}),
		"Health":     obj(map[string]any{"status": str, "components": arrayOf(map[string]any{"type": "object"})}),
		"ConfigItem": obj(map[string]any{"value": map[string]any{"description": "a string or a boolean"}, "editable": boolean}),
		"Configurations": obj(map[string]any{"auth_mode": ref("ConfigItem"), "robot_name_prefix": ref("ConfigItem"),
			"project_creation_restriction": ref("ConfigItem"), "self_registration": ref("ConfigItem"), "read_only": ref("ConfigItem")}),

		"UserCreationReq":  userBody,
		"UserProfile":      userBody,
		"UserSysAdminFlag": userBody,
		"PasswordReq":      userBody,
		"UserResp": obj(map[string]any{"user_id": integer, "username": str, "email": str, "realname": str, "comment": str,
			"sysadmin_flag": boolean, "admin_role_in_auth": boolean, "creation_time": when, "update_time": when,
			"directory_id": desc(str, "authserver extension: an LDAP user's directory entry identifier (objectGUID as Active Directory "+
				"writes a GUID), on reads of one user")}),
		"UserList":       arrayOf(ref("UserResp")),
		"UserSearchList": arrayOf(obj(map[string]any{"user_id": integer, "username": str})),
		"UserGroup":      group,
		"UserGroupList":  arrayOf(ref("UserGroup")),

		"ProjectReq": obj(map[string]any{
			"project_name": str, "public": boolean,
			"metadata": desc(map[string]any{"type": "object", "additionalProperties": str},
				"Harbor's project metadata, strings kept as given; only public means anything here, and authserver's "+
					"visibility (private, internal or public; internal: any authenticated user pulls)"),
			"storage_limit": desc(integer, "ignored"), "registry_id": desc(integer, "absent or 0 (no proxy cache)"),
			"cve_allowlist": desc(obj(map[string]any{"id": integer, "project_id": integer,
				"expires_at": map[string]any{"type": "integer", "format": "int64", "nullable": true},
				"items":      arrayOf(obj(map[string]any{"cve_id": str})), "creation_time": str, "update_time": str}), "ignored"),
		}),
		"Project": obj(map[string]any{"project_id": integer, "name": str, "owner_id": integer, "owner_name": str,
			"registry_id": integer, "creation_time": when, "update_time": when, "deleted": boolean, "repo_count": integer,
			"current_user_role_id": integer, "current_user_role_ids": arrayOf(integer),
			"metadata": map[string]any{"type": "object", "additionalProperties": str}}),
		"ProjectList": arrayOf(ref("Project")),
		"ProjectMember": obj(map[string]any{
			"role_id":      desc(integer, "1 projectAdmin, 2 developer, 3 guest, 4 maintainer, 5 limitedGuest"),
			"member_user":  desc(obj(map[string]any{"user_id": integer, "username": str}), "{} means absent"),
			"member_group": desc(obj(map[string]any{"id": integer, "group_name": str, "group_type": integer, "ldap_group_dn": str}), "{} means absent"),
		}),
		"ProjectMemberEntity": obj(map[string]any{"id": integer, "project_id": integer, "entity_name": str,
			"entity_type": map[string]any{"type": "string", "enum": []string{"u", "g"}}, "entity_id": integer, "role_id": integer, "role_name": str}),
		"ProjectMemberList": arrayOf(ref("ProjectMemberEntity")),
		"Repository": obj(map[string]any{"id": integer, "project_id": integer, "name": str, "description": str,
			"artifact_count": integer, "pull_count": integer, "creation_time": when, "update_time": when}),
		"RepositoryList": arrayOf(ref("Repository")),

		"ClaimCondition": obj(map[string]any{
			"claim": map[string]any{"type": "string", "description": "a top-level claim name, or a JSON pointer (/kubernetes.io/namespace); " +
				"never iss, aud, exp, iat or nbf (the verifier checks them)"},
			"pattern": map[string]any{"type": "string", "description": "the exact value, or a glob where * matches any run of characters"},
		}, "claim", "pattern"),
		"RobotFederation": map[string]any{
			"type":                 "object",
			"additionalProperties": false,
			"description": "authserver extension: a federated robot's trust policy (docs/FEDERATION.md); such a robot has no secret. " +
				"A condition on sub or on one of the issuer's identity claims, with a pattern that starts with a literal, must pin the workload",
			"properties": map[string]any{
				"issuer":     map[string]any{"type": "string", "description": "the name of an issuer in federation.issuers"},
				"conditions": arrayOf(ref("ClaimCondition")),
				"refused": map[string]any{"type": "string", "readOnly": true, "description": "why every login of the robot is refused " +
					"whatever the JWT: its policy does not pin the workload's identity (stored before that rule), or its issuer is no " +
					"longer configured; absent when a JWT may pass"},
			},
			"required": []string{"issuer", "conditions"},
		},
		"RobotAccess": obj(map[string]any{"resource": str, "action": str, "effect": str}, "resource", "action"),
		"RobotPermission": obj(map[string]any{
			"kind":      map[string]any{"type": "string", "enum": []string{"project", "system"}},
			"namespace": desc(str, "a project name, or * for every project"), "access": arrayOf(ref("RobotAccess"))},
			"kind", "namespace", "access"),
		"RobotCreate": robotReq,
		"RobotCreated": obj(map[string]any{
			"id": integer, "name": str, "secret": str, "creation_time": when, "expires_at": integer,
			"authserver_federation": ref("RobotFederation"),
		}),
		"Robot": obj(map[string]any{
			"id": integer, "name": str, "description": str, "level": str, "duration": integer, "editable": boolean,
			"disable": boolean, "expires_at": integer, "permissions": permissions, "creation_time": when, "update_time": when,
			"authserver_federation": ref("RobotFederation"),
		}),
		"RobotList":   arrayOf(ref("Robot")),
		"RobotSecret": obj(map[string]any{"secret": str}),

		"PATCreate": obj(map[string]any{"name": str, "duration_days": desc(integer, "-1 or 0 never"),
			"allow_from": desc(strs, "CIDRs its logins may come from; none: anywhere")}),
		"PATCreated": obj(map[string]any{"id": integer, "name": str, "secret": str}),
		"PAT": obj(map[string]any{"id": integer, "name": str, "created_at": when, "expires_at": when, "last_used_at": when,
			"allow_from": strs}),
		"PATList": arrayOf(ref("PAT")),
		"RefreshToken": obj(map[string]any{"id": integer, "service": str, "client_id": str, "created_at": when,
			"last_used_at": when}),
		"RefreshTokenList": arrayOf(ref("RefreshToken")),
		"AuditRecord": obj(map[string]any{"id": integer, "time": when, "kind": str, "subject": str, "method": str,
			"result": str, "endpoint": str, "client_ip": str, "user_agent": str, "service": str, "client_id": str,
			"action": str, "target": str, "requested": strs, "granted": strs, "jti": str,
			"federated_issuer": str, "federated_subject": str, "request_id": str, "reason": str}),
		"AuditList": arrayOf(ref("AuditRecord")),
		"ExplainReq": obj(map[string]any{"user": str, "robot": str, "anonymous": boolean, "scopes": strs,
			"from": desc(str, "judge the login as coming from this client address")}),
		"RuleCreate": obj(map[string]any{
			"repos":   desc(str, "pattern over the repository path inside the project: '*' within a component, '**' any depth"),
			"subject": desc(str, "user, group, robot or authenticated"), "name": desc(str, "the user, group or robot; none for authenticated"),
			"actions": strs, "effect": desc(str, "allow (default) or deny")}, "repos", "subject", "actions"),
		"Rule": obj(map[string]any{"id": integer, "project": str, "repos": str, "subject": str, "name": str, "actions": strs,
			"effect": str, "creation_time": when}),
		"RuleList": arrayOf(ref("Rule")),
		"RobotPolicy": obj(map[string]any{"repos": desc(strs, "repository patterns of a project robot; none: every repository"),
			"allow_from":     desc(strs, "CIDRs its logins may come from; none: anywhere"),
			"token_lifetime": desc(integer, "seconds; 0: the configured lifetime")}),
		"AllowFrom": obj(map[string]any{"allow_from": desc(strs, "CIDRs; none: anywhere")}),
		"PolicyDocument": desc(typeSchema(reflect.TypeFor[admin.PolicyDocument]()),
			"A policy document (docs/POLICY.md, docs/policy.schema.json), as JSON"),
		"ApplyResult": obj(map[string]any{
			"changes": arrayOf(obj(map[string]any{"op": desc(str, "created, changed or removed"), "what": str})),
			"secrets": desc(arrayOf(obj(map[string]any{"name": str, "secret": str})), "of the robots created: shown this once")}),
		"Explanation": obj(map[string]any{"subject": str, "notes": strs, "decisions": arrayOf(obj(map[string]any{
			"scope": str, "granted": strs, "reasons": strs}))}),
	}
}
