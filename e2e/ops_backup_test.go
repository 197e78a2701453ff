//go:build integration

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestBackupRestore: `authserver backup --to FILE` copies the SQLite
// database while serve runs and takes logins; the copy restored in place of
// the database (docs/OPERATIONS.md) holds what was there at the backup and
// nothing made after it, and its users log in.
func TestBackupRestore(t *testing.T) {
	o := newOpsServer(t, opsOptions{})
	o.start(t)
	o.addUser(t, "dev", "Dev-pass-1")
	backup := filepath.Join(t.TempDir(), "backup.db")
	out := o.cli(t, "backup", "--to", backup)
	if !strings.Contains(out, backup) {
		t.Fatalf("backup printed %q", out)
	}
	if st, err := os.Stat(backup); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v %v, want mode 0600", st, err)
	}
	if r := o.tryCLI("", "backup", "--to", backup); r.err == nil {
		t.Fatal("a second backup over the first one succeeded")
	}
	o.addUser(t, "late", "Late-pass-1") // after the backup

	o.proc.Stop(syscall.SIGTERM, 20*time.Second)
	db := filepath.Join(o.dir, "authserver.db")
	for _, f := range []string{db, db + "-wal", db + "-shm"} {
		if err := os.Remove(f); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(db, data, 0o600); err != nil {
		t.Fatal(err)
	}
	o.start(t)
	if got := o.getToken(t, "dev", "Dev-pass-1", "service=harbor-registry"); got.status != 200 {
		t.Fatalf("dev after the restore: %d", got.status)
	}
	if got := o.getToken(t, "late", "Late-pass-1", "service=harbor-registry"); got.status != 401 {
		t.Fatalf("a user made after the backup, after the restore: %d, want 401", got.status)
	}
}
