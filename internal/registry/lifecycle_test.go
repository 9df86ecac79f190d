package registry_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharfhq/wharf/internal/blob"
	"github.com/wharfhq/wharf/internal/format/generic"
	"github.com/wharfhq/wharf/internal/format/pypi"
	"github.com/wharfhq/wharf/internal/registry"
	"github.com/wharfhq/wharf/internal/testenv/embedded"
)

// lifecycleEnv is a registry serving pypi and generic on real storage, with
// domain "dom" and the repositories the test names.
type lifecycleEnv struct {
	t       *testing.T
	r       *registry.Registry
	blobDir string
}

func newLifecycle(t *testing.T, repos ...string) *lifecycleEnv {
	t.Helper()
	st, bl, blobDir := embedded.Storage(t)
	e := &lifecycleEnv{t: t, blobDir: blobDir,
		r: registry.New(st, bl, slog.New(slog.NewTextHandler(io.Discard, nil)), pypi.Format{}, generic.Format{})}
	ctx := context.Background()
	if _, err := e.r.CreateDomain(ctx, owner, "dom", ""); err != nil {
		t.Fatal(err)
	}
	for _, name := range repos {
		up := []string(nil)
		if n, u, ok := strings.Cut(name, ">"); ok { // "src>up": src has upstream up
			name, up = n, []string{u}
		}
		if _, err := e.r.CreateRepository(ctx, owner, "dom", name, "", up); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func ref(repo string) registry.RepoRef {
	return registry.RepoRef{Owner: owner, Domain: "dom", Repository: repo}
}

// publish publishes a generic asset (ns/p) and returns the result.
func (e *lifecycleEnv) publish(repo, version, asset, content string, unfinished bool) (registry.PublishResult, error) {
	return e.r.Publish(context.Background(), registry.PublishRequest{Repo: ref(repo), Format: "generic", Namespace: "ns", Name: "p",
		Version: version, AssetName: asset, Content: strings.NewReader(content), Unfinished: unfinished})
}

func (e *lifecycleEnv) mustPublish(repo, version, asset, content string) registry.PublishResult {
	e.t.Helper()
	res, err := e.publish(repo, version, asset, content, false)
	if err != nil {
		e.t.Fatal(err)
	}
	return res
}

// onDisk reports whether the blob of sha exists in the blob directory.
func (e *lifecycleEnv) onDisk(sha string) bool {
	_, err := os.Stat(filepath.Join(e.blobDir, owner, "dom", sha[:2], sha))
	return err == nil
}

func (e *lifecycleEnv) status(repo, version string) string {
	e.t.Helper()
	v, err := e.r.DescribeVersion(context.Background(), ref(repo), "generic", "ns", "p", version)
	if err != nil {
		e.t.Fatal(err)
	}
	return v.Status
}

func wantOutcome(t *testing.T, o registry.Outcome, ok map[string]string, failedCodes map[string]string) {
	t.Helper()
	if len(o.Succeeded) != len(ok) || len(o.Failed) != len(failedCodes) {
		t.Fatalf("outcome %+v, want successes %v and failures %v", o, ok, failedCodes)
	}
	for v, st := range ok {
		if got := o.Succeeded[v]; got.Status != st || got.Revision == "" {
			t.Errorf("%s: got %+v, want status %s with a revision", v, got, st)
		}
	}
	for v, code := range failedCodes {
		if got := o.Failed[v]; got.Code != code || got.Message == "" {
			t.Errorf("%s: got %+v, want %s with a message", v, got, code)
		}
	}
}

func TestLifecycleStatusTransitions(t *testing.T) {
	ctx := context.Background()
	e := newLifecycle(t, "r")
	first := e.mustPublish("r", "1.0", "a.bin", "one")
	e.mustPublish("r", "1.1", "a.bin", "one.one")
	e.mustPublish("r", "2.0", "a.bin", "two")
	upd := func(sel registry.Selection, target string) registry.Outcome {
		t.Helper()
		o, err := e.r.UpdateVersionsStatus(ctx, ref("r"), "generic", "ns", "p", sel, target)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}

	o := upd(registry.Selection{Versions: []string{"1.0", "1.1", "9.9"}}, registry.StatusArchived)
	wantOutcome(t, o, map[string]string{"1.0": "Archived", "1.1": "Archived"}, map[string]string{"9.9": registry.CodeNotFound})
	if o.Succeeded["1.0"].Revision == first.Version.Revision {
		t.Error("the revision must change with the status")
	}
	_, err := e.r.OpenAsset(ctx, ref("r"), "generic", "ns", "p", "1.0", "a.bin")
	mustKind(t, err, registry.KindGone, "Archived and cannot be downloaded")
	mustKind(t, err, registry.KindGone, "--target-status Published")

	wantOutcome(t, upd(registry.Selection{Versions: []string{"1.0"}}, registry.StatusArchived), nil, map[string]string{"1.0": registry.CodeSkipped})
	wantOutcome(t, upd(registry.Selection{Versions: []string{"1.0", "2.0"}, ExpectedStatus: registry.StatusArchived}, registry.StatusUnlisted),
		map[string]string{"1.0": "Unlisted"}, map[string]string{"2.0": registry.CodeMismatchedStatus})

	// Unlisted versions stay downloadable.
	obj, err := e.r.OpenAsset(ctx, ref("r"), "generic", "ns", "p", "1.0", "a.bin")
	if err != nil {
		t.Fatal(err)
	}
	obj.Close()

	// Compare-and-set on revisions; a version named only in the map counts.
	cur, _ := e.r.DescribeVersion(ctx, ref("r"), "generic", "ns", "p", "1.1")
	wantOutcome(t, upd(registry.Selection{Revisions: map[string]string{"1.1": "stale", "2.0": "stale"}}, registry.StatusPublished),
		nil, map[string]string{"1.1": registry.CodeMismatchedRevision, "2.0": registry.CodeMismatchedRevision})
	wantOutcome(t, upd(registry.Selection{Versions: []string{"1.1"}, Revisions: map[string]string{"1.1": cur.Revision}}, registry.StatusPublished),
		map[string]string{"1.1": "Published"}, nil)

	_, err = e.r.UpdateVersionsStatus(ctx, ref("r"), "generic", "ns", "p", registry.Selection{Versions: []string{"1.0"}}, registry.StatusDisposed)
	mustKind(t, err, registry.KindValidation, "dispose-package-versions")
	_, err = e.r.UpdateVersionsStatus(ctx, ref("r"), "generic", "ns", "nope", registry.Selection{Versions: []string{"1.0"}}, registry.StatusArchived)
	mustKind(t, err, registry.KindNotFound, "nope")

	if _, err := e.r.DisposeVersions(ctx, ref("r"), "generic", "ns", "p", registry.Selection{Versions: []string{"2.0"}}); err != nil {
		t.Fatal(err)
	}
	wantOutcome(t, upd(registry.Selection{Versions: []string{"2.0"}}, registry.StatusPublished), nil, map[string]string{"2.0": registry.CodeNotAllowed})
	_, err = e.r.OpenAsset(ctx, ref("r"), "generic", "ns", "p", "2.0", "a.bin")
	mustKind(t, err, registry.KindGone, "disposed")
}

func TestLifecycleUnfinishedPublish(t *testing.T) {
	ctx := context.Background()
	e := newLifecycle(t, "r")
	res, err := e.publish("r", "1.0", "a.bin", "a", true)
	if err != nil || res.Version.Status != registry.StatusUnfinished {
		t.Fatalf("unfinished publish: %+v %v", res.Version, err)
	}
	_, err = e.r.OpenAsset(ctx, ref("r"), "generic", "ns", "p", "1.0", "a.bin")
	mustKind(t, err, registry.KindGone, "Unfinished")
	res2, err := e.publish("r", "1.0", "b.bin", "b", true)
	if err != nil || res2.Version.Status != registry.StatusUnfinished || res2.Version.Revision == res.Version.Revision {
		t.Fatalf("second unfinished asset: %+v %v", res2.Version, err)
	}
	res3, err := e.publish("r", "1.0", "c.bin", "c", false)
	if err != nil || res3.Version.Status != registry.StatusPublished {
		t.Fatalf("the last asset must publish the version: %+v %v", res3.Version, err)
	}
	_, assets, _ := e.r.ListAssets(ctx, ref("r"), "generic", "ns", "p", "1.0")
	if len(assets) != 3 {
		t.Fatalf("want 3 assets, got %d", len(assets))
	}
	_, err = e.publish("r", "1.0", "d.bin", "d", false)
	mustKind(t, err, registry.KindConflict, "no asset can be added")
	_, err = e.publish("r", "1.0", "d.bin", "d", true)
	mustKind(t, err, registry.KindConflict, "no asset can be added")
	if again, err := e.publish("r", "1.0", "a.bin", "a", true); err != nil || !again.Unchanged || again.Version.Status != registry.StatusPublished {
		t.Fatalf("identical retry must succeed and never unpublish: %+v %v", again, err)
	}
	_, err = e.publish("r", "1.0", "a.bin", "other", false)
	mustKind(t, err, registry.KindConflict, "File already exists")

	// A version that was never unfinished is published at once.
	if e.mustPublish("r", "2.0", "x.bin", "x").Version.Status != registry.StatusPublished {
		t.Fatal("a publish without unfinished must be Published")
	}
	for _, bad := range []string{"a/b", "..", "a b", "a\x00"} {
		_, err = e.publish("r", "3.0", bad, "x", false)
		mustKind(t, err, registry.KindValidation, "")
	}
	_, err = e.r.Publish(ctx, registry.PublishRequest{Repo: ref("r"), Format: "generic", Name: "p", Version: "1", AssetName: "f", Content: strings.NewReader("x")})
	mustKind(t, err, registry.KindValidation, "namespace")
}

// TestLifecycleDisposeDeletesOrphanBlobs checks that bytes leave the disk
// exactly when nothing in the domain references them any more, sidecars
// included.
func TestLifecycleDisposeDeletesOrphanBlobs(t *testing.T) {
	ctx := context.Background()
	e := newLifecycle(t, "a", "b")
	first, err := e.publish("a", "1.0", "f.bin", "shared bytes", true)
	if err != nil {
		t.Fatal(err)
	}
	shared := first.Asset.SHA256
	e.mustPublish("b", "1.0", "f.bin", "shared bytes")
	own := e.mustPublish("a", "1.0", "g.bin", "only in a").Asset.SHA256

	// Two wheels with the same METADATA (common across platforms), in two
	// repositories, and a generic asset whose bytes equal another sidecar.
	wheel := func(repo, file, content, sidecar string) registry.PublishResult {
		t.Helper()
		res, err := e.r.Publish(ctx, registry.PublishRequest{Repo: ref(repo), Format: "pypi", Name: "w", Version: "1.0", AssetName: file,
			Content: strings.NewReader(content), Inspect: func(blob.Object) (registry.Inspection, error) {
				return registry.Inspection{Sidecars: map[string][]byte{"metadata": []byte(sidecar)}}, nil
			}})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	w1 := wheel("a", "w-1.0-py3-none-any.whl", "wheel one", "METADATA shared")
	wheel("b", "w-1.0-cp311-none-any.whl", "wheel two", "METADATA shared")
	metaShared := w1.Asset.Attributes[registry.SidecarAttr("metadata")]
	wheel("a", "w-1.0-cp312-none-any.whl", "wheel three", "sidecar equal to an asset")
	e.mustPublish("b", "9.0", "m.txt", "sidecar equal to an asset")
	w4 := wheel("b", "w-1.0-cp313-none-any.whl", "wheel four", "METADATA only here")
	metaOnly := w4.Asset.Attributes[registry.SidecarAttr("metadata")]
	for _, sha := range []string{shared, own, metaShared, metaOnly} {
		if !e.onDisk(sha) {
			t.Fatalf("blob %s should be on disk", sha)
		}
	}

	dispose := func(repo, format, ns, name string) {
		t.Helper()
		o, err := e.r.DisposeVersions(ctx, ref(repo), format, ns, name, registry.Selection{Versions: []string{"1.0"}})
		if err != nil {
			t.Fatal(err)
		}
		wantOutcome(t, o, map[string]string{"1.0": "Disposed"}, nil)
	}
	dispose("a", "generic", "ns", "p")
	if !e.onDisk(shared) || e.onDisk(own) {
		t.Fatalf("after disposing in a: shared blob must stay (b uses it), a's own blob must go: shared=%v own=%v", e.onDisk(shared), e.onDisk(own))
	}
	if _, assets, _ := e.r.ListAssets(ctx, ref("a"), "generic", "ns", "p", "1.0"); len(assets) != 0 || e.status("a", "1.0") != "Disposed" {
		t.Fatalf("a disposed version has no assets: %v", assets)
	}
	o, _ := e.r.DisposeVersions(ctx, ref("a"), "generic", "ns", "p", registry.Selection{Versions: []string{"1.0"}})
	wantOutcome(t, o, nil, map[string]string{"1.0": registry.CodeSkipped})
	dispose("b", "generic", "ns", "p")
	if e.onDisk(shared) {
		t.Fatal("the shared blob must be deleted once no repository references it")
	}

	dispose("a", "pypi", "", "w")
	if !e.onDisk(metaShared) {
		t.Fatal("a sidecar another wheel still references must stay")
	}
	if sha := sha256hex("sidecar equal to an asset"); !e.onDisk(sha) {
		t.Fatal("a sidecar whose bytes are another asset's must stay")
	}
	dispose("b", "pypi", "", "w")
	if e.onDisk(metaShared) || e.onDisk(metaOnly) {
		t.Fatal("sidecars nothing references must be deleted")
	}
}

func TestLifecycleDelete(t *testing.T) {
	ctx := context.Background()
	e := newLifecycle(t, "r")
	sha1 := e.mustPublish("r", "1.0", "a.bin", "v1").Asset.SHA256
	sha2 := e.mustPublish("r", "2.0", "a.bin", "v2").Asset.SHA256
	o, err := e.r.DeleteVersions(ctx, ref("r"), "generic", "ns", "p", registry.Selection{Versions: []string{"1.0", "3.0"}, ExpectedStatus: ""})
	if err != nil {
		t.Fatal(err)
	}
	wantOutcome(t, o, map[string]string{"1.0": registry.StatusDeleted}, map[string]string{"3.0": registry.CodeNotFound})
	if e.onDisk(sha1) || !e.onDisk(sha2) {
		t.Fatal("deleting a version deletes its bytes only")
	}
	if _, err := e.r.DescribeVersion(ctx, ref("r"), "generic", "ns", "p", "1.0"); !registry.IsKind(err, registry.KindNotFound) {
		t.Fatalf("a deleted version is gone: %v", err)
	}
	o, _ = e.r.DeleteVersions(ctx, ref("r"), "generic", "ns", "p", registry.Selection{Versions: []string{"2.0"}, ExpectedStatus: registry.StatusArchived})
	wantOutcome(t, o, nil, map[string]string{"2.0": registry.CodeMismatchedStatus})
	e.mustPublish("r", "1.0", "a.bin", "v1 again") // a deleted version may be published again

	p, err := e.r.DeletePackage(ctx, ref("r"), "generic", "ns", "p")
	if err != nil || p.Name != "p" || p.Namespace != "ns" || p.OriginPublish != registry.Allow {
		t.Fatalf("DeletePackage: %+v %v", p, err)
	}
	if e.onDisk(sha2) {
		t.Fatal("deleting a package deletes its bytes")
	}
	_, err = e.r.DeletePackage(ctx, ref("r"), "generic", "ns", "p")
	mustKind(t, err, registry.KindNotFound, "not found")
}

func TestLifecycleCopy(t *testing.T) {
	ctx := context.Background()
	e := newLifecycle(t, "up", "src>up", "dst")
	src, err := e.publish("src", "1.0", "a.bin", "one", true)
	if err != nil {
		t.Fatal(err)
	}
	e.mustPublish("src", "1.0", "b.bin", "one-b")
	e.mustPublish("up", "2.0", "a.bin", "two")
	cp := func(req registry.CopyRequest) registry.Outcome {
		t.Helper()
		req.Owner, req.Domain, req.Format, req.Namespace, req.Name = owner, "dom", "generic", "ns", "p"
		if req.Source == "" {
			req.Source, req.Destination = "src", "dst"
		}
		o, err := e.r.CopyVersions(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	o := cp(registry.CopyRequest{Versions: []string{"1.0", "2.0"}})
	wantOutcome(t, o, map[string]string{"1.0": "Published"}, map[string]string{"2.0": registry.CodeNotFound})
	_, assets, err := e.r.ListAssets(ctx, ref("dst"), "generic", "ns", "p", "1.0")
	if err != nil || len(assets) != 2 || assets[0].SHA256 != src.Asset.SHA256 {
		t.Fatalf("copied assets: %+v %v", assets, err)
	}
	// Idempotent: the same content again is a success that changes nothing.
	again := cp(registry.CopyRequest{Versions: []string{"1.0"}})
	wantOutcome(t, again, map[string]string{"1.0": "Published"}, nil)
	if again.Succeeded["1.0"].Revision != o.Succeeded["1.0"].Revision {
		t.Error("an identical copy must not change the destination")
	}

	// Statuses travel with the copy; revisions are compare-and-set.
	if _, err := e.r.UpdateVersionsStatus(ctx, ref("src"), "generic", "ns", "p", registry.Selection{Versions: []string{"1.0"}}, registry.StatusUnlisted); err != nil {
		t.Fatal(err)
	}
	cur, _ := e.r.DescribeVersion(ctx, ref("src"), "generic", "ns", "p", "1.0")
	wantOutcome(t, cp(registry.CopyRequest{Source: "src", Destination: "up", Revisions: map[string]string{"1.0": "stale"}}), nil, map[string]string{"1.0": registry.CodeMismatchedRevision})
	wantOutcome(t, cp(registry.CopyRequest{Source: "src", Destination: "up", Revisions: map[string]string{"1.0": cur.Revision}}), map[string]string{"1.0": "Unlisted"}, nil)

	// Different content in the destination: ALREADY_EXISTS unless overwriting,
	// and the overwritten bytes leave the disk.
	stale := e.mustPublish("dst", "3.0", "a.bin", "dst's own three").Asset.SHA256
	e.mustPublish("src", "3.0", "a.bin", "src's three")
	wantOutcome(t, cp(registry.CopyRequest{Versions: []string{"3.0"}}), nil, map[string]string{"3.0": registry.CodeAlreadyExists})
	wantOutcome(t, cp(registry.CopyRequest{Versions: []string{"3.0"}, AllowOverwrite: true}), map[string]string{"3.0": "Published"}, nil)
	if e.onDisk(stale) {
		t.Error("the overwritten version's bytes must be deleted")
	}
	if obj, err := e.r.OpenAsset(ctx, ref("dst"), "generic", "ns", "p", "3.0", "a.bin"); err != nil || obj.Asset.SHA256 != sha256hex("src's three") {
		t.Fatalf("overwritten asset: %v", err)
	} else {
		obj.Close()
	}

	// includeFromUpstream copies what src sees through its upstreams, which
	// origin controls decide: with upstream=BLOCK, src sees none.
	wantOutcome(t, cp(registry.CopyRequest{Versions: []string{"2.0"}, IncludeFromUpstream: true}), nil, map[string]string{"2.0": registry.CodeNotFound})
	if _, err := e.r.PutOriginConfiguration(ctx, ref("src"), "generic", "ns", "p", registry.Allow, registry.Allow); err != nil {
		t.Fatal(err)
	}
	wantOutcome(t, cp(registry.CopyRequest{Versions: []string{"2.0"}, IncludeFromUpstream: true}), map[string]string{"2.0": "Published"}, nil)
	e.r.DisposeVersions(ctx, ref("src"), "generic", "ns", "p", registry.Selection{Versions: []string{"3.0"}})
	wantOutcome(t, cp(registry.CopyRequest{Source: "src", Destination: "up", Versions: []string{"3.0"}}), nil, map[string]string{"3.0": registry.CodeNotAllowed})

	for _, bad := range []registry.CopyRequest{
		{Source: "src", Destination: "src", Versions: []string{"1.0"}},
		{Versions: []string{"1.0"}, Revisions: map[string]string{"1.0": "x"}},
		{Source: "src", Destination: "dst"},
	} {
		bad.Owner, bad.Domain, bad.Format, bad.Namespace, bad.Name = owner, "dom", "generic", "ns", "p"
		if bad.Source == "" {
			bad.Source, bad.Destination = "src", "dst"
		}
		_, err := e.r.CopyVersions(ctx, bad)
		mustKind(t, err, registry.KindValidation, "")
	}
	_, err = e.r.CopyVersions(ctx, registry.CopyRequest{Owner: owner, Domain: "dom", Source: "dst", Destination: "src", Format: "generic", Namespace: "ns", Name: "other", Versions: []string{"1"}})
	mustKind(t, err, registry.KindNotFound, "includeFromUpstream")
	_, err = e.r.CopyVersions(ctx, registry.CopyRequest{Owner: owner, Domain: "dom", Source: "src", Destination: "nowhere", Format: "generic", Namespace: "ns", Name: "p", Versions: []string{"1.0"}})
	mustKind(t, err, registry.KindNotFound, "nowhere")
}

func TestLifecycleReadme(t *testing.T) {
	ctx := context.Background()
	e := newLifecycle(t, "r")
	_, err := e.r.Publish(ctx, registry.PublishRequest{Repo: ref("r"), Format: "pypi", Name: "Read.Me", Version: "1.0", AssetName: "read_me-1.0.tar.gz",
		Content: strings.NewReader("x"), Inspect: func(blob.Object) (registry.Inspection, error) {
			return registry.Inspection{VersionAttributes: map[string]string{"pypi.description": "# Read me\n"}}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	if _, readme, err := e.r.Readme(ctx, ref("r"), "pypi", "", "read-me", "1.0"); err != nil || readme != "# Read me\n" {
		t.Fatalf("pypi readme %q %v", readme, err)
	}
	e.mustPublish("r", "1.0", "README.md", "# not interpreted")
	if _, readme, err := e.r.Readme(ctx, ref("r"), "generic", "ns", "p", "1.0"); err != nil || readme != "" {
		t.Fatalf("generic readme must be empty, got %q %v", readme, err)
	}
	_, _, err = e.r.Readme(ctx, ref("r"), "generic", "ns", "p", "9")
	mustKind(t, err, registry.KindNotFound, "9")
}

func sha256hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
