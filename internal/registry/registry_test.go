package registry_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/wharfhq/wharf/internal/blob"
	"github.com/wharfhq/wharf/internal/format/pypi"
	"github.com/wharfhq/wharf/internal/registry"
	"github.com/wharfhq/wharf/internal/testenv/embedded"
)

const owner = "111122223333"

// newRegistry builds a registry on a real SQLite file and a real blob
// directory.
func newRegistry(t *testing.T) *registry.Registry {
	t.Helper()
	st, bl, _ := embedded.Storage(t)
	return registry.New(st, bl, slog.New(slog.NewTextHandler(io.Discard, nil)), pypi.Format{})
}

func mustKind(t *testing.T, err error, k registry.Kind, contains string) {
	t.Helper()
	if !registry.IsKind(err, k) {
		t.Fatalf("want registry error kind %d, got %v", k, err)
	}
	if !strings.Contains(err.Error(), contains) {
		t.Fatalf("error %q does not mention %q", err, contains)
	}
}

func TestDomainsAndRepositories(t *testing.T) {
	ctx := context.Background()
	r := newRegistry(t)
	if _, err := r.CreateDomain(ctx, owner, "dom", ""); err != nil {
		t.Fatal(err)
	}
	_, err := r.CreateDomain(ctx, owner, "dom", "")
	mustKind(t, err, registry.KindConflict, "already exists")

	_, err = r.CreateRepository(ctx, owner, "nodomain", "repo", "", nil)
	mustKind(t, err, registry.KindNotFound, "nodomain")

	for _, name := range []string{"c", "b", "a"} {
		if _, err := r.CreateRepository(ctx, owner, "dom", name, "", nil); err != nil {
			t.Fatal(err)
		}
	}
	_, err = r.CreateRepository(ctx, owner, "dom", "r", "", []string{"a", "missing"})
	mustKind(t, err, registry.KindValidation, "missing")
	_, err = r.CreateRepository(ctx, owner, "dom", "r", "", []string{"a", "a"})
	mustKind(t, err, registry.KindValidation, "twice")
	repo, err := r.CreateRepository(ctx, owner, "dom", "r", "desc", []string{"b", "a"})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(repo.Upstreams, ","); got != "b,a" {
		t.Fatalf("upstream order lost: %s", got)
	}

	// a -> c -> r -> (b, a) would close a cycle.
	if _, err := r.UpdateRepository(ctx, owner, "dom", "c", nil, []string{"r"}, true); err != nil {
		t.Fatal(err)
	}
	_, err = r.UpdateRepository(ctx, owner, "dom", "a", nil, []string{"c"}, true)
	mustKind(t, err, registry.KindValidation, "a -> c -> r -> a")

	info, err := r.DescribeDomain(ctx, owner, "dom")
	if err != nil || info.RepositoryCount != 4 {
		t.Fatalf("describe: %+v %v", info, err)
	}
	_, err = r.DeleteDomain(ctx, owner, "dom")
	mustKind(t, err, registry.KindConflict, "still has 4 repositories")

	_, err = r.DeleteRepository(ctx, owner, "dom", "a")
	mustKind(t, err, registry.KindConflict, "upstream of repository r")
}

// wheel builds a minimal valid wheel for name/version.
func wheel(t *testing.T, name, version, extra string) (string, []byte) {
	t.Helper()
	dist := strings.ReplaceAll(name, "-", "_")
	fn := dist + "-" + version + "-py3-none-any.whl"
	var buf bytes.Buffer
	zw := newZip(&buf)
	zw.add(dist+"/__init__.py", "X = 1\n"+extra)
	zw.add(dist+"-"+version+".dist-info/METADATA", "Metadata-Version: 2.1\nName: "+name+"\nVersion: "+version+"\nSummary: test package\nRequires-Dist: requests (>=2.0) ; extra == \"http\"\n\nlong description\n")
	zw.add(dist+"-"+version+".dist-info/WHEEL", "Wheel-Version: 1.0\n")
	zw.close(t)
	return fn, buf.Bytes()
}

func publishWheel(ctx context.Context, r *registry.Registry, repo, name, version string, data []byte, fn string) (registry.PublishResult, error) {
	sum := sha256.Sum256(data)
	return r.Publish(ctx, registry.PublishRequest{
		Repo: registry.RepoRef{Owner: owner, Domain: "dom", Repository: repo}, Format: "pypi",
		Name: name, Version: version, AssetName: fn, Content: bytes.NewReader(data), ExpectSHA256: hex.EncodeToString(sum[:]),
		Inspect: func(obj blob.Object) (registry.Inspection, error) {
			if obj.Info().Size != int64(len(data)) {
				return registry.Inspection{}, errors.New("size mismatch")
			}
			return registry.Inspection{Summary: "s", Sidecars: map[string][]byte{"metadata": []byte("Name: " + name)}}, nil
		},
	})
}

func TestPublishIsImmutableAndIdempotent(t *testing.T) {
	ctx := context.Background()
	r := newRegistry(t)
	r.CreateDomain(ctx, owner, "dom", "")
	r.CreateRepository(ctx, owner, "dom", "repo", "", nil)

	fn, data := wheel(t, "Proximal.Core", "1.0", "")
	res, err := publishWheel(ctx, r, "repo", "Proximal.Core", "1.0", data, fn)
	if err != nil || res.Unchanged {
		t.Fatalf("first publish: %+v %v", res, err)
	}
	if res.Version.Name != "proximal-core" || res.Version.Status != registry.StatusPublished {
		t.Fatalf("version not normalized/published: %+v", res.Version)
	}
	again, err := publishWheel(ctx, r, "repo", "proximal_core", "1.0.0", data, fn)
	if err != nil || !again.Unchanged {
		t.Fatalf("identical re-publish must be a no-op success: %+v %v", again, err)
	}
	_, other := wheel(t, "Proximal.Core", "1.0", "Y = 2\n")
	_, err = publishWheel(ctx, r, "repo", "Proximal.Core", "1.0", other, fn)
	mustKind(t, err, registry.KindConflict, "File already exists")

	// The original bytes are still what is served.
	obj, err := r.OpenAsset(ctx, registry.RepoRef{Owner: owner, Domain: "dom", Repository: "repo"}, "pypi", "", "PROXIMAL_core", "1.0", fn)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(obj)
	obj.Close()
	if !bytes.Equal(got, data) {
		t.Fatal("published bytes were replaced")
	}
	side, err := r.OpenSidecar(ctx, registry.RepoRef{Owner: owner, Domain: "dom", Repository: "repo"}, "pypi", "", "proximal-core", "1.0", fn, "metadata")
	if err != nil {
		t.Fatal(err)
	}
	sb, _ := io.ReadAll(side)
	side.Close()
	if string(sb) != "Name: Proximal.Core" {
		t.Fatalf("sidecar: %q", sb)
	}

	// A wrong declared digest stores nothing.
	_, err = r.Publish(ctx, registry.PublishRequest{
		Repo: registry.RepoRef{Owner: owner, Domain: "dom", Repository: "repo"}, Format: "pypi",
		Name: "other", Version: "1.0", AssetName: "other-1.0.tar.gz", Content: strings.NewReader("bytes"),
		ExpectSHA256: strings.Repeat("0", 64),
	})
	mustKind(t, err, registry.KindValidation, "does not match the sha256")
	if _, err := r.DescribePackage(ctx, registry.RepoRef{Owner: owner, Domain: "dom", Repository: "repo"}, "pypi", "", "other"); !registry.IsKind(err, registry.KindNotFound) {
		t.Fatalf("package visible after a refused upload: %v", err)
	}
}

func TestConcurrentConflictingPublishesLeaveOne(t *testing.T) {
	ctx := context.Background()
	r := newRegistry(t)
	r.CreateDomain(ctx, owner, "dom", "")
	r.CreateRepository(ctx, owner, "dom", "repo", "", nil)
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn, data := wheel(t, "race", "1.0", strings.Repeat("#", i))
			_, errs[i] = publishWheel(ctx, r, "repo", "race", "1.0", data, fn)
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !registry.IsKind(err, registry.KindConflict):
			t.Fatalf("unexpected error: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d publishes of different bytes under one filename succeeded, want exactly 1", ok)
	}
}

func TestOriginControlsBlockPublish(t *testing.T) {
	ctx := context.Background()
	r := newRegistry(t)
	r.CreateDomain(ctx, owner, "dom", "")
	r.CreateRepository(ctx, owner, "dom", "repo", "", nil)
	ref := registry.RepoRef{Owner: owner, Domain: "dom", Repository: "repo"}
	fn, data := wheel(t, "pkg", "1.0", "")
	if _, err := publishWheel(ctx, r, "repo", "pkg", "1.0", data, fn); err != nil {
		t.Fatal(err)
	}
	p, err := r.DescribePackage(ctx, ref, "pypi", "", "pkg")
	if err != nil || p.OriginPublish != registry.Allow || p.OriginUpstream != registry.Block {
		t.Fatalf("a directly published package must default to publish=ALLOW, upstream=BLOCK: %+v %v", p, err)
	}
	if _, err := r.PutOriginConfiguration(ctx, ref, "pypi", "", "pkg", registry.Block, registry.Allow); err != nil {
		t.Fatal(err)
	}
	fn2, data2 := wheel(t, "pkg", "2.0", "")
	_, err = publishWheel(ctx, r, "repo", "pkg", "2.0", data2, fn2)
	mustKind(t, err, registry.KindForbidden, "put-package-origin-configuration")
}

func TestVersionsSortNewestFirst(t *testing.T) {
	ctx := context.Background()
	r := newRegistry(t)
	r.CreateDomain(ctx, owner, "dom", "")
	r.CreateRepository(ctx, owner, "dom", "repo", "", nil)
	for _, v := range []string{"1.0", "10.0", "2.0rc1", "2.0", "1.0.post1"} {
		fn, data := wheel(t, "pkg", v, "")
		if _, err := publishWheel(ctx, r, "repo", "pkg", v, data, fn); err != nil {
			t.Fatal(err)
		}
	}
	_, vs, err := r.ListVersions(ctx, registry.RepoRef{Owner: owner, Domain: "dom", Repository: "repo"}, "pypi", "", "pkg")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range vs {
		got = append(got, v.Version)
	}
	if strings.Join(got, " ") != "10.0 2.0 2.0rc1 1.0.post1 1.0" {
		t.Fatalf("PEP 440 order wrong: %v", got)
	}
}

// TestDeletionNeverTakesPublishedBytes races the deletion of a package
// against a publish of the same bytes in another repository of the domain:
// whatever the interleaving, a publish that succeeds can be downloaded, and
// one that loses the race fails asking for a retry instead.
func TestDeletionNeverTakesPublishedBytes(t *testing.T) {
	ctx := context.Background()
	r := newRegistry(t)
	r.CreateDomain(ctx, owner, "dom", "")
	r.CreateRepository(ctx, owner, "dom", "old", "", nil)
	r.CreateRepository(ctx, owner, "dom", "new", "", nil)
	fn, data := wheel(t, "shared", "1.0", "")
	retried := 0
	for round := range 150 {
		if _, err := publishWheel(ctx, r, "old", "shared", "1.0", data, fn); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var pubErr, delErr error
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, delErr = r.DeletePackage(ctx, registry.RepoRef{Owner: owner, Domain: "dom", Repository: "old"}, "pypi", "", "shared")
		}()
		go func() {
			defer wg.Done()
			_, pubErr = publishWheel(ctx, r, "new", "shared", "1.0", data, fn)
		}()
		wg.Wait()
		if delErr != nil {
			t.Fatal(delErr)
		}
		newRef := registry.RepoRef{Owner: owner, Domain: "dom", Repository: "new"}
		switch {
		case pubErr == nil:
			obj, err := r.OpenAsset(ctx, newRef, "pypi", "", "shared", "1.0", fn)
			if err != nil {
				t.Fatalf("round %d: a successful publish lost its bytes: %v", round, err)
			}
			got, _ := io.ReadAll(obj)
			obj.Close()
			if !bytes.Equal(got, data) {
				t.Fatalf("round %d: published bytes changed", round)
			}
			if _, err := r.DeletePackage(ctx, newRef, "pypi", "", "shared"); err != nil {
				t.Fatal(err)
			}
		case registry.Unavailable(pubErr):
			retried++ // the client is told to send the file again
		default:
			t.Fatalf("round %d: publish failed with %v", round, pubErr)
		}
	}
	t.Logf("150 races: %d publishes asked for a retry, none lost bytes", retried)
}
