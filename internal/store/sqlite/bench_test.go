package sqlite_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/store"
)

// BenchmarkAppendAudit is the audit trail's write of issued tokens'
// records, one op per record: batches of 1 (a lone token with audit.mode
// sync), 16 (a group commit at 16 connections) and 500 (a full async
// batch).
func BenchmarkAppendAudit(b *testing.B) {
	for _, n := range []int{1, 16, 500} {
		b.Run(fmt.Sprintf("batch-%d", n), func(b *testing.B) {
			s := open(b, filepath.Join(b.TempDir(), "authserver.db"), true)
			batch := make([]store.AuditRecord, n)
			for i := range batch {
				batch[i] = store.AuditRecord{Time: time.Now(), Subject: "dev", Method: "password", ClientIP: "127.0.0.1",
					UserAgent: "docker/28.2.2 go/go1.24.3", Service: "harbor-registry", Requested: []string{"repository:team/app:pull,push"},
					Granted: []string{"repository:team/app:pull,push"}, Result: store.AuditIssued, ClientID: "docker",
					RequestID: "0123456789abcdef", Endpoint: "token", JTI: fmt.Sprintf("jti-%022d", i)}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i += n {
				if err := s.AppendAudit(b.Context(), batch); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
