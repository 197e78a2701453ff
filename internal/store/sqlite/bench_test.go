package sqlite_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/token"
)

// BenchmarkAppendAudit is the audit trail's write of issued tokens'
// records, one op per record, into a table that already holds 50,000:
// batches of 1 (a lone token with audit.mode sync), 16 (a group commit at
// 16 connections) and 500 (a full async batch), each with the jtis
// token.NewJTI makes (time first: a batch's entries are neighbours in the
// jti index) and with 128 random bits (one random index page per record).
// The records are made before the timer starts (stopping it per batch
// stops the world); cpu-ns/op is the process's CPU time (user and
// system) per record, less sensitive than ns/op to a shared machine.
func BenchmarkAppendAudit(b *testing.B) {
	randomJTI := func() string {
		var k [16]byte
		_, _ = rand.Read(k[:])
		return base64.RawURLEncoding.EncodeToString(k[:])
	}
	newJTI := func() string {
		j, err := token.NewJTI()
		if err != nil {
			b.Fatal(err)
		}
		return j
	}
	for _, jtis := range []struct {
		name string
		make func() string
	}{{"jti-time-first", newJTI}, {"jti-random", randomJTI}} {
		for _, n := range []int{1, 16, 500} {
			b.Run(fmt.Sprintf("%s/batch-%d", jtis.name, n), func(b *testing.B) {
				s := open(b, filepath.Join(b.TempDir(), "authserver.db"), true)
				big := make([]store.AuditRecord, 0, 5000)
				for range 10 {
					big = big[:0]
					for range 5000 {
						big = append(big, store.AuditRecord{Time: time.Now(), Subject: "filler", Result: store.AuditIssued, JTI: jtis.make()})
					}
					if err := s.AppendAudit(b.Context(), big); err != nil {
						b.Fatal(err)
					}
				}
				recs := make([]store.AuditRecord, (b.N+n-1)/n*n)
				for i := range recs {
					recs[i] = store.AuditRecord{Time: time.Now(), Subject: "dev", Method: "password", ClientIP: "127.0.0.1",
						UserAgent: "docker/28.2.2 go/go1.24.3", Service: "harbor-registry", Requested: []string{"repository:team/app:pull,push"},
						Granted: []string{"repository:team/app:pull,push"}, Result: store.AuditIssued, ClientID: "docker",
						RequestID: fmt.Sprintf("%016x", binary.BigEndian.Uint64([]byte(jtis.make())[:8])), Endpoint: "token", JTI: jtis.make()}
				}
				b.ReportAllocs()
				cpu := cpuTime()
				b.ResetTimer()
				for i := 0; i < len(recs); i += n {
					if err := s.AppendAudit(b.Context(), recs[i:i+n]); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				b.ReportMetric(float64(cpuTime()-cpu)/float64(len(recs)), "cpu-ns/op")
			})
		}
	}
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
