package clients

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// staticIndex is the public registry stand-in: a directory laid out as a
// PEP 503 static index (simple/<project>/index.html + packages/), served by
// Go's file server on loopback, counting requests per path. It can be
// switched off (connection refused) or made slow.
type staticIndex struct {
	t        *testing.T
	dir      string
	srv      *httptest.Server
	mu       sync.Mutex
	requests map[string]int
	slow     atomic.Int64 // nanoseconds to stall every request
	// coreMetadata makes publish offer each wheel's METADATA as PyPI
	// does (PEP 658/714): a .metadata file beside it, and its sha256 in
	// data-core-metadata.
	coreMetadata bool
}

func newStaticIndex(t *testing.T) *staticIndex {
	si := &staticIndex{t: t, dir: t.TempDir(), requests: map[string]int{}}
	files := http.FileServer(http.Dir(si.dir))
	si.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		si.mu.Lock()
		si.requests[r.URL.Path]++
		si.mu.Unlock()
		if d := time.Duration(si.slow.Load()); d > 0 {
			select {
			case <-time.After(d):
			case <-r.Context().Done():
				return
			}
		}
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(si.srv.Close)
	return si
}

func (si *staticIndex) count(path string) int {
	si.mu.Lock()
	defer si.mu.Unlock()
	return si.requests[path]
}

// publish adds files to a project and rewrites its index page. declared
// overrides the sha256 the page declares for a filename (to simulate a
// corrupted or tampered upstream).
func (si *staticIndex) publish(project string, declared map[string]string, ds ...dist) {
	si.t.Helper()
	pdir := filepath.Join(si.dir, "simple", project)
	if err := os.MkdirAll(pdir, 0o755); err != nil {
		si.t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(si.dir, "packages"), 0o755); err != nil {
		si.t.Fatal(err)
	}
	page := filepath.Join(pdir, "index.html")
	old, _ := os.ReadFile(page)
	links := strings.TrimSuffix(strings.TrimPrefix(string(old), "<!DOCTYPE html><html><body>\n"), "</body></html>\n")
	for _, d := range ds {
		writeFile(si.t, filepath.Join(si.dir, "packages", d.Filename), d.Data)
		sum := sha256hex(d.Data)
		if s, ok := declared[d.Filename]; ok {
			sum = s
		}
		meta := ""
		if si.coreMetadata && strings.HasSuffix(d.Filename, ".whl") {
			md := wheelMetadata(si.t, d.Data)
			writeFile(si.t, filepath.Join(si.dir, "packages", d.Filename+".metadata"), md)
			meta = " data-core-metadata=\"sha256=" + sha256hex(md) + "\""
		}
		links += fmt.Sprintf("<a href=\"../../packages/%s#sha256=%s\" data-requires-python=\"&gt;=3.8\"%s>%s</a>\n", d.Filename, sum, meta, d.Filename)
	}
	writeFile(si.t, page, []byte("<!DOCTYPE html><html><body>\n"+links+"</body></html>\n"))
}

// wheelRequiring is a minimal wheel whose METADATA declares dependencies.
func wheelRequiring(t *testing.T, name, version string, requires ...string) dist {
	t.Helper()
	d := makeWheel(t, name, version, "")
	under := nonAlnum.ReplaceAllString(strings.ToLower(name), "_")
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	md := fmt.Sprintf("Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: test\nRequires-Python: >=3.8\n", name, version)
	for _, r := range requires {
		md += "Requires-Dist: " + r + "\n"
	}
	for n, body := range map[string]string{
		under + "/__init__.py":                                  "X = 1\n",
		fmt.Sprintf("%s-%s.dist-info/METADATA", under, version): md + "\n",
		fmt.Sprintf("%s-%s.dist-info/WHEEL", under, version):    "Wheel-Version: 1.0\nGenerator: wharf-e2e\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
		fmt.Sprintf("%s-%s.dist-info/RECORD", under, version):   "",
	} {
		w, _ := zw.Create(n)
		io.WriteString(w, body)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	d.Data = buf.Bytes()
	return d
}

// TestUpstreamStory is issue #3's check with real clients: pypi-store holds
// the public:pypi connection (pointed at a static index on loopback),
// proximal-hub lists it as upstream, and pip installs a private package
// whose dependency exists only upstream, with one --index-url.
func TestUpstreamStory(t *testing.T) {
	pub := newStaticIndex(t)
	publicDep1, publicDep2 := makeWheel(t, "public-dep", "1.0", ""), makeWheel(t, "public-dep", "2.0", "")
	pub.publish("public-dep", nil, publicDep1, publicDep2)
	impostor := makeWheel(t, "proximal-core", "99.0", "IMPOSTOR = True\n")
	pub.publish("proximal-core", nil, impostor)
	good, bad := makeWheel(t, "tampered", "1.0", ""), makeWheel(t, "tampered", "1.0", "EVIL = 1\n")
	pub.publish("tampered", map[string]string{good.Filename: sha256hex(good.Data)}, bad)
	pub.publish("hot", nil, makeWheel(t, "hot", "1.0", ""))

	srv := startServer(t, serverConfig{Env: map[string]string{
		"WHARF_EXTERNAL_CONNECTIONS": "public:pypi=" + pub.srv.URL + "/simple/",
		"WHARF_UPSTREAM_TTL":         "1s",
		"WHARF_UPSTREAM_TIMEOUT":     "2s",
	}})
	c := newClientEnv(t, srv)
	const domain = "proximal-code-artifact-domain"
	c.must(nil, need(t, "aws"), "codeartifact", "create-domain", "--domain", domain, "--endpoint-url", srv.URL, "--region", region)
	c.awsText("create-repository", "--domain", domain, "--repository", "pypi-store", "--query", "repository.name", "--output", "text")
	var assoc struct {
		Repository struct {
			ExternalConnections []map[string]string `json:"externalConnections"`
		} `json:"repository"`
	}
	c.awsJSON(&assoc, "associate-external-connection", "--domain", domain, "--repository", "pypi-store", "--external-connection", "public:pypi")
	if ec := assoc.Repository.ExternalConnections; len(ec) != 1 || ec[0]["externalConnectionName"] != "public:pypi" || ec[0]["packageFormat"] != "pypi" || ec[0]["status"] != "Available" {
		t.Fatalf("associate-external-connection: %+v", assoc)
	}
	c.awsFails(nil, "ConflictException", "associate-external-connection", "--domain", domain, "--repository", "pypi-store", "--external-connection", "public:npmjs")
	var hub struct {
		Repository struct {
			Upstreams []map[string]string `json:"upstreams"`
		} `json:"repository"`
	}
	c.awsJSON(&hub, "create-repository", "--domain", domain, "--repository", "proximal-hub", "--upstreams", "repositoryName=pypi-store")
	if len(hub.Repository.Upstreams) != 1 || hub.Repository.Upstreams[0]["repositoryName"] != "pypi-store" {
		t.Fatalf("upstreams: %+v", hub)
	}

	tok := c.token(domain)
	auth := basic("aws", tok)
	hubURL := srv.Endpoint(domain, "proximal-hub")
	storeURL := srv.Endpoint(domain, "pypi-store")
	mustStatus(t, upload(t, hubURL, makeWheel(t, "proximal-core", "1.0", ""), auth), 200)
	mustStatus(t, upload(t, hubURL, wheelRequiring(t, "proximal-app", "1.0", "proximal-core>=1.0", "public-dep>=1.0"), auth), 200)

	// A public package named like an internal one never shadows it.
	page := fetch(t, "GET", hubURL+"simple/proximal-core/", nil, auth, acceptJSON)
	mustStatus(t, page, 200)
	if strings.Contains(string(page.Body), "99.0") {
		t.Fatalf("the public proximal-core 99.0 leaked into the internal package's page:\n%s", page)
	}

	// pip installs the private app; its public dependency comes through
	// pypi-store with the same single index URL.
	cold := time.Now()
	depPage := fetch(t, "GET", hubURL+"simple/public-dep/", nil, auth, acceptJSON)
	coldLatency := time.Since(cold)
	mustStatus(t, depPage, 200)
	warm := time.Now()
	mustStatus(t, fetch(t, "GET", hubURL+"simple/public-dep/", nil, auth, acceptJSON), 200)
	t.Logf("project page through a one-hop chain: cold %v (upstream fetched), warm %v (cached)", coldLatency, time.Since(warm))

	venv := filepath.Join(c.Work, "venv")
	c.must(nil, need(t, "python3"), "-m", "venv", venv)
	indexURL := strings.Replace(hubURL, "http://", "http://aws:"+tok+"@", 1) + "simple/"
	pip := filepath.Join(venv, "bin", "pip")
	r := c.must(nil, pip, "install", "--index-url", indexURL, "proximal-app")
	for _, want := range []string{"proximal-app-1.0", "proximal-core-1.0", "public-dep-2.0"} {
		if !strings.Contains(r.Output(), want) {
			t.Fatalf("pip did not install %s:\n%s", want, r)
		}
	}

	// The public version was retained in proximal-hub and in pypi-store
	// (the repository holding the connection), with EXTERNAL origin.
	for _, repo := range []string{"proximal-hub", "pypi-store"} {
		var versions struct {
			Versions []struct {
				Version string
				Status  string
				Origin  struct {
					OriginType       string `json:"originType"`
					DomainEntryPoint map[string]string
				}
			}
		}
		c.awsJSON(&versions, "list-package-versions", "--domain", domain, "--repository", repo, "--format", "pypi", "--package", "public-dep")
		if len(versions.Versions) != 1 || versions.Versions[0].Version != "2.0" || versions.Versions[0].Origin.OriginType != "EXTERNAL" ||
			versions.Versions[0].Origin.DomainEntryPoint["externalConnectionName"] != "public:pypi" {
			t.Fatalf("%s: retained versions: %+v", repo, versions)
		}
	}
	var pkg struct {
		Package struct {
			OriginConfiguration struct{ Restrictions map[string]string } `json:"originConfiguration"`
		}
	}
	c.awsJSON(&pkg, "describe-package", "--domain", domain, "--repository", "proximal-hub", "--format", "pypi", "--package", "public-dep")
	if rs := pkg.Package.OriginConfiguration.Restrictions; rs["publish"] != "BLOCK" || rs["upstream"] != "ALLOW" {
		t.Fatalf("a package that came from upstream must be publish=BLOCK, upstream=ALLOW: %+v", rs)
	}
	c.awsJSON(&pkg, "describe-package", "--domain", domain, "--repository", "proximal-hub", "--format", "pypi", "--package", "proximal-core")
	if rs := pkg.Package.OriginConfiguration.Restrictions; rs["publish"] != "ALLOW" || rs["upstream"] != "BLOCK" {
		t.Fatalf("a package published directly must be publish=ALLOW, upstream=BLOCK: %+v", rs)
	}

	// Publishing a name that came from upstream is refused, and the
	// message names origin controls and the command that changes them.
	refused := upload(t, hubURL, makeWheel(t, "public-dep", "3.0", ""), auth)
	if refused.Status != 403 || !strings.Contains(string(refused.Body), "origin controls") || !strings.Contains(string(refused.Body), "put-package-origin-configuration") {
		t.Fatalf("publishing an upstream name:\n%s", refused)
	}
	// With upstream=ALLOW, publishing a version that exists upstream is a
	// conflict.
	c.aws(nil, "put-package-origin-configuration", "--domain", domain, "--repository", "proximal-hub", "--format", "pypi",
		"--package", "public-dep", "--restrictions", "publish=ALLOW,upstream=ALLOW")
	dup := upload(t, hubURL, makeWheel(t, "public-dep", "1.0", "mine\n"), auth)
	if dup.Status != 409 || !strings.Contains(string(dup.Body), "already exists upstream") {
		t.Fatalf("publishing over an upstream version:\n%s", dup)
	}

	// A file whose bytes do not match the upstream's declared hash is
	// refused and nothing is stored.
	tp := fetch(t, "GET", hubURL+"simple/tampered/", nil, auth, acceptJSON)
	mustStatus(t, tp, 200)
	bad502 := fetch(t, "GET", hubURL+"simple/tampered/1.0/"+bad.Filename, nil, auth)
	if bad502.Status != 502 || !strings.Contains(string(bad502.Body), "does not match the sha256") {
		t.Fatalf("tampered upstream file:\n%s", bad502)
	}
	c.awsFails(nil, "ResourceNotFoundException", "list-package-versions", "--domain", domain, "--repository", "pypi-store", "--format", "pypi", "--package", "tampered")

	// Coalescing: many concurrent requests for an uncached file make one
	// upstream request.
	hot := fetch(t, "GET", hubURL+"simple/hot/", nil, auth, acceptJSON)
	mustStatus(t, hot, 200)
	const n = 50
	var wg sync.WaitGroup
	statuses := make(chan int, n)
	pub.slow.Store(int64(300 * time.Millisecond)) // hold the download so requests pile up
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("GET", hubURL+"simple/hot/1.0/hot-1.0-py3-none-any.whl", nil)
			req.SetBasicAuth("aws", tok)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				statuses <- 0
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses <- resp.StatusCode
		}()
	}
	wg.Wait()
	pub.slow.Store(0)
	close(statuses)
	for s := range statuses {
		if s != 200 {
			t.Fatalf("a concurrent download got %d", s)
		}
	}
	if got := pub.count("/packages/hot-1.0-py3-none-any.whl"); got != 1 {
		t.Fatalf("%d concurrent downloads made %d upstream requests, want 1", n, got)
	}
	t.Logf("coalescing: %d concurrent requests for one uncached file -> %d upstream request", n, pub.count("/packages/hot-1.0-py3-none-any.whl"))

	// A slow upstream gets a clear 504 naming it, not a hang.
	pub.publish("sleepy", nil, makeWheel(t, "sleepy", "1.0", ""))
	pub.slow.Store(int64(5 * time.Second))
	start := time.Now()
	slow := fetch(t, "GET", hubURL+"simple/sleepy/", nil, auth)
	if slow.Status != 504 || !strings.Contains(string(slow.Body), pub.srv.URL) {
		t.Fatalf("slow upstream:\n%s", slow)
	}
	if time.Since(start) > 4*time.Second {
		t.Fatalf("the slow upstream held the client for %v", time.Since(start))
	}
	pub.slow.Store(0)

	// The public stand-in goes away: what was ingested keeps installing
	// (the page past its TTL is served stale), and a project never seen
	// gets a 502 that names the upstream.
	pub.srv.Close()
	time.Sleep(1100 * time.Millisecond) // past the 1s TTL
	venv2 := filepath.Join(c.Work, "venv2")
	c.must(nil, need(t, "python3"), "-m", "venv", venv2)
	r = c.must(nil, filepath.Join(venv2, "bin", "pip"), "install", "--index-url", indexURL, "proximal-app")
	if !strings.Contains(r.Output(), "public-dep-2.0") {
		t.Fatalf("install with the upstream down:\n%s", r)
	}
	never := fetch(t, "GET", hubURL+"simple/never-seen/", nil, auth)
	if never.Status != 502 || !strings.Contains(string(never.Body), pub.srv.URL) || !strings.Contains(string(never.Body), "public:pypi") {
		t.Fatalf("unknown project with the upstream down:\n%s", never)
	}
	if !strings.Contains(srv.log.Tail(64<<10), "stale-if-error") {
		t.Fatalf("the server log does not say it served a stale page:\n%s", srv.log.Tail(8<<10))
	}

	// Retained versions survive disconnection.
	c.aws(nil, "disassociate-external-connection", "--domain", domain, "--repository", "pypi-store", "--external-connection", "public:pypi")
	mustStatus(t, fetch(t, "GET", storeURL+"simple/public-dep/2.0/"+publicDep2.Filename, nil, auth), 200)
	var desc struct {
		Repository struct{ ExternalConnections []any }
	}
	c.awsJSON(&desc, "describe-repository", "--domain", domain, "--repository", "pypi-store")
	if len(desc.Repository.ExternalConnections) != 0 {
		t.Fatalf("disassociate: %+v", desc)
	}
}
