package sqlite

import (
	"context"
	"path/filepath"
	"testing"
)

// synchronousOf reads PRAGMA synchronous on a connection of db: 1 is
// NORMAL, 2 is FULL.
func synchronousOf(t *testing.T, db *stmtDB) int {
	t.Helper()
	var n int
	if err := db.DB.QueryRowContext(context.Background(), "PRAGMA synchronous").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestDurableByDefault: an acknowledged write must survive an OS crash or
// power loss, so the default database fsyncs the WAL at every commit
// (synchronous=FULL, 2); NORMAL (1) would sync only at checkpoints.
func TestDurableByDefault(t *testing.T) {
	s := open(t)
	var mode string
	if err := s.w.DB.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Fatalf("journal_mode=%s, want wal", mode)
	}
	if got := synchronousOf(t, s.w); got != 2 {
		t.Fatalf("writer: synchronous=%d, want 2 (FULL)", got)
	}
	if got := synchronousOf(t, s.r); got != 2 {
		t.Fatalf("readers: synchronous=%d, want 2 (FULL)", got)
	}
}

// TestSyncNormalIsAChoice: the faster setting is there for whoever accepts
// losing the last writes on a crash, and nothing else is accepted.
func TestSyncNormalIsAChoice(t *testing.T) {
	s, err := OpenSync(filepath.Join(t.TempDir(), "wharf.db"), SyncNormal)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := synchronousOf(t, s.w); got != 1 {
		t.Fatalf("synchronous=%d, want 1 (NORMAL)", got)
	}
	if _, err := OpenSync(filepath.Join(t.TempDir(), "x.db"), "OFF"); err == nil {
		t.Fatal("synchronous=OFF was accepted")
	}
}
