package clients

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// privateMirror is a credentialed stand-in for a devpi or Artifactory
// mirror: it records the credentials each request brought, answers 500 for
// "broken", stalls past the server's timeout for "sleepy", serves one
// project "good" (whose file lives under files/) and 404 otherwise. Its
// file link can point at another origin, to see what follows a link there.
type privateMirror struct {
	srv  *httptest.Server
	mu   sync.Mutex
	seen []string // "path auth=... token=... x-api-key=..." per request
	good dist
	// fileOrigin, when set, is where the page says the file is.
	fileOrigin string
}

func newPrivateMirror(t *testing.T) *privateMirror {
	m := &privateMirror{good: makeWheel(t, "good", "1.0", "")}
	m.srv = httptest.NewServer(http.HandlerFunc(m.serve))
	t.Cleanup(m.srv.Close)
	return m
}

func (m *privateMirror) serve(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	m.seen = append(m.seen, fmt.Sprintf("%s auth=%q token=%q x-api-key=%q", r.URL.Path,
		r.Header.Get("Authorization"), r.URL.Query().Get("token"), r.Header.Get("X-Api-Key")))
	m.mu.Unlock()
	switch {
	case strings.HasSuffix(r.URL.Path, "/broken/"):
		http.Error(w, "boom", http.StatusInternalServerError)
	case strings.HasSuffix(r.URL.Path, "/sleepy/"):
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	case strings.HasSuffix(r.URL.Path, "/good/"):
		origin := m.fileOrigin
		if origin == "" {
			origin = "http://" + r.Host
		}
		fmt.Fprintf(w, "<html><body><a href=\"%s/files/%s#sha256=%s\">%s</a></body></html>",
			origin, m.good.Filename, sha256hex(m.good.Data), m.good.Filename)
	case strings.HasPrefix(r.URL.Path, "/files/"):
		w.Write(m.good.Data)
	default:
		http.NotFound(w, r)
	}
}

func (m *privateMirror) requests() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.seen...)
}

// TestUpstreamCredentialsNeverShown is issue 11 item 2: a connection's
// password and query token reach the upstream but never a client's
// response body, the server log or the database, whether they are written
// into the connection URL or configured apart from it; and separately
// configured credentials go only to the connection's own origin.
func TestUpstreamCredentialsNeverShown(t *testing.T) {
	const password, token = "PASSWORD-Zq81", "QUERYTOKEN-x7Yp"
	mirror := newPrivateMirror(t)
	srv := startServer(t, serverConfig{Env: map[string]string{
		"WHARF_EXTERNAL_CONNECTIONS": "public:pypi=http://mirror-user:" + password + "@" + strings.TrimPrefix(mirror.srv.URL, "http://") + "/simple/?token=" + token,
		"WHARF_UPSTREAM_TIMEOUT":     "1s",
	}})
	c := newClientEnv(t, srv)
	const domain = "secrets"
	c.createDomainAndRepo(domain, "store")
	c.aws(nil, "associate-external-connection", "--domain", domain, "--repository", "store", "--external-connection", "public:pypi")
	reader := c.adminCreateKey("reader", "read")
	auth := basic("aws", c.tokenAs(reader, domain))
	base := srv.Endpoint(domain, "store") + "simple/"

	shown := func(what, text string) {
		t.Helper()
		for _, secret := range []string{password, token} {
			if strings.Contains(text, secret) {
				t.Errorf("%s shows the secret %q:\n%s", what, secret, clip(text, 4000))
			}
		}
	}
	broken := fetch(t, "GET", base+"broken/", nil, auth)
	mustStatus(t, broken, 502)
	if !strings.Contains(string(broken.Body), mirror.srv.URL+"/simple/broken/") || !strings.Contains(string(broken.Body), "token=REDACTED") {
		t.Errorf("the 502 must name the upstream (redacted):\n%s", broken)
	}
	shown("the 502 body", string(broken.Body))
	sleepy := fetch(t, "GET", base+"sleepy/", nil, auth)
	mustStatus(t, sleepy, 504)
	shown("the 504 body", string(sleepy.Body))
	mustStatus(t, fetch(t, "GET", base+"missing/", nil, auth), 404)
	good := fetch(t, "GET", base+"good/", nil, auth)
	mustStatus(t, good, 200)
	shown("the project page", string(good.Body))
	mustStatus(t, fetch(t, "GET", base+"good/1.0/"+mirror.good.Filename, nil, auth), 200)

	// The upstream got the password and the token on every page request,
	// and the password (same origin) on the file download.
	wantAuth := basic("mirror-user", password)[len("Authorization: "):]
	var pages, files int
	for _, r := range mirror.requests() {
		switch {
		case strings.HasPrefix(r, "/simple/"):
			pages++
			if !strings.Contains(r, fmt.Sprintf("auth=%q token=%q", wantAuth, token)) {
				t.Errorf("a page request came without the connection's credentials: %s", r)
			}
		case strings.HasPrefix(r, "/files/"):
			files++
			if !strings.Contains(r, fmt.Sprintf("auth=%q", wantAuth)) {
				t.Errorf("the file download came without the connection's credentials: %s", r)
			}
		}
	}
	if pages < 4 || files != 1 {
		t.Errorf("the mirror saw %d page and %d file requests, want at least 4 and 1: %q", pages, files, mirror.requests())
	}
	srv.Stop()
	shown("the server log", srv.log.Tail(1<<30))
	for _, f := range []string{"wharf.db", "wharf.db-wal"} {
		b, _ := os.ReadFile(filepath.Join(srv.DataDir, f))
		for _, secret := range []string{password, token} {
			if strings.Contains(string(b), secret) {
				t.Errorf("%s holds the secret %q (the page cache's keys)", f, secret)
			}
		}
	}
}

// TestUpstreamSeparateCredentials configures a connection's credentials
// apart from its URL (a header here, as Artifactory takes an API key):
// they reach the mirror's pages and files, never a file on another origin
// the page links to, and never the log.
func TestUpstreamSeparateCredentials(t *testing.T) {
	const apiKey = "APIKEY-r4Qm2"
	mirror := newPrivateMirror(t)
	elsewhere := newPrivateMirror(t) // another origin, serving the same file
	// "localhost" is another origin than the mirror's 127.0.0.1.
	mirror.fileOrigin = strings.Replace(elsewhere.srv.URL, "127.0.0.1", "localhost", 1)
	srv := startServer(t, serverConfig{Env: map[string]string{
		"WHARF_EXTERNAL_CONNECTIONS":                   "public:pypi=" + mirror.srv.URL + "/simple/",
		"WHARF_EXTERNAL_CONNECTION_PUBLIC_PYPI_HEADER": "X-Api-Key: " + apiKey,
	}})
	c := newClientEnv(t, srv)
	const domain = "separate"
	c.createDomainAndRepo(domain, "store")
	c.aws(nil, "associate-external-connection", "--domain", domain, "--repository", "store", "--external-connection", "public:pypi")
	auth := basic("aws", c.token(domain))
	base := srv.Endpoint(domain, "store") + "simple/"
	mustStatus(t, fetch(t, "GET", base+"good/", nil, auth), 200)
	mustStatus(t, fetch(t, "GET", base+"good/1.0/"+mirror.good.Filename, nil, auth), 200)

	if got := mirror.requests(); len(got) != 1 || !strings.Contains(got[0], fmt.Sprintf("x-api-key=%q", apiKey)) {
		t.Errorf("the mirror's page request must carry the configured header: %q", got)
	}
	if got := elsewhere.requests(); len(got) != 1 || !strings.Contains(got[0], `x-api-key=""`) {
		t.Errorf("the file on another origin must be fetched without the mirror's credentials: %q", got)
	}
	srv.Stop()
	if strings.Contains(srv.log.Tail(1<<30), apiKey) {
		t.Errorf("the server log shows the API key:\n%s", srv.log.Tail(8<<10))
	}
}
