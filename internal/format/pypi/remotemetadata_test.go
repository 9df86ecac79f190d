package pypi

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/wharfhq/wharf/internal/registry"
	"github.com/wharfhq/wharf/internal/upstream"
)

// A resolver (uv, pip) reads a wheel's PEP 658 metadata, not the wheel:
// for a wheel an upstream lists but wharf does not hold, wharf advertises
// the upstream's core-metadata and passes its .metadata through (checked
// against the declared digest), and never downloads the wheel for it.
func TestUpstreamCoreMetadataPassThrough(t *testing.T) {
	f := newCacheFixture(t)
	ctx := t.Context()
	good, goodWheel := wheelBytes("ext-pkg", "1.0")
	bad, badWheel := wheelBytes("ext-pkg", "2.0")
	meta := map[string][]byte{good: []byte("Metadata-Version: 2.1\nName: ext-pkg\nVersion: 1.0\n\n"), bad: []byte("tampered")}
	declared := map[string]string{good: hexSum(meta[good]), bad: hexSum([]byte("what was declared"))}
	var mu sync.Mutex
	requests := map[string]int{}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests[r.URL.Path]++
		mu.Unlock()
		file := strings.TrimPrefix(r.URL.Path, "/files/")
		switch {
		case r.URL.Path == "/simple/ext-pkg/":
			for name, whl := range map[string][]byte{good: goodWheel, bad: badWheel} {
				fmt.Fprintf(w, "<a href=\"../../files/%s#sha256=%s\" data-core-metadata=\"sha256=%s\">%s</a>\n", name, hexSum(whl), declared[name], name)
			}
		case strings.HasSuffix(file, ".metadata"):
			w.Write(meta[strings.TrimSuffix(file, ".metadata")])
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(up.Close)
	client := upstream.New(upstream.Config{}, f.st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := f.reg.UseUpstreams(client, map[string]upstream.Connection{"public:pypi": upstream.MustParseConnection(up.URL + "/simple/")}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.reg.AssociateExternalConnection(ctx, testOwner, "dom", "up", "public:pypi"); err != nil {
		t.Fatal(err)
	}

	p := f.get("repo", "ext-pkg", "Accept: "+mediaJSON)
	var page struct {
		Files []struct {
			Filename     string
			CoreMetadata json.RawMessage `json:"core-metadata"`
		}
	}
	if err := json.Unmarshal(p.body, &page); err != nil || len(page.Files) != 2 {
		t.Fatalf("page: %d %s", p.status, p.body)
	}
	for _, file := range page.Files {
		if want := `{"sha256":"` + declared[file.Filename] + `"}`; string(file.CoreMetadata) != want {
			t.Errorf("%s: core-metadata %s, want the upstream's %s", file.Filename, file.CoreMetadata, want)
		}
	}

	status, body := getFile(t, f.srv.URL+"/pypi/repo/simple/ext-pkg/1.0/"+good+".metadata")
	if status != 200 || body != string(meta[good]) {
		t.Errorf("the upstream's .metadata: %d %q", status, body)
	}
	status, body = getFile(t, f.srv.URL+"/pypi/repo/simple/ext-pkg/2.0/"+bad+".metadata")
	if status != http.StatusBadGateway || !strings.Contains(body, "does not match the sha256") {
		t.Errorf("metadata that does not match its declared digest: %d %q", status, body)
	}
	mu.Lock()
	defer mu.Unlock()
	if requests["/files/"+good] != 0 || requests["/files/"+bad] != 0 {
		t.Errorf("wharf downloaded wheels to serve their metadata: %v", requests)
	}
}

// A wheel an upstream repository holds (published there, never fetched
// through the downstream one) has its .metadata served downstream too, as
// the page advertises it.
func TestUpstreamRepositoryCoreMetadata(t *testing.T) {
	f := newCacheFixture(t)
	name := f.upload("up", "held-up", "1.0")
	status, body := getFile(t, f.srv.URL+"/pypi/repo/simple/held-up/1.0/"+name+".metadata")
	if status != 200 || !strings.Contains(body, "Name: held-up") {
		t.Errorf("%s.metadata through the downstream repository: %d %q", name, status, body)
	}
	if _, err := f.reg.DescribeVersion(t.Context(), f.ref("repo"), "pypi", "", "held-up", "1.0"); !registry.IsKind(err, registry.KindNotFound) {
		t.Errorf("reading metadata retained the version downstream (%v); only a download does", err)
	}
}

func hexSum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func getFile(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
