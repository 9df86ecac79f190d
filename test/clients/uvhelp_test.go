package clients

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// uv-first client help (issue 12, item 4): every claim `wharf doctor` and
// `wharf login --tool uv` make about uv, checked against the real uv.
//
// One server holds priv-pkg 1.0 (which needs pubdep) in uvh/repo; a static
// stand-in for PyPI holds pubdep 1.0 and an impostor priv-pkg 9.0, so the
// version uv locks tells which index it asked.

type uvWorld struct {
	srv   *server
	pub   *staticIndex
	priv  string // the private index URL (…/simple/)
	token string
}

func newUVWorld(t *testing.T) *uvWorld {
	pub := newStaticIndex(t)
	pub.publish("pubdep", nil, makeWheel(t, "pubdep", "1.0", ""))
	pub.publish("priv-pkg", nil, makeWheel(t, "priv-pkg", "9.0", "IMPOSTOR = True\n"))
	srv := startServer(t, serverConfig{})
	c := newClientEnv(t, srv)
	c.createDomainAndRepo("uvh", "repo")
	w := &uvWorld{srv: srv, pub: pub, priv: srv.Endpoint("uvh", "repo") + "simple/"}
	w.token = strings.TrimSpace(c.must(nil, wharfBin, "token", "--domain", "uvh", "--endpoint-url", srv.URL).Stdout)
	mustStatus(t, upload(t, srv.Endpoint("uvh", "repo"), wheelRequiring(t, "priv-pkg", "1.0", "pubdep"), basic("aws", w.token)), 200)
	return w
}

// env is a fresh sandbox (HOME, project directory) whose default index is
// the PyPI stand-in.
func (w *uvWorld) env(t *testing.T) *clientEnv {
	c := newClientEnv(t, w.srv)
	c.env["UV_DEFAULT_INDEX"] = w.pub.srv.URL + "/simple/"
	return c
}

// project writes a pyproject.toml depending on priv-pkg with the private
// index named name; more is added to the index table, tail to the file.
func project(t *testing.T, c *clientEnv, name, url, more, tail string) {
	writeFile(t, filepath.Join(c.Work, "pyproject.toml"), []byte(`[project]
name = "app"
version = "0.1.0"
requires-python = ">=3.8"
dependencies = ["priv-pkg"]

[[tool.uv.index]]
name = "`+name+`"
url = "`+url+`"
`+more+"\n"+tail))
}

// lock runs `uv lock` from scratch and returns where priv-pkg came from:
// "private", "public" or "" when the lock failed.
func (w *uvWorld) lock(c *clientEnv, extra ...string) (string, result) {
	c.t.Helper()
	os.Remove(filepath.Join(c.Work, "uv.lock"))
	r := c.run(extra, need(c.t, "uv"), "lock", "--no-cache")
	if r.Code != 0 {
		return "", r
	}
	lock := string(readFile(c.t, filepath.Join(c.Work, "uv.lock")))
	if strings.Contains(lock, w.token) || strings.Contains(lock, "wharf1.") {
		c.t.Errorf("uv.lock holds a credential:\n%s", lock)
	}
	m := regexp.MustCompile(`name = "priv-pkg"\nversion = "([^"]+)"\nsource = \{ registry = "([^"]+)" \}`).FindStringSubmatch(lock)
	switch {
	case m == nil:
		c.t.Fatalf("priv-pkg is not in uv.lock:\n%s", lock)
	case m[1] == "1.0" && m[2] == w.priv:
		return "private", r
	case m[1] == "9.0" && strings.HasPrefix(m[2], w.pub.srv.URL):
		return "public", r
	}
	c.t.Fatalf("priv-pkg %s from %s?", m[1], m[2])
	return "", r
}

// doctor runs `wharf doctor` in the project; the token never shows.
func (w *uvWorld) doctor(c *clientEnv, extra ...string) result {
	c.t.Helper()
	r := c.wharf(extra, "doctor")
	noSecret(c.t, r, w.token)
	c.t.Logf("doctor:\n%s", r.Stdout)
	return r
}

func expect(t *testing.T, r result, code int, want ...string) {
	t.Helper()
	if r.Code != code {
		t.Errorf("want exit %d:\n%s", code, r)
	}
	for _, s := range want {
		if !strings.Contains(r.Output(), s) {
			t.Errorf("want %q in:\n%s", s, r)
		}
	}
}

const uv401 = "could not be queried due to a lack of valid authentication credentials (401 Unauthorized)"

func TestUVHelp(t *testing.T) {
	w := newUVWorld(t)
	pinTo := func(index string) string { return "[tool.uv.sources]\npriv-pkg = { index = \"" + index + "\" }\n" }

	// The variable names doctor and login give for an index name are the
	// ones uv reads: uv fails without them and succeeds with them.
	t.Run("names", func(t *testing.T) {
		t.Parallel()
		exports := regexp.MustCompile(`export (UV_INDEX_[A-Za-z0-9_]+)_USERNAME=aws (UV_INDEX_[A-Za-z0-9_]+_PASSWORD)=`)
		for name, want := range map[string]string{
			"proximal-package-index": "UV_INDEX_PROXIMAL_PACKAGE_INDEX",
			"my.repo":                "UV_INDEX_MY_REPO",
			"my_Repo-2":              "UV_INDEX_MY_REPO_2",
			"a--b..c":                "UV_INDEX_A__B__C",
		} {
			c := w.env(t)
			project(t, c, name, w.priv, "explicit = true", pinTo(name))
			r := w.doctor(c)
			m := exports.FindStringSubmatch(r.Stdout)
			if r.Code != 1 || m == nil || m[1] != want || m[2] != want+"_PASSWORD" {
				t.Errorf("index %q: want doctor to fail and name %s_USERNAME/_PASSWORD:\n%s", name, want, r)
			}
			login := c.wharf(nil, "login", "--tool", "uv", "--domain", "uvh", "--repository", "repo", "--name", name, "--dry-run")
			expect(t, login, 0, "export "+want+"_USERNAME=aws\n", "export "+want+"_PASSWORD=\"$(")
			if from, r := w.lock(c); from != "" || !strings.Contains(r.Stderr, uv401) {
				t.Errorf("index %q without credentials: want uv to fail with 401:\n%s", name, r)
			}
			if from, r := w.lock(c, want+"_USERNAME=aws", want+"_PASSWORD="+w.token); from != "private" {
				t.Errorf("index %q with %s_*: want uv to lock priv-pkg from it:\n%s", name, want, r)
			}
		}
		// A name uv refuses: doctor quotes uv's rule, login refuses it.
		c := w.env(t)
		project(t, c, "my repo", w.priv, "explicit = true", "")
		_, r := w.lock(c)
		expect(t, r, 2, "Index names may only contain letters, digits, hyphens, underscores, and periods")
		expect(t, w.doctor(c), 1, "index name \"my repo\"", "letters, digits, hyphens, underscores, and periods")
		expect(t, c.wharf(nil, "login", "--tool", "uv", "--domain", "uvh", "--repository", "repo", "--name", "my repo", "--dry-run"), 1,
			"letters, digits, hyphens, underscores, and periods")
	})

	// Credentials in the index URL and in UV_INDEX_<NAME>_*: uv sends the
	// URL's for the index pages and the variables' for the files it fetches
	// from that index, so both must be right.
	t.Run("url-vs-env", func(t *testing.T) {
		t.Parallel()
		withCreds := func(userinfo string) string { return strings.Replace(w.priv, "://", "://"+userinfo+"@", 1) }
		good := []string{"UV_INDEX_PRIV_USERNAME=aws", "UV_INDEX_PRIV_PASSWORD=" + w.token}
		const bad = "wharf1.AAAA.BBBB"
		for _, tc := range []struct {
			name, userinfo string
			env            []string
			works          bool
			doctor         []string
		}{
			{"url only", "aws:" + w.token, nil, true, []string{"sends username \"aws\" from URL in pyproject.toml [[tool.uv.index]] and the password from URL"}},
			{"url wrong, env right", "aws:" + bad, good, false, []string{"for the index pages", "Fix: take the credentials out of the URL and export UV_INDEX_PRIV_USERNAME=aws UV_INDEX_PRIV_PASSWORD="}},
			{"url right, env wrong", "aws:" + w.token, []string{"UV_INDEX_PRIV_USERNAME=aws", "UV_INDEX_PRIV_PASSWORD=" + bad}, false, []string{"for the files"}},
			{"url username, env password only", "aws", good[1:], false, []string{"no password"}},
			{"url username, env both", "aws", good, true, []string{"the password from UV_INDEX_PRIV_PASSWORD"}},
			{"url password only, env username", ":" + w.token, good[:1], false, []string{"without a username"}},
		} {
			c := w.env(t)
			project(t, c, "priv", withCreds(tc.userinfo), "explicit = true", pinTo("priv"))
			from, r := w.lock(c, tc.env...)
			if tc.works != (from == "private") {
				t.Errorf("%s: uv lock works=%v, want %v:\n%s", tc.name, from == "private", tc.works, r)
			}
			expect(t, w.doctor(c, tc.env...), map[bool]int{true: 0, false: 1}[tc.works], tc.doctor...)
		}
	})

	// explicit, default and --index-strategy: which index uv asks for a
	// package not pinned in [tool.uv.sources].
	t.Run("strategy", func(t *testing.T) {
		t.Parallel()
		creds := []string{"UV_INDEX_PRIV_USERNAME=aws", "UV_INDEX_PRIV_PASSWORD=" + w.token}

		// Not explicit, first-index (uv's default): asked first for every
		// package; a 401 there makes a public package look missing.
		c := w.env(t)
		writeFile(t, filepath.Join(c.Work, "pyproject.toml"), []byte("[project]\nname = \"app\"\nversion = \"0.1.0\"\nrequires-python = \">=3.8\"\ndependencies = [\"pubdep\"]\n\n[[tool.uv.index]]\nname = \"priv\"\nurl = \""+w.priv+"\"\n"))
		r := c.run(nil, need(t, "uv"), "lock", "--no-cache")
		expect(t, r, 1, "Because pubdep was not found in the package registry", uv401)
		expect(t, w.doctor(c), 1, "uv asks it first for every package", "\"X was not found in the package registry\"")
		if d := w.doctor(c, creds...); d.Code != 0 || !strings.Contains(d.Stdout, "uv asks it first for every package") {
			t.Errorf("with credentials: want exit 0 and the first-index warning:\n%s", d)
		}
		c.must(creds, need(t, "uv"), "lock", "--no-cache")

		// Not explicit, not pinned: first-index takes priv-pkg from it;
		// unsafe-best-match takes the public impostor, from the variable,
		// pyproject.toml or uv.toml; a pin keeps it private.
		c = w.env(t)
		project(t, c, "priv", w.priv, "", "")
		if from, r := w.lock(c, creds...); from != "private" {
			t.Errorf("first-index: want priv-pkg from the private index:\n%s", r)
		}
		if d := w.doctor(c, creds...); strings.Contains(d.Stdout, "highest version") {
			t.Errorf("first-index: no best-match warning wanted:\n%s", d)
		}
		confusion := "takes the highest version of a package from any index"
		if from, r := w.lock(c, append(creds, "UV_INDEX_STRATEGY=unsafe-best-match")...); from != "public" {
			t.Errorf("unsafe-best-match: want the public impostor:\n%s", r)
		}
		expect(t, w.doctor(c, append(creds, "UV_INDEX_STRATEGY=unsafe-best-match")...), 0, confusion, "UV_INDEX_STRATEGY")
		project(t, c, "priv", w.priv, "", "[tool.uv]\nindex-strategy = \"unsafe-best-match\"\n")
		if from, r := w.lock(c, creds...); from != "public" {
			t.Errorf("index-strategy in pyproject.toml: want the public impostor:\n%s", r)
		}
		expect(t, w.doctor(c, creds...), 0, confusion)
		// The project says first-index, the user's uv.toml best-match: the project wins.
		project(t, c, "priv", w.priv, "", "[tool.uv]\nindex-strategy = \"first-index\"\n")
		os.MkdirAll(filepath.Join(c.Home, ".config", "uv"), 0o755)
		writeFile(t, filepath.Join(c.Home, ".config", "uv", "uv.toml"), []byte("index-strategy = \"unsafe-best-match\"\n"))
		if from, r := w.lock(c, creds...); from != "private" {
			t.Errorf("project first-index over user best-match: want private:\n%s", r)
		}
		if d := w.doctor(c, creds...); strings.Contains(d.Stdout, confusion) {
			t.Errorf("project first-index over user best-match: no best-match warning wanted:\n%s", d)
		}
		project(t, c, "priv", w.priv, "", pinTo("priv"))
		if from, r := w.lock(c, creds...); from != "private" {
			t.Errorf("pinned under unsafe-best-match: want private:\n%s", r)
		}

		// Explicit but nothing pinned: uv never asks it.
		c = w.env(t)
		project(t, c, "priv", w.priv, "explicit = true", "")
		if from, r := w.lock(c, creds...); from != "public" {
			t.Errorf("explicit, unpinned: want the public impostor:\n%s", r)
		}
		expect(t, w.doctor(c, creds...), 0, "no package is pinned to it")
		project(t, c, "priv", w.priv, "explicit = true", pinTo("priv"))
		if d := w.doctor(c, creds...); d.Code != 0 || strings.Contains(d.Stdout, "no package is pinned to it") || strings.Contains(d.Stdout, "asks it first") ||
			!strings.Contains(d.Stdout, "`uv pip install` ignores [tool.uv.sources], so it never asks the explicit index \"priv\"") {
			t.Errorf("explicit and pinned: want no warning, and the note on uv pip:\n%s", d)
		}
		if from, r := w.lock(c, creds...); from != "private" {
			t.Errorf("explicit and pinned: want uv lock to take priv-pkg from it:\n%s", r)
		}
		r = c.must(creds, need(t, "uv"), "pip", "install", "--no-cache", "--target", "site", "priv-pkg")
		if !strings.Contains(r.Stderr, "+ priv-pkg==9.0") {
			t.Errorf("explicit and pinned: want uv pip install to take the public impostor:\n%s", r)
		}

		// default = true: it replaces PyPI, so public packages come from it
		// (this repository has no upstream: pubdep is missing) — unless
		// UV_DEFAULT_INDEX replaces it in turn.
		c = w.env(t)
		project(t, c, "priv", w.priv, "default = true", "")
		if from, r := w.lock(c, append(creds, "UV_DEFAULT_INDEX=")...); from != "" || !strings.Contains(r.Stderr, "pubdep was not found in the package registry") {
			t.Errorf("default = true: want pubdep missing:\n%s", r)
		}
		if d := w.doctor(c, append(creds, "UV_DEFAULT_INDEX=")...); d.Code != 0 || strings.Contains(d.Stdout, "WARN") {
			t.Errorf("default = true: want no warning:\n%s", d)
		}
		if from, r := w.lock(c, creds...); from != "public" {
			t.Errorf("default = true under UV_DEFAULT_INDEX: want the public impostor:\n%s", r)
		}
		expect(t, w.doctor(c, creds...), 0, "is `default = true`, but UV_DEFAULT_INDEX replaces it: uv never asks it")
		// UV_INDEX_URL does not replace it.
		indexURL := append(creds, "UV_DEFAULT_INDEX=", "UV_INDEX_URL="+w.pub.srv.URL+"/simple/")
		if from, r := w.lock(c, indexURL...); from != "" || !strings.Contains(r.Stderr, "pubdep was not found in the package registry") {
			t.Errorf("default = true under UV_INDEX_URL: want the private index still default (pubdep missing):\n%s", r)
		}
		if d := w.doctor(c, indexURL...); d.Code != 0 || strings.Contains(d.Stdout, "replaces it") {
			t.Errorf("default = true under UV_INDEX_URL: want no claim that it is replaced:\n%s", d)
		}
	})

	// UV_INDEX_URL / UV_DEFAULT_INDEX / UV_INDEX / UV_EXTRA_INDEX_URL: uv
	// pip install and doctor agree on what is sent.
	t.Run("env-indexes", func(t *testing.T) {
		t.Parallel()
		withCreds := strings.Replace(w.priv, "://", "://aws:"+w.token+"@", 1)
		pub := w.pub.srv.URL + "/simple/"
		for _, tc := range []struct {
			env    []string
			works  bool
			doctor string
		}{
			{[]string{"UV_DEFAULT_INDEX=", "UV_INDEX_URL=" + pub, "UV_EXTRA_INDEX_URL=" + withCreds}, true, "sends username \"aws\" from URL in UV_EXTRA_INDEX_URL"},
			{[]string{"UV_DEFAULT_INDEX=", "UV_INDEX_URL=" + pub, "UV_EXTRA_INDEX_URL=" + w.priv}, false, "uv sends no credentials to this private index"},
			{[]string{"UV_INDEX=priv=" + w.priv, "UV_INDEX_PRIV_USERNAME=aws", "UV_INDEX_PRIV_PASSWORD=" + w.token}, true, "the password from UV_INDEX_PRIV_PASSWORD"},
			{[]string{"UV_INDEX=priv=" + w.priv, "UV_INDEX_PRIV_USERNAME=aws"}, false, "a username is configured without a password"},
			{[]string{"UV_INDEX=" + withCreds}, true, "from URL in UV_INDEX"},
		} {
			c := w.env(t)
			r := c.run(tc.env, need(t, "uv"), "pip", "install", "--no-cache", "--target", filepath.Join(c.Work, "site"), "priv-pkg")
			if works := r.Code == 0 && fileExistsT(filepath.Join(c.Work, "site", "priv_pkg", "__init__.py")); works != tc.works {
				t.Errorf("%v: uv pip install works=%v, want %v:\n%s", tc.env, works, tc.works, r)
			}
			if !tc.works && !strings.Contains(r.Stderr, uv401) {
				t.Errorf("want uv's 401 hint:\n%s", r)
			}
			code := map[bool]int{true: 0, false: 1}[tc.works]
			expect(t, w.doctor(c, tc.env...), code, tc.doctor)
		}
		// Index URL credentials never reach uv's output nor doctor's.
	})

	// UV_KEYRING_PROVIDER=subprocess: uv runs `keyring get URL USERNAME`
	// for an index URL that carries a username and no password.
	t.Run("keyring", func(t *testing.T) {
		t.Parallel()
		c := w.env(t)
		bin := t.TempDir() // PATH without a keyring command
		withUser := strings.Replace(w.priv, "://", "://aws@", 1)
		project(t, c, "priv", withUser, "explicit = true", pinTo("priv"))
		env := []string{"UV_KEYRING_PROVIDER=subprocess", "PATH=" + bin}
		_, r := w.lock(c, env...)
		expect(t, r, 1, uv401)
		expect(t, w.doctor(c, env...), 1, "no `keyring` command on PATH")

		// A keyring that knows the token: uv and doctor both ask it.
		writeFile(t, filepath.Join(bin, "keyring"), []byte("#!/bin/sh\n[ \"$1 $2 $3\" = \"get "+w.priv+" aws\" ] && echo "+w.token+" && exit 0\nexit 1\n"))
		os.Chmod(filepath.Join(bin, "keyring"), 0o755)
		if from, r := w.lock(c, env...); from != "private" {
			t.Errorf("with a keyring: want uv to lock from the private index:\n%s", r)
		}
		expect(t, w.doctor(c, env...), 0, "the password from `keyring get`", "the server accepts what uv sends")

		// Without a username in the URL uv does not ask the keyring.
		project(t, c, "priv", w.priv, "explicit = true", pinTo("priv"))
		_, r = w.lock(c, env...)
		expect(t, r, 1, uv401)
		expect(t, w.doctor(c, env...), 1, "asks the keyring only when the index URL carries a username")
	})

	// uv's own credentials store (`uv auth login`) and ~/.netrc: uv uses
	// them when the URL and UV_INDEX_<NAME>_PASSWORD give no password, and
	// doctor must say so.
	t.Run("store-and-netrc", func(t *testing.T) {
		t.Parallel()
		uv := need(t, "uv")
		const bad = "wharf1.AAAA.BBBB"
		good := []string{"UV_INDEX_PRIV_USERNAME=aws", "UV_INDEX_PRIV_PASSWORD=" + w.token}
		c := w.env(t)
		project(t, c, "priv", w.priv, "explicit = true", pinTo("priv"))
		login := func(pass string) { c.must(nil, uv, "auth", "login", w.priv, "--username", "aws", "--password", pass) }
		login(w.token)
		if from, r := w.lock(c); from != "private" {
			t.Errorf("uv auth login: want uv to lock from the private index:\n%s", r)
		}
		expect(t, w.doctor(c), 0, "sends username \"aws\" from ~/.local/share/uv/credentials/credentials.toml (uv auth login)")
		if from, r := w.lock(c, good[0]); from != "private" {
			t.Errorf("stored password, UV_INDEX_PRIV_USERNAME=aws: want private:\n%s", r)
		}
		expect(t, w.doctor(c, good[0]), 0)
		login(bad)
		if from, r := w.lock(c); from != "" || !strings.Contains(r.Stderr, uv401) {
			t.Errorf("stored bad password: want 401:\n%s", r)
		}
		expect(t, w.doctor(c), 1, "uv auth login")
		if from, r := w.lock(c, good...); from != "private" {
			t.Errorf("variables over a stored bad password: want private:\n%s", r)
		}
		expect(t, w.doctor(c, good...), 0)
		c.must(nil, uv, "auth", "logout", w.priv, "--username", "aws")

		// ~/.netrc: used when nothing else gives a password; a stale entry
		// does not matter while the variables are right.
		writeFile(t, filepath.Join(c.Home, ".netrc"), []byte("machine 127.0.0.1\nlogin aws\npassword "+w.token+"\n"))
		if from, r := w.lock(c); from != "private" {
			t.Errorf(".netrc: want private:\n%s", r)
		}
		expect(t, w.doctor(c), 0)
		if from, r := w.lock(c, good[1]); from != "" {
			t.Errorf(".netrc + UV_INDEX_PRIV_PASSWORD alone: want uv to send an empty username and fail:\n%s", r)
		}
		expect(t, w.doctor(c, good[1]), 1)
		writeFile(t, filepath.Join(c.Home, ".netrc"), []byte("machine 127.0.0.1\nlogin aws\npassword "+bad+"\n"))
		if from, r := w.lock(c, good...); from != "private" {
			t.Errorf("stale .netrc + right variables: want private:\n%s", r)
		}
		expect(t, w.doctor(c, good...), 0)
	})

	// A uv.toml beside pyproject.toml overrides [tool.uv]: uv still takes
	// the indexes [tool.uv.sources] pins packages to, and ignores the rest.
	t.Run("uv.toml", func(t *testing.T) {
		t.Parallel()
		creds := []string{"UV_INDEX_PRIV_USERNAME=aws", "UV_INDEX_PRIV_PASSWORD=" + w.token}
		c := w.env(t)
		writeFile(t, filepath.Join(c.Work, "uv.toml"), []byte("index-strategy = \"first-index\"\n"))
		project(t, c, "priv", w.priv, "", pinTo("priv"))
		// uv warns that [tool.uv]'s index is ignored, and fails without
		// its 401 hint.
		if from, r := w.lock(c); from != "" || !strings.Contains(r.Stderr, "Found both a `uv.toml` file and a `[tool.uv]` section") ||
			!strings.Contains(r.Stderr, "Because priv-pkg was not found in the package registry") {
			t.Errorf("pinned index under uv.toml, no credentials: want uv to fail:\n%s", r)
		}
		expect(t, w.doctor(c), 1, "uv sends no credentials to this private index")
		if from, r := w.lock(c, creds...); from != "private" {
			t.Errorf("pinned index under uv.toml: want private:\n%s", r)
		}
		expect(t, w.doctor(c, creds...), 0, "the server accepts what uv sends")
		project(t, c, "priv", w.priv, "", "")
		if from, r := w.lock(c); from != "public" {
			t.Errorf("unpinned index under uv.toml: want uv to ignore it:\n%s", r)
		}
		expect(t, w.doctor(c), 0, "uv ignores the index \"priv\": uv.toml in the project overrides")
	})

	// login writes what uv reads: in a project, an explicit index that the
	// pinned packages come from; outside, the user's uv.toml.
	t.Run("login", func(t *testing.T) {
		t.Parallel()
		uv := need(t, "uv")
		c := w.env(t)
		writeFile(t, filepath.Join(c.Work, "pyproject.toml"), []byte("[project]\nname = \"app\"\nversion = \"0.1.0\"\nrequires-python = \">=3.8\"\ndependencies = []\n"))
		loginThen := func(then string) result {
			return c.run([]string{"WHARF_ENDPOINT_URL=" + w.srv.URL}, "/bin/sh", "-c",
				"eval \"$("+wharfBin+" login --tool uv --domain uvh --repository repo)\" && "+then)
		}
		r := loginThen("echo ok")
		expect(t, r, 0, "[tool.uv.sources]", "uv add")
		noSecret(t, r, w.token)
		// As the note says: pin, then add.
		py := filepath.Join(c.Work, "pyproject.toml")
		writeFile(t, py, append(readFile(t, py), []byte("\n[tool.uv.sources]\npriv-pkg = { index = \"repo\" }\n")...))
		r = loginThen(uv + " add --no-cache priv-pkg && " + wharfBin + " doctor")
		expect(t, r, 0, "+ priv-pkg==1.0", "+ pubdep==1.0", "the server accepts what uv sends")
		if lock := string(readFile(t, filepath.Join(c.Work, "uv.lock"))); strings.Contains(lock, "wharf1.") {
			t.Errorf("uv.lock holds a token")
		}

		// Outside a project: the user's uv.toml, then uv pip install.
		c = w.env(t)
		r = loginThen(uv + " pip install --no-cache --target site priv-pkg && " + wharfBin + " doctor")
		expect(t, r, 0, filepath.Join(c.Home, ".config", "uv", "uv.toml"), "+ priv-pkg==1.0", "the server accepts what uv sends")
	})
}

func fileExistsT(p string) bool { _, err := os.Stat(p); return err == nil }
