package clients

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestUVSeedStory is the seed report (astral-sh/uv#13895) lived with the
// real uv: the seed's pyproject.toml, a private proximal-core that depends
// on kaleido==0.2.1, and kaleido coming through public:pypi from a local
// stand-in for PyPI. First the JSON document as the password (uv fails as
// in the seed; the server log and `wharf doctor` say why), then the bare
// token, where every uv command a project uses works. Steps run in order.
func TestUVSeedStory(t *testing.T) {
	t.Parallel()
	uv := need(t, "uv")
	const domain, hub = "proximal-code-artifact-domain", "proximal-hub"
	const indexName = "proximal-package-index"
	const userVar, passVar = "UV_INDEX_PROXIMAL_PACKAGE_INDEX_USERNAME", "UV_INDEX_PROXIMAL_PACKAGE_INDEX_PASSWORD"

	pub := newStaticIndex(t)
	pub.coreMetadata = true // as PyPI
	// kaleido 0.2.1 has platform wheels only; one for another platform
	// stands for those no one here installs.
	kaleido, kaleidoMac := wheelRequiring(t, "kaleido", "0.2.1"), wheelRequiring(t, "kaleido", "0.2.1")
	kaleidoMac.Filename = "kaleido-0.2.1-py2.py3-none-macosx_11_0_arm64.whl"
	tenacity := wheelRequiring(t, "tenacity", "9.0.0")
	pub.publish("kaleido", nil, kaleido, kaleidoMac)
	pub.publish("tenacity", nil, tenacity)
	srv := startServer(t, serverConfig{Env: map[string]string{
		"WHARF_EXTERNAL_CONNECTIONS": "public:pypi=" + pub.srv.URL + "/simple/",
		"WHARF_LOG_LEVEL":            "debug", // the pypi handler's "file served" lines
	}})
	base := newClientEnv(t, srv)
	endpoint := srv.Endpoint(domain, hub)
	simple := endpoint + "simple/"
	step := func(name string, fn func(t *testing.T, c *clientEnv)) {
		if !t.Run(name, func(t *testing.T) { fn(t, base.with(t)) }) {
			t.Fatalf("step %q failed; the rest of the story depends on it", name)
		}
	}

	var tok, blob string
	project := filepath.Join(base.Work, "api")
	step("setup", func(t *testing.T, c *clientEnv) {
		c.awsJSON(&struct{}{}, "create-domain", "--domain", domain)
		c.awsJSON(&struct{}{}, "create-repository", "--domain", domain, "--repository", "pypi-store")
		c.awsJSON(&struct{}{}, "associate-external-connection", "--domain", domain, "--repository", "pypi-store", "--external-connection", "public:pypi")
		c.awsJSON(&struct{}{}, "create-repository", "--domain", domain, "--repository", hub, "--upstreams", "repositoryName=pypi-store")
		tok, blob = c.token(domain), c.tokenJSON(domain)
		dist := buildProjectWith(t, c, "build-current", filepath.Join(c.Work, "core"), proximalCoreRequiring("1.0.0", "kaleido==0.2.1"))
		r := c.must(publishEnv(tok), uv, "publish", "--publish-url", endpoint, filepath.Join(dist, "*"))
		t.Logf("uv publish:\n%s", r.Stderr)
		writeFile(t, filepath.Join(mkdir(t, project), "pyproject.toml"), []byte(seedPyproject(indexName, simple)))
	})

	// The seed's mistake, and two more a uv user makes with the same
	// variables: uv lock fails, the server log names the mistake for uv's
	// request, and wharf doctor names the variable and the fix.
	mistakes := []struct {
		name, reason string
		env          []string
		doctor       string // regexp on doctor's output
		jsonCode     string // the finding's code in doctor --json, if checked
	}{
		{"json-document-as-password", "json-password", []string{userVar + "=aws", passVar + "=" + blob},
			`ERROR +` + passVar + `: the password is the JSON document.*authorizationToken.*Fix: export ` + passVar + `=`, ""},
		{"misnamed-variable", "empty-password", // uv sends the username alone
			[]string{userVar + "=aws", "UV_INDEX_PROXIMAL_PACKAGEINDEX_PASSWORD=" + tok},
			`UV_INDEX_PROXIMAL_PACKAGEINDEX_PASSWORD is set, but uv reads ` + passVar, ""},
		{"trailing-newline", "whitespace", []string{userVar + "=aws", passVar + "=" + tok + "\n"},
			`ERROR +` + passVar + `: .*(whitespace|newline)`, "whitespace"},
	}
	for _, m := range mistakes {
		step(m.name, func(t *testing.T, c *clientEnv) {
			c = c.in(project)
			mark := srv.log.Len()
			r := c.run(m.env, uv, "lock")
			t.Logf("uv lock:\n%s", r.Stderr)
			if r.Code == 0 || !strings.Contains(r.Stderr, "401 Unauthorized") {
				t.Errorf("want uv lock to fail with 401 as in the seed:\n%s", r)
			}
			log := srv.log.Since(mark)
			// One line for uv's request: the short client name, the code and
			// the sentence the body carries.
			refusal := regexp.MustCompile(`(?m)^.*refused.*\bclient=uv/0\.13\.\d+ code=` + m.reason + `\b.*reason=".{40,}$`).FindString(log)
			if refusal == "" {
				t.Errorf("the server log does not name uv, code=%s and the reason for uv's request:\n%s", m.reason, log)
			}
			t.Logf("server log: %s", clip(refusal, 400))
			d := c.wharf(m.env, "doctor", "--project", project)
			t.Logf("wharf doctor:\n%s", d.Stdout)
			if d.Code != 1 || !regexp.MustCompile(m.doctor).MatchString(d.Stdout) {
				t.Errorf("want doctor to exit 1 and say %s:\n%s", m.doctor, d)
			}
			noSecret(t, d, tok)
			if m.jsonCode != "" {
				d = c.wharf(m.env, "doctor", "--json", "--project", project)
				var rep struct {
					OK       bool `json:"ok"`
					Findings []struct{ Severity, Code, Source string }
				}
				if d.Code != 1 || json.Unmarshal([]byte(d.Stdout), &rep) != nil || rep.OK ||
					!slices.Contains(rep.Findings, struct{ Severity, Code, Source string }{"error", m.jsonCode, passVar}) {
					t.Errorf("doctor --json: want an error %q for %s:\n%s", m.jsonCode, passVar, d)
				}
				noSecret(t, d, tok)
			}
		})
	}

	tokEnv := []string{userVar + "=aws", passVar + "=" + tok}
	// uv resolves from PEP 658 metadata: wharf serves .metadata for the
	// wheels it holds and passes through its upstream's for those it does
	// not hold yet, so resolving downloads no wheel, here or upstream.
	upstreamWheels := func() (n int) {
		for _, d := range []dist{kaleido, kaleidoMac, tenacity} {
			n += pub.count("/packages/" + d.Filename)
		}
		return n
	}
	step("lock-reads-metadata", func(t *testing.T, c *clientEnv) {
		served := uvServed(c.in(project), srv, tokEnv, uv, "lock")
		for _, want := range []string{`proximal_core-1\.0\.0-.*\.whl\.metadata`, `kaleido-0\.2\.1-.*\.whl\.metadata`} {
			if !slices.ContainsFunc(served, regexp.MustCompile(`^`+want+`$`).MatchString) {
				t.Errorf("uv read no %s", want)
			}
		}
		for _, f := range served {
			if !strings.HasSuffix(f, ".metadata") {
				t.Errorf("resolving downloaded %s instead of its .metadata", f)
			}
		}
		if n := upstreamWheels(); n != 0 {
			t.Errorf("resolving made wharf download %d wheels from its upstream", n)
		}
		if d := c.in(project).wharf(tokEnv, "doctor", "--project", project); d.Code != 0 || !strings.Contains(d.Stdout, "the server accepts what uv sends (200 OK)") || !strings.Contains(d.Stdout, "the token is valid") {
			t.Errorf("doctor, where uv works:\n%s", d)
		}
		lock := string(readFile(t, filepath.Join(project, "uv.lock")))
		for _, want := range []string{`name = "proximal-core"`, `name = "kaleido"`, `version = "0.2.1"`, simple} {
			if !strings.Contains(lock, want) {
				t.Errorf("uv.lock lacks %s:\n%s", want, lock)
			}
		}
	})

	step("sync-downloads-what-it-installs", func(t *testing.T, c *clientEnv) {
		served := uvServed(c.in(project), srv, tokEnv, uv, "sync")
		got := slices.Sorted(slices.Values(served))
		if want := []string{kaleido.Filename, "proximal_core-1.0.0-py3-none-any.whl"}; !slices.Equal(got, want) {
			t.Errorf("uv sync fetched %v, want exactly the wheels it installs %v", got, want)
		}
		if n := pub.count("/packages/" + kaleidoMac.Filename); n != 0 {
			t.Errorf("wharf downloaded %s, which no one installed, from its upstream", kaleidoMac.Filename)
		}
		c.must(nil, filepath.Join(project, ".venv", "bin", "python"), "-c", "import proximal_core, kaleido")
	})

	step("add", func(t *testing.T, c *clientEnv) {
		c = c.in(project)
		r := c.must(tokEnv, uv, "add", "tenacity")
		t.Logf("uv add tenacity:\n%s", r.Stderr)
		if !strings.Contains(string(readFile(t, filepath.Join(project, "pyproject.toml"))), "tenacity") ||
			!strings.Contains(string(readFile(t, filepath.Join(project, "uv.lock"))), `name = "tenacity"`) {
			t.Errorf("uv add did not record tenacity")
		}
	})

	step("pip-install", func(t *testing.T, c *clientEnv) {
		c = c.in(project)
		venv := filepath.Join(c.Work, "pipvenv")
		c.must(nil, uv, "venv", venv)
		r := c.must(tokEnv, uv, "pip", "install", "--python", venv, "proximal-core")
		t.Logf("uv pip install:\n%s", r.Stderr)
		c.must(nil, filepath.Join(venv, "bin", "python"), "-c", "import proximal_core, kaleido")
	})

	step("publish", func(t *testing.T, c *clientEnv) {
		dist := buildProjectWith(t, c, "build-current", filepath.Join(c.Work, "core-1.1"), proximalCoreRequiring("1.1.0", "kaleido==0.2.1"))
		files := filepath.Join(dist, "*")
		r := c.must(publishEnv(tok), uv, "publish", "--publish-url", endpoint, files)
		t.Logf("uv publish:\n%s", r.Stderr)
		if strings.Count(r.Stderr, "Uploading proximal_core-1.1.0") != 2 {
			t.Errorf("want the wheel and the sdist uploaded:\n%s", r)
		}
		// uv asks the check URL (the project page) for each file and skips
		// those listed with the same sha256. It authenticates there with
		// the index's credentials (the project's UV_INDEX_* variables), not
		// the publish ones.
		r = c.in(project).must(append(publishEnv(tok), tokEnv...), uv, "publish", "--publish-url", endpoint, "--check-url", simple, files)
		t.Logf("uv publish --check-url, the same files again:\n%s", r.Stderr)
		if strings.Count(r.Stderr, "already exists, skipping") != 2 || strings.Contains(r.Stderr, "Uploading") {
			t.Errorf("want both files found on the check URL and skipped:\n%s", r)
		}
		// Without them uv's check is refused (401, which uv reads as "not
		// there yet"), so it uploads again; wharf takes identical bytes as
		// a success.
		r = c.must(publishEnv(tok), uv, "publish", "--publish-url", endpoint, "--check-url", simple, files)
		t.Logf("uv publish --check-url without index credentials:\n%s", r.Stderr)
	})

	step("no-credential-in-project", func(t *testing.T, c *clientEnv) {
		noSecretIn(t, project, tok, blob, innerToken(t, blob))
	})

	step("login-fresh-project", func(t *testing.T, c *clientEnv) {
		fresh := mkdir(t, filepath.Join(c.Work, "fresh"))
		writeFile(t, filepath.Join(fresh, "pyproject.toml"), []byte("[project]\nname = \"app\"\nversion = \"0.1.0\"\nrequires-python = \">=3.8\"\n"))
		c = c.in(fresh)
		// As a new user would: login, then uv add, nothing else. proximal-hub
		// reaches public:pypi through pypi-store, so login makes the index
		// replace PyPI, and kaleido comes through wharf too.
		sh := `eval "$("$WHARF" login --tool uv --domain ` + domain + ` --repository ` + hub + `)" && "$UV" add proximal-core && "$WHARF" doctor`
		r := c.run([]string{"WHARF_ENDPOINT_URL=" + srv.URL, "WHARF=" + wharfBin, "UV=" + uv}, "/bin/bash", "-c", sh)
		if !strings.Contains(r.Stderr, "default = true") || !strings.Contains(r.Stderr, "reaches public:pypi through pypi-store") {
			t.Errorf("login should have made the index replace PyPI, saying why:\n%s", r.Stderr)
		}
		t.Logf("eval login, uv add:\n%s", r.Stderr)
		if r.Code != 0 || !strings.Contains(r.Stderr, "+ proximal-core==1.1.0") || !strings.Contains(r.Stdout, "the server accepts what uv sends") || strings.Contains(r.Stdout, "WARN") {
			t.Errorf("uv add after wharf login --tool uv:\n%s\npyproject.toml:\n%s", r, readFile(t, filepath.Join(fresh, "pyproject.toml")))
		}
		noSecretIn(t, fresh, tok)
	})
}

// innerToken is the authorizationToken inside the CLI's JSON document.
func innerToken(t *testing.T, doc string) string {
	t.Helper()
	var v struct{ AuthorizationToken string }
	if err := json.Unmarshal([]byte(doc), &v); err != nil || v.AuthorizationToken == "" {
		t.Fatalf("not the JSON document: %v", err)
	}
	return v.AuthorizationToken
}

// publishEnv gives uv publish its credentials through the environment,
// so they never show in a logged command line.
func publishEnv(tok string) []string {
	return []string{"UV_PUBLISH_USERNAME=aws", "UV_PUBLISH_PASSWORD=" + tok}
}

// uvServed runs a uv command that must succeed and returns the files the
// server served meanwhile.
func uvServed(c *clientEnv, srv *server, env []string, uv string, args ...string) []string {
	c.t.Helper()
	mark := srv.log.Len()
	r := c.must(env, uv, args...)
	served := filesServed(srv.log.Since(mark))
	c.t.Logf("%s:\n%s\nfiles served meanwhile: %v", r.Cmdline, r.Stderr, served)
	return served
}

// filesServed lists, in order, the files the pypi handler served as the
// server log records them (one debug line per file).
func filesServed(log string) []string {
	var files []string
	for _, m := range regexp.MustCompile(`msg="file served" .*?file=(\S+)`).FindAllStringSubmatch(log, -1) {
		files = append(files, m[1])
	}
	return files
}

// proximalCoreRequiring is proximal-core at version, depending on requires.
func proximalCoreRequiring(version string, requires ...string) map[string]string {
	files := proximalCore("42")
	deps, _ := json.Marshal(requires)
	files["pyproject.toml"] = strings.Replace(strings.Replace(files["pyproject.toml"],
		`version = "1.0.0"`, `version = "`+version+`"`, 1),
		`requires-python = ">=3.8"`, `requires-python = ">=3.8"`+"\ndependencies = "+string(deps), 1)
	return files
}

// seedPyproject is the seed's pyproject.toml, pointed at url.
func seedPyproject(index, url string) string {
	return `[project]
name = "api"
version = "0.1.0"
requires-python = ">=3.8"
dependencies = ["proximal-core"]

# --- UV ---
[tool.uv]

[[tool.uv.index]]
name = "` + index + `"
url = "` + url + `"

[tool.uv.sources]
proximal-core = { index = "` + index + `" }
`
}

// in returns the environment with dir as the working directory.
func (c *clientEnv) in(dir string) *clientEnv {
	cc := *c
	cc.Work = dir
	return &cc
}

func mkdir(t *testing.T, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Len and Since let a test read what the server logged during one step.
func (b *syncBuffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Len()
}

func (b *syncBuffer) Since(off int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()[off:]
}

// noSecretIn fails for every file under dir that holds one of secrets.
func noSecretIn(t *testing.T, dir string, secrets ...string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, s := range secrets {
			if s != "" && strings.Contains(string(b), s) {
				t.Errorf("%s holds a credential", p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
