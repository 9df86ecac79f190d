package clients

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestDataPlaneRefusals pins what a refused client gets: always 401 (never
// 404: uv and pip turn a 404 into a misleading resolver error) with
// WWW-Authenticate naming the repository, and a plain-text body that says
// what was wrong — pip and uv hide the status, so the body and the server
// log are the only places wharf can explain itself.
func TestDataPlaneRefusals(t *testing.T) {
	t.Parallel()
	const domain, repo, otherDomain = "refusals", "team", "elsewhere"
	srv := startServer(t, serverConfig{})
	c := newClientEnv(t, srv)
	c.createDomainAndRepo(domain, repo)
	c.createDomainAndRepo(otherDomain, repo)
	endpoint := srv.Endpoint(domain, repo)
	token := c.token(domain)
	tokenJSON := c.tokenJSON(domain)
	otherToken := c.token(otherDomain)

	// Something to read, uploaded with a Bearer token (npm-style auth).
	// Not fatal: the refusal cases below do not need it.
	if r := upload(t, endpoint, makeWheel(t, "refusals-pkg", "1.0", ""), bearer(token)); r.Status != 200 && r.Status != 201 {
		t.Errorf("upload with a Bearer token:\n%s", r)
	}
	page := endpoint + "simple/refusals-pkg/"

	t.Run("accepted", func(t *testing.T) {
		for _, h := range []string{basic("aws", token), basic("__token__", token), bearer(token)} {
			mustStatus(t, fetch(t, "GET", page, nil, h, acceptJSON), 200)
		}
	})

	tampered := []byte(token)
	tampered[len(tampered)/2] ^= 0x01 // still in [A-Za-z0-9._-], so only the signature can tell
	if tampered[len(tampered)/2] == '/' {
		tampered[len(tampered)/2] = 'A'
	}

	// body: each regexp must match the body (case-insensitive).
	cases := []struct {
		name string
		auth string // "" sends no Authorization header
		body []string
	}{
		{"no-credentials", "", []string{`credential|authoriz|token`}},
		{"json-document-as-password", basic("aws", tokenJSON), []string{`authorizationToken`, regexp.QuoteMeta(`--query authorizationToken --output text`)}},
		{"compact-json-as-password", basic("aws", strings.Join(strings.Fields(tokenJSON), "")), []string{`authorizationToken`}},
		{"json-document-as-bearer", bearer(strings.Join(strings.Fields(tokenJSON), "")), []string{`authorizationToken`}},
		{"trailing-newline", basic("aws", token+"\n"), []string{`whitespace|newline|line break`}},
		{"surrounding-spaces", basic("aws", " "+token+" "), []string{`whitespace|space`}},
		{"token-of-another-domain", basic("aws", otherToken), []string{`domain`, otherDomain + `|` + domain}},
		// Which refusal depends on where the flip lands: in the payload's
		// JSON it reads as damaged, elsewhere the signature fails.
		{"tampered-token", basic("aws", string(tampered)), []string{`invalid|malformed|tamper|signature|corrupt|damaged|not a valid`}},
		{"garbage-token", basic("aws", "not-a-token"), []string{`invalid|malformed|not a (valid |wharf )?token`}},
		{"unexpected-username", basic("admin", token), []string{`username`, `aws`}},
		// The URL to paste is this repository's, with the server's own scheme.
		{"username-without-password", basic("aws", ""), []string{`password|token`, regexp.QuoteMeta(strings.Replace(endpoint, "http://", "http://aws:<token>@", 1) + "simple/")}},
		{"token-as-username", basic(token, ""), []string{regexp.QuoteMeta(strings.Replace(endpoint, "http://", "http://aws:<token>@", 1) + "simple/")}},
	}
	for _, tc := range cases {
		t.Run("http/"+tc.name, func(t *testing.T) {
			// A project that does not exist must still say 401, not 404.
			for _, u := range []string{page, endpoint + "simple/", endpoint + "simple/does-not-exist/"} {
				var hdrs []string
				if tc.auth != "" {
					hdrs = append(hdrs, tc.auth)
				}
				r := fetch(t, "GET", u, nil, append(hdrs, pipAccept)...)
				checkRefusal(t, r, domain, repo, tc.body)
			}
			// The upload endpoint refuses the same way (twine shows this body with --verbose).
			var hdrs []string
			if tc.auth != "" {
				hdrs = append(hdrs, tc.auth)
			}
			r := upload(t, endpoint, makeWheel(t, "refusals-pkg", "2.0", ""), hdrs...)
			checkRefusal(t, r, domain, repo, tc.body)
		})
	}

	// pip with the JSON document as the password, percent-encoded into the
	// URL as a careful user would, and the same through PIP_INDEX_URL.
	jsonIndex := strings.Replace(endpoint, "://", "://"+url.UserPassword("aws", tokenJSON).String()+"@", 1) + "simple/"
	for _, via := range []string{"index-url", "PIP_INDEX_URL"} {
		t.Run("pip/json-password-via-"+via, func(t *testing.T) {
			c := c.with(t)
			args, env := []string{"install", "--target", t.TempDir(), "refusals-pkg"}, []string(nil)
			if via == "index-url" {
				args = append(args, "--index-url", jsonIndex)
			} else {
				env = []string{"PIP_INDEX_URL=" + jsonIndex}
			}
			if r := c.run(env, need(t, "pip"), args...); r.Code == 0 {
				t.Fatalf("pip must not install with the JSON document as password:\n%s", r)
			}
			// pip logs the 401 at debug level only; what it got is this:
			checkRefusal(t, fetch(t, "GET", page, nil, basic("aws", tokenJSON), pipAccept), domain, repo,
				[]string{`authorizationToken`, regexp.QuoteMeta(`--query authorizationToken --output text`)})
		})
	}

	t.Run("pip/username-without-password", func(t *testing.T) {
		c := c.with(t)
		idx := strings.Replace(endpoint, "://", "://aws@", 1) + "simple/"
		if r := c.run(nil, need(t, "pip"), "install", "--target", t.TempDir(), "--index-url", idx, "refusals-pkg"); r.Code == 0 {
			t.Fatalf("pip must not install without a password:\n%s", r)
		}
	})

	t.Run("pip/token-works", func(t *testing.T) {
		c := c.with(t)
		idx := strings.Replace(endpoint, "://", "://aws:"+token+"@", 1) + "simple/"
		c.must([]string{"PIP_INDEX_URL=" + idx}, need(t, "pip"), "install", "--target", t.TempDir(), "refusals-pkg")
	})

	twineEnv := func(pass string) []string {
		return []string{"TWINE_REPOSITORY_URL=" + endpoint, "TWINE_USERNAME=aws", "TWINE_PASSWORD=" + pass}
	}
	wheel := makeWheel(t, "refusals-pkg", "3.0", "")
	writeDist(t, c, wheel)

	t.Run("twine/json-password", func(t *testing.T) {
		c := c.with(t)
		r := c.run(twineEnv(tokenJSON), need(t, "twine"), "upload", "--verbose", "--disable-progress-bar", wheel.Filename)
		if r.Code == 0 || !strings.Contains(r.Output(), "401") || !strings.Contains(r.Output(), "authorizationToken") {
			t.Fatalf("twine with the JSON document as password must fail with 401 and the server's explanation:\n%s", r)
		}
	})

	t.Run("twine/missing-password", func(t *testing.T) {
		c := c.with(t)
		// Non-interactive twine refuses before sending anything; the point is it does not hang.
		r := c.run(twineEnv(""), need(t, "twine"), "upload", "--verbose", "--disable-progress-bar", wheel.Filename)
		if r.Code == 0 {
			t.Fatalf("twine without a password must fail:\n%s", r)
		}
	})

	t.Run("twine/token-works", func(t *testing.T) {
		c := c.with(t)
		c.must(twineEnv(token), need(t, "twine"), "upload", "--verbose", "--disable-progress-bar", wheel.Filename)
	})
}

func checkRefusal(t *testing.T, r reply, domain, repo string, body []string) {
	t.Helper()
	if r.Status != 401 {
		t.Errorf("want 401:\n%s", r)
		return
	}
	if got, want := r.Header.Get("WWW-Authenticate"), fmt.Sprintf(`Basic realm="%s/%s"`, domain, repo); !strings.HasPrefix(got, want) {
		t.Errorf("WWW-Authenticate %q, want %q:\n%s", got, want, r)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type %q, want text/plain:\n%s", ct, r)
	}
	for _, re := range body {
		if !regexp.MustCompile(`(?i)` + re).Match(r.Body) {
			t.Errorf("body does not match /%s/:\n%s", re, r)
		}
	}
}

func writeDist(t *testing.T, c *clientEnv, d dist) {
	t.Helper()
	writeFile(t, c.Work+"/"+d.Filename, d.Data)
}
