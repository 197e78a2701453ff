//go:build !integration

package api_test

// integrationBackends is empty in the fast tier: SQLite only (see
// postgres_test.go).
var integrationBackends []backend
