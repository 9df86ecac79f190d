package clients

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The installer columns of the compatibility matrix.

// installer resolves demo (with spec, "" or "==2.0") from index with
// credentials cr and returns the run and the version it chose ("" if none).
// variant tells apart two columns of one tool ("uv pip install", "uv lock").
type installer struct {
	tool, variant, dist, name, command string
	install                            func(c *clientEnv, exe, index, spec string, cr credentials) (result, string)
}

var installers = []installer{
	{"uv", "", "uv", "uv", "uv pip install", targetInstall("UV_INDEX_URL", "pip", "install")},
	{"uv", "-lock", "uv", "uv", "uv lock", uvLock},
	{"pip-current", "", "pip", "pip", "pip install", targetInstall("PIP_INDEX_URL", "install")},
	{"pip", "", "pip", "pip", "pip install", targetInstall("PIP_INDEX_URL", "install")},
	{"poetry-current", "", "poetry", "poetry", "poetry lock", poetryLock(`priority = "primary"`)},
	{"poetry", "", "poetry", "poetry", "poetry lock", poetryLock(`default = true`)}, // poetry 1.3 has no priority
	{"pdm-current", "", "pdm", "pdm", "pdm lock", pdmLock},
	{"pdm", "", "pdm", "pdm", "pdm lock", pdmLock},
}

func (in installer) id() string { return "install-" + in.tool + in.variant }

// runInstaller fills one installer column.
func (m *matrix) runInstaller(t *testing.T, in installer) {
	col := in.id()
	exe := m.column(t, col, in.tool, in.dist, in.name, in.command)
	domain := columnDomain(col)
	endpoint := m.srv.Endpoint(domain, matrixRepo)
	index := endpoint + "simple/"
	auth := basic("aws", m.tokens[domain])
	for _, v := range []string{"1.0", "2.0"} {
		mustStatus(t, upload(t, endpoint, makeWheel(t, demo, v, ""), auth), 200)
	}
	unlist(t, newClientEnv(t, m.srv), domain, "2.0")
	yank := yankReason(t, index, demo, "2.0", auth)

	// Each case gets a fresh HOME: no cache may answer for the server.
	try := func(spec string, cr credentials) (result, string) {
		return in.install(newMatrixEnv(t, m.srv), exe, index, spec, cr)
	}
	r, got := try("", m.good(domain))
	m.expect(t, col, "install "+demo, "ok: 1.0", judge(r, "", got), r)
	r, got = try("==2.0", m.good(domain))
	m.expect(t, col, "install "+demo+"==2.0 (Unlisted)", "", judge(r, yank, got), r)
	for _, mk := range mistakes {
		cr := mk.creds(m, t, domain)
		r, got := try("==1.0", cr)
		m.expect(t, col, mk.Name, "refused", judge(r, m.refusal(t, domain, cr), got), r)
	}
}

// unlist sets a version of demo to Unlisted, as an owner would with the aws CLI.
func unlist(t *testing.T, c *clientEnv, domain, version string) {
	t.Helper()
	c.awsJSON(&struct{}{}, "update-package-versions-status", "--domain", domain, "--domain-owner", accountID,
		"--repository", matrixRepo, "--format", "pypi", "--package", demo, "--versions", version, "--target-status", "Unlisted")
}

// yankReason is what the simple API says of the version's files (PEP 592).
func yankReason(t *testing.T, index, project, version, auth string) string {
	t.Helper()
	r := fetch(t, "GET", index+project+"/", nil, auth, acceptJSON)
	mustStatus(t, r, 200)
	var page simpleProject
	if err := json.Unmarshal(r.Body, &page); err != nil {
		t.Fatal(err)
	}
	for _, f := range page.Files {
		var reason string
		if strings.Contains(f.Filename, "-"+version+"-") && json.Unmarshal(f.Yanked, &reason) == nil && reason != "" {
			return reason
		}
	}
	t.Fatalf("no yank reason for %s %s on the simple page:\n%s", project, version, r)
	return ""
}

// withCredentials puts cr into the URL's user information, percent-encoded
// as a careful user would (the JSON document has quotes, spaces, newlines).
func withCredentials(index string, cr credentials) string {
	u, _ := url.Parse(index)
	u.User = url.UserPassword(cr.User, cr.Pass)
	return u.String()
}

// targetInstall runs `pip install` or `uv pip install` into a directory
// and reads the version installed from the .dist-info there. The index
// comes through the environment (PIP_INDEX_URL, UV_INDEX_URL), which keeps
// the token out of the command line the test logs.
func targetInstall(indexVar string, sub ...string) func(c *clientEnv, exe, index, spec string, cr credentials) (result, string) {
	return func(c *clientEnv, exe, index, spec string, cr credentials) (result, string) {
		target := filepath.Join(c.Work, "site")
		args := append(append([]string{}, sub...), "--target", target, demo+spec)
		r := c.run([]string{indexVar + "=" + withCredentials(index, cr)}, exe, args...)
		m, _ := filepath.Glob(filepath.Join(target, "matrix_demo-*.dist-info"))
		if len(m) != 1 {
			return r, ""
		}
		return r, strings.TrimSuffix(strings.TrimPrefix(filepath.Base(m[0]), "matrix_demo-"), ".dist-info")
	}
}

// appProject is the PEP 621 project the installers lock: it needs demo
// (with spec); tail adds the client's own tables.
func appProject(spec, tail string) []byte {
	return []byte(fmt.Sprintf("[project]\nname = \"matrix-app\"\nversion = \"0.1.0\"\nrequires-python = \">=3.8\"\ndependencies = [%q]\n%s", demo+spec, tail))
}

// uvLock is the seed's way: a project whose default index is wharf, named
// so that uv reads its credentials from UV_INDEX_WHARF_USERNAME/PASSWORD.
func uvLock(c *clientEnv, exe, index, spec string, cr credentials) (result, string) {
	writeFile(c.t, filepath.Join(c.Work, "pyproject.toml"), appProject(spec,
		fmt.Sprintf("\n[[tool.uv.index]]\nname = \"wharf\"\nurl = %q\ndefault = true\n", index)))
	r := c.run([]string{"UV_INDEX_WHARF_USERNAME=" + cr.User, "UV_INDEX_WHARF_PASSWORD=" + cr.Pass}, exe, "lock")
	return r, lockedVersion(c, "uv.lock")
}

// poetryPyproject is a project in the [tool.poetry] form both poetry 1.3
// and 2.x read; tail adds tables (dependencies, sources).
func poetryPyproject(name, version, tail string) []byte {
	return []byte(fmt.Sprintf(`[tool.poetry]
name = %q
version = %q
description = "a package of the compatibility matrix"
authors = ["A <a@example.com>"]

[build-system]
requires = ["poetry-core"]
build-backend = "poetry.core.masonry.api"

[tool.poetry.dependencies]
python = ">=3.8"
%s`, name, version, tail))
}

// poetryLock writes a poetry project whose only source is wharf (marked
// as the main index with the spelling of that poetry version) and locks it.
func poetryLock(sourceKind string) func(c *clientEnv, exe, index, spec string, cr credentials) (result, string) {
	return func(c *clientEnv, exe, index, spec string, cr credentials) (result, string) {
		constraint := "*"
		if spec != "" {
			constraint = spec
		}
		writeFile(c.t, filepath.Join(c.Work, "pyproject.toml"), poetryPyproject("matrix-app", "0.1.0",
			fmt.Sprintf("%s = %q\n\n[[tool.poetry.source]]\nname = \"wharf\"\nurl = %q\n%s\n", demo, constraint, index, sourceKind)))
		r := c.run([]string{"POETRY_HTTP_BASIC_WHARF_USERNAME=" + cr.User, "POETRY_HTTP_BASIC_WHARF_PASSWORD=" + cr.Pass,
			"POETRY_VIRTUALENVS_CREATE=false"}, exe, "lock", "--no-interaction")
		return r, lockedVersion(c, "poetry.lock")
	}
}

// pdmLock locks the project with wharf as pdm's index.
func pdmLock(c *clientEnv, exe, index, spec string, cr credentials) (result, string) {
	writeFile(c.t, filepath.Join(c.Work, "pyproject.toml"), appProject(spec, ""))
	r := c.run(append(pdmQuiet, "PDM_PYPI_URL="+withCredentials(index, cr)), exe, "lock")
	return r, lockedVersion(c, "pdm.lock")
}

// pdmQuiet keeps pdm from checking for its own updates and from creating
// a virtual environment per project (the machine's Python will do).
var pdmQuiet = []string{"PDM_CHECK_UPDATE=false", "PDM_USE_VENV=false"}

var lockedDemo = regexp.MustCompile(`name = "` + demo + `"\s*\nversion = "([^"]+)"`)

// lockedVersion reads demo's version from a lock file, "" if none.
func lockedVersion(c *clientEnv, file string) string {
	b, err := os.ReadFile(filepath.Join(c.Work, file))
	if err != nil {
		return ""
	}
	if m := lockedDemo.FindSubmatch(b); m != nil {
		return string(m[1])
	}
	return ""
}
