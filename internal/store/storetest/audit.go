package storetest

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/store"
)

func testAudit(t *testing.T, s store.Store) {
	ctx := t.Context()
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var batch []store.AuditRecord
	for i := 0; i < 5; i++ {
		batch = append(batch, store.AuditRecord{
			Time: base.Add(time.Duration(i) * time.Minute), Subject: fmt.Sprintf("user%d", i%2), Method: "password",
			ClientIP: "10.0.0.1", UserAgent: "crane/0.22", Service: "harbor-registry",
			Requested: []string{"repository:team/app:pull,push", "registry:catalog:*"},
			Granted:   []string{"repository:team/app:pull"},
			Result:    store.AuditIssued, ClientID: "docker", RequestID: fmt.Sprintf("req%d", i),
		})
	}
	batch[4].Result, batch[4].Granted = store.AuditUnauthorized, nil
	batch[2].Method, batch[2].FederatedIssuer, batch[2].FederatedSubject = "federated", "https://issuer.example", "repo:org/app:ref:refs/heads/main"
	if err := s.AppendAudit(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendAudit(ctx, nil); err != nil {
		t.Fatalf("empty batch: %v", err)
	}

	tests := []struct {
		name string
		f    store.AuditFilter
		want []string // request ids, newest first
	}{
		{name: "all", f: store.AuditFilter{}, want: []string{"req4", "req3", "req2", "req1", "req0"}},
		{name: "limit", f: store.AuditFilter{Limit: 2}, want: []string{"req4", "req3"}},
		{name: "subject", f: store.AuditFilter{Subject: "user1"}, want: []string{"req3", "req1"}},
		{name: "since", f: store.AuditFilter{Since: base.Add(3 * time.Minute)}, want: []string{"req4", "req3"}},
		{name: "result", f: store.AuditFilter{Result: store.AuditUnauthorized}, want: []string{"req4"}},
		{name: "none", f: store.AuditFilter{Subject: "nobody"}, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.ListAudit(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, r := range got {
				ids = append(ids, r.RequestID)
			}
			if !reflect.DeepEqual(ids, tt.want) {
				t.Fatalf("got %v, want %v", ids, tt.want)
			}
		})
	}

	got, err := s.ListAudit(ctx, store.AuditFilter{Limit: 1, Subject: "user0", Result: store.AuditIssued})
	if err != nil || len(got) != 1 {
		t.Fatalf("%v %v", got, err)
	}
	r := got[0]
	want := batch[2]
	want.ID = r.ID
	want.Kind = store.AuditKindToken // empty is stored as token
	if !r.Time.Equal(want.Time) {
		t.Fatalf("time %v, want %v", r.Time, want.Time)
	}
	r.Time = want.Time
	if !reflect.DeepEqual(r, want) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", r, want)
	}
	unauth, _ := s.ListAudit(ctx, store.AuditFilter{Result: store.AuditUnauthorized})
	if len(unauth) != 1 || len(unauth[0].Granted) != 0 {
		t.Fatalf("empty granted list: %+v", unauth)
	}

	n, err := s.PruneAudit(ctx, base.Add(2*time.Minute))
	if err != nil || n != 2 {
		t.Fatalf("pruned %d, %v; want 2", n, err)
	}
	left, _ := s.ListAudit(ctx, store.AuditFilter{})
	if len(left) != 3 {
		t.Fatalf("%d left after prune, want 3", len(left))
	}
}

// testAdminAudit checks admin records: kind, action and target round-trip,
// token records read back as kind token, and the kind filter.
func testAdminAudit(t *testing.T, s store.Store) {
	ctx := t.Context()
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	recs := []store.AuditRecord{
		{Time: base, Subject: "bob", Method: "password", Result: store.AuditIssued, RequestID: "tok"},
		{Time: base.Add(time.Minute), Subject: "alice", ClientIP: "10.0.0.2", Result: store.AuditDone,
			Kind: store.AuditKindAdmin, Action: "project.create", Target: "project team", RequestID: "adm"},
	}
	if err := s.AppendAudit(ctx, recs); err != nil {
		t.Fatal(err)
	}
	got, err := s.ListAudit(ctx, store.AuditFilter{Kind: store.AuditKindAdmin})
	if err != nil || len(got) != 1 {
		t.Fatalf("ListAudit(admin) = %+v, %v", got, err)
	}
	if a := got[0]; a.Kind != store.AuditKindAdmin || a.Action != "project.create" || a.Target != "project team" ||
		a.Subject != "alice" || a.ClientIP != "10.0.0.2" || a.Result != store.AuditDone {
		t.Errorf("admin record = %+v", a)
	}
	got, err = s.ListAudit(ctx, store.AuditFilter{Kind: store.AuditKindToken})
	if err != nil || len(got) != 1 || got[0].RequestID != "tok" || got[0].Kind != store.AuditKindToken {
		t.Errorf("ListAudit(token) = %+v, %v", got, err)
	}
	got, err = s.ListAudit(ctx, store.AuditFilter{Kind: store.AuditKindAdmin, Subject: "bob"})
	if err != nil || len(got) != 0 {
		t.Errorf("ListAudit(admin, bob) = %+v, %v", got, err)
	}
}
