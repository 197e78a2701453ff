//go:build !integration

package app_test

// integrationBackends is empty in the fast tier: SQLite only (see
// postgres_test.go).
var integrationBackends []apiBackend
