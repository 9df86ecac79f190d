package clients

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeConfiguredByEnvironment starts wharf with WHARF_* variables only
// (no flags) and stops it with SIGINT: both must work as with flags/SIGTERM.
func TestServeConfiguredByEnvironment(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverConfig{ViaEnv: true})
	c := newClientEnv(t, srv)
	c.createDomainAndRepo("envconf", "repo")
	got := c.awsText("get-repository-endpoint", "--domain", "envconf", "--repository", "repo", "--format", "pypi", "--query", "repositoryEndpoint")
	if want := srv.Endpoint("envconf", "repo"); got != want {
		t.Errorf("repositoryEndpoint %q, want %q (from WHARF_PUBLIC_URL and WHARF_ACCOUNT_ID)", got, want)
	}
	srv.stopped = true
	_ = srv.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-srv.exited:
		if srv.waitErr != nil {
			t.Errorf("wharf serve did not exit 0 after SIGINT: %v\n%s", srv.waitErr, srv.log.Tail(4096))
		}
	case <-time.After(20 * time.Second):
		srv.Kill()
		t.Errorf("wharf serve still running 20s after SIGINT")
	}
}

// TestGeneratedAccountIDPersists: without WHARF_ACCOUNT_ID the server makes
// up a 12-digit account id once and keeps it across restarts, so ARNs,
// endpoints and --domain-owner stay valid.
func TestGeneratedAccountIDPersists(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverConfig{Unset: []string{"WHARF_ACCOUNT_ID"}})
	c := newClientEnv(t, srv)
	owner := c.awsText("create-domain", "--domain", "genacct", "--query", "domain.owner")
	if !regexp.MustCompile(`^\d{12}$`).MatchString(owner) {
		t.Fatalf("generated account id %q is not 12 digits", owner)
	}
	srv.Stop()

	srv2 := startServer(t, serverConfig{DataDir: srv.DataDir, Unset: []string{"WHARF_ACCOUNT_ID"}})
	c2 := newClientEnv(t, srv2)
	if got := c2.awsText("describe-domain", "--domain", "genacct", "--domain-owner", owner, "--query", "domain.owner"); got != owner {
		t.Errorf("after a restart the account id is %q, was %q", got, owner)
	}
	c2.awsText("create-repository", "--domain", "genacct", "--repository", "repo", "--query", "repository.name")
	ep := c2.awsText("get-repository-endpoint", "--domain", "genacct", "--domain-owner", owner, "--repository", "repo", "--format", "pypi", "--query", "repositoryEndpoint")
	if !strings.HasPrefix(ep, srv2.URL+"/genacct-"+owner+"/pypi/repo/") {
		t.Errorf("endpoint %q does not carry the generated owner %s", ep, owner)
	}
}

// TestFirstStartOnATakenPort: a first start whose port is taken fails
// before it generates anything, saying what to do, so the administrator
// credentials are shown by the start that succeeds; and the start-up log
// lists every external connection with where it fetches from, defaults
// included.
func TestFirstStartOnATakenPort(t *testing.T) {
	t.Parallel()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	dataDir := t.TempDir()
	c := newClientEnv(t, nil)
	r := c.run([]string{"WHARF_ACCOUNT_ID=", "WHARF_ROOT_ACCESS_KEY_ID=", "WHARF_ROOT_SECRET_ACCESS_KEY="},
		wharfBin, "serve", "--listen", taken.Addr().String(), "--data-dir", dataDir)
	if r.Code != 1 || !strings.Contains(r.Stderr, "address already in use") || !strings.Contains(r.Stderr, "--listen") {
		t.Errorf("want exit 1 naming the taken address and --listen:\n%s", r)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "root-credentials")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the failed start left root-credentials behind (stat: %v); the next start would never show them", err)
	}

	srv := startServer(t, serverConfig{DataDir: dataDir, Unset: []string{"WHARF_ROOT_ACCESS_KEY_ID", "WHARF_ROOT_SECRET_ACCESS_KEY"}})
	logText := srv.log.Tail(64 << 10)
	if !regexp.MustCompile(`Generated administrator credentials[^\n]*\n\s+AWS_ACCESS_KEY_ID=AKIA`).MatchString(logText) {
		t.Errorf("the first successful start does not show the generated credentials:\n%s", logText)
	}
	// The export lines are paste-ready: a shell that runs them reaches the
	// server with the aws CLI, with no other setting.
	var exports []string
	for _, line := range strings.Split(logText, "\n") {
		if strings.HasPrefix(line, "  export ") {
			exports = append(exports, strings.TrimSpace(line))
		}
	}
	sh := strings.Join(exports, "\n") + "\n" + need(t, "aws") + " codeartifact list-domains --query 'domains[].name' --output text"
	if r := c.run([]string{"AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_DEFAULT_REGION="}, "bash", "-c", sh); r.Code != 0 {
		t.Errorf("the start-up export lines do not work when pasted:\n%s", r)
	}
	for _, name := range []string{"public:pypi", "public:npmjs", "public:maven-central"} {
		if !regexp.MustCompile(`msg="external connection" name=` + regexp.QuoteMeta(name) + ` url=https://\S+ source=default`).MatchString(logText) {
			t.Errorf("the start-up log does not list %s with its default URL:\n%s", name, logText)
		}
	}
}
