package clients

import (
	"strings"
	"testing"
)

// TestDependencyConfusionWarning: app -> [store (public:pypi), internal]
// searches the public registry before internal, so a public package named
// like an internal one would be merged with it (CodeArtifact does the same,
// and wharf keeps that). The control plane logs a warning when the order is
// made, and `wharf doctor` shows it for an index on app.
func TestDependencyConfusionWarning(t *testing.T) {
	t.Parallel()
	// A connection that is never reached: nothing here resolves a package.
	srv := startServer(t, serverConfig{Env: map[string]string{"WHARF_EXTERNAL_CONNECTIONS": "public:pypi=http://127.0.0.1:9/simple/"}})
	c := newClientEnv(t, srv)
	const domain = "confusion"
	c.createDomainAndRepo(domain, "internal")
	c.must(nil, need(t, "aws"), "codeartifact", "create-repository", "--domain", domain, "--repository", "store",
		"--endpoint-url", srv.URL, "--region", region)
	c.must(nil, need(t, "aws"), "codeartifact", "associate-external-connection", "--domain", domain, "--repository", "store",
		"--external-connection", "public:pypi", "--endpoint-url", srv.URL, "--region", region)
	tok := c.token(domain)
	mustStatus(t, upload(t, srv.Endpoint(domain, "internal"), makeWheel(t, "corp-lib", "1.0", ""), basic("aws", tok)), 200)

	c.must(nil, need(t, "aws"), "codeartifact", "create-repository", "--domain", domain, "--repository", "app",
		"--upstreams", "repositoryName=store", "repositoryName=internal", "--endpoint-url", srv.URL, "--region", region)
	if log := srv.log.Tail(64 << 10); !strings.Contains(log, "dependency confusion possible") ||
		!strings.Contains(log, "external connection public:pypi (via repository store) is searched before repository internal") {
		t.Errorf("no warning in the server log after create-repository app:\n%s", log)
	}

	index := strings.Replace(srv.Endpoint(domain, "app"), "http://", "http://aws:"+tok+"@", 1) + "simple/"
	r := c.wharf([]string{"PIP_INDEX_URL=" + index}, "doctor")
	t.Logf("doctor:\n%s", r.Stdout)
	if !strings.Contains(r.Stdout, "WARN   repository app: in repository app's search order, external connection public:pypi (via repository store) is searched before repository internal") ||
		!strings.Contains(r.Stdout, "(corp-lib)") || r.Code != 0 {
		t.Errorf("want exit 0 and the warning:\n%s", r)
	}
	noSecret(t, r, tok)

	// internal before store: the warning is gone.
	c.must(nil, need(t, "aws"), "codeartifact", "update-repository", "--domain", domain, "--repository", "app",
		"--upstreams", "repositoryName=internal", "repositoryName=store", "--endpoint-url", srv.URL, "--region", region)
	if r := c.wharf([]string{"PIP_INDEX_URL=" + index}, "doctor"); strings.Contains(r.Stdout, "search order") || r.Code != 0 {
		t.Errorf("with internal first, want no warning:\n%s", r)
	}
}
