package pypi

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/wharfhq/wharf/internal/registry"
	"github.com/wharfhq/wharf/internal/testenv/embedded"
)

const testOwner = "123456789012"

// testRepo serves one repository's pypi endpoint over a real SQLite file and
// blob directory, without auth (the server's middleware is tested elsewhere).
func testRepo(t testing.TB) (*httptest.Server, *registry.Registry) {
	t.Helper()
	st, bl, _ := embedded.Storage(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := registry.New(st, bl, log, Format{})
	ctx := t.Context()
	if _, err := reg.CreateDomain(ctx, testOwner, "dom", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.CreateRepository(ctx, testOwner, "dom", "repo", "", nil); err != nil {
		t.Fatal(err)
	}
	h := NewHandler(reg, log)
	ref := registry.RepoRef{Owner: testOwner, Domain: "dom", Repository: "repo"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeRepo(w, r, ref, strings.TrimPrefix(r.URL.Path, "/pypi/repo"))
	}))
	t.Cleanup(srv.Close)
	return srv, reg
}

func buildWheel(t *testing.T, name, version, body string) (string, []byte) {
	t.Helper()
	dist := strings.ReplaceAll(name, "-", "_")
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(n, c string) {
		f, _ := zw.Create(n)
		io.WriteString(f, c)
	}
	add(dist+"/__init__.py", body)
	add(dist+"-"+version+".dist-info/METADATA", "Metadata-Version: 2.1\nName: "+name+"\nVersion: "+version+
		"\nSummary: demo\nRequires-Python: >=3.8\nRequires-Dist: requests[socks] (>=2.0) ; python_version < \"4\"\n\nThe readme.\n")
	add(dist+"-"+version+".dist-info/WHEEL", "Wheel-Version: 1.0\n")
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return dist + "-" + version + "-py3-none-any.whl", buf.Bytes()
}

// uploadForm builds the multipart body twine sends.
func uploadForm(t *testing.T, fields map[string]string, filename string, content []byte) (string, *bytes.Buffer) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("content", filename)
	fw.Write(content)
	mw.Close()
	return mw.FormDataContentType(), &body
}

func twineFields(name, version, filetype string, content []byte) map[string]string {
	sum := sha256.Sum256(content)
	return map[string]string{
		":action": "file_upload", "protocol_version": "1", "name": name, "version": version,
		"filetype": filetype, "pyversion": "py3", "metadata_version": "2.1",
		"sha256_digest": hex.EncodeToString(sum[:]),
	}
}

func post(t *testing.T, url, ct string, body io.Reader) (int, string) {
	t.Helper()
	resp, err := http.Post(url, ct, body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Status + "\n" + string(b)
}

func TestUploadThenServe(t *testing.T) {
	srv, _ := testRepo(t)
	fn, whl := buildWheel(t, "Demo.Pkg", "1.0", "X=1\n")
	ct, body := uploadForm(t, twineFields("Demo.Pkg", "1.0", "bdist_wheel", whl), fn, whl)
	if code, msg := post(t, srv.URL+"/pypi/repo/", ct, body); code != 200 {
		t.Fatalf("upload: %d %s", code, msg)
	}
	// Identical re-upload is a no-op success.
	ct, body = uploadForm(t, twineFields("Demo.Pkg", "1.0", "bdist_wheel", whl), fn, whl)
	if code, msg := post(t, srv.URL+"/pypi/repo/", ct, body); code != 200 || !strings.Contains(msg, "identical") {
		t.Fatalf("re-upload: %d %s", code, msg)
	}
	// Other bytes under the same name: 409 with "File already exists" in
	// both the status line and the body.
	_, other := buildWheel(t, "Demo.Pkg", "1.0", "X=2\n")
	ct, body = uploadForm(t, twineFields("Demo.Pkg", "1.0", "bdist_wheel", other), fn, other)
	if code, msg := post(t, srv.URL+"/pypi/repo/", ct, body); code != 409 || strings.Count(msg, "File already exists") != 2 {
		t.Fatalf("conflicting upload: %d %s", code, msg)
	}

	req, _ := http.NewRequest("GET", srv.URL+"/pypi/repo/simple/demo-pkg/", nil)
	req.Header.Set("Accept", "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != mediaJSON {
		t.Fatalf("content type %q", ct)
	}
	if !strings.Contains(resp.Header.Get("Vary"), "Accept") {
		t.Fatal("no Vary: Accept")
	}
	if strings.Contains(string(raw), "dist-info-metadata") {
		t.Fatal("JSON must never carry dist-info-metadata (older pip fails on it)")
	}
	var page struct {
		Meta     map[string]string `json:"meta"`
		Name     string
		Versions []string
		Files    []map[string]any
	}
	if err := json.Unmarshal(raw, &page); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(whl)
	f := page.Files[0]
	if page.Meta["api-version"] != "1.1" || page.Name != "demo-pkg" || len(page.Files) != 1 || page.Versions[0] != "1.0" ||
		f["hashes"].(map[string]any)["sha256"] != hex.EncodeToString(sum[:]) || f["requires-python"] != ">=3.8" ||
		f["size"].(float64) != float64(len(whl)) || f["yanked"] != false {
		t.Fatalf("project page: %s", raw)
	}
	cm := f["core-metadata"].(map[string]any)["sha256"].(string)

	// The file, by its relative URL, with Range and ETag.
	fileURL := srv.URL + "/pypi/repo/simple/demo-pkg/" + f["url"].(string)
	req, _ = http.NewRequest("GET", fileURL, nil)
	req.Header.Set("Range", "bytes=0-3")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	part, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 206 || !bytes.Equal(part, whl[:4]) {
		t.Fatalf("range: %d %q", resp.StatusCode, part)
	}
	req, _ = http.NewRequest("GET", fileURL, nil)
	req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
	resp, _ = http.DefaultClient.Do(req)
	resp.Body.Close()
	if resp.StatusCode != 304 {
		t.Fatalf("If-None-Match: %d", resp.StatusCode)
	}
	// PEP 658: the .metadata file hashes to the advertised digest.
	resp, err = http.Get(fileURL + ".metadata")
	if err != nil {
		t.Fatal(err)
	}
	md, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	mdSum := sha256.Sum256(md)
	if hex.EncodeToString(mdSum[:]) != cm || !strings.HasPrefix(string(md), "Metadata-Version: 2.1") {
		t.Fatalf("metadata file does not match core-metadata hash: %q", md)
	}

	// HTML: PEP 503 with data attributes.
	resp, _ = http.Get(srv.URL + "/pypi/repo/simple/demo-pkg/")
	html, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`<meta name="pypi:repository-version" content="1.1">`, `#sha256=` + hex.EncodeToString(sum[:]),
		`data-requires-python="&gt;=3.8"`, `data-core-metadata="sha256=` + cm + `"`, `data-dist-info-metadata="sha256=` + cm + `"`} {
		if !strings.Contains(string(html), want) {
			t.Fatalf("HTML lacks %s:\n%s", want, html)
		}
	}
}

func TestRedirects(t *testing.T) {
	srv, _ := testRepo(t)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for path, want := range map[string]string{
		"/pypi/repo/simple":             "/pypi/repo/simple/",
		"/pypi/repo/simple/Demo_Pkg/":   "/pypi/repo/simple/demo-pkg/",
		"/pypi/repo/simple/demo-pkg":    "/pypi/repo/simple/demo-pkg/",
		"/pypi/repo/simple/Demo.PKG/?x": "/pypi/repo/simple/demo-pkg/?x",
	} {
		resp, err := client.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 301 || resp.Header.Get("Location") != want {
			t.Errorf("%s: %d -> %q, want 301 -> %q", path, resp.StatusCode, resp.Header.Get("Location"), want)
		}
	}
}

func TestUploadRefusals(t *testing.T) {
	srv, _ := testRepo(t)
	fn, whl := buildWheel(t, "demo", "1.0", "")
	cases := []struct {
		name   string
		mutate func(f map[string]string)
		file   string
		want   string
	}{
		{"wrong action", func(f map[string]string) { f[":action"] = "submit" }, fn, "unsupported :action"},
		{"no name", func(f map[string]string) { delete(f, "name") }, fn, "name and version"},
		{"bad version", func(f map[string]string) { f["version"] = "one" }, fn, "PEP 440"},
		{"name mismatch", func(f map[string]string) { f["name"] = "other" }, fn, "is for project"},
		{"version mismatch", func(f map[string]string) { f["version"] = "2.0" }, fn, "is for version"},
		{"bad filetype", func(f map[string]string) { f["filetype"] = "bdist_egg" }, fn, "unsupported filetype"},
		{"sdist type for wheel", func(f map[string]string) { f["filetype"] = "sdist" }, fn, ".tar.gz"},
		{"slash in filename", func(f map[string]string) {}, "../" + fn, "filename"},
		{"bad sha256", func(f map[string]string) { f["sha256_digest"] = strings.Repeat("a", 64) }, fn, "sha256"},
		{"bad md5", func(f map[string]string) { f["md5_digest"] = strings.Repeat("b", 32) }, fn, "md5_digest"},
		{"bad blake2", func(f map[string]string) { f["blake2_256_digest"] = strings.Repeat("c", 64) }, fn, "blake2_256_digest"},
		{"not hex", func(f map[string]string) { f["md5_digest"] = "zz" }, fn, "hexadecimal"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := twineFields("demo", "1.0", "bdist_wheel", whl)
			c.mutate(f)
			ct, body := uploadForm(t, f, c.file, whl)
			code, msg := post(t, srv.URL+"/pypi/repo/", ct, body)
			if code != 400 || !strings.Contains(msg, c.want) {
				t.Fatalf("got %d %q, want 400 mentioning %q", code, msg, c.want)
			}
		})
	}
	// Not a zip at all, with a matching digest: refused after reading.
	junk := []byte("this is not a zip file")
	ct, body := uploadForm(t, twineFields("demo", "1.0", "bdist_wheel", junk), fn, junk)
	if code, msg := post(t, srv.URL+"/pypi/repo/", ct, body); code != 400 {
		t.Fatalf("junk wheel: %d %s", code, msg)
	}
	// Nothing of the refused uploads is visible.
	resp, _ := http.Get(srv.URL + "/pypi/repo/simple/demo/")
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("a refused upload became visible: %d", resp.StatusCode)
	}
	// Not multipart.
	if code, msg := post(t, srv.URL+"/pypi/repo/", "application/json", strings.NewReader("{}")); code != 400 || !strings.Contains(msg, "multipart/form-data") {
		t.Fatalf("non-multipart: %d %s", code, msg)
	}
}

func TestNegotiate(t *testing.T) {
	for accept, want := range map[string]string{
		"": mediaHTML,
		"application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01": mediaJSON,
		"application/vnd.pypi.simple.v1+json; q=0.2, application/vnd.pypi.simple.v1+html":                    mediaHTMLv1,
		"application/vnd.pypi.simple.latest+json":                                                            mediaJSON,
		"application/json": mediaHTML,
		"*/*":              mediaHTML,
		"application/vnd.pypi.simple.v1+json;q=0": mediaHTML,
	} {
		if got := negotiate(accept); got != want {
			t.Errorf("negotiate(%q) = %q, want %q", accept, got, want)
		}
	}
}

func FuzzNegotiate(f *testing.F) {
	f.Add("application/vnd.pypi.simple.v1+json, text/html; q=0.01")
	f.Add(";;;q=,q=1e400")
	f.Fuzz(func(t *testing.T, accept string) {
		switch negotiate(accept) {
		case mediaHTML, mediaHTMLv1, mediaJSON:
		default:
			t.Fatalf("negotiate(%q) returned an unknown type", accept)
		}
	})
}

func FuzzCheckForm(f *testing.F) {
	f.Add("file_upload", "demo", "1.0", "bdist_wheel", "demo-1.0-py3-none-any.whl")
	f.Add("file_upload", "demo", "1.0", "sdist", "demo-1.0.tar.gz")
	f.Fuzz(func(t *testing.T, action, name, version, filetype, filename string) {
		form := url.Values{":action": {action}, "name": {name}, "version": {version}, "filetype": {filetype}}
		n, v, err := checkForm(form, filename)
		if err == nil && (!ValidName(n) || v == "" || strings.ContainsAny(filename, "/\\\x00")) {
			t.Fatalf("accepted an invalid upload: %q %q %q", n, v, filename)
		}
	})
}

func TestDependenciesKeepExtrasAndMarkers(t *testing.T) {
	got := dependencies([]string{`requests[socks] (>=2.0) ; python_version < "4"`, `Foo.Bar>=1; extra == "test"`})
	want := `[{"package":"requests","versionRequirement":"[socks] (\u003e=2.0) ; python_version \u003c \"4\""},{"package":"foo-bar","dependencyType":"extra","versionRequirement":"\u003e=1; extra == \"test\""}]`
	if got != want {
		t.Fatalf("dependencies:\n got %s\nwant %s", got, want)
	}
}
