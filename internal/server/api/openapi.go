package api

import (
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// pathParamTypes are the path parameters that are not integers.
var pathParamTypes = map[string]string{"project_name_or_id": "string", "project_name": "string", "repository_name": "string", "name": "string"}

// OpenAPI returns the OpenAPI 3 document of every route, relative to /api:
// each operation's path, query and header parameters, request body, the
// response of its success status and the error body of every other
// (schemas.go), all from the route table.
func (a *API) OpenAPI() map[string]any {
	paths := map[string]any{}
	for _, rt := range a.routes() {
		p := "/api" + rt.path
		item, _ := paths[p].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[p] = item
		}
		params := []any{}
		for _, m := range pathParam.FindAllStringSubmatch(rt.path, -1) {
			typ := "integer"
			if t, ok := pathParamTypes[m[1]]; ok {
				typ = t
			}
			s := map[string]any{"type": typ}
			if typ == "integer" {
				s["format"], s["minimum"] = "int64", 1
			}
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": s})
		}
		if strings.Contains(rt.path, "{project_name_or_id}") {
			params = append(params, map[string]any{"name": "X-Is-Resource-Name", "in": "header", "schema": map[string]any{"type": "boolean"},
				"description": "true: project_name_or_id is a name (else a number is an id)"})
		}
		for _, q := range rt.query {
			s := map[string]any{"type": q.typ}
			switch q.name {
			case "page":
				s["minimum"] = 1
			case "page_size", "limit":
				s["minimum"], s["maximum"] = 1, 100
				if strings.HasSuffix(rt.path, "/audit") {
					s["maximum"] = 10000
				}
			}
			params = append(params, map[string]any{"name": q.name, "in": "query", "required": q.required, "schema": s,
				"description": q.desc})
		}
		status := rt.success()
		ok := map[string]any{"description": http.StatusText(status)}
		if rt.result != "" {
			ok["content"] = jsonBody(rt.result)
		}
		switch {
		case status == http.StatusCreated:
			ok["headers"] = map[string]any{"Location": map[string]any{"description": "the new resource's path",
				"required": true, "schema": map[string]any{"type": "string"}}}
		case slices.ContainsFunc(rt.query, func(p param) bool { return p.name == "page" }):
			ok["headers"] = map[string]any{
				"X-Total-Count": map[string]any{"description": "the rows the filters keep, on every page", "required": true,
					"schema": map[string]any{"type": "integer"}},
				"Link": map[string]any{"description": `the previous and next pages: <url>; rel="prev", <url>; rel="next"`,
					"schema": map[string]any{"type": "string"}}}
		}
		if rt.path == "/openapi.json" {
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "object"}}}
		}
		if rt.path == harborPrefix+"/ping" {
			ok["content"] = map[string]any{"text/plain": map[string]any{"schema": map[string]any{"type": "string"}}}
		}
		responses := map[string]any{strconv.Itoa(status): ok,
			"default": map[string]any{"description": "an error: 400, 401, 403, 404, 409, 412, 413, 415, 429 or 503", "content": jsonBody("Errors")}}
		if rt.method == http.MethodHead {
			responses["404"] = map[string]any{"description": "no such project (for the caller)"}
		}
		op := map[string]any{"summary": rt.summary, "operationId": operationID(rt), "parameters": params, "responses": responses}
		if rt.body != "" {
			op["requestBody"] = map[string]any{"required": true, "content": jsonBody(rt.body)}
		}
		if rt.anonymous {
			op["security"] = []any{map[string]any{}, map[string]any{"basic": []any{}}}
		}
		item[strings.ToLower(rt.method)] = op
	}
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{"title": "authserver admin API", "version": a.opt.Version,
			"description": "The access-related part of Harbor's v2.0 API, and authserver's extensions under /api/authserver/v1. " +
				"Lists take page (from 1) and page_size, answer X-Total-Count and Link (rel=\"prev\", rel=\"next\"); " +
				"a query parameter an operation does not list, like a body field its schema does not have, is 400."},
		"components": map[string]any{"securitySchemes": map[string]any{"basic": map[string]any{"type": "http", "scheme": "basic"}},
			"schemas": schemas()},
		"security": []any{map[string]any{"basic": []any{}}},
		"paths":    paths,
	}
}

// notCreations are the POST routes that create nothing of their own: they
// answer 200.
var notCreations = map[string]bool{extPrefix + "/explain": true, extPrefix + "/apply": true}

// success is the status a route answers when it succeeds: 201 for a
// creation, 200 otherwise.
func (rt route) success() int {
	if rt.method == http.MethodPost && !notCreations[rt.path] {
		return http.StatusCreated
	}
	return http.StatusOK
}

// operationID names an operation for generated clients: the handler's
// Harbor-like verb and noun, from method and path ("GET /users/{user_id}"
// is getUsersUserId).
func operationID(rt route) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(rt.method))
	for _, part := range strings.FieldsFunc(rt.path, func(r rune) bool { return r == '/' || r == '{' || r == '}' || r == '_' || r == '.' }) {
		if part == "v2" || part == "0" || part == "authserver" || part == "v1" {
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// jsonBody is an OpenAPI content map of a JSON body with schema name.
func jsonBody(name string) map[string]any {
	return map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/" + name}}}
}

func (c *call) openapi() error { return c.ok(c.a.OpenAPI()) }
