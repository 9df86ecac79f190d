package clients

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"mime/multipart"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// buildProject writes a tiny Python project and builds its sdist and wheel
// with Debian's `python3 -m build`, offline (--no-isolation: PyPI is not
// reachable, the backends come from Debian). It returns the dist directory.
func buildProject(t *testing.T, c *clientEnv, dir string, files map[string]string) string {
	t.Helper()
	return buildProjectWith(t, c, "build", dir, files)
}

// buildProjectWith is buildProject with another build tool, e.g.
// "build-current" (today's setuptools names the sdist as PEP 625 wants,
// proximal_core-1.0.0.tar.gz, which uv publish requires).
func buildProjectWith(t *testing.T, c *clientEnv, build, dir string, files map[string]string) string {
	t.Helper()
	py := need(t, build)
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dist := filepath.Join(dir, "dist")
	c.must(nil, py, "-m", "build", "--no-isolation", "--outdir", dist, dir)
	return dist
}

// proximalCore is a setuptools project (the most common backend).
func proximalCore(value string) map[string]string {
	return map[string]string{
		"pyproject.toml": `[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "proximal-core"
version = "1.0.0"
description = "Proximal's core library"
requires-python = ">=3.8"

[tool.setuptools]
packages = ["proximal_core"]
`,
		"proximal_core/__init__.py": "VALUE = " + value + "\n",
	}
}

// proximalApp is a flit_core project that depends on proximal-core, so pip
// must resolve a dependency from wharf.
var proximalApp = map[string]string{
	"pyproject.toml": `[build-system]
requires = ["flit_core>=3.2,<4"]
build-backend = "flit_core.buildapi"

[project]
name = "proximal-app"
version = "0.2.0"
description = "Proximal's app"
requires-python = ">=3.8"
dependencies = ["proximal-core>=1.0"]
`,
	"proximal_app/__init__.py": "\"\"\"Proximal's app.\"\"\"\n__version__ = \"0.2.0\"\nfrom proximal_core import VALUE\n",
}

// distFiles lists the built files of a dist directory, sorted.
func distFiles(t *testing.T, dist string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dist, "*"))
	if err != nil || len(m) != 2 {
		t.Fatalf("want a wheel and an sdist in %s, got %v (%v)", dist, m, err)
	}
	return m
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sha256hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// wheelMetadata returns the exact bytes of {name}-{version}.dist-info/METADATA.
func wheelMetadata(t *testing.T, wheel []byte) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(wheel), int64(len(wheel)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, ".dist-info/METADATA") && strings.Count(f.Name, "/") == 1 {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			b, err := io.ReadAll(rc)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
	t.Fatal("wheel has no METADATA")
	return nil
}

// dist is a distribution file plus the form fields an uploader sends.
type dist struct {
	Name, Version, Filetype, Filename string
	Data                              []byte
}

var nonAlnum = regexp.MustCompile(`[-_.]+`)

// makeWheel writes a minimal valid wheel with Go, for tests that need many
// or special files quickly; the story test uses real builds.
func makeWheel(t *testing.T, name, version, extra string) dist {
	t.Helper()
	under := nonAlnum.ReplaceAllString(strings.ToLower(name), "_")
	di := fmt.Sprintf("%s-%s.dist-info", under, version)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	var record strings.Builder // installers that check RECORD (pdm 2.2's) need every file in it
	add := func(n, body string) {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, body)
		sum := sha256.Sum256([]byte(body))
		fmt.Fprintf(&record, "%s,sha256=%s,%d\n", n, base64.RawURLEncoding.EncodeToString(sum[:]), len(body))
	}
	add(under+"/__init__.py", "X = 1\n"+extra)
	add(di+"/METADATA", fmt.Sprintf("Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: test\nRequires-Python: >=3.8\n\n", name, version))
	add(di+"/WHEEL", "Wheel-Version: 1.0\nGenerator: wharf-e2e\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
	record.WriteString(di + "/RECORD,,\n")
	w, err := zw.Create(di + "/RECORD")
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, record.String())
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return dist{Name: name, Version: version, Filetype: "bdist_wheel",
		Filename: fmt.Sprintf("%s-%s-py3-none-any.whl", under, version), Data: buf.Bytes()}
}

// writeUploadForm writes the legacy upload form twine sends, with content
// streamed from r (so a huge file never sits in memory).
func writeUploadForm(mw *multipart.Writer, d dist, sha string, r io.Reader) error {
	pyversion := "py3"
	if d.Filetype == "sdist" {
		pyversion = "source"
	}
	fields := [][2]string{
		{":action", "file_upload"}, {"protocol_version", "1"},
		{"name", d.Name}, {"version", d.Version}, {"filetype", d.Filetype},
		{"pyversion", pyversion}, {"metadata_version", "2.1"},
		{"summary", "test"}, {"requires_python", ">=3.8"},
	}
	if sha != "" {
		fields = append(fields, [2]string{"sha256_digest", sha})
	}
	for _, f := range fields {
		if err := mw.WriteField(f[0], f[1]); err != nil {
			return err
		}
	}
	w, err := mw.CreateFormFile("content", d.Filename)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, r); err != nil {
		return err
	}
	return mw.Close()
}

// upload POSTs d to a repository endpoint the way twine does.
func upload(t *testing.T, endpoint string, d dist, headers ...string) reply {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if err := writeUploadForm(mw, d, sha256hex(d.Data), bytes.NewReader(d.Data)); err != nil {
		t.Fatal(err)
	}
	return fetch(t, "POST", endpoint, &body, append(headers, "Content-Type: "+mw.FormDataContentType())...)
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
