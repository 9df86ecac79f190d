package clients

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPoetryAndPdmPublish uploads with the other publishers the legacy API
// serves: Debian's poetry (which builds with poetry-core) and pdm.
func TestPoetryAndPdmPublish(t *testing.T) {
	srv := startServer(t, serverConfig{})
	c := newClientEnv(t, srv)
	const domain, repo = "publishers", "main"
	c.createDomainAndRepo(domain, repo)
	tok := c.token(domain)
	endpoint := srv.Endpoint(domain, repo)
	auth := basic("aws", tok)

	// poetry: build, publish, publish again (a no-op), then a rebuilt file
	// under the same name is refused with "File already exists".
	proj := filepath.Join(c.Work, "poet")
	for _, d := range []string{filepath.Join(proj, "poetdemo"), filepath.Join(c.Work, "pdmproj", "dist")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(proj, "pyproject.toml"), []byte(`[tool.poetry]
name = "poet-demo"
version = "0.1.0"
description = "demo"
authors = ["A <a@example.com>"]
packages = [{include = "poetdemo"}]

[tool.poetry.dependencies]
python = ">=3.8"

[build-system]
requires = ["poetry-core"]
build-backend = "poetry.core.masonry.api"
`))
	writeFile(t, filepath.Join(proj, "poetdemo", "__init__.py"), []byte("X = 1\n"))
	poetry := need(t, "poetry")
	inProj := func(args ...string) []string { return append([]string{"-C", proj}, args...) }
	c.must(nil, poetry, inProj("config", "repositories.wharf", endpoint)...)
	c.must(nil, poetry, inProj("publish", "--build", "-r", "wharf", "-u", "aws", "-p", tok)...)
	c.must(nil, poetry, inProj("publish", "-r", "wharf", "-u", "aws", "-p", tok)...)
	page := fetch(t, "GET", endpoint+"simple/poet-demo/", nil, auth, acceptJSON)
	mustStatus(t, page, 200)
	for _, f := range []string{"poet_demo-0.1.0-py3-none-any.whl", "poet_demo-0.1.0.tar.gz"} {
		if !strings.Contains(string(page.Body), f) {
			t.Fatalf("poetry's %s is not on the page:\n%s", f, page)
		}
	}
	if err := os.WriteFile(filepath.Join(proj, "poetdemo", "__init__.py"), []byte("X = 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c.must(nil, poetry, inProj("build")...)
	r := c.run(nil, poetry, inProj("publish", "-r", "wharf", "-u", "aws", "-p", tok)...)
	if r.Code == 0 || !strings.Contains(r.Output(), "File already exists") {
		t.Fatalf("poetry publishing other bytes under a published name:\n%s", r)
	}

	// pdm: publish files built elsewhere, twice (the second is a no-op).
	whl := makeWheel(t, "pdm-demo", "1.0", "")
	dist := filepath.Join(c.Work, "pdmproj", "dist")
	writeFile(t, filepath.Join(dist, whl.Filename), whl.Data)
	writeFile(t, filepath.Join(c.Work, "pdmproj", "pyproject.toml"), []byte("[project]\nname = \"pdm-demo\"\nversion = \"1.0\"\n"))
	pdm := need(t, "pdm")
	for range 2 {
		r := c.run([]string{"PDM_CHECK_UPDATE=false"}, "sh", "-c", "cd "+filepath.Join(c.Work, "pdmproj")+" && "+
			shellQuote([]string{pdm, "publish", "--no-build", "-r", endpoint, "-u", "aws", "-P", tok}))
		if r.Code != 0 {
			t.Fatalf("pdm publish:\n%s", r)
		}
	}
	got := fetch(t, "GET", endpoint+"simple/pdm-demo/1.0/"+whl.Filename, nil, auth)
	mustStatus(t, got, 200)
	if sha256hex(got.Body) != sha256hex(whl.Data) {
		t.Fatal("pdm's upload is served with other bytes")
	}
}
