package clients

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The fixed identity of every server the tests start, so ARNs, endpoint URLs
// and credentials can be compared against constants.
const (
	accountID  = "123456789012"
	rootKeyID  = "AKIAWHARFE2ETEST0001"
	rootSecret = "wharfE2EsecretAccessKey0000000000000000x"
	region     = "us-east-1"
)

// wharfBin is the binary under test, built once per `go test` run.
var wharfBin string

func TestMain(m *testing.M) { os.Exit(runMain(m)) }

func runMain(m *testing.M) int {
	// WHARF_E2E_BIN lets a developer iterate without rebuilding.
	if bin := os.Getenv("WHARF_E2E_BIN"); bin != "" {
		wharfBin = bin
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "wharf-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	wharfBin = filepath.Join(dir, "wharf")
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		fmt.Fprintf(os.Stderr, "go env GOMOD: %v\n", err)
		return 1
	}
	build := exec.Command("go", "build", "-o", wharfBin, "./cmd/wharf")
	build.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building wharf failed: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// ---------------------------------------------------------------- server

type server struct {
	t       *testing.T
	URL     string // public base URL, no trailing slash
	DataDir string
	cmd     *exec.Cmd
	log     *syncBuffer
	exited  chan struct{}
	waitErr error
	stopped bool
}

type serverConfig struct {
	DataDir string            // empty: a fresh temporary directory
	ViaEnv  bool              // configure listen/data dir/public URL through WHARF_* instead of flags
	Unset   []string          // WHARF_* variables of the fixed identity to leave unset
	Env     map[string]string // more environment, e.g. WHARF_EXTERNAL_CONNECTIONS
}

// startServer starts `wharf serve` and waits until /healthz answers 200.
// At test end it stops the server with SIGTERM and requires exit status 0.
func startServer(t *testing.T, cfg serverConfig) *server {
	t.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	addr := freeAddr(t)
	s := &server{t: t, URL: "http://" + addr, DataDir: cfg.DataDir, log: &syncBuffer{}, exited: make(chan struct{})}

	env := map[string]string{
		"PATH":                         "/usr/local/bin:/usr/bin:/bin",
		"HOME":                         t.TempDir(),
		"WHARF_ACCOUNT_ID":             accountID,
		"WHARF_ROOT_ACCESS_KEY_ID":     rootKeyID,
		"WHARF_ROOT_SECRET_ACCESS_KEY": rootSecret,
	}
	for _, k := range cfg.Unset {
		delete(env, k)
	}
	for k, v := range cfg.Env {
		env[k] = v
	}
	args := []string{"serve"}
	if cfg.ViaEnv {
		env["WHARF_LISTEN"], env["WHARF_DATA_DIR"], env["WHARF_PUBLIC_URL"] = addr, cfg.DataDir, s.URL
	} else {
		args = append(args, "--listen", addr, "--data-dir", cfg.DataDir, "--public-url", s.URL)
	}
	s.cmd = exec.Command(wharfBin, args...)
	s.cmd.Env = envList(env)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	// If the test binary dies, the kernel takes the server with it.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", wharfBin, err)
	}
	go func() { s.waitErr = s.cmd.Wait(); close(s.exited) }()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("wharf server log (%s):\n%s", s.URL, s.log.Tail(16<<10))
		}
		if !s.stopped {
			s.Stop()
		}
	})

	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case <-s.exited:
			t.Fatalf("wharf serve exited before becoming healthy: %v\n%s", s.waitErr, s.log.Tail(8<<10))
		default:
		}
		resp, err := http.Get(s.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s
			}
		}
		if time.Now().After(deadline) {
			s.Kill()
			t.Fatalf("wharf serve not healthy after 15s (last: %v %v); server output:\n%s", resp, err, s.log.Tail(8<<10))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop sends SIGTERM and requires a graceful exit with status 0.
func (s *server) Stop() {
	s.t.Helper()
	s.stopped = true
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		if s.waitErr != nil {
			s.t.Errorf("wharf serve did not exit 0 after SIGTERM: %v\n%s", s.waitErr, s.log.Tail(8<<10))
		}
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
		s.t.Errorf("wharf serve still running 20s after SIGTERM\n%s", s.log.Tail(8<<10))
	}
}

// Kill simulates a crash: SIGKILL, no chance to clean up.
func (s *server) Kill() {
	s.stopped = true
	_ = s.cmd.Process.Kill()
	<-s.exited
}

// Endpoint is the pypi repository endpoint the contract promises.
func (s *server) Endpoint(domain, repo string) string {
	return fmt.Sprintf("%s/%s-%s/pypi/%s/", s.URL, domain, accountID, repo)
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) Tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.b.String()
	if len(s) > n {
		s = "...\n" + s[len(s)-n:]
	}
	return s
}

// ---------------------------------------------------------------- clients

// toolchain is where the real clients live. The aws CLI v1 comes from pyenv
// on the machine image; pip and boto3 are taken from the same Python so that
// `aws codeartifact login --tool pip` configures the pip the tests run.
type toolchain struct {
	pyDir     string // directory of aws, pip, python3 (pyenv's bin, or /usr/bin)
	pyenvRoot string
	missing   map[string]string // tool -> why/hint
	path      map[string]string // tool -> absolute path
}

var (
	toolsOnce sync.Once
	theTools  *toolchain
)

var installHint = map[string]string{
	"aws":     "the aws CLI: pyenv's aws CLI v1 on the machine image, or `apt-get install -y awscli` (scripts/test.sh does this)",
	"pip":     "pip: `apt-get install -y python3-pip` (scripts/test.sh does this)",
	"python3": "a python3 with boto3: `apt-get install -y python3-boto3` (scripts/test.sh does this)",
	"twine":   "twine: `apt-get install -y twine` (scripts/test.sh does this)",
	"build":   "Debian's python3-build + setuptools + flit: `apt-get install -y python3-build python3-setuptools python3-wheel flit` (scripts/test.sh does this)",
	"curl":    "curl: `apt-get install -y curl` (scripts/test.sh does this)",
	"poetry":  "poetry: `apt-get install -y python3-poetry` (scripts/test.sh does this)",
	"pdm":     "pdm: `apt-get install -y python3-pdm` (scripts/test.sh does this)",
	"node":    "node: `apt-get install -y nodejs npm` (scripts/test.sh does this)",
}

// currentPython lists today's Python clients, which scripts/pyclients.sh
// installs (pinned, one virtual environment each) under
// $WHARF_PY_CLIENTS_DIR; the tool key is "<name>-current" except for those
// with no older version under test (uv, hatch, flit).
var currentPython = map[string]string{
	"uv":             "uv/bin/uv",
	"pip-current":    "pip/bin/pip",
	"twine-current":  "twine/bin/twine",
	"poetry-current": "poetry/bin/poetry",
	"pdm-current":    "pdm/bin/pdm",
	"hatch":          "hatch/bin/hatch",
	"flit":           "flit/bin/flit",
	"build-current":  "build/bin/python", // python -m build, with setuptools, flit_core and hatchling
}

func tools() *toolchain {
	toolsOnce.Do(func() {
		tc := &toolchain{missing: map[string]string{}, path: map[string]string{}}
		tc.pyenvRoot = os.Getenv("PYENV_ROOT")
		if tc.pyenvRoot == "" {
			tc.pyenvRoot = "/root/.pyenv"
		}
		// Resolve the shim to the real binary: shims need the real HOME and
		// PYENV_ROOT, and the tests run clients with a temporary HOME.
		aws := ""
		if out, err := exec.Command(filepath.Join(tc.pyenvRoot, "bin", "pyenv"), "which", "aws").Output(); err == nil {
			aws = strings.TrimSpace(string(out))
		} else if p, err := exec.LookPath("aws"); err == nil && !strings.Contains(p, "/shims/") {
			aws = p
		}
		if aws == "" {
			tc.missing["aws"] = "not found"
			tc.pyDir = "/usr/bin"
		} else {
			tc.path["aws"] = aws
			tc.pyDir = filepath.Dir(aws)
		}
		find := func(name string, candidates ...string) {
			for _, c := range candidates {
				if fi, err := os.Stat(c); err == nil && !fi.IsDir() {
					tc.path[name] = c
					return
				}
			}
			tc.missing[name] = "not found in " + strings.Join(candidates, ", ")
		}
		find("pip", filepath.Join(tc.pyDir, "pip"), filepath.Join(tc.pyDir, "pip3"), "/usr/bin/pip3")
		find("python3", filepath.Join(tc.pyDir, "python3"), "/usr/bin/python3")
		find("twine", "/usr/bin/twine", "/usr/local/bin/twine")
		find("curl", "/usr/bin/curl")
		find("poetry", "/usr/bin/poetry")
		find("pdm", "/usr/bin/pdm")
		find("node", "/usr/bin/node", "/usr/local/bin/node")
		find("build", "/usr/bin/python3")
		pyClients := os.Getenv("WHARF_PY_CLIENTS_DIR")
		for tool, rel := range currentPython {
			installHint[tool] = tool + ": scripts/pyclients.sh installs it (scripts/test.sh runs it and exports WHARF_PY_CLIENTS_DIR)"
			if pyClients == "" {
				tc.missing[tool] = "WHARF_PY_CLIENTS_DIR is not set"
				continue
			}
			find(tool, filepath.Join(pyClients, rel))
		}
		if p, ok := tc.path["python3"]; ok {
			if out, err := exec.Command(p, "-c", "import boto3").CombinedOutput(); err != nil {
				delete(tc.path, "python3")
				tc.missing["python3"] = fmt.Sprintf("%s cannot import boto3: %s", p, out)
			}
		}
		if _, ok := tc.path["build"]; ok {
			if out, err := exec.Command("/usr/bin/python3", "-c", "import build, setuptools, wheel, flit_core").CombinedOutput(); err != nil {
				delete(tc.path, "build")
				tc.missing["build"] = fmt.Sprintf("/usr/bin/python3 lacks build/setuptools/wheel/flit_core: %s", out)
			}
		}
		theTools = tc
	})
	return theTools
}

// need returns the path of a client, failing the test (never skipping) when
// it is missing: a green run must mean the clients really ran.
func need(t *testing.T, tool string) string {
	t.Helper()
	tc := tools()
	if why, ok := tc.missing[tool]; ok {
		t.Fatalf("required client %q is missing (%s). Install %s", tool, why, installHint[tool])
	}
	return tc.path[tool]
}

// clientEnv runs clients as a user would, but in a sandbox: a temporary HOME
// (pip.conf, ~/.pypirc and ~/.aws land there), no proxies, no prompts, no
// keyring, no caches shared between tests, and the server's root credentials.
type clientEnv struct {
	t    *testing.T
	srv  *server
	Home string
	Work string
	env  map[string]string
}

func newClientEnv(t *testing.T, srv *server) *clientEnv {
	tc := tools()
	home := t.TempDir()
	work := t.TempDir()
	env := map[string]string{
		"HOME":                          home,
		"XDG_CONFIG_HOME":               filepath.Join(home, ".config"),
		"XDG_CACHE_HOME":                filepath.Join(home, ".cache"),
		"XDG_DATA_HOME":                 filepath.Join(home, ".local", "share"),
		"PATH":                          tc.pyDir + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"PYENV_ROOT":                    tc.pyenvRoot,
		"LANG":                          "C.UTF-8",
		"TERM":                          "dumb",
		"NO_COLOR":                      "1",
		"NO_PROXY":                      "*",
		"no_proxy":                      "*",
		"PYTHONDONTWRITEBYTECODE":       "1",
		"PIP_NO_INPUT":                  "1",
		"PIP_DISABLE_PIP_VERSION_CHECK": "1",
		"PIP_NO_CACHE_DIR":              "1",
		"PIP_KEYRING_PROVIDER":          "disabled",
		"PIP_RETRIES":                   "0", // a 5xx must fail fast and visibly, not after minutes of retries
		"PIP_TIMEOUT":                   "60",
		"PYTHON_KEYRING_BACKEND":        "keyring.backends.null.Keyring",
		"TWINE_NON_INTERACTIVE":         "1",
		"UV_PYTHON_DOWNLOADS":           "never", // uv uses the machine's Python 3.11 (UV_PYTHON), never a download
		"UV_PYTHON":                     tc.path["python3"],
		"UV_NO_PROGRESS":                "1",
		"UV_KEYRING_PROVIDER":           "disabled",
		"UV_HTTP_RETRIES":               "0", // as PIP_RETRIES: report the server's first answer
		"AWS_ACCESS_KEY_ID":             rootKeyID,
		"AWS_SECRET_ACCESS_KEY":         rootSecret,
		"AWS_DEFAULT_REGION":            region,
		"AWS_CONFIG_FILE":               filepath.Join(home, ".aws", "config"),
		"AWS_SHARED_CREDENTIALS_FILE":   filepath.Join(home, ".aws", "credentials"),
		"AWS_EC2_METADATA_DISABLED":     "true",
		"AWS_MAX_ATTEMPTS":              "1", // report the server's first answer, no retries
		"AWS_PAGER":                     "",
	}
	return &clientEnv{t: t, srv: srv, Home: home, Work: work, env: env}
}

type result struct {
	Cmdline        string
	Stdout, Stderr string
	Code           int
}

func (r result) Output() string { return r.Stdout + r.Stderr }

func (r result) String() string {
	return fmt.Sprintf("$ %s\nexit status %d\n--- stdout\n%s\n--- stderr\n%s", r.Cmdline, r.Code, clip(r.Stdout, 6000), clip(r.Stderr, 6000))
}

// run executes a client; extra is "KEY=VALUE" (an empty VALUE unsets KEY).
func (c *clientEnv) run(extra []string, name string, args ...string) result {
	c.t.Helper()
	env := make(map[string]string, len(c.env))
	for k, v := range c.env {
		env[k] = v
	}
	for _, kv := range extra {
		k, v, _ := strings.Cut(kv, "=")
		if v == "" {
			delete(env, k)
		} else {
			env[k] = v
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir, cmd.Env = c.Work, envList(env)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{Cmdline: shellQuote(append([]string{name}, args...)), Stdout: stdout.String(), Stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		r.Code = exitErr.ExitCode()
	default:
		c.t.Fatalf("running %s: %v", r.Cmdline, err)
	}
	if ctx.Err() != nil {
		c.t.Fatalf("timed out after 5m:\n%s", r)
	}
	c.t.Logf("$ %s -> exit %d", r.Cmdline, r.Code)
	return r
}

// must runs a client and fails the test with its full output unless it exits 0.
func (c *clientEnv) must(extra []string, name string, args ...string) result {
	c.t.Helper()
	r := c.run(extra, name, args...)
	if r.Code != 0 {
		c.t.Fatalf("command failed:\n%s", r)
	}
	return r
}

// aws runs `aws codeartifact ...` against this test's server.
func (c *clientEnv) aws(extra []string, args ...string) result {
	c.t.Helper()
	bin := need(c.t, "aws")
	full := append([]string{"codeartifact"}, args...)
	full = append(full, "--endpoint-url", c.srv.URL, "--region", region)
	return c.run(extra, bin, full...)
}

// awsJSON runs an aws command that must succeed and decodes its JSON output.
func (c *clientEnv) awsJSON(out any, args ...string) {
	c.t.Helper()
	r := c.aws(nil, append(args, "--output", "json")...)
	if r.Code != 0 {
		c.t.Fatalf("aws failed:\n%s", r)
	}
	if err := json.Unmarshal([]byte(r.Stdout), out); err != nil {
		c.t.Fatalf("aws output is not the expected JSON (%v):\n%s", err, r)
	}
}

// awsText runs an aws command with --query/--output text and returns stdout
// without the final newline, as $(...) in a shell would.
func (c *clientEnv) awsText(args ...string) string {
	c.t.Helper()
	r := c.aws(nil, append(args, "--output", "text")...)
	if r.Code != 0 {
		c.t.Fatalf("aws failed:\n%s", r)
	}
	return strings.TrimRight(r.Stdout, "\n")
}

// awsFails runs an aws command that must fail with the given error code in stderr.
func (c *clientEnv) awsFails(extra []string, wantCode string, args ...string) result {
	c.t.Helper()
	r := c.aws(extra, args...)
	if r.Code == 0 || !strings.Contains(r.Stderr, wantCode) {
		c.t.Errorf("want the aws CLI to fail with %s:\n%s", wantCode, r)
	}
	return r
}

// boto3 runs a Python script with boto3 client `ca` bound to the server.
func (c *clientEnv) boto3(script string) result {
	c.t.Helper()
	py := need(c.t, "python3")
	prelude := fmt.Sprintf("import boto3, json, sys\nca = boto3.client('codeartifact', endpoint_url=%q, region_name=%q)\n", c.srv.URL, region)
	return c.must(nil, py, "-c", prelude+script)
}

// token mints an authorization token exactly as the docs tell users to.
func (c *clientEnv) token(domain string) string {
	c.t.Helper()
	tok := c.awsText("get-authorization-token", "--domain", domain, "--domain-owner", accountID,
		"--query", "authorizationToken")
	if tok == "" || strings.ContainsAny(tok, " \t\r\n+/=") {
		c.t.Fatalf("token %q must be non-empty and need no escaping in URLs or shells", tok)
	}
	return tok
}

// tokenJSON returns what users paste by mistake: the whole CLI JSON output.
func (c *clientEnv) tokenJSON(domain string) string {
	c.t.Helper()
	r := c.aws(nil, "get-authorization-token", "--domain", domain, "--domain-owner", accountID)
	if r.Code != 0 || !strings.Contains(r.Stdout, `"authorizationToken"`) {
		c.t.Fatalf("get-authorization-token:\n%s", r)
	}
	return r.Stdout
}

// createDomainAndRepo creates a domain with one repository via the aws CLI.
func (c *clientEnv) createDomainAndRepo(domain, repo string) {
	c.t.Helper()
	c.must(nil, need(c.t, "aws"), "codeartifact", "create-domain", "--domain", domain,
		"--endpoint-url", c.srv.URL, "--region", region)
	c.must(nil, need(c.t, "aws"), "codeartifact", "create-repository", "--domain", domain,
		"--domain-owner", accountID, "--repository", repo, "--endpoint-url", c.srv.URL, "--region", region)
}

func envList(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	return out
}

func shellQuote(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a != "" && !strings.ContainsAny(a, " \t\n'\"$`\\|&;<>(){}*?[]#~!") {
			q[i] = a
		} else {
			q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(q, " ")
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n/2] + "\n[...]\n" + s[len(s)-n/2:]
	}
	return s
}

// ---------------------------------------------------------------- HTTP

// reply is one HTTP exchange, printable in full for failure messages.
type reply struct {
	Req    string
	Status int
	Header http.Header
	Body   []byte
}

func (r reply) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s -> %d\n", r.Req, r.Status)
	for k, vs := range r.Header {
		for _, v := range vs {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	fmt.Fprintf(&b, "\n%s", clip(string(r.Body), 3000))
	return b.String()
}

// noRedirect shows redirects to the test instead of following them.
var noRedirect = &http.Client{
	Timeout:       2 * time.Minute,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// fetch performs one request; headers are "Name: value" strings.
func fetch(t *testing.T, method, url string, body io.Reader, headers ...string) reply {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	desc := method + " " + url
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
		if k != "Authorization" {
			desc += " [" + h + "]"
		} else {
			desc += " [Authorization: " + clip(v, 40) + "]"
		}
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", desc, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s: reading body: %v", desc, err)
	}
	return reply{Req: desc, Status: resp.StatusCode, Header: resp.Header, Body: b}
}

func basic(user, pass string) string {
	return "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func bearer(tok string) string { return "Authorization: Bearer " + tok }

const acceptJSON = "Accept: application/vnd.pypi.simple.v1+json"

// pipAccept is the Accept header pip sends.
const pipAccept = "Accept: application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01"

func mustStatus(t *testing.T, r reply, want ...int) {
	t.Helper()
	for _, w := range want {
		if r.Status == w {
			return
		}
	}
	t.Fatalf("want status %v:\n%s", want, r)
}
