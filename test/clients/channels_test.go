package clients

import (
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestRefusalChannels drives the real clients into wharf's refusals and
// checks that the reason reaches a person (docs/CLIENTS.md): on the
// client's screen where the client shows anything of the server's (twine
// and pdm show the reason phrase, uv publish the body), and in the server
// log always, as the same sentence next to client=name/version. An
// upstream outage, which pip reports only as "No matching distribution"
// (or not at all, when other sources fill the page), is logged with the
// connection and the upstream URL, redacted.
func TestRefusalChannels(t *testing.T) {
	pub := newStaticIndex(t)
	pub.publish("public-dep", nil, makeWheel(t, "public-dep", "1.0", ""))
	const connSecret = "conn-pw-3f9c"
	pubURL, _ := url.Parse(pub.srv.URL)
	srv := startServer(t, serverConfig{Env: map[string]string{
		"WHARF_EXTERNAL_CONNECTIONS": "public:pypi=http://mirror:" + connSecret + "@" + pubURL.Host + "/simple/",
		"WHARF_UPSTREAM_TIMEOUT":     "2s",
	}})
	c := newClientEnv(t, srv)
	const domain, repo = "channels", "hub"
	c.createDomainAndRepo(domain, repo)
	c.aws(nil, "associate-external-connection", "--domain", domain, "--repository", repo, "--external-connection", "public:pypi")
	tok, doc := c.token(domain), c.tokenJSON(domain)
	endpoint := srv.Endpoint(domain, repo)
	mustStatus(t, upload(t, endpoint, makeWheel(t, "private-lib", "1.0", ""), basic("aws", tok)), 200)
	wheel := makeWheel(t, "private-lib", "2.0", "")
	dist := filepath.Join(c.Work, "dist")
	os.MkdirAll(dist, 0o755)
	writeFile(t, filepath.Join(dist, wheel.Filename), wheel.Data)
	files, _ := filepath.Glob(filepath.Join(dist, "*"))

	// logged finds the server's log line for a client's request that carries
	// all of want (the sentence the client was sent), and checks that no
	// line for the client shows a secret.
	logged := func(t *testing.T, client, msg string, want ...string) string {
		t.Helper()
		var candidates []string
		found := ""
		for _, l := range strings.Split(srv.log.Tail(1<<20), "\n") {
			if !strings.Contains(l, "msg=\""+msg+"\"") || !strings.Contains(l, " client="+client+" ") {
				continue
			}
			candidates = append(candidates, l)
			for _, secret := range []string{tok, connSecret} {
				if strings.Contains(l, secret) {
					t.Errorf("the server's log line for %s shows a secret:\n%s", client, l)
				}
			}
			all := true
			for _, w := range want {
				all = all && strings.Contains(l, w)
			}
			if all {
				found = l
			}
		}
		if found == "" {
			t.Fatalf("no %q line for client=%s with all of %q; the lines for it:\n%s", msg, client, want, strings.Join(candidates, "\n"))
		}
		return found
	}
	const jsonSentence = "The password is the JSON document printed by `aws codeartifact get-authorization-token`"

	// The seed's mistake, the JSON document as password. pip shows nothing
	// of the server's: the log is where the reason is.
	t.Run("pip install, JSON document", func(t *testing.T) {
		t.Parallel()
		// Every byte percent-encoded, as pip needs it in the URL's userinfo.
		escaped := strings.ReplaceAll(url.QueryEscape(doc), "+", "%20")
		withDoc := strings.Replace(endpoint, "http://", "http://aws:"+escaped+"@", 1)
		r := c.run(nil, need(t, "pip-current"), "download", "--no-deps", "-d", t.TempDir(), "--index-url", withDoc+"simple/", "private-lib")
		if r.Code == 0 || !strings.Contains(r.Output(), "401 Error, Credentials not correct") {
			t.Fatalf("pip with the JSON document as password:\n%s", r)
		}
		logged(t, "pip/26.3", "data plane request refused", "status=401", "code=json-password", jsonSentence)
	})

	// A file refused after its index page was served (a token that expired
	// in between; here the file's URL itself): every installer shows the
	// reason phrase.
	t.Run("file download, JSON document", func(t *testing.T) {
		t.Parallel()
		escaped := strings.ReplaceAll(url.QueryEscape(doc), "+", "%20")
		file := strings.Replace(endpoint, "http://", "http://aws:"+escaped+"@", 1) + "simple/private-lib/1.0/private_lib-1.0-py3-none-any.whl"
		r := c.run(nil, need(t, "pip-current"), "download", "--no-deps", "-d", t.TempDir(), file)
		if r.Code == 0 || !strings.Contains(r.Output(), "401 Client Error: "+jsonSentence) {
			t.Fatalf("pip downloading a file with the JSON document as password:\n%s", r)
		}
		noSecret(t, r, tok)
		req := filepath.Join(t.TempDir(), "requirements.in")
		writeFile(t, req, []byte("private-lib @ "+file+"\n"))
		r = c.run(nil, need(t, "uv"), "pip", "compile", "--no-header", req)
		if r.Code == 0 || !strings.Contains(r.Output(), "(401 "+jsonSentence) {
			t.Fatalf("uv downloading a file with the JSON document as password:\n%s", r)
		}
		noSecret(t, r, tok)
	})

	// Publishers: twine (both versions) and pdm show the reason phrase, uv
	// publish the body. Each must show wharf's sentence, not "Unauthorized".
	for _, p := range []struct {
		tool, client string
		args         []string
	}{
		{"twine-current", "twine/7.0.0", append([]string{"upload", "--non-interactive", "--repository-url", endpoint, "-u", "aws", "-p", doc}, files...)},
		{"twine", "twine/4.0.2", append([]string{"upload", "--non-interactive", "--repository-url", endpoint, "-u", "aws", "-p", doc}, files...)},
		{"uv", "uv/0.13.9", append([]string{"publish", "--publish-url", endpoint, "--username", "aws", "--password", doc}, files...)},
	} {
		t.Run(p.tool+" upload, JSON document", func(t *testing.T) {
			t.Parallel()
			r := c.run([]string{"COLUMNS=400"}, need(t, p.tool), p.args...)
			if r.Code == 0 || !strings.Contains(strings.Join(strings.Fields(r.Output()), " "), jsonSentence) {
				t.Fatalf("%s does not show wharf's reason:\n%s", p.tool, r)
			}
			noSecret(t, r, tok)
			logged(t, p.client, "data plane request refused", "status=401", "code=json-password", jsonSentence)
		})
	}

	// The refusal closes its connection (its reason phrase is written on
	// the hijacked connection): clients that send credentials only after
	// a Basic challenge, from a keyring, must still get in.
	t.Run("keyring after the challenge", func(t *testing.T) {
		t.Parallel()
		bin := t.TempDir()
		keyring := "#!/bin/sh\ncase \"$*\" in\n*--mode=creds*) echo '{\"username\": \"aws\", \"password\": \"" + tok + "\"}';;\nget*) echo '" + tok + "';;\n*) exit 1;;\nesac\n"
		if err := os.WriteFile(filepath.Join(bin, "keyring"), []byte(keyring), 0o755); err != nil {
			t.Fatal(err)
		}
		path := "PATH=" + bin + ":" + c.env["PATH"]
		userOnly := strings.Replace(endpoint, "http://", "http://aws@", 1) + "simple/"
		c.must([]string{path, "PIP_KEYRING_PROVIDER=subprocess"}, need(t, "pip-current"), "download", "--no-deps", "-d", t.TempDir(), "--index-url", userOnly, "private-lib")
		req := filepath.Join(t.TempDir(), "requirements.in")
		writeFile(t, req, []byte("private-lib\n"))
		r := c.must([]string{path, "UV_KEYRING_PROVIDER=subprocess"}, need(t, "uv"), "pip", "compile", "--no-header", "--index-url", userOnly, req)
		if !strings.Contains(r.Output(), "private-lib==1.0") {
			t.Fatalf("uv with a keyring:\n%s", r)
		}
	})

	// The public registry goes away: pip says only "No matching
	// distribution"; the log says which connection failed, where, and why.
	t.Run("upstream outage", func(t *testing.T) {
		pub.srv.Close()
		withTok := strings.Replace(endpoint, "http://", "http://aws:"+tok+"@", 1)
		r := c.run(nil, need(t, "pip-current"), "download", "--no-deps", "-d", t.TempDir(), "--index-url", withTok+"simple/", "public-dep")
		if r.Code == 0 || !strings.Contains(r.Output(), "No matching distribution found for public-dep") {
			t.Fatalf("pip with the upstream down:\n%s", r)
		}
		line := logged(t, "pip/26.3", "external connection failed", "status=502", "connection=public:pypi",
			"upstream_url=http://"+pubURL.Host+"/simple/public-dep/", "could not be reached", "path=/"+domain+"-")
		if !regexp.MustCompile(`request_id=[0-9a-f-]{36}`).MatchString(line) {
			t.Errorf("no request id in %s", line)
		}

		// A package that also takes versions from upstream is served
		// without them: the client may miss a version, and the log says why.
		c.aws(nil, "put-package-origin-configuration", "--domain", domain, "--repository", repo, "--format", "pypi",
			"--package", "private-lib", "--restrictions", "publish=ALLOW,upstream=ALLOW")
		c.must(nil, need(t, "pip-current"), "download", "--no-deps", "-d", t.TempDir(), "--index-url", withTok+"simple/", "private-lib")
		logged(t, "pip/26.3", "external connection failed; serving the package page without it", "package=private-lib",
			"connection=public:pypi", "upstream_url=http://"+pubURL.Host+"/simple/private-lib/", "could not be reached")
	})
}
