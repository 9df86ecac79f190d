package pypi

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
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
	"sync/atomic"
	"testing"
	"time"

	"github.com/wharfhq/wharf/internal/registry"
	"github.com/wharfhq/wharf/internal/store"
	"github.com/wharfhq/wharf/internal/testenv/embedded"
	"github.com/wharfhq/wharf/internal/upstream"
)

// cacheFixture serves repositories "repo" (upstream: "up") and "up" of one
// domain through one Handler, over a real SQLite file and blob directory.
type cacheFixture struct {
	t     testing.TB
	reg   *registry.Registry
	st    store.Store
	reads *countingReads // the registry's store: st, with its reads counted
	h     *Handler
	srv   *httptest.Server
}

// countingReads counts (and, with delay, slows) the query every view of a
// package makes, so a test can see how many times pages were rendered.
type countingReads struct {
	store.Store
	assetLists atomic.Int64
	delay      atomic.Int64 // time.Duration
}

func (c *countingReads) ListPackageFiles(ctx context.Context, k store.PackageKey) ([]store.PackageFile, error) {
	c.assetLists.Add(1)
	time.Sleep(time.Duration(c.delay.Load()))
	return c.Store.ListPackageFiles(ctx, k)
}

func newCacheFixture(t testing.TB) *cacheFixture {
	t.Helper()
	st, bl, _ := embedded.Storage(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	reads := &countingReads{Store: st}
	reg := registry.New(reads, bl, log, Format{})
	ctx := t.Context()
	if _, err := reg.CreateDomain(ctx, testOwner, "dom", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.CreateRepository(ctx, testOwner, "dom", "up", "", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.CreateRepository(ctx, testOwner, "dom", "repo", "", []string{"up"}); err != nil {
		t.Fatal(err)
	}
	f := &cacheFixture{t: t, reg: reg, st: st, reads: reads, h: NewHandler(reg, log)}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		repo, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/pypi/"), "/")
		f.h.ServeRepo(w, r, f.ref(repo), "/"+rest)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *cacheFixture) ref(repo string) registry.RepoRef {
	return registry.RepoRef{Owner: testOwner, Domain: "dom", Repository: repo}
}

func wheelBytes(name, version string) (string, []byte) {
	dist := strings.ReplaceAll(name, "-", "_")
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(n, c string) {
		w, _ := zw.Create(n)
		io.WriteString(w, c)
	}
	add(dist+"/__init__.py", "V = "+version+"\n")
	add(dist+"-"+version+".dist-info/METADATA", "Metadata-Version: 2.1\nName: "+name+"\nVersion: "+version+"\nSummary: demo\nRequires-Python: >=3.8\n\n")
	add(dist+"-"+version+".dist-info/WHEEL", "Wheel-Version: 1.0\n")
	zw.Close()
	return dist + "-" + version + "-py3-none-any.whl", buf.Bytes()
}

// upload publishes a wheel through the upload API, as twine does.
func (f *cacheFixture) upload(repo, name, version string) string {
	f.t.Helper()
	fn, whl := wheelBytes(name, version)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	sum := sha256.Sum256(whl)
	for k, v := range map[string]string{":action": "file_upload", "protocol_version": "1", "name": name, "version": version,
		"filetype": "bdist_wheel", "pyversion": "py3", "metadata_version": "2.1", "sha256_digest": hex.EncodeToString(sum[:])} {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("content", fn)
	fw.Write(whl)
	mw.Close()
	resp, err := http.Post(f.srv.URL+"/pypi/"+repo+"/", mw.FormDataContentType(), &body)
	if err != nil {
		f.t.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		f.t.Fatalf("upload %s: %s %s", fn, resp.Status, msg)
	}
	return fn
}

type pageResponse struct {
	status int
	header http.Header
	body   []byte // decompressed
	raw    []byte // as sent
}

func (f *cacheFixture) get(repo, project string, headers ...string) pageResponse {
	f.t.Helper()
	req, _ := http.NewRequest("GET", f.srv.URL+"/pypi/"+repo+"/simple/"+project+"/", nil)
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	pr := pageResponse{status: resp.StatusCode, header: resp.Header, body: raw, raw: raw}
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			f.t.Fatalf("gzip: %v", err)
		}
		pr.body, _ = io.ReadAll(zr)
	}
	return pr
}

var pageVariants = []struct {
	name    string
	headers []string
}{
	{"json", []string{"Accept: " + mediaJSON}},
	{"html", nil},
	{"json-gzip", []string{"Accept: " + mediaJSON, "Accept-Encoding: gzip, deflate"}},
	{"html-gzip", []string{"Accept-Encoding: gzip"}},
}

// Every write that changes a page shows on the very next request, in
// every representation, though each was cached just before.
func TestPageCacheSeesEveryWrite(t *testing.T) {
	f := newCacheFixture(t)
	ctx := t.Context()
	shows := func(step string, want, wantNot []string) {
		t.Helper()
		for _, v := range pageVariants {
			for range 2 { // the second answer comes from the cache
				r := f.get("repo", "demo", v.headers...)
				if r.status != 200 {
					t.Fatalf("%s, %s: %d %s", step, v.name, r.status, r.body)
				}
				for _, w := range want {
					if !bytes.Contains(r.body, []byte(w)) {
						t.Fatalf("%s, %s: page lacks %s:\n%s", step, v.name, w, r.body)
					}
				}
				for _, w := range wantNot {
					if bytes.Contains(r.body, []byte(w)) {
						t.Fatalf("%s, %s: page still shows %s:\n%s", step, v.name, w, r.body)
					}
				}
			}
		}
	}
	v1 := f.upload("repo", "demo", "1.0")
	shows("first publish", []string{v1}, nil)

	v2 := f.upload("repo", "demo", "2.0")
	shows("second publish", []string{v1, v2}, nil)

	// A status change (Archived versions leave the page).
	if _, err := f.reg.UpdateVersionsStatus(ctx, f.ref("repo"), "pypi", "", "demo", registry.Selection{Versions: []string{"1.0"}}, registry.StatusArchived); err != nil {
		t.Fatal(err)
	}
	shows("archive 1.0", []string{v2}, []string{v1})

	// A version published upstream: "repo" has demo with upstream=BLOCK
	// (published here first), so the upstream stays out until the origin
	// controls allow it; each of those writes shows at once.
	u3 := f.upload("up", "demo", "3.0")
	shows("publish upstream, blocked", []string{v2}, []string{u3})
	if _, err := f.reg.PutOriginConfiguration(ctx, f.ref("repo"), "pypi", "", "demo", registry.Allow, registry.Allow); err != nil {
		t.Fatal(err)
	}
	shows("allow upstream", []string{v2, u3}, nil)
	u4 := f.upload("up", "demo", "4.0")
	shows("publish upstream", []string{v2, u3, u4}, nil)

	// Fetching an upstream file retains it here: the page is unchanged in
	// content but must not break; then dropping the upstream hides what
	// was not retained.
	resp, err := http.Get(f.srv.URL + "/pypi/repo/simple/demo/3.0/" + u3)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("download through upstream: %v %v", resp, err)
	}
	resp.Body.Close()
	shows("retained 3.0", []string{v2, u3, u4}, nil)
	if _, err := f.reg.UpdateRepository(ctx, testOwner, "dom", "repo", nil, nil, true); err != nil {
		t.Fatal(err)
	}
	shows("upstream removed", []string{v2, u3}, []string{u4})

	// An upstream-only project appears and disappears with the upstream.
	only := f.upload("up", "other", "1.0")
	if r := f.get("repo", "other"); r.status != 404 {
		t.Fatalf("other without upstream: %d", r.status)
	}
	if _, err := f.reg.UpdateRepository(ctx, testOwner, "dom", "repo", nil, []string{"up"}, true); err != nil {
		t.Fatal(err)
	}
	if r := f.get("repo", "other"); r.status != 200 || !bytes.Contains(r.body, []byte(only)) {
		t.Fatalf("other through upstream: %d %s", r.status, r.body)
	}
}

// Requests that miss the cache together wait for one render, instead of
// each reading the view (a busy page whose cached copy just expired).
func TestConcurrentMissesRenderOnce(t *testing.T) {
	f := newCacheFixture(t)
	f.upload("repo", "demo", "1.0")
	f.reads.assetLists.Store(0)
	f.reads.delay.Store(int64(300 * time.Millisecond)) // all arrive during the first render
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if r := f.get("repo", "demo"); r.status != 200 {
				t.Errorf("%d %s", r.status, r.body)
			}
		})
	}
	wg.Wait()
	if n := f.reads.assetLists.Load(); n != 1 {
		t.Fatalf("20 concurrent requests for an uncached page read the package's files %d times, want 1", n)
	}
}

func TestPageCacheRepresentations(t *testing.T) {
	f := newCacheFixture(t)
	for i := range 20 { // a page large enough to be compressed
		f.upload("repo", "demo", fmt.Sprintf("1.%d", i))
	}
	plain := f.get("repo", "demo", "Accept: "+mediaJSON)
	gz := f.get("repo", "demo", "Accept: "+mediaJSON, "Accept-Encoding: gzip")
	if gz.header.Get("Content-Encoding") != "gzip" || len(gz.raw) >= len(plain.raw) || !bytes.Equal(gz.body, plain.body) {
		t.Fatalf("gzip: encoding %q, %d bytes vs %d plain, same content %v", gz.header.Get("Content-Encoding"), len(gz.raw), len(plain.raw), bytes.Equal(gz.body, plain.body))
	}
	if plain.header.Get("ETag") == "" || plain.header.Get("ETag") == gz.header.Get("ETag") {
		t.Fatalf("ETags: plain %q, gzip %q", plain.header.Get("ETag"), gz.header.Get("ETag"))
	}
	if plain.header.Get("Content-Type") != mediaJSON || !strings.Contains(plain.header.Get("Vary"), "Accept-Encoding") {
		t.Fatalf("headers: %v", plain.header)
	}
	for _, refused := range []string{"gzip;q=0", "identity", "br"} {
		if r := f.get("repo", "demo", "Accept: "+mediaJSON, "Accept-Encoding: "+refused); r.header.Get("Content-Encoding") != "" {
			t.Fatalf("Accept-Encoding %q got %q", refused, r.header.Get("Content-Encoding"))
		}
	}
	// Conditional requests, per representation.
	if r := f.get("repo", "demo", "Accept: "+mediaJSON, "If-None-Match: "+plain.header.Get("ETag")); r.status != 304 || len(r.raw) != 0 {
		t.Fatalf("If-None-Match: %d", r.status)
	}
	if r := f.get("repo", "demo", "Accept: "+mediaJSON, "Accept-Encoding: gzip", "If-None-Match: W/"+gz.header.Get("ETag")); r.status != 304 {
		t.Fatalf("If-None-Match (gzip, weak): %d", r.status)
	}
	if r := f.get("repo", "demo", "Accept: "+mediaJSON, `If-None-Match: "other"`); r.status != 200 {
		t.Fatalf("If-None-Match other: %d", r.status)
	}
	// HTML and JSON are cached apart.
	html := f.get("repo", "demo")
	if !strings.HasPrefix(html.header.Get("Content-Type"), "text/html") || !bytes.HasPrefix(html.body, []byte("<!DOCTYPE html>")) {
		t.Fatalf("HTML after JSON: %v %.100s", html.header, html.body)
	}
	// Range still works on a page.
	if r := f.get("repo", "demo", "Accept: "+mediaJSON, "Range: bytes=0-9"); r.status != 206 || !bytes.Equal(r.raw, plain.raw[:10]) {
		t.Fatalf("Range: %d %q", r.status, r.raw)
	}
	// After a publish the ETag changes, so a revalidating client gets the
	// new page, not a 304.
	f.upload("repo", "demo", "2.0")
	if r := f.get("repo", "demo", "Accept: "+mediaJSON, "If-None-Match: "+plain.header.Get("ETag")); r.status != 200 || !bytes.Contains(r.body, []byte("demo-2.0-")) {
		t.Fatalf("revalidation after publish: %d", r.status)
	}
}

func TestAcceptsGzip(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want bool
	}{
		{nil, false}, {[]string{""}, false}, {[]string{"gzip"}, true}, {[]string{"gzip, deflate"}, true},
		{[]string{"deflate, GZIP;q=0.5"}, true}, {[]string{"br", "gzip"}, true}, {[]string{"gzip;q=0"}, false},
		{[]string{"gzip; q=0.0"}, false}, {[]string{"*"}, true}, {[]string{"identity"}, false}, {[]string{"x-gzip2"}, false},
	} {
		if got := acceptsGzip(c.in); got != c.want {
			t.Errorf("acceptsGzip(%q) = %v", c.in, got)
		}
	}
}

// A page that consulted an external connection is reused while the
// upstream page is fresh, and shows what the upstream lists once it expires.
func TestPageCacheVolatileFollowsUpstreamTTL(t *testing.T) {
	f := newCacheFixture(t)
	ctx := t.Context()
	var mu sync.Mutex
	listed := "1.0"
	fetches := 0
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		fetches++
		name := "ext_pkg-" + listed + "-py3-none-any.whl"
		fmt.Fprintf(w, `<a href="../../files/%s#sha256=%s">%s</a>`, name, sumA, name)
	}))
	t.Cleanup(up.Close)
	const ttl = 300 * time.Millisecond
	client := upstream.New(upstream.Config{TTL: ttl}, f.st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := f.reg.UseUpstreams(client, map[string]upstream.Connection{"public:pypi": upstream.MustParseConnection(up.URL + "/simple/")}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.reg.AssociateExternalConnection(ctx, testOwner, "dom", "up", "public:pypi"); err != nil {
		t.Fatal(err)
	}
	for _, v := range pageVariants {
		if p := f.get("repo", "ext-pkg", v.headers...); p.status != 200 || !strings.Contains(string(p.body), "ext_pkg-1.0-") {
			t.Fatalf("%s: %d %s", v.name, p.status, p.body)
		}
	}
	mu.Lock()
	listed = "2.0"
	mu.Unlock()
	time.Sleep(ttl + 100*time.Millisecond) // past the upstream page's TTL
	for _, v := range pageVariants {
		if p := f.get("repo", "ext-pkg", v.headers...); p.status != 200 || !strings.Contains(string(p.body), "ext_pkg-2.0-") {
			t.Fatalf("%s after the TTL: %d %s", v.name, p.status, p.body)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if fetches != 2 {
		t.Errorf("upstream fetched %d times, want 2", fetches)
	}
}

// The root index is streamed one store page at a time; every project is
// listed once, in both representations, across page boundaries.
func TestRootIndexStreamsAllProjects(t *testing.T) {
	f := newCacheFixture(t)
	ctx := t.Context()
	const n = 1001 // the handler lists 1000 per store page
	for i := range n {
		k := store.PackageKey{DomainOwner: testOwner, DomainName: "dom", Repository: "repo", Format: "pypi", Name: fmt.Sprintf("p-%04d", i)}
		v := store.PackageVersion{VersionKey: store.VersionKey{PackageKey: k, Version: "1.0"}, DisplayVersion: "1.0", Status: "Published", Revision: "r", OriginType: "INTERNAL"}
		a := store.Asset{VersionKey: v.VersionKey, Name: fmt.Sprintf("p_%04d-1.0-py3-none-any.whl", i), Size: 1, SHA256: sumA}
		if _, err := f.st.AddAsset(ctx, store.Package{PackageKey: k, DisplayName: k.Name, OriginPublish: "ALLOW", OriginUpstream: "BLOCK"}, v, a); err != nil {
			t.Fatal(err)
		}
	}
	req, _ := http.NewRequest("GET", f.srv.URL+"/pypi/repo/simple/", nil)
	req.Header.Set("Accept", mediaJSON)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Meta     map[string]string       `json:"meta"`
		Projects []struct{ Name string } `json:"projects"`
	}
	err = json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if err != nil || len(doc.Projects) != n || doc.Projects[n-1].Name != "p-1000" || doc.Meta["api-version"] == "" {
		t.Fatalf("JSON root: %v, %d projects, meta %v", err, len(doc.Projects), doc.Meta)
	}
	resp, err = http.Get(f.srv.URL + "/pypi/repo/simple/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if c := strings.Count(string(body), "<a href="); c != n || !strings.HasSuffix(string(body), "</html>\n") ||
		!strings.Contains(string(body), `<a href="p-1000/">p-1000</a>`) {
		t.Fatalf("HTML root: %d links\n%.300s", c, body)
	}
}
