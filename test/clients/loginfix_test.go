package clients

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// `wharf login --tool X` writes what the X a user runs reads, and `wharf
// doctor` agrees with what X then does: each with the oldest and the newest
// version under test, each claim checked by running X on the same files.

// lfDomain/lfRepo hold lf-private 1.0, a package only wharf has.
const lfDomain, lfRepo, lfPackage = "lf", "priv", "lf-private"

func lfServer(t *testing.T) *server {
	srv := startServer(t, serverConfig{})
	c := newClientEnv(t, srv)
	c.createDomainAndRepo(lfDomain, lfRepo)
	mustStatus(t, upload(t, srv.Endpoint(lfDomain, lfRepo), makeWheel(t, lfPackage, "1.0", ""), basic("aws", c.token(lfDomain))), 200)
	return srv
}

// refused says whether the server logged a refusal with this code of a
// request from this client (user agent prefix), in the log's older
// (reason=CODE ... user_agent="...") or newer (client=... code=CODE) shape.
func (s *server) refused(code, client string) bool {
	for _, l := range strings.Split(s.log.Tail(1<<20), "\n") {
		if strings.Contains(l, `msg="data plane request refused"`) &&
			(strings.Contains(l, " reason="+code+" ") || strings.Contains(l, " code="+code+" ")) &&
			(strings.Contains(l, ` user_agent="`+client) || strings.Contains(l, " client="+client)) {
			return true
		}
	}
	return false
}

// lfClient is a sandbox whose PATH has the tool's directory first, so that
// `wharf login` and `wharf doctor` find this version, as a user's shell
// would; it returns the tool's binary too.
func lfClient(t *testing.T, srv *server, tool string) (*clientEnv, string) {
	c := newClientEnv(t, srv)
	bin := need(t, tool)
	c.env["PATH"] = filepath.Dir(bin) + ":" + c.env["PATH"]
	return c, bin
}

// login runs `eval "$(wharf login ARGS)"` in a shell, as a user would, and
// keeps the variables it exported for the commands that follow.
func (c *clientEnv) login(args ...string) result {
	c.t.Helper()
	cmd := shellQuote(append([]string{wharfBin, "login", "--domain", lfDomain, "--repository", lfRepo}, args...))
	r := c.run([]string{"WHARF_ENDPOINT_URL=" + c.srv.URL}, "sh", "-c", `out=$(`+cmd+`) || exit; eval "$out"; env -0`)
	before := map[string]bool{}
	for k := range c.env {
		before[k] = true
	}
	for _, kv := range strings.Split(r.Stdout, "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "WHARF_PDM_") && !before[k] {
			c.env[k] = v
		}
	}
	r.Stdout = "(the environment after eval)"
	if r.Code != 0 {
		c.t.Fatalf("login:\n%s", r)
	}
	return r
}

// loginFor logs in for poetry or pdm, which must say which version it
// wrote for.
func (c *clientEnv) loginFor(tool, version string) {
	c.t.Helper()
	if r := c.login("--tool", tool); !strings.Contains(r.Stderr, "Written for "+tool+" "+version) {
		c.t.Errorf("login does not say it wrote for %s %s:\n%s", tool, version, r)
	}
}

// doctorSays runs `wharf doctor` and requires its exit status and texts.
func (c *clientEnv) doctorSays(code int, texts ...string) result {
	c.t.Helper()
	r := c.wharf(nil, "doctor")
	c.t.Logf("wharf doctor:\n%s", r.Stdout)
	if r.Code != code {
		c.t.Errorf("doctor exit status %d, want %d:\n%s", r.Code, code, r)
	}
	for _, s := range texts {
		if !strings.Contains(r.Stdout, s) {
			c.t.Errorf("doctor does not say %q:\n%s", s, r.Stdout)
		}
	}
	return r
}

// fails runs a client that must fail, and shows what it said.
func (c *clientEnv) fails(want string, name string, args ...string) result {
	c.t.Helper()
	r := c.run(nil, name, args...)
	c.t.Logf("%s said:\n%s", filepath.Base(name), clip(r.Output(), 3000))
	if r.Code == 0 || !strings.Contains(r.Output(), want) {
		c.t.Errorf("want a failure saying %q:\n%s", want, r)
	}
	return r
}

func TestLoginfixPoetry(t *testing.T) {
	t.Parallel()
	srv := lfServer(t)
	for _, tc := range []struct {
		tool, version  string
		other, refused string // the version the other key is for, and what this poetry says of it
	}{
		{"poetry", "1.3.2", "2.5.1", "[source.0] Additional properties are not allowed ('priority' was unexpected)"},
		{"poetry-current", "2.5.1", "1.3.2", "tool.poetry.source[0] must not contain {'secondary'} properties"},
	} {
		t.Run(tc.tool, func(t *testing.T) {
			t.Parallel()
			c, poetry := lfClient(t, srv, tc.tool)
			c.env["POETRY_VIRTUALENVS_IN_PROJECT"] = "true"
			writeFile(t, filepath.Join(c.Work, "pyproject.toml"), []byte("[tool.poetry]\nname = \"app\"\nversion = \"0.1.0\"\ndescription = \"\"\nauthors = []\n\n[tool.poetry.dependencies]\npython = \"^3.11\"\n"))

			c.loginFor("poetry", tc.version)
			c.doctorSays(0, "as read by poetry "+tc.version, "the server accepts what poetry sends")
			c.must(nil, poetry, "add", "--source", lfRepo, lfPackage)
			c.must(nil, poetry, "lock")
			c.must(nil, poetry, "install", "--no-root")
			c.must(nil, poetry, "run", "python", "-c", "import lf_private")

			// What login writes for the other version, this poetry refuses,
			// and doctor says so first, in poetry's words.
			c.must([]string{"WHARF_ENDPOINT_URL=" + srv.URL}, wharfBin, "login", "--tool", "poetry", "--domain", lfDomain, "--repository", lfRepo, "--client-version", tc.other)
			c.doctorSays(1, "poetry "+tc.version, tc.refused)
			c.fails(tc.refused, poetry, "lock")
		})
	}
}

func TestLoginfixPDM(t *testing.T) {
	t.Parallel()
	srv := lfServer(t)
	for _, tc := range []struct{ tool, version string }{{"pdm", "2.2.1"}, {"pdm-current", "2.29.4"}} {
		t.Run(tc.tool, func(t *testing.T) {
			t.Parallel()
			c, pdm := lfClient(t, srv, tc.tool)
			c.env["PDM_CHECK_UPDATE"] = "false"
			pyproject := filepath.Join(c.Work, "pyproject.toml")
			writeFile(t, pyproject, []byte("[project]\nname = \"app\"\nversion = \"0.1.0\"\nrequires-python = \">=3.11\"\ndependencies = []\n"))

			c.loginFor("pdm", tc.version)
			c.doctorSays(0, "as read by pdm "+tc.version, "the server accepts what pdm sends")
			c.must(nil, pdm, "add", lfPackage)
			c.must(nil, pdm, "install")
			c.must(nil, pdm, "run", "python", "-c", "import lf_private")
			for _, f := range []string{pyproject, filepath.Join(c.Work, "pdm.lock")} {
				if regexp.MustCompile(`wharf1\.`).Match(readFile(t, f)) {
					t.Errorf("%s holds a token:\n%s", f, readFile(t, f))
				}
			}
			if tc.tool != "pdm" {
				return
			}
			// The variable the URL names, unset (a new shell): pdm sends the
			// text ${...} itself, and doctor says so.
			tok := c.env["WHARF_PDM_PRIV_TOKEN"]
			delete(c.env, "WHARF_PDM_PRIV_TOKEN")
			c.doctorSays(1, "the URL names WHARF_PDM_PRIV_TOKEN, which is not set")
			os.RemoveAll(filepath.Join(c.Home, ".cache", "pdm"))
			c.fails("Unable to find candidates for lf-private", pdm, "lock")
			c.env["WHARF_PDM_PRIV_TOKEN"] = tok
			if !srv.refused("malformed", "pdm/2.2.1") {
				t.Errorf("the server log shows no refusal of the text ${...} from pdm 2.2.1:\n%s", srv.log.Tail(3000))
			}
			// What login wrote for pdm 2.5 and later (today's main wrote it
			// for every pdm): 2.2.1 ignores [pypi.priv] in its config file,
			// and doctor says so.
			c.must([]string{"WHARF_ENDPOINT_URL=" + srv.URL}, wharfBin, "login", "--tool", "pdm", "--domain", lfDomain, "--repository", lfRepo, "--client-version", "2.29.4")
			c.doctorSays(1, "pdm 2.2.1", "ignores the username", "no credentials")
			os.RemoveAll(filepath.Join(c.Home, ".cache", "pdm"))
			c.fails("The credentials for "+strings.TrimPrefix(srv.URL, "http://")+" are not provided", pdm, "lock")
			if !srv.refused("no-credentials", "pdm/2.2.1") {
				t.Errorf("the server log does not record the refusal:\n%s", srv.log.Tail(4000))
			}
		})
	}
}

func TestLoginfixPip(t *testing.T) {
	t.Parallel()
	srv := lfServer(t)
	index := srv.Endpoint(lfDomain, lfRepo) + "simple/"
	host := strings.TrimPrefix(srv.URL, "http://")
	for _, tc := range []struct{ tool, version string }{{"pip", "23.2.1"}, {"pip-current", "26.3"}} {
		t.Run(tc.tool, func(t *testing.T) {
			t.Parallel()
			c, pip := lfClient(t, srv, tc.tool)
			install := func(dir string) []string {
				return []string{"install", "--no-deps", "--target", filepath.Join(c.Work, dir), lfPackage + "==1.0"}
			}
			c.login("--tool", "pip")
			c.doctorSays(0, "the server accepts what pip sends")
			c.must(nil, pip, install("site1")...)

			// A stale .netrc entry for the same host (a CodeArtifact token):
			// pip sends pip.conf's credentials and never reads it, so it
			// fails nothing; doctor warns.
			writeFile(t, filepath.Join(c.Home, ".netrc"), []byte(staleNetrc))
			r := c.doctorSays(0, "WARN", "does not send", "0 error(s)")
			if strings.Contains(r.Stdout, "https://") {
				t.Errorf("doctor shows an https:// URL for an http:// server:\n%s", r.Stdout)
			}
			c.must(nil, pip, install("site2")...)

			// Without credentials in pip.conf, pip does send the entry: both fail.
			pipConf := filepath.Join(c.Home, ".config", "pip", "pip.conf")
			writeFile(t, pipConf, []byte("[global]\nindex-url = "+index+"\n"))
			c.doctorSays(1, "silently sends the ~/.netrc entry", "AWS CodeArtifact token")
			c.fails("No matching distribution found", pip, install("site3")...)
			// The server saw the entry's password (not "no-credentials") from this pip.
			if !srv.refused("malformed", "pip/"+tc.version) {
				t.Errorf("the server log shows no refusal of the .netrc password from pip %s:\n%s", tc.version, srv.log.Tail(3000))
			}

			// Neither credentials at all: the fix names the server's own scheme.
			os.Remove(filepath.Join(c.Home, ".netrc"))
			c.doctorSays(1, "writes http://aws:<token>@"+host+"/")
			c.fails("No matching distribution found", pip, install("site4")...)

			// A server that is not there: an error naming the URL, and pip fails too.
			closed := strings.Replace(index, host, freeAddr(t), 1)
			writeFile(t, pipConf, []byte("[global]\nindex-url = "+strings.Replace(closed, "http://", "http://aws:"+c.token(lfDomain)+"@", 1)+"\n"))
			c.doctorSays(1, "pip cannot reach "+closed, "is `wharf serve` running")
			c.fails("No matching distribution found", pip, install("site5")...)
		})
	}
}

// staleNetrc is an entry left from CodeArtifact days, for the test server's host.
const staleNetrc = "machine 127.0.0.1\n  login aws\n  password eyJ2ZXIiOjEsImlzdSI6MTcwMDAwMDAwMH0.stale.entry\n"

// TestLoginfixNetrcUV: uv, like pip, sends its own credentials and reads
// .netrc only without them, so doctor's verdict on a stale entry holds for
// uv too.
func TestLoginfixNetrcUV(t *testing.T) {
	t.Parallel()
	srv := lfServer(t)
	c, uv := lfClient(t, srv, "uv")
	writeFile(t, filepath.Join(c.Home, ".netrc"), []byte(staleNetrc))
	c.env["UV_INDEX"] = "hub=" + srv.Endpoint(lfDomain, lfRepo) + "simple/"
	c.env["UV_INDEX_HUB_USERNAME"] = "aws"
	c.env["UV_INDEX_HUB_PASSWORD"] = c.token(lfDomain)
	install := func(dir string) []string {
		return []string{"pip", "install", "--no-cache", "--target", filepath.Join(c.Work, dir), lfPackage + "==1.0"}
	}
	c.doctorSays(0, "which uv does not send", "0 error(s)")
	c.must(nil, uv, install("site1")...)

	delete(c.env, "UV_INDEX_HUB_PASSWORD")
	delete(c.env, "UV_INDEX_HUB_USERNAME")
	c.doctorSays(1, "silently sends the ~/.netrc entry", "AWS CodeArtifact token")
	c.fails("401 Unauthorized", uv, install("site2")...)
	if !srv.refused("malformed", "uv/") {
		t.Errorf("the server log shows no refusal of the .netrc password from uv:\n%s", srv.log.Tail(3000))
	}
}

func TestLoginfixTwine(t *testing.T) {
	t.Parallel()
	srv := lfServer(t)
	for _, tool := range []string{"twine", "twine-current"} {
		t.Run(tool, func(t *testing.T) {
			t.Parallel()
			c, twine := lfClient(t, srv, tool)
			c.login("--tool", "twine")
			c.doctorSays(0, "the server accepts what twine sends")
			d := makeWheel(t, "lf-"+tool, "1.0", "")
			whl := filepath.Join(c.Work, d.Filename)
			writeFile(t, whl, d.Data)
			c.must(nil, twine, "upload", "--non-interactive", "-r", "codeartifact", whl)
			mustStatus(t, fetch(t, "GET", srv.Endpoint(lfDomain, lfRepo)+"simple/lf-"+tool+"/", nil, basic("aws", c.token(lfDomain))), 200)
		})
	}
}
