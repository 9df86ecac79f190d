package registry_test

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
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

// Replicas sweeping (PostgreSQL + S3) while another replica publishes the
// very bytes they find unreferenced never take bytes a publish recorded:
// the publish either keeps them or asks its client to send them again.
func TestSweepOnReplicasNeverTakesPublishedBytes(t *testing.T) {
	ctx := context.Background()
	so := newScaleOut(t)
	publisher, _, bl := so.replica(t)
	sweepers := []*registry.Registry{}
	for range 2 {
		r, _, _ := so.replica(t)
		sweepers = append(sweepers, r)
	}
	publisher.CreateDomain(ctx, owner, "dom", "")
	publisher.CreateRepository(ctx, owner, "dom", "repo", "", nil)
	ref := registry.RepoRef{Owner: owner, Domain: "dom", Repository: "repo"}
	fn, data := wheel(t, "raced", "1.0", "")
	retried, kept := 0, 0
	for round := range 30 {
		// The bytes are already there, unreferenced, as a killed upload
		// leaves them; a publish of the same file dedupes against them.
		if _, err := bl.Put(ctx, owner+"/dom", bytes.NewReader(data), ""); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var pubErr error
		for _, s := range sweepers {
			wg.Go(func() {
				// A cutoff in the future: every blob counts as old.
				if _, err := s.SweepBlobs(ctx, -time.Hour); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Go(func() { _, pubErr = publishWheel(ctx, publisher, "repo", "raced", "1.0", data, fn) })
		wg.Wait()
		switch {
		case pubErr == nil:
			kept++
			obj, err := publisher.OpenAsset(ctx, ref, "pypi", "", "raced", "1.0", fn)
			if err != nil {
				t.Fatalf("round %d: a recorded publish lost its bytes to a sweep: %v", round, err)
			}
			got, _ := io.ReadAll(obj)
			obj.Close()
			if !bytes.Equal(got, data) {
				t.Fatalf("round %d: published bytes changed", round)
			}
			if _, err := publisher.DeletePackage(ctx, ref, "pypi", "", "raced"); err != nil {
				t.Fatal(err)
			}
		default:
			// A failed publish must have recorded nothing. (Besides the
			// retry holdBlob asks for, versitygw's directory-backed
			// buckets can fail a copy racing a delete of the same key.)
			retried++
			if _, err := publisher.DescribePackage(ctx, ref, "pypi", "", "raced"); !registry.IsKind(err, registry.KindNotFound) {
				t.Fatalf("round %d: a failed publish (%v) left a package: %v", round, pubErr, err)
			}
			if !registry.Unavailable(pubErr) {
				t.Logf("round %d: publish failed with %v", round, pubErr)
			}
		}
	}
	t.Logf("30 races of a publish with two sweeping replicas: %d kept their bytes, %d failed and recorded nothing", kept, retried)
}
