// Package embedded gives tests the embedded default storage, for real: a
// SQLite file and a blob directory in the test's temporary directory,
// closed when the test ends.
package embedded

import (
	"path/filepath"
	"testing"

	"github.com/wharfhq/wharf/internal/blob"
	"github.com/wharfhq/wharf/internal/blob/fsblob"
	"github.com/wharfhq/wharf/internal/store"
	"github.com/wharfhq/wharf/internal/store/sqlite"
)

// Storage opens a fresh metadata store and blob store; blobDir is where
// the blobs live, for tests that look at the disk.
func Storage(t testing.TB) (st store.Store, bl blob.Store, blobDir string) {
	t.Helper()
	dir := t.TempDir()
	db, err := sqlite.Open(filepath.Join(dir, "wharf.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	blobDir = filepath.Join(dir, "blobs")
	if bl, err = fsblob.New(blobDir); err != nil {
		t.Fatal(err)
	}
	return db, bl, blobDir
}
