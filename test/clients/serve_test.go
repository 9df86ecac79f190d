package clients

import (
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
