package clients

import (
	"os"
	"path/filepath"
	"testing"
)

// The publisher and builder columns of the compatibility matrix.

// publisher uploads demo 1.0 from the column's project directory (c.Work):
// the files in dist/, or, for a publisher that builds (flit), its sources.
type publisher struct {
	tool, dist, name, command string
	project                   func(t *testing.T, dir, content string) // writes the project; content varies the bytes
	publish                   func(c *clientEnv, exe, endpoint string, cr credentials) result
}

var publishers = []publisher{
	{"twine-current", "twine", "twine", "twine upload", distOnly, twineUpload},
	{"twine", "twine", "twine", "twine upload", distOnly, twineUpload},
	{"uv", "uv", "uv", "uv publish", distOnly, uvPublish},
	{"poetry-current", "poetry", "poetry", "poetry publish", poetryProject, poetryPublish},
	{"poetry", "poetry", "poetry", "poetry publish", poetryProject, poetryPublish},
	{"pdm-current", "pdm", "pdm", "pdm publish", pdmProject, pdmPublish},
	{"pdm", "pdm", "pdm", "pdm publish", pdmProject, pdmPublish},
	{"hatch", "hatch", "hatch", "hatch publish", distOnly, hatchPublish},
	{"flit", "flit", "flit", "flit publish", flitProject, flitPublish},
}

func (p publisher) id() string { return "publish-" + p.tool }

// runPublisher fills one publisher column: publish, publish the same files
// again, publish other bytes under the same names, then each mistake.
func (m *matrix) runPublisher(t *testing.T, p publisher) {
	col := p.id()
	exe := m.column(t, col, p.tool, p.dist, p.name, p.command)
	domain := columnDomain(col)
	endpoint := m.srv.Endpoint(domain, matrixRepo)
	c := newMatrixEnv(t, m.srv)

	p.project(t, c.Work, "")
	r := p.publish(c, exe, endpoint, m.good(domain))
	m.expect(t, col, "publish", "ok", judge(r, "", ""), r)
	r = p.publish(c, exe, endpoint, m.good(domain))
	m.expect(t, col, "publish the same files again", "ok", judge(r, "", ""), r)

	// wharf's words for other bytes under a published name, asked directly.
	conflict := upload(t, endpoint, makeWheel(t, demo, "1.0", "# other bytes\n"), basic("aws", m.tokens[domain]))
	mustStatus(t, conflict, 409)
	p.project(t, c.Work, "# other bytes\n")
	r = p.publish(c, exe, endpoint, m.good(domain))
	m.expect(t, col, "publish other bytes under the same file names", "refused", judge(r, string(conflict.Body), ""), r)

	p.project(t, c.Work, "")
	for _, mk := range mistakes {
		cr := mk.creds(m, t, domain)
		r := p.publish(c, exe, endpoint, cr)
		m.expect(t, col, mk.Name, "refused", judge(r, m.refusal(t, domain, cr), ""), r)
	}
}

// distOnly puts the wheel in dir/dist, for publishers that take files.
func distOnly(t *testing.T, dir, content string) {
	t.Helper()
	d := makeWheel(t, demo, "1.0", content)
	if err := os.MkdirAll(filepath.Join(dir, "dist"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "dist", d.Filename), d.Data)
}

func distFile(c *clientEnv) string {
	return filepath.Join("dist", makeWheel(c.t, demo, "1.0", "").Filename)
}

func twineUpload(c *clientEnv, exe, endpoint string, cr credentials) result {
	return c.run([]string{"TWINE_REPOSITORY_URL=" + endpoint, "TWINE_USERNAME=" + cr.User, "TWINE_PASSWORD=" + cr.Pass},
		exe, "upload", "--non-interactive", "--disable-progress-bar", distFile(c))
}

func uvPublish(c *clientEnv, exe, endpoint string, cr credentials) result {
	return c.run([]string{"UV_PUBLISH_URL=" + endpoint, "UV_PUBLISH_USERNAME=" + cr.User, "UV_PUBLISH_PASSWORD=" + cr.Pass},
		exe, "publish", distFile(c))
}

func hatchPublish(c *clientEnv, exe, endpoint string, cr credentials) result {
	return c.run([]string{"HATCH_INDEX_REPO=" + endpoint, "HATCH_INDEX_USER=" + cr.User, "HATCH_INDEX_AUTH=" + cr.Pass},
		exe, "publish", "--no-prompt", distFile(c))
}

// poetryProject is a poetry project named demo with its wheel in dist/
// (poetry publishes dist/ files that carry the project's name and version).
func poetryProject(t *testing.T, dir, content string) {
	t.Helper()
	distOnly(t, dir, content)
	writeFile(t, filepath.Join(dir, "pyproject.toml"), poetryPyproject(demo, "1.0", ""))
}

func poetryPublish(c *clientEnv, exe, endpoint string, cr credentials) result {
	return c.run([]string{"POETRY_REPOSITORIES_WHARF_URL=" + endpoint,
		"POETRY_HTTP_BASIC_WHARF_USERNAME=" + cr.User, "POETRY_HTTP_BASIC_WHARF_PASSWORD=" + cr.Pass},
		exe, "publish", "--no-interaction", "-r", "wharf")
}

func pdmProject(t *testing.T, dir, content string) {
	t.Helper()
	distOnly(t, dir, content)
	writeFile(t, filepath.Join(dir, "pyproject.toml"), []byte("[project]\nname = \""+demo+"\"\nversion = \"1.0\"\n"))
}

func pdmPublish(c *clientEnv, exe, endpoint string, cr credentials) result {
	return c.run(append(pdmQuiet, "PDM_PUBLISH_REPO="+endpoint, "PDM_PUBLISH_USERNAME="+cr.User, "PDM_PUBLISH_PASSWORD="+cr.Pass),
		exe, "publish", "--no-build")
}

// flitProject is a flit project: flit publish builds it each time, with
// SOURCE_DATE_EPOCH fixed so that the same sources give the same bytes.
func flitProject(t *testing.T, dir, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "matrix_demo"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "pyproject.toml"), []byte(`[build-system]
requires = ["flit_core>=3.2,<4"]
build-backend = "flit_core.buildapi"

[project]
name = "`+demo+`"
version = "1.0"
description = "the compatibility matrix's package"
requires-python = ">=3.8"
`))
	writeFile(t, filepath.Join(dir, "matrix_demo", "__init__.py"), []byte("X = 1\n"+content))
}

func flitPublish(c *clientEnv, exe, endpoint string, cr credentials) result {
	return c.run([]string{"FLIT_INDEX_URL=" + endpoint, "FLIT_USERNAME=" + cr.User, "FLIT_PASSWORD=" + cr.Pass,
		"SOURCE_DATE_EPOCH=1577836800"}, exe, "publish")
}

// builder builds proximal-core (a setuptools project), offline.
type builder struct{ tool, name string }

var builders = []builder{
	{"build-current", "build"},
	{"build", "build"},
}

func (b builder) id() string { return "build-" + b.tool }

func (m *matrix) runBuilder(t *testing.T, b builder) {
	exe := m.column(t, b.id(), b.tool, "build", b.name, "python -m build --no-isolation")
	c := newMatrixEnv(t, m.srv)
	for name, content := range proximalCore("1") {
		p := filepath.Join(c.Work, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, p, []byte(content))
	}
	r := c.run(nil, exe, "-m", "build", "--no-isolation", "--outdir", "dist", ".")
	built, _ := filepath.Glob(filepath.Join(c.Work, "dist", "*"))
	names := ""
	for i, f := range built {
		if i > 0 {
			names += ", "
		}
		names += filepath.Base(f)
	}
	m.expect(t, b.id(), "build sdist and wheel", "ok", judge(r, "", names), r)
}
