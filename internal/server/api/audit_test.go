package api_test

import (
	"testing"
	"time"

	"github.com/authserver/authserver/internal/store"
)

// TestAuditEveryField: the audit trail's API shows every field a record
// stores (the federated issuer and subject, the endpoint, the jti…) and
// finds an issued token's records by its jti.
func TestAuditEveryField(t *testing.T) {
	backends(t, func(t *testing.T, f *fixture) {
		rec := store.AuditRecord{Time: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), Subject: "robot$team+gh", Method: "federated",
			ClientIP: "192.0.2.7", UserAgent: "crane/0.22", Service: "harbor-registry", Requested: []string{"repository:team/app:pull"},
			Granted: []string{"repository:team/app:pull"}, Result: store.AuditIssued, ClientID: "ci", RequestID: "req-7",
			FederatedIssuer: "https://token.actions.example", FederatedSubject: "repo:org/app:ref:refs/heads/main",
			Endpoint: "token", JTI: "jti-of-the-token"}
		other := rec
		other.JTI, other.RequestID = "another-jti", "req-8"
		if err := f.st.AppendAudit(t.Context(), []store.AuditRecord{rec, other}); err != nil {
			t.Fatal(err)
		}
		var got []map[string]any
		f.do("root", "GET", "/api/authserver/v1/audit?jti=jti-of-the-token", nil).json(t, &got)
		if len(got) != 1 {
			t.Fatalf("audit?jti=: %d records, want 1: %v", len(got), got)
		}
		want := map[string]any{"kind": "token", "subject": "robot$team+gh", "method": "federated", "result": "issued",
			"endpoint": "token", "client_ip": "192.0.2.7", "user_agent": "crane/0.22", "service": "harbor-registry",
			"client_id": "ci", "jti": "jti-of-the-token", "federated_issuer": "https://token.actions.example",
			"federated_subject": "repo:org/app:ref:refs/heads/main", "request_id": "req-7"}
		for k, v := range want {
			if got[0][k] != v {
				t.Errorf("%s = %v, want %v", k, got[0][k], v)
			}
		}
		for _, k := range []string{"id", "time", "requested", "granted"} {
			if got[0][k] == nil {
				t.Errorf("no %s in %v", k, got[0])
			}
		}
	})
}
