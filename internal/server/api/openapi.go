package api

import (
	"regexp"
	"strings"
)

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// OpenAPI returns the OpenAPI 3 document of every route, relative to /api.
func (a *API) OpenAPI() map[string]any {
	paths := map[string]any{}
	for _, rt := range a.routes() {
		p := "/api" + rt.path
		item, _ := paths[p].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[p] = item
		}
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(rt.path, -1) {
			typ := "integer"
			if m[1] == "project_name_or_id" || m[1] == "name" {
				typ = "string"
			}
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": typ}})
		}
		op := map[string]any{"summary": rt.summary, "responses": map[string]any{
			"default": map[string]any{"description": "errors: {\"errors\":[{\"code\",\"message\"}]}"},
			"2XX":     map[string]any{"description": "success"},
		}}
		if rt.result != "" {
			op["responses"].(map[string]any)["2XX"] = map[string]any{"description": "success",
				"content": jsonBody(rt.result)}
		}
		if rt.body != "" {
			op["requestBody"] = map[string]any{"required": true, "content": jsonBody(rt.body)}
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if rt.anonymous {
			op["security"] = []any{map[string]any{}, map[string]any{"basic": []any{}}}
		}
		item[strings.ToLower(rt.method)] = op
	}
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{"title": "authserver admin API", "version": a.opt.Version,
			"description": "The access-related part of Harbor's v2.0 API, and authserver's extensions under /api/authserver/v1."},
		"components": map[string]any{"securitySchemes": map[string]any{"basic": map[string]any{"type": "http", "scheme": "basic"}},
			"schemas": schemas()},
		"security": []any{map[string]any{"basic": []any{}}},
		"paths":    paths,
	}
}

// jsonBody is an OpenAPI content map of a JSON body with schema name.
func jsonBody(name string) map[string]any {
	return map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/" + name}}}
}

func (c *call) openapi() error { return c.ok(c.a.OpenAPI()) }
