package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/app"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/store/sqlite"
)

// auditFixture is the stack with the audit trail on, in mode, records
// waited for at most 300 ms, token reuse on.
func auditFixture(t *testing.T, mode string) (*fixture, *app.App) {
	return newFixtureWith(t, func(c *config.Config, _ *app.Options) {
		c.Audit.Enabled, c.Audit.Mode, c.Audit.SyncWait = true, mode, config.Duration(300*time.Millisecond)
		c.Token.ReuseWindow = config.Duration(time.Minute)
	})
}

// breakAuditTable makes every audit write fail (the rest of the store
// works) until the returned function mends it.
func breakAuditTable(t *testing.T, st store.Store) (mend func()) {
	t.Helper()
	db := st.(*sqlite.Store).DB()
	if _, err := db.Exec(`ALTER TABLE audit_log RENAME TO audit_log_away`); err != nil {
		t.Fatal(err)
	}
	return func() {
		if _, err := db.Exec(`ALTER TABLE audit_log_away RENAME TO audit_log`); err != nil {
			t.Fatal(err)
		}
	}
}

// TestNoTokenWithoutRecord (audit.mode: sync, the default): an issued
// token's record, with its jti, is written when the answer arrives; when
// records cannot be written the request fails with 503 and no token, and
// works again once they can. A token is kept for reuse only once its
// record is written.
func TestNoTokenWithoutRecord(t *testing.T) {
	f, a := auditFixture(t, config.AuditSync)
	q := scopeQuery("repository:team/app:pull")
	r := f.get("GET", "/service/token", q, "dev", f.users["dev"])
	if r.status != 200 {
		t.Fatalf("token: %d %v", r.status, r.body)
	}
	jti := r.claims["jti"].(string)
	recs, err := f.st.ListAudit(context.Background(), store.AuditFilter{JTI: jti}) // no Flush: already written
	if err != nil || len(recs) != 1 || recs[0].Subject != "dev" || recs[0].Result != store.AuditIssued || recs[0].Endpoint != "token" {
		t.Fatalf("records of jti %s: %+v, %v", jti, recs, err)
	}

	mend := breakAuditTable(t, f.st)
	q = scopeQuery("repository:team/app:pull,push") // not the grant above: nothing to reuse
	r = f.get("GET", "/service/token", q, "dev", f.users["dev"])
	if r.status != 503 || r.body["token"] != nil {
		t.Fatalf("records cannot be written: %d %v, want 503 without a token", r.status, r.body)
	}
	mend()
	// The token refused then was not kept for reuse: the next answer is a
	// new token, recorded; answered again (reused), it is recorded again.
	r = f.get("GET", "/service/token", q, "dev", f.users["dev"])
	if r.status != 200 || r.claims["jti"] == jti {
		t.Fatalf("records written again: %d %v (first jti %s)", r.status, r.body, jti)
	}
	second := r.claims["jti"].(string)
	if recs, err := f.st.ListAudit(context.Background(), store.AuditFilter{JTI: second}); err != nil || len(recs) != 1 {
		t.Fatalf("records of the token after the outage: %+v, %v", recs, err)
	}
	if r = f.get("GET", "/service/token", q, "dev", f.users["dev"]); r.status != 200 || r.claims["jti"] != second {
		t.Fatalf("the same grant again: %d, jti %v; want %s reused", r.status, r.claims["jti"], second)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	a.Audit.Flush(ctx)
	if recs, err := f.st.ListAudit(ctx, store.AuditFilter{JTI: second}); err != nil || len(recs) != 2 {
		t.Fatalf("records of a token answered twice: %d, %v; want 2", len(recs), err)
	}
}

// TestAsyncAuditHandsOutTokens: audit.mode async keeps tokens flowing
// while records cannot be written; those records are lost (the loss
// window the mode accepts).
func TestAsyncAuditHandsOutTokens(t *testing.T) {
	f, a := auditFixture(t, config.AuditAsync)
	mend := breakAuditTable(t, f.st)
	r := f.get("GET", "/service/token", scopeQuery("repository:team/app:pull"), "dev", f.users["dev"])
	if r.status != 200 {
		t.Fatalf("async, records cannot be written: %d, want 200", r.status)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	a.Audit.Flush(ctx)
	mend()
	if recs, err := f.st.ListAudit(ctx, store.AuditFilter{JTI: r.claims["jti"].(string)}); err != nil || len(recs) != 0 {
		t.Fatalf("records %+v, %v: want none (lost)", recs, err)
	}
}
