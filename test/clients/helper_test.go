package clients

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The client helper (`wharf token`, `wharf login`, `wharf doctor`) against a
// real server, with the real clients it configures.

// wharf runs the wharf binary as a client, pointed at the test's server.
func (c *clientEnv) wharf(extra []string, args ...string) result {
	c.t.Helper()
	return c.run(append([]string{"WHARF_ENDPOINT_URL=" + c.srv.URL}, extra...), wharfBin, args...)
}

var bareToken = regexp.MustCompile(`^wharf1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\n$`)

// noSecret fails when out contains tok: login and doctor never print it.
func noSecret(t *testing.T, r result, tok string) {
	t.Helper()
	if tok != "" && strings.Contains(r.Output(), tok) {
		t.Errorf("the output shows the token:\n%s", r)
	}
}

func TestHelperToken(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverConfig{})
	c := newClientEnv(t, srv)
	c.createDomainAndRepo("helper", "repo")

	r := c.wharf(nil, "token", "--domain", "helper", "--domain-owner", accountID)
	if r.Code != 0 || !bareToken.MatchString(r.Stdout) || r.Stderr != "" {
		t.Fatalf("want a bare token and a newline on stdout, nothing else:\n%s", r)
	}
	tok := strings.TrimSpace(r.Stdout)
	mustStatus(t, fetch(t, "GET", srv.Endpoint("helper", "repo")+"simple/", nil, basic("aws", tok)), 200)

	r = c.wharf(nil, "token", "--domain", "helper", "--json", "--duration-seconds", "900")
	var doc struct {
		AuthorizationToken string  `json:"authorizationToken"`
		Expiration         float64 `json:"expiration"`
	}
	if r.Code != 0 || json.Unmarshal([]byte(r.Stdout), &doc) != nil || !bareToken.MatchString(doc.AuthorizationToken+"\n") {
		t.Fatalf("want the JSON document:\n%s", r)
	}
	if exp := time.Unix(int64(doc.Expiration), 0); exp.Before(time.Now().Add(14*time.Minute)) || exp.After(time.Now().Add(16*time.Minute)) {
		t.Errorf("expiration %s, want in 15 minutes", exp)
	}

	// Server errors come through with their code and message.
	r = c.wharf(nil, "token", "--domain", "nope")
	if r.Code != 1 || r.Stdout != "" || !strings.Contains(r.Stderr, "ResourceNotFoundException: domain nope") {
		t.Errorf("want the server's error verbatim on stderr:\n%s", r)
	}
	r = c.wharf([]string{"AWS_SECRET_ACCESS_KEY=wrongwrongwrongwrongwrongwrongwrongwrong"}, "token", "--domain", "helper")
	if r.Code != 1 || !strings.Contains(r.Stderr, "InvalidSignatureException") || strings.Contains(r.Stderr, "wrongwrong") {
		t.Errorf("want the signature refusal, without the secret:\n%s", r)
	}
	r = c.run([]string{"WHARF_ENDPOINT_URL="}, wharfBin, "token", "--domain", "helper")
	if r.Code != 1 || !strings.Contains(r.Stderr, "--endpoint-url") {
		t.Errorf("without an endpoint, want a hint:\n%s", r)
	}
	// The endpoint may also come from the aws CLI's variable or the flag.
	if r := c.run([]string{"AWS_ENDPOINT_URL=" + srv.URL}, wharfBin, "token", "--domain", "helper"); r.Code != 0 || !bareToken.MatchString(r.Stdout) {
		t.Errorf("AWS_ENDPOINT_URL:\n%s", r)
	}
	if r := c.run(nil, wharfBin, "token", "--domain", "helper", "--endpoint-url", srv.URL); r.Code != 0 || !bareToken.MatchString(r.Stdout) {
		t.Errorf("--endpoint-url:\n%s", r)
	}
}

func TestHelperLoginTwine(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverConfig{})
	c := newClientEnv(t, srv)
	twine := need(t, "twine")
	c.createDomainAndRepo("tw", "up")
	// An existing ~/.pypirc is merged into, not replaced.
	pypirc := filepath.Join(c.Home, ".pypirc")
	writeFile(t, pypirc, []byte("[distutils]\nindex-servers =\n    pypi\n\n[pypi]\nusername = __token__\n"))

	r := c.wharf(nil, "login", "--tool", "twine", "--domain", "tw", "--repository", "up")
	if r.Code != 0 || !strings.Contains(r.Output(), "expires at") {
		t.Fatalf("login:\n%s", r)
	}
	noSecret(t, r, strings.TrimSpace(c.wharf(nil, "token", "--domain", "tw").Stdout))
	if fi, err := os.Stat(pypirc); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("~/.pypirc: %v %v, want mode 0600", fi, err)
	}
	if got := string(readFile(t, pypirc)); !strings.Contains(got, "[pypi]\nusername = __token__") || !strings.Contains(got, "    codeartifact") {
		t.Errorf("~/.pypirc lost its content or misses codeartifact in index-servers:\n%s", got)
	}

	d := makeWheel(t, "helper-twine", "1.0", "")
	dist := filepath.Join(c.Work, "dist")
	os.MkdirAll(dist, 0o755)
	writeFile(t, filepath.Join(dist, d.Filename), d.Data)
	c.must(nil, twine, "upload", "--non-interactive", "-r", "codeartifact", filepath.Join(dist, d.Filename))
	tok := c.token("tw")
	mustStatus(t, fetch(t, "GET", srv.Endpoint("tw", "up")+"simple/helper-twine/", nil, basic("aws", tok)), 200)

	// doctor agrees: the repository is listed and the token accepted.
	r = c.wharf(nil, "doctor")
	if r.Code != 0 || !strings.Contains(r.Stdout, "twine index \"codeartifact\"") {
		t.Errorf("doctor after login --tool twine:\n%s", r)
	}
}

func TestHelperLoginPip(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverConfig{})
	c := newClientEnv(t, srv)
	pip := need(t, "pip")
	c.createDomainAndRepo("pipd", "repo")
	tok := c.token("pipd")
	mustStatus(t, upload(t, srv.Endpoint("pipd", "repo"), makeWheel(t, "helper-pip", "1.0", "X = 'from wharf'\n"), basic("aws", tok)), 200)

	r := c.wharf(nil, "login", "--tool", "pip", "--domain", "pipd", "--repository", "repo")
	if r.Code != 0 || !strings.Contains(r.Output(), "wharf1.****") || !strings.Contains(r.Output(), "expires at") {
		t.Fatalf("login:\n%s", r)
	}
	target := filepath.Join(c.Work, "site")
	c.must(nil, pip, "install", "--no-deps", "--target", target, "helper-pip==1.0")
	if _, err := os.Stat(filepath.Join(target, "helper_pip", "__init__.py")); err != nil {
		t.Errorf("pip did not install from wharf: %v", err)
	}

	// --extra-index adds; a second login replaces its own entry.
	for range 2 {
		c.must(nil, wharfBin, "login", "--tool", "pip", "--extra-index", "--domain", "pipd", "--repository", "repo", "--endpoint-url", srv.URL)
	}
	out := c.must(nil, pip, "config", "list").Stdout
	if strings.Count(out, "global.extra-index-url") != 1 || strings.Count(out, srv.URL[len("http://"):]) != 2 || !strings.Contains(out, "global.index-url") {
		t.Errorf("want index-url kept and one extra-index-url entry:\n%s", clip(out, 600))
	}
}

func TestHelperLoginUV(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverConfig{})
	c := newClientEnv(t, srv)
	c.createDomainAndRepo("uvd", "my.repo")
	project := "[project]\nname = \"app\"\nversion = \"0.1\"\n"
	py := filepath.Join(c.Work, "pyproject.toml")
	writeFile(t, py, []byte(project))

	r := c.wharf(nil, "login", "--tool", "uv", "--domain", "uvd", "--repository", "my.repo", "--dry-run")
	if r.Code != 0 || !strings.Contains(r.Stdout, "export UV_INDEX_MY_REPO_USERNAME=aws") || !strings.Contains(r.Stdout, "export UV_INDEX_MY_REPO_PASSWORD=") ||
		!strings.Contains(r.Stdout, "[[tool.uv.index]]") || !strings.Contains(r.Stdout, "expires at") {
		t.Fatalf("dry run:\n%s", r)
	}
	if regexp.MustCompile(`wharf1\.[A-Za-z0-9_-]{8}`).MatchString(r.Output()) {
		t.Errorf("the dry run shows a token:\n%s", r)
	}
	if got := string(readFile(t, py)); got != project {
		t.Errorf("the dry run wrote pyproject.toml:\n%s", got)
	}

	// For real, through eval as a user would; then doctor passes.
	sh := "eval \"$(" + wharfBin + " login --tool uv --domain uvd --repository my.repo)\" && " + wharfBin + " doctor"
	r = c.run([]string{"WHARF_ENDPOINT_URL=" + srv.URL}, "/bin/sh", "-c", sh)
	if r.Code != 0 || !strings.Contains(r.Stdout, "the server accepts what uv sends") || !strings.Contains(string(readFile(t, py)), "name = \"my.repo\"") {
		t.Errorf("eval login + doctor:\n%s\npyproject.toml:\n%s", r, readFile(t, py))
	}
}
