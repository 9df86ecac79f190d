package server

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/wharfhq/wharf/internal/blob/fsblob"
	"github.com/wharfhq/wharf/internal/format/pypi"
	"github.com/wharfhq/wharf/internal/registry"
	"github.com/wharfhq/wharf/internal/store"
	"github.com/wharfhq/wharf/internal/store/postgres"
	"github.com/wharfhq/wharf/internal/testenv/pgtest"
)

// replica is what a wharf replica has on the read path of an index page:
// its own registry (and so its own caches) over the shared PostgreSQL
// database, the pypi handler, and the Sync every request starts with (as
// synced does in the server). Its store counts the query each render of a
// project page makes, per project: the page cache's misses.
type replica struct {
	t       testing.TB
	reg     *registry.Registry
	renders *renderCounter
	pages   http.Handler // the pypi handler alone
	h       http.Handler // Sync, then pages
}

type renderCounter struct {
	store.Store
	mu sync.Mutex
	n  map[string]int // project -> ListPackageFiles calls
}

func (c *renderCounter) ListPackageFiles(ctx context.Context, k store.PackageKey) ([]store.PackageFile, error) {
	c.mu.Lock()
	c.n[k.Name]++
	c.mu.Unlock()
	return c.Store.ListPackageFiles(ctx, k)
}

func (c *renderCounter) count(project string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[project]
}

const replicaOwner = "123456789012"

func newReplicas(t testing.TB, n int) []*replica {
	t.Helper()
	dsn := pgtest.NewDatabase(t)
	blobs, err := fsblob.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var out []*replica
	for range n {
		st, err := postgres.Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		rc := &renderCounter{Store: st, n: map[string]int{}}
		reg := registry.New(rc, blobs, log, pypi.Format{})
		if err := reg.ShareStore(t.Context()); err != nil {
			t.Fatal(err)
		}
		h := pypi.NewHandler(reg, log)
		rp := &replica{t: t, reg: reg, renders: rc}
		rp.pages = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			repo, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/pypi/"), "/")
			h.ServeRepo(w, r, registry.RepoRef{Owner: replicaOwner, Domain: "dom", Repository: repo}, "/"+rest)
		})
		rp.h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := reg.Sync(r.Context()); err != nil {
				http.Error(w, err.Error(), http.StatusServiceUnavailable)
				return
			}
			rp.pages.ServeHTTP(w, r)
		})
		out = append(out, rp)
	}
	ctx := t.Context()
	if _, err := out[0].reg.CreateDomain(ctx, replicaOwner, "dom", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := out[0].reg.CreateRepository(ctx, replicaOwner, "dom", "repo", "", nil); err != nil {
		t.Fatal(err)
	}
	return out
}

// upload publishes a wheel through the replica's upload API, as twine does.
func (rp *replica) upload(name, version string) {
	rp.t.Helper()
	dist := strings.ReplaceAll(name, "-", "_")
	var whl bytes.Buffer
	zw := zip.NewWriter(&whl)
	for n, c := range map[string]string{
		dist + "/__init__.py":                        "V = " + version + "\n",
		dist + "-" + version + ".dist-info/METADATA": "Metadata-Version: 2.1\nName: " + name + "\nVersion: " + version + "\n\n",
		dist + "-" + version + ".dist-info/WHEEL":    "Wheel-Version: 1.0\n",
	} {
		w, _ := zw.Create(n)
		io.WriteString(w, c)
	}
	zw.Close()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	sum := sha256.Sum256(whl.Bytes())
	for k, v := range map[string]string{":action": "file_upload", "protocol_version": "1", "name": name, "version": version,
		"filetype": "bdist_wheel", "pyversion": "py3", "metadata_version": "2.1", "sha256_digest": hex.EncodeToString(sum[:])} {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("content", dist+"-"+version+"-py3-none-any.whl")
	fw.Write(whl.Bytes())
	mw.Close()
	req := httptest.NewRequest("POST", "/pypi/repo/", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	w := httptest.NewRecorder()
	rp.h.ServeHTTP(w, req)
	if w.Code != 200 {
		rp.t.Fatalf("upload %s %s: %d %s", name, version, w.Code, w.Body)
	}
}

// versions reads a project page (PEP 691 JSON) through the replica.
func (rp *replica) versions(project string) []string {
	rp.t.Helper()
	req := httptest.NewRequest("GET", "/pypi/repo/simple/"+project+"/", nil)
	req.Header.Set("Accept", "application/vnd.pypi.simple.v1+json")
	w := httptest.NewRecorder()
	rp.h.ServeHTTP(w, req)
	if w.Code != 200 {
		rp.t.Fatalf("GET %s: %d %s", project, w.Code, w.Body)
	}
	var page struct{ Versions []string }
	if err := json.Unmarshal(w.Body.Bytes(), &page); err != nil {
		rp.t.Fatal(err)
	}
	return page.Versions
}

// Issue 11, item 10: a version published through replica A is on replica
// B's project page on the very next request, every time; and B's page
// cache still serves an unchanged project from memory (its hit rate,
// counted by the renders its store sees, stays above 99% while A keeps
// publishing other projects).
func TestReplicaCachesFollowTheChangeFeed(t *testing.T) {
	rs := newReplicas(t, 2)
	a, b := rs[0], rs[1]
	a.upload("stable", "1.0")
	const rounds = 200
	misses := 0
	for i := range rounds {
		version := fmt.Sprintf("1.%d", i)
		a.upload("hot", version)
		if got := b.versions("hot"); len(got) == 0 || got[len(got)-1] != version {
			misses++
		}
		b.versions("stable") // unchanged: from B's page cache after the first render
	}
	if misses > 0 {
		t.Errorf("%d of %d versions published through A were missing from B's next project page", misses, rounds)
	}
	stableRequests, stableRenders := rounds, b.renders.count("stable")
	hitRate := 1 - float64(stableRenders)/float64(stableRequests)
	t.Logf("unchanged project on B while A published %d versions of another: %d renders for %d requests (page-cache hit rate %.1f%%)",
		rounds, stableRenders, stableRequests, 100*hitRate)
	if hitRate < 0.99 {
		t.Errorf("page-cache hit rate on an unchanged project: %.1f%%, want above 99%%", 100*hitRate)
	}
	// A publish invalidates exactly once: B rendered "hot" once per version.
	if got := b.renders.count("hot"); got != rounds {
		t.Errorf("B rendered the changing page %d times for %d versions", got, rounds)
	}
	syncs, applied := b.reg.SyncStats()
	t.Logf("replica B: %d feed reads, %d changes applied", syncs, applied)
}

// BenchmarkCachedPageShared serves a cached project page on a replica of a
// shared store (each request reads the change feed first, as the server
// does); BenchmarkCachedPageLocal is the same without the feed read. The
// difference is the per-request cost of reading one's own writes across
// replicas.
// Clients is the number of concurrent requests per GOMAXPROCS.
func BenchmarkCachedPageShared(b *testing.B) {
	for _, clients := range []int{1, 16} {
		b.Run(fmt.Sprintf("clients=%dxGOMAXPROCS", clients), func(b *testing.B) { benchCachedPage(b, true, clients) })
	}
}

func BenchmarkCachedPageLocal(b *testing.B) {
	for _, clients := range []int{1, 16} {
		b.Run(fmt.Sprintf("clients=%dxGOMAXPROCS", clients), func(b *testing.B) { benchCachedPage(b, false, clients) })
	}
}

func benchCachedPage(b *testing.B, shared bool, clients int) {
	rs := newReplicas(b, 2)
	rs[0].upload("stable", "1.0")
	rp := rs[1]
	rp.versions("stable") // B syncs, and renders and caches the JSON page
	h := rp.h
	if !shared {
		h = rp.pages
	}
	renders := rp.renders.count("stable")
	reads, _ := rp.reg.SyncStats()
	b.SetParallelism(clients)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest("GET", "/pypi/repo/simple/stable/", nil)
			req.Header.Set("Accept", "application/vnd.pypi.simple.v1+json")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != 200 {
				b.Errorf("status %d", w.Code)
				return
			}
		}
	})
	b.StopTimer()
	after, _ := rp.reg.SyncStats()
	b.ReportMetric(float64(after-reads)/float64(b.N), "feedreads/op")
	if extra := rp.renders.count("stable") - renders; extra > 0 {
		b.Fatalf("%d renders of an unchanged page during the benchmark", extra)
	}
}
