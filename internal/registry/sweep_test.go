package registry_test

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wharfhq/wharf/internal/format/pypi"
	"github.com/wharfhq/wharf/internal/registry"
	"github.com/wharfhq/wharf/internal/testenv/embedded"
)

// The sweep removes old unreferenced blobs (a publish killed between its
// Put and its record) and nothing else: not a referenced blob or sidecar,
// however old, nor a recent unreferenced one that a publish may be about
// to reference.
func TestSweepBlobs(t *testing.T) {
	ctx := context.Background()
	st, bl, dir := embedded.Storage(t)
	r := registry.New(st, bl, slog.New(slog.NewTextHandler(io.Discard, nil)), pypi.Format{})
	r.CreateDomain(ctx, owner, "dom", "")
	r.CreateRepository(ctx, owner, "dom", "repo", "", nil)
	fn, data := wheel(t, "swept", "1.0", "")
	if _, err := publishWheel(ctx, r, "repo", "swept", "1.0", data, fn); err != nil {
		t.Fatal(err)
	}
	orphan, err := bl.Put(ctx, owner+"/dom", bytes.NewReader([]byte("bytes of an upload killed before its record")), "")
	if err != nil {
		t.Fatal(err)
	}
	// Everything so far is two hours old; then a fresh orphan.
	old := time.Now().Add(-2 * time.Hour)
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			os.Chtimes(p, old, old)
		}
		return nil
	})
	fresh, err := bl.Put(ctx, owner+"/dom", bytes.NewReader([]byte("bytes of an upload in flight")), "")
	if err != nil {
		t.Fatal(err)
	}
	before := countBlobs(t, dir) // wheel, sidecar, two orphans

	res, err := r.SweepBlobs(ctx, registry.UnreferencedGrace)
	if err != nil {
		t.Fatal(err)
	}
	if res.Blobs != 1 || countBlobs(t, dir) != before-1 {
		t.Fatalf("swept %+v, %d blobs left of %d: want exactly the old orphan removed", res, countBlobs(t, dir), before)
	}
	if _, err := bl.Stat(ctx, owner+"/dom", orphan.SHA256); err == nil {
		t.Error("the old unreferenced blob survived the sweep")
	}
	if _, err := bl.Stat(ctx, owner+"/dom", fresh.SHA256); err != nil {
		t.Errorf("the recent unreferenced blob was swept: %v", err)
	}
	ref := registry.RepoRef{Owner: owner, Domain: "dom", Repository: "repo"}
	obj, err := r.OpenAsset(ctx, ref, "pypi", "", "swept", "1.0", fn)
	if err != nil {
		t.Fatalf("the published wheel was swept: %v", err)
	}
	obj.Close()
	side, err := r.OpenSidecar(ctx, ref, "pypi", "", "swept", "1.0", fn, "metadata")
	if err != nil {
		t.Fatalf("the published wheel's sidecar was swept: %v", err)
	}
	side.Close()
}
