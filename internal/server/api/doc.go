// Package api is the administrative REST API: the access-related part of Harbor's /api/v2.0, and authserver's own extensions under /api/authserver/v1, both calling internal/admin exactly as the CLI does.
package api
