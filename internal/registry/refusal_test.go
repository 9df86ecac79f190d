package registry_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharfhq/wharf/internal/blob"
	"github.com/wharfhq/wharf/internal/format/pypi"
	"github.com/wharfhq/wharf/internal/registry"
	"github.com/wharfhq/wharf/internal/testenv/embedded"
)

// countBlobs counts the published blobs under an fsblob directory (its
// .tmp working directory excluded).
func countBlobs(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".tmp" {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// unreadable fails the test if a publish reads the body it was given:
// what can be decided before the bytes arrive must not cost them.
type unreadable struct {
	t    *testing.T
	read int
}

func (u *unreadable) Read(p []byte) (int, error) {
	u.read++
	return 0, errors.New("this body must not be read")
}

// A refused publish leaves no blob behind, whatever refused it: a digest,
// the format's inspection, or a name already taken by other bytes. What is
// refused on metadata alone is refused before the body is read.
func TestRefusedPublishLeavesNoBlob(t *testing.T) {
	t.Run("sqlite+fsblob", func(t *testing.T) {
		st, bl, dir := embedded.Storage(t)
		r := registry.New(st, bl, slog.New(slog.NewTextHandler(io.Discard, nil)), pypi.Format{})
		testRefusedPublishLeavesNoBlob(t, r, func() int { return countBlobs(t, dir) })
	})
	t.Run("postgres+s3blob", func(t *testing.T) {
		r, _, bl := newScaleOut(t).replica(t)
		testRefusedPublishLeavesNoBlob(t, r, func() int { return listBlobs(t, bl) })
	})
}

func testRefusedPublishLeavesNoBlob(t *testing.T, r *registry.Registry, count func() int) {
	ctx := context.Background()
	r.CreateDomain(ctx, owner, "dom", "")
	r.CreateRepository(ctx, owner, "dom", "repo", "", nil)
	ref := registry.RepoRef{Owner: owner, Domain: "dom", Repository: "repo"}

	fn, data := wheel(t, "kept", "1.0", "")
	if _, err := publishWheel(ctx, r, "repo", "kept", "1.0", data, fn); err != nil {
		t.Fatal(err)
	}
	baseline := count() // the wheel and its METADATA sidecar
	_, other := wheel(t, "kept", "1.0", "Y = 2\n")
	otherSum := sha256.Sum256(other)
	dataSum := sha256.Sum256(data)

	refusals := []struct {
		name string
		req  registry.PublishRequest
		kind registry.Kind
		want string
	}{
		{"md5-mismatch", registry.PublishRequest{Name: "fresh", Version: "1.0", AssetName: "fresh-1.0.tar.gz",
			Content: bytes.NewReader(other), ExpectMD5: strings.Repeat("b", 32)}, registry.KindValidation, "md5_digest"},
		{"sha256-mismatch", registry.PublishRequest{Name: "fresh", Version: "1.0", AssetName: "fresh-1.0.tar.gz",
			Content: bytes.NewReader(other), ExpectSHA256: strings.Repeat("0", 64)}, registry.KindValidation, "sha256"},
		{"inspection-refuses", registry.PublishRequest{Name: "fresh", Version: "1.0", AssetName: "fresh-1.0.tar.gz",
			Content: bytes.NewReader(other), Inspect: func(blob.Object) (registry.Inspection, error) {
				return registry.Inspection{}, registry.Invalid("bad metadata")
			}}, registry.KindValidation, "bad metadata"},
		{"name-taken-undeclared-digest", registry.PublishRequest{Name: "kept", Version: "1.0", AssetName: fn,
			Content: bytes.NewReader(other), Inspect: func(blob.Object) (registry.Inspection, error) {
				return registry.Inspection{Sidecars: map[string][]byte{"metadata": []byte("Name: other")}}, nil
			}}, registry.KindConflict, "File already exists"},
		// Same bytes as the published wheel, refused: the shared blob stays.
		{"refused-copy-of-published-bytes", registry.PublishRequest{Name: "fresh", Version: "1.0", AssetName: "fresh-1.0.tar.gz",
			Content: bytes.NewReader(data), ExpectMD5: strings.Repeat("b", 32)}, registry.KindValidation, "md5_digest"},
	}
	for _, c := range refusals {
		c.req.Repo, c.req.Format = ref, "pypi"
		_, err := r.Publish(ctx, c.req)
		mustKind(t, err, c.kind, c.want)
		if n := count(); n != baseline {
			t.Errorf("%s: %d blobs after the refusal, want %d: a refusal must remove what it stored", c.name, n, baseline)
		}
	}

	// A declared digest decides a re-upload under a taken name before the
	// body is read: other bytes conflict, the same bytes succeed.
	body := &unreadable{t: t}
	_, err := r.Publish(ctx, registry.PublishRequest{Repo: ref, Format: "pypi", Name: "kept", Version: "1.0", AssetName: fn,
		Content: body, ExpectSHA256: hex.EncodeToString(otherSum[:])})
	mustKind(t, err, registry.KindConflict, "File already exists")
	if body.read != 0 {
		t.Errorf("a conflict known from the declared sha256 read the body %d times", body.read)
	}
	res, err := r.Publish(ctx, registry.PublishRequest{Repo: ref, Format: "pypi", Name: "kept", Version: "1.0", AssetName: fn,
		Content: body, ExpectSHA256: hex.EncodeToString(dataSum[:])})
	if err != nil || !res.Unchanged {
		t.Fatalf("an identical re-upload with a declared digest: %+v %v", res, err)
	}
	if body.read != 0 {
		t.Errorf("an identical re-upload with a declared digest read the body %d times", body.read)
	}
	if n := count(); n != baseline {
		t.Errorf("%d blobs at the end, want %d", n, baseline)
	}

	// The published bytes survived every refusal.
	obj, err := r.OpenAsset(ctx, ref, "pypi", "", "kept", "1.0", fn)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(obj)
	obj.Close()
	if !bytes.Equal(got, data) {
		t.Fatal("the published wheel's bytes changed")
	}
	if side, err := r.OpenSidecar(ctx, ref, "pypi", "", "kept", "1.0", fn, "metadata"); err != nil {
		t.Fatalf("the published wheel's sidecar is gone: %v", err)
	} else {
		side.Close()
	}
}
