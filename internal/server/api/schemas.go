package api

// schemas are the OpenAPI components the document describes bodies with;
// a route names its request and response schema (route.body, route.result).
// TestOpenAPI checks each robot schema against what the API sends.
func schemas() map[string]any {
	obj := func(props map[string]any, required ...string) map[string]any {
		s := map[string]any{"type": "object", "properties": props}
		if len(required) > 0 {
			s["required"] = required
		}
		return s
	}
	str := map[string]any{"type": "string"}
	integer := map[string]any{"type": "integer", "format": "int64"}
	boolean := map[string]any{"type": "boolean"}
	ref := func(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }
	arrayOf := func(item any) map[string]any { return map[string]any{"type": "array", "items": item} }
	permissions := arrayOf(ref("RobotPermission"))
	return map[string]any{
		"ClaimCondition": obj(map[string]any{
			"claim": map[string]any{"type": "string", "description": "a top-level claim name, or a JSON pointer (/kubernetes.io/namespace); " +
				"never iss, aud, exp, iat or nbf (the verifier checks them)"},
			"pattern": map[string]any{"type": "string", "description": "the exact value, or a glob where * matches any run of characters"},
		}, "claim", "pattern"),
		"RobotFederation": map[string]any{
			"type": "object",
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
		"RobotPermission": obj(map[string]any{"kind": str, "namespace": str, "access": arrayOf(ref("RobotAccess"))},
			"kind", "namespace", "access"),
		"RobotCreate": obj(map[string]any{
			"name": str, "description": str, "secret": str, "level": str, "disable": boolean, "duration": integer,
			"permissions": permissions, "authserver_federation": ref("RobotFederation"),
		}, "level", "permissions"),
		"RobotCreated": obj(map[string]any{
			"id": integer, "name": str, "secret": str, "creation_time": str, "expires_at": integer,
			"authserver_federation": ref("RobotFederation"),
		}),
		"Robot": obj(map[string]any{
			"id": integer, "name": str, "description": str, "level": str, "duration": integer, "editable": boolean,
			"disable": boolean, "expires_at": integer, "permissions": permissions, "creation_time": str, "update_time": str,
			"authserver_federation": ref("RobotFederation"),
		}),
		"RobotList":   arrayOf(ref("Robot")),
		"RobotSecret": obj(map[string]any{"secret": str}),
	}
}
