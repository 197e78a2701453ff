package api_test

import (
	"database/sql"
	"testing"
)

// TestAuditUnwritable: a change whose admin audit record cannot be written
// is not made, and the API answers 503 (a backend failure), on both stores.
func TestAuditUnwritable(t *testing.T) {
	backends(t, func(t *testing.T, f *fixture) {
		if _, err := f.st.(interface{ DB() *sql.DB }).DB().ExecContext(t.Context(), `DROP TABLE audit_log`); err != nil {
			t.Fatal(err)
		}
		r := f.do("root", "POST", "/api/v2.0/projects", map[string]any{"project_name": "team"})
		if r.status != 503 || r.errcode() != "UNAVAILABLE" {
			t.Fatalf("create project: %d %s, want 503 UNAVAILABLE", r.status, r.body)
		}
		if r := f.do("root", "GET", "/api/v2.0/projects/team", nil); r.status != 404 {
			t.Errorf("project of a failed change: %d %s, want 404", r.status, r.body)
		}
	})
}
