package pypi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/wharfhq/wharf/internal/blob"
	"github.com/wharfhq/wharf/internal/registry"
)

func TestIndexURL(t *testing.T) {
	tests := []struct{ base, name, want string }{
		{"https://pypi.org/simple/", "requests", "https://pypi.org/simple/requests/"},
		{"https://pypi.org/simple", "requests", "https://pypi.org/simple/requests/"},
		{"https://pypi.org/simple//", "Zope.Interface", "https://pypi.org/simple/zope-interface/"},
		{"http://127.0.0.1:9000/simple/", "typing_extensions", "http://127.0.0.1:9000/simple/typing-extensions/"},
		{"https://host/api/pypi/pypi-remote/simple/?token=abc", "A__B", "https://host/api/pypi/pypi-remote/simple/a-b/?token=abc"},
	}
	for _, tt := range tests {
		if got := (Format{}).IndexURL(tt.base, "", tt.name); got != tt.want {
			t.Errorf("IndexURL(%q, %q) = %q, want %q", tt.base, tt.name, got, tt.want)
		}
	}
}

func TestAcceptPrefersJSON(t *testing.T) {
	a := (Format{}).Accept()
	if a != "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01" {
		t.Fatalf("Accept = %q", a)
	}
	if negotiate(a) != mediaJSON {
		t.Fatal("our own server would not answer our Accept with JSON")
	}
}

var (
	sumA = strings.Repeat("a", 64)
	sumB = strings.Repeat("b", 64)
	sumC = strings.Repeat("c", 64)
	sumD = strings.Repeat("d", 64)
)

// A page shaped like https://pypi.org/simple/{project}/ with
// Accept: application/vnd.pypi.simple.v1+json, plus the odd entries other
// servers write.
var pypiJSONPage = `{
  "meta": {"_last-serial": 123, "api-version": "1.3"},
  "name": "demo-pkg",
  "versions": ["0.9", "1.0", "1.1"],
  "files": [
    {"core-metadata": false, "data-dist-info-metadata": false, "filename": "Demo.Pkg-0.9.tar.gz",
     "hashes": {"sha256": "` + sumA + `"}, "requires-python": null, "size": 1234,
     "upload-time": "2019-01-02T03:04:05.123456Z",
     "url": "https://files.pythonhosted.org/packages/aa/bb/cc/Demo.Pkg-0.9.tar.gz", "yanked": false},
    {"core-metadata": {"sha256": "` + strings.ToUpper(sumC) + `"}, "dist-info-metadata": {"sha256": "` + sumC + `"},
     "filename": "demo_pkg-1.0-py3-none-any.whl", "hashes": {"sha256": "` + strings.ToUpper(sumB) + `", "blake2b_256": "00"},
     "requires-python": "<4,>=3.8", "size": 5678, "upload-time": "2024-01-02T03:04:05.123456Z",
     "url": "https://files.pythonhosted.org/packages/11/22/33/demo_pkg-1.0-py3-none-any.whl",
     "yanked": "broken on windows"},
    {"dist-info-metadata": {"sha256": "` + sumD + `"}, "filename": "demo_pkg-1.0.post1-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
     "hashes": {}, "url": "../../packages/x/demo_pkg-1.0.post1-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl#sha256=` + sumD + `",
     "yanked": true, "core-metadata": null},
    {"filename": "demo_pkg-1.1rc1.zip", "url": "1.1rc1/demo_pkg-1.1rc1.zip#md5=0123", "hashes": {"md5": "0123"},
     "core-metadata": true, "yanked": "", "size": "12", "upload-time": "yesterday", "requires-python": ""},
    {"filename": "Demo.Pkg-1.0-py2.7.egg", "url": "https://files.pythonhosted.org/Demo.Pkg-1.0-py2.7.egg", "hashes": {}},
    {"filename": "Demo.Pkg-1.0.win32.exe", "url": "https://files.pythonhosted.org/Demo.Pkg-1.0.win32.exe", "hashes": {}},
    {"filename": "other_project-2.0-py3-none-any.whl", "url": "/packages/other_project-2.0-py3-none-any.whl", "hashes": {"sha256": "nothex"}},
    {"filename": 7, "url": "https://x/demo_pkg-9.0.tar.gz"},
    {"filename": "demo_pkg-9.1.tar.gz", "url": "javascript:alert(1)//demo_pkg-9.1.tar.gz"},
    {"filename": "demo_pkg-9.2.tar.gz", "url": "file:///etc/demo_pkg-9.2.tar.gz"},
    "not an object",
    {"filename": "demo_pkg-1.2-py2.7.egg", "url": "https://x/demo_pkg-1.2.tar.gz"},
    {"filename": "", "url": "https://x/demo_pkg-1.3.tar.gz"},
    {"filename": "demo_pkg-1.0-py3-none-any.whl", "url": "https://mirror/demo_pkg-1.0-py3-none-any.whl"}
  ]
}`

func TestParseIndexJSON(t *testing.T) {
	const page = "https://pypi.example/simple/demo-pkg/"
	files, err := (Format{}).ParseIndex(page, "application/vnd.pypi.simple.v1+json", []byte(pypiJSONPage))
	if err != nil {
		t.Fatal(err)
	}
	want := []registry.RemoteFile{
		{Version: "0.9", Filename: "Demo.Pkg-0.9.tar.gz", URL: "https://files.pythonhosted.org/packages/aa/bb/cc/Demo.Pkg-0.9.tar.gz",
			SHA256: sumA, Size: 1234, UploadTime: "2019-01-02T03:04:05.123456Z", Attributes: map[string]string{}},
		{Version: "1.0", Filename: "demo_pkg-1.0-py3-none-any.whl", URL: "https://files.pythonhosted.org/packages/11/22/33/demo_pkg-1.0-py3-none-any.whl",
			SHA256: sumB, Size: 5678, UploadTime: "2024-01-02T03:04:05.123456Z",
			Attributes: map[string]string{attrRequiresPython: "<4,>=3.8", attrYanked: "broken on windows", attrCoreMetadata: sumC}},
		{Version: "1.0.post1", Filename: "demo_pkg-1.0.post1-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
			URL:    "https://pypi.example/packages/x/demo_pkg-1.0.post1-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
			SHA256: sumD, Attributes: map[string]string{attrYanked: "", attrCoreMetadata: sumD}},
		{Version: "1.1rc1", Filename: "demo_pkg-1.1rc1.zip", URL: "https://pypi.example/simple/demo-pkg/1.1rc1/demo_pkg-1.1rc1.zip",
			Attributes: map[string]string{attrCoreMetadata: "true"}},
		{Version: "2.0", Filename: "other_project-2.0-py3-none-any.whl", URL: "https://pypi.example/packages/other_project-2.0-py3-none-any.whl",
			Attributes: map[string]string{}},
		{Version: "1.3", Filename: "demo_pkg-1.3.tar.gz", URL: "https://x/demo_pkg-1.3.tar.gz", Attributes: map[string]string{}},
	}
	checkFiles(t, files, want)
}

func checkFiles(t *testing.T, got, want []registry.RemoteFile) {
	t.Helper()
	if len(got) != len(want) {
		for _, f := range got {
			t.Logf("got %+v", f)
		}
		t.Fatalf("got %d files, want %d", len(got), len(want))
	}
	for i := range want {
		if want[i].Name == "" { // every fixture names its project before the first '-'
			want[i].Name = NormalizeName(strings.SplitN(want[i].Filename, "-", 2)[0])
		}
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("file %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

func TestParseIndexJSONErrors(t *testing.T) {
	tests := []struct{ name, ct, body, wantErr string }{
		{"truncated", mediaJSON, `{"files": [`, "is not valid PEP 691 JSON"},
		{"not an object", mediaJSON, `[1, 2]`, "is not valid PEP 691 JSON"},
		{"empty", mediaJSON, ``, "is not valid PEP 691 JSON"},
		{"future major version", mediaJSON, `{"meta": {"api-version": "2.0"}, "files": []}`, "API version"},
		{"root index", mediaJSON, `{"meta": {"api-version": "1.0"}, "projects": [{"name": "x"}]}`, `no "files" list`},
		{"files not a list", mediaJSON, `{"files": {"a": 1}}`, `"files" is not a list`},
		{"sniffed", "text/html", ` {"files": 3}`, `"files" is not a list`},
		{"deep nesting", mediaJSON, strings.Repeat("[", 100000), "is not valid PEP 691 JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := (Format{}).ParseIndex("https://up/simple/x/", tt.ct, []byte(tt.body))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "https://up/simple/x/") {
				t.Fatalf("err = %v, want one containing %q and the page URL", err, tt.wantErr)
			}
		})
	}
}

func TestParseIndexSniffsJSON(t *testing.T) {
	body := "\xef\xbb\xbf\n  " + `{"meta": {"api-version": "1.0"}, "files": [{"filename": "x-1.0.tar.gz", "url": "x-1.0.tar.gz", "hashes": {}}]}`
	for _, ct := range []string{"application/json", "text/plain; charset=utf-8", "", "application/vnd.pypi.simple.latest+json"} {
		files, err := (Format{}).ParseIndex("http://up/simple/x/", ct, []byte(body))
		if err != nil || len(files) != 1 || files[0].URL != "http://up/simple/x/x-1.0.tar.gz" {
			t.Fatalf("%q: %+v %v", ct, files, err)
		}
	}
}

func TestParseIndexHTML(t *testing.T) {
	tests := []struct {
		name, page, ct, body string
		want                 []registry.RemoteFile
	}{{
		name: "PEP 503 with data attributes and odd markup",
		page: "https://up.example/simple/demo-pkg/", ct: "text/html; charset=utf-8",
		body: `<!DOCTYPE html>
<html><head><meta name="pypi:repository-version" content="1.1"><title>Links for demo-pkg <a href="nope-1.0.tar.gz">x</a></title>
<script>var s = '<a href="evil-6.6.tar.gz">evil-6.6.tar.gz</a>';</script>
<style>a[href$=".whl"] { color: red }</style></head>
<body><h1>Links for demo-pkg</h1>
<!-- <a href="commented-1.0.tar.gz">commented-1.0.tar.gz</a> -->
<a href="../../packages/ab/cd/demo_pkg-1.0-py3-none-any.whl#sha256=` + strings.ToUpper(sumA) + `" data-requires-python="&gt;=3.8" data-core-metadata="sha256=` + sumB + `" data-dist-info-metadata="sha256=` + sumC + `">demo_pkg-1.0-py3-none-any.whl</a><br/>
<A HREF=1.0/Demo.Pkg-1.0.tar.gz#md5=abcd&amp;sha256=` + sumC + ` class=dl DATA-YANKED>Demo.Pkg-1.0.tar.gz</A><br>
<a class='x' href = 'https://files.example/demo_pkg-1.1.dev1-py2.py3-none-any.whl#sha256=` + sumD + `' href="https://wrong/" data-yanked="&lt;b&gt;bad&#32;build" data-requires-python='&gt;=3.9,&lt;4'
   data-dist-info-metadata="true" data-gpg-sig="false">
   demo_pkg-1.1.dev1-py2.py3-none-any.whl
</a>
<a href="demo_pkg-2.0-py3-none-any.whl" data-core-metadata="md5=1234">demo_pkg-2.0-py3-<b>none</b>-any.whl</a>
<a href="demo_pkg-2.0-py3-none-any.whl">dup: first wins</a>
<a href="Demo.Pkg-1.0-py2.7.egg#sha256=` + sumA + `">Demo.Pkg-1.0-py2.7.egg</a>
<a href="Demo.Pkg-1.0.win32.exe">Demo.Pkg-1.0.win32.exe</a>
<a href="mailto:demo_pkg-3.0.tar.gz">demo_pkg-3.0.tar.gz</a>
<a name="anchor-without-href">demo_pkg-4.0.tar.gz</a>
<a href="?a=1&copy=2&sha256=` + sumA + `">demo_pkg-5.0.tar.gz</a>
</body></html>`,
		want: []registry.RemoteFile{
			{Version: "1.0", Filename: "demo_pkg-1.0-py3-none-any.whl", URL: "https://up.example/packages/ab/cd/demo_pkg-1.0-py3-none-any.whl",
				SHA256: sumA, Attributes: map[string]string{attrRequiresPython: ">=3.8", attrCoreMetadata: sumB}},
			{Version: "1.0", Filename: "Demo.Pkg-1.0.tar.gz", URL: "https://up.example/simple/demo-pkg/1.0/Demo.Pkg-1.0.tar.gz",
				SHA256: sumC, Attributes: map[string]string{attrYanked: ""}},
			{Version: "1.1.dev1", Filename: "demo_pkg-1.1.dev1-py2.py3-none-any.whl", URL: "https://files.example/demo_pkg-1.1.dev1-py2.py3-none-any.whl",
				SHA256: sumD, Attributes: map[string]string{attrRequiresPython: ">=3.9,<4", attrYanked: "<b>bad build", attrCoreMetadata: "true"}},
			{Version: "2.0", Filename: "demo_pkg-2.0-py3-none-any.whl", URL: "https://up.example/simple/demo-pkg/demo_pkg-2.0-py3-none-any.whl",
				Attributes: map[string]string{attrCoreMetadata: "true"}},
			// The query keeps its bare '&': only the fragment carries a hash.
			{Version: "5.0", Filename: "demo_pkg-5.0.tar.gz", URL: "https://up.example/simple/demo-pkg/?a=1&copy=2&sha256=" + sumA,
				Attributes: map[string]string{}},
		},
	}, {
		name: "nginx autoindex",
		page: "http://127.0.0.1:9000/simple/demo-pkg/", ct: "text/html",
		body: `<html>
<head><title>Index of /simple/demo-pkg/</title></head>
<body>
<h1>Index of /simple/demo-pkg/</h1><hr><pre><a href="../">../</a>
<a href="demo_pkg-1.0%2Blocal.7-py3-none-any.whl">demo_pkg-1.0+local.7-py3-none-any.whl</a>              02-Jan-2024 03:04    1234
<a href="demo_pkg-1.0.tar.gz">demo_pkg-1.0.tar.gz</a>                                02-Jan-2024 03:04     987
<a href="demo_pkg-1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16-py3-none-any.whl">demo_pkg-1.2.3.4.5.6.7.8.9.10.11.12.13.14..&gt;</a> 02-Jan-2024 03:04  55
<a href="README.txt">README.txt</a>
</pre><hr></body>
</html>`,
		want: []registry.RemoteFile{
			{Version: "1.0+local.7", Filename: "demo_pkg-1.0+local.7-py3-none-any.whl", URL: "http://127.0.0.1:9000/simple/demo-pkg/demo_pkg-1.0%2Blocal.7-py3-none-any.whl", Attributes: map[string]string{}},
			{Version: "1.0", Filename: "demo_pkg-1.0.tar.gz", URL: "http://127.0.0.1:9000/simple/demo-pkg/demo_pkg-1.0.tar.gz", Attributes: map[string]string{}},
			{Version: "1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16", Filename: "demo_pkg-1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16-py3-none-any.whl",
				URL: "http://127.0.0.1:9000/simple/demo-pkg/demo_pkg-1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16-py3-none-any.whl", Attributes: map[string]string{}},
		},
	}, {
		name: "devpi",
		page: "http://devpi.local:3141/root/pypi/+simple/six/", ct: "text/html; charset=UTF-8",
		body: `<!DOCTYPE html><html><head><title>root/pypi: links for six</title></head><body><h1>root/pypi: links for six</h1>
<a href="../../+f/8ab/b2f1d86890a2d/six-1.16.0-py2.py3-none-any.whl#sha256=` + sumA + `" data-requires-python="&gt;=2.7, !=3.0.*, !=3.1.*, !=3.2.*">six-1.16.0-py2.py3-none-any.whl</a><br/>
<a href="../../+e/https_files.pythonhosted.org_packages_71_39/six-1.16.0.tar.gz#sha256=` + sumB + `" data-requires-python="&gt;=2.7, !=3.0.*, !=3.1.*, !=3.2.*">six-1.16.0.tar.gz</a><br/>
</body></html>`,
		want: []registry.RemoteFile{
			{Version: "1.16.0", Filename: "six-1.16.0-py2.py3-none-any.whl", URL: "http://devpi.local:3141/root/pypi/+f/8ab/b2f1d86890a2d/six-1.16.0-py2.py3-none-any.whl",
				SHA256: sumA, Attributes: map[string]string{attrRequiresPython: ">=2.7, !=3.0.*, !=3.1.*, !=3.2.*"}},
			{Version: "1.16.0", Filename: "six-1.16.0.tar.gz", URL: "http://devpi.local:3141/root/pypi/+e/https_files.pythonhosted.org_packages_71_39/six-1.16.0.tar.gz",
				SHA256: sumB, Attributes: map[string]string{attrRequiresPython: ">=2.7, !=3.0.*, !=3.1.*, !=3.2.*"}},
		},
	}, {
		name: "base href, missing trailing slash on the page URL, unclosed anchors",
		page: "https://up.example/simple/demo-pkg", ct: "application/vnd.pypi.simple.v1+html",
		body: `<html><head><base href="https://cdn.example/files/"></head><body>
<a href="demo_pkg-1.0.tar.gz">demo_pkg-1.0.tar.gz<a href=demo_pkg-1.1.tar.gz>demo_pkg-1.1.tar.gz
<a href="demo_pkg-1.2.tar.gz`,
		want: []registry.RemoteFile{
			{Version: "1.0", Filename: "demo_pkg-1.0.tar.gz", URL: "https://cdn.example/files/demo_pkg-1.0.tar.gz", Attributes: map[string]string{}},
			{Version: "1.1", Filename: "demo_pkg-1.1.tar.gz", URL: "https://cdn.example/files/demo_pkg-1.1.tar.gz", Attributes: map[string]string{}},
		},
	}, {
		name: "raw-text elements, a second <base>, entities without ';'",
		page: "https://up.example/simple/demo-pkg/", ct: "text/html",
		body: `<base href="/one/"><base href="/two/"><textarea><a href="t-1.0.tar.gz">t-1.0.tar.gz</a></textarea>
<noscript><a href="n-1.0.tar.gz">n-1.0.tar.gz</a></noscript><xmp><a href="x-1.0.tar.gz"></xmp>
<a href="demo_pkg-1.0.tar.gz?a=1&copy=2&amp;b=3" data-yanked="x&ampy">demo_pkg-1.0.tar.gz</a>
<plaintext><a href="p-1.0.tar.gz">p-1.0.tar.gz</a>`,
		want: []registry.RemoteFile{
			{Version: "1.0", Filename: "demo_pkg-1.0.tar.gz", URL: "https://up.example/one/demo_pkg-1.0.tar.gz?a=1&copy=2&b=3", Attributes: map[string]string{attrYanked: "x&ampy"}}, // as browsers read it
		},
	}, {
		name: "no anchors",
		page: "https://up.example/simple/demo-pkg/", ct: "text/html",
		body: "<html><body>Not Found</body></html>",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files, err := (Format{}).ParseIndex(tt.page, tt.ct, []byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			checkFiles(t, files, tt.want)
		})
	}
}

// memObject is a blob.Object over bytes.
type memObject struct{ *bytes.Reader }

func (memObject) Close() error      { return nil }
func (m memObject) Info() blob.Info { return blob.Info{Size: m.Size()} }

func newMemObject(b []byte) blob.Object { return memObject{bytes.NewReader(b)} }

// TestWharfPageRoundTrip reads wharf's own project pages, JSON and HTML, as
// an external connection to another wharf would, then ingests the files.
func TestWharfPageRoundTrip(t *testing.T) {
	srv, _ := testRepo(t)
	whlName, whl := buildWheel(t, "Demo.Pkg", "1.0+local.1", "X=1\n")
	ct, body := uploadForm(t, twineFields("Demo.Pkg", "1.0+local.1", "bdist_wheel", whl), whlName, whl)
	if code, msg := post(t, srv.URL+"/pypi/repo/", ct, body); code != 200 {
		t.Fatalf("upload wheel: %d %s", code, msg)
	}
	const sdistName = "demo_pkg-0.9.tar.gz"
	sdist := buildTarGz(t, sdistMembers("demo_pkg-0.9", "Demo.Pkg", "0.9")...)
	fields := twineFields("Demo.Pkg", "0.9", "sdist", sdist)
	fields["requires_python"] = "<4,>=3.7"
	ct, body = uploadForm(t, fields, sdistName, sdist)
	if code, msg := post(t, srv.URL+"/pypi/repo/", ct, body); code != 200 {
		t.Fatalf("upload sdist: %d %s", code, msg)
	}
	whlSum, sdistSum := sha256.Sum256(whl), sha256.Sum256(sdist)
	pageURL := srv.URL + "/pypi/repo/simple/demo-pkg/"

	var parsed [][]registry.RemoteFile
	for _, accept := range []string{(Format{}).Accept(), "text/html"} {
		req, _ := http.NewRequest("GET", pageURL, nil)
		req.Header.Set("Accept", accept)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		files, err := (Format{}).ParseIndex(pageURL, resp.Header.Get("Content-Type"), page)
		if err != nil {
			t.Fatalf("%s: %v", accept, err)
		}
		if len(files) != 2 {
			t.Fatalf("%s: %d files from\n%s", accept, len(files), page)
		}
		sd, wf := files[0], files[1]
		if sd.Filename != sdistName || sd.Version != "0.9" || sd.SHA256 != hex.EncodeToString(sdistSum[:]) ||
			sd.URL != pageURL+"0.9/"+sdistName || sd.Attributes[attrRequiresPython] != "<4,>=3.7" {
			t.Errorf("%s: sdist %+v", accept, sd)
		}
		if wf.Filename != whlName || wf.Version != "1.0+local.1" || wf.SHA256 != hex.EncodeToString(whlSum[:]) ||
			wf.URL != pageURL+"1.0%2Blocal.1/Demo.Pkg-1.0%2Blocal.1-py3-none-any.whl" ||
			wf.Attributes[attrRequiresPython] != ">=3.8" || len(wf.Attributes[attrCoreMetadata]) != 64 {
			t.Errorf("%s: wheel %+v", accept, wf)
		}
		if strings.HasPrefix(accept, mediaJSON) && (wf.Size != int64(len(whl)) || wf.UploadTime == "") {
			t.Errorf("JSON lost size or upload time: %+v", wf)
		}
		parsed = append(parsed, files)
	}

	// Ingest both as if fetched from those URLs.
	wf := parsed[0][1]
	wf.Attributes[attrYanked] = "superseded"
	wf.Attributes[attrCoreMetadata] = sumA // the upstream's claim; ours wins
	insp, err := (Format{}).InspectRemote(newMemObject(whl), wf)
	if err != nil {
		t.Fatal(err)
	}
	raw := insp.Sidecars[sidecarMetadata]
	rawSum := sha256.Sum256(raw)
	if insp.Summary != "demo" || !strings.HasPrefix(string(raw), "Metadata-Version: 2.1\nName: Demo.Pkg") ||
		insp.AssetAttributes[attrRequiresPython] != ">=3.8" || insp.AssetAttributes[attrYanked] != "superseded" ||
		insp.AssetAttributes[attrCoreMetadata] != hex.EncodeToString(rawSum[:]) ||
		!strings.Contains(insp.VersionAttributes[registry.AttrDependencies], `"package":"requests"`) {
		t.Fatalf("wheel inspection: %+v", insp)
	}
	insp, err = (Format{}).InspectRemote(newMemObject(sdist), parsed[1][0])
	if err != nil {
		t.Fatal(err)
	}
	if insp.Sidecars != nil || insp.AssetAttributes[attrRequiresPython] != "<4,>=3.7" ||
		insp.AssetAttributes[attrCoreMetadata] != "" || insp.AssetAttributes[attrYanked] != "" {
		t.Fatalf("sdist inspection: %+v", insp)
	}
	if _, ok := insp.AssetAttributes[attrYanked]; ok {
		t.Fatal("sdist was not yanked upstream")
	}
}

func TestInspectRemoteRefuses(t *testing.T) {
	_, goodWheel := buildWheel(t, "demo", "1.0", "")
	tests := []struct {
		name, filename string
		content        []byte
		wantErr        string
	}{
		{"sdist without PKG-INFO", "demo-1.0.tar.gz",
			buildTarGz(t, member{name: "demo-1.0/"}, member{name: "demo-1.0/setup.py", body: "x"}), "no demo-1.0/PKG-INFO"},
		{"not an archive", "demo-1.0-py3-none-any.whl", []byte("<html>404</html>"), "not a valid"},
		{"wheel renamed to another project", "other-1.0-py3-none-any.whl", goodWheel, "does not match the filename"},
		{"wheel renamed to another version", "demo-2.0-py3-none-any.whl", goodWheel, "does not match the filename"},
		{"egg", "demo-1.0-py2.7.egg", goodWheel, "neither a wheel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := (Format{}).InspectRemote(newMemObject(tt.content), registry.RemoteFile{Filename: tt.filename, Attributes: map[string]string{}})
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want ErrInvalid containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestParseIndexLarge guards against quadratic behaviour on pages with
// many anchors or many unterminated constructs.
func TestParseIndexLarge(t *testing.T) {
	var b strings.Builder
	for i := range 50000 {
		b.WriteString(`<a href="demo-1.0.` + strconv.Itoa(i) + `.tar.gz#sha256=` + sumA + `">demo-1.0.` + strconv.Itoa(i) + `.tar.gz</a><br/>` + "\n")
	}
	files, err := (Format{}).ParseIndex("https://up/simple/demo/", "text/html", []byte(b.String()))
	if err != nil || len(files) != 50000 {
		t.Fatalf("%d files, %v", len(files), err)
	}
	for _, body := range []string{strings.Repeat("<a href=x ", 200000), strings.Repeat("<!-", 200000), strings.Repeat("<a href='", 200000),
		strings.Repeat("<script>", 200000), strings.Repeat("&amp", 200000), "<a href=x.tar.gz>" + strings.Repeat("&#1;", 500000)} {
		if _, err := (Format{}).ParseIndex("https://up/simple/demo/", "text/html", []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	// One token larger than the tokenizer may buffer is refused, saying why.
	huge := "<a href=x.tar.gz title='" + strings.Repeat("x", maxHTMLToken) + "'>x.tar.gz</a>"
	if _, err := (Format{}).ParseIndex("https://up/simple/demo/", "text/html", []byte(huge)); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Fatalf("a %d-byte tag: %v", len(huge), err)
	}
}

func FuzzParseIndex(f *testing.F) {
	f.Add([]byte(pypiJSONPage), true)
	f.Add([]byte(`<a href="../../p/x-1.0-py3-none-any.whl#sha256=`+sumA+`" data-yanked data-core-metadata="sha256=`+sumB+`">x-1.0-py3-none-any.whl</a>`), false)
	f.Add([]byte(`<A HREF=x-1.0.tar.gz>x</A><base href="//other/"><a href='x-1.1.zip'>x-1.1.zip`), false)
	f.Add([]byte(`<!-- <a href="x-1.0.tar.gz"> --><script><a href=x-2.0.tar.gz></script>`), false)
	f.Add([]byte(`{"files":[{"filename":"x-1.0.tar.gz","url":"http://h/x-1.0.tar.gz","core-metadata":{"sha256":1},"size":-1}]}`), false)
	f.Fuzz(func(t *testing.T, body []byte, asJSON bool) {
		ct := "text/html; charset=utf-8"
		if asJSON {
			ct = mediaJSON
		}
		files, err := (Format{}).ParseIndex("https://up.example/simple/x/", ct, body)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, rf := range files {
			if rf.Filename == "" || rf.URL == "" || rf.Version == "" || rf.Attributes == nil {
				t.Fatalf("incomplete file %+v", rf)
			}
			if seen[rf.Filename] {
				t.Fatalf("filename %q listed twice", rf.Filename)
			}
			seen[rf.Filename] = true
			u, err := url.Parse(rf.URL)
			if err != nil || !u.IsAbs() || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || u.Fragment != "" {
				t.Fatalf("URL %q is not an absolute http(s) URL without fragment", rf.URL)
			}
			if rf.SHA256 != "" && hexSHA256(rf.SHA256) != rf.SHA256 {
				t.Fatalf("sha256 %q", rf.SHA256)
			}
			if v, err := NormalizeVersion(rf.Version); err != nil || v != rf.Version {
				t.Fatalf("version %q is not normalized", rf.Version)
			}
			for k := range rf.Attributes {
				if k != attrRequiresPython && k != attrYanked && k != attrCoreMetadata {
					t.Fatalf("unexpected attribute %q", k)
				}
			}
		}
	})
}
