package doctor

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wharfhq/wharf/internal/client"
	"github.com/wharfhq/wharf/internal/server"
)

const (
	owner     = "123456789012"
	keyID     = "AKIAWHARFDOCTORTEST1"
	keySecret = "doctorTestSecretAccessKey000000000000000"
)

// wharf is a real server, started in-process once for all doctor tests,
// with domains "proximal" (repository "hub") and "other" (repository "rr").
type wharf struct {
	base  string
	token map[string]string // domain -> a valid token
}

var (
	theWharf *wharf
	cleanup  []string
)

func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range cleanup {
		os.RemoveAll(d)
	}
	os.Exit(code)
}

func startWharf(t *testing.T) *wharf {
	t.Helper()
	if theWharf != nil {
		return theWharf
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	// The server lives as long as the test binary: it is shared by every test.
	ctx := context.Background()
	dataDir, err := os.MkdirTemp("", "wharf-doctor-test-")
	if err != nil {
		t.Fatal(err)
	}
	cleanup = append(cleanup, dataDir)
	srv, err := server.New(ctx, server.Config{Listen: addr, DataDir: dataDir,
		PublicURL: "http://" + addr, AccountID: owner, RootAccessKeyID: keyID, RootSecretAccessKey: keySecret},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	go srv.Run(ctx)
	select {
	case <-srv.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("server not ready")
	}
	w := &wharf{base: "http://" + addr, token: map[string]string{}}
	t.Setenv("AWS_ACCESS_KEY_ID", keyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", keySecret)
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	cl, err := client.New(ctx, client.Options{Endpoint: w.base})
	if err != nil {
		t.Fatal(err)
	}
	for dom, repo := range map[string]string{"proximal": "hub", "other": "rr"} {
		if err := createRepo(ctx, w.base, dom, repo); err != nil {
			t.Fatal(err)
		}
		tok, err := cl.GetAuthorizationToken(ctx, dom, owner, 0)
		if err != nil {
			t.Fatal(err)
		}
		w.token[dom] = tok.Value
	}
	theWharf = w
	return w
}

// createRepo uses the control plane through signed raw requests; the client
// package has typed calls only for the operations the CLI needs.
func createRepo(ctx context.Context, base, domain, repo string) error {
	c, err := client.New(ctx, client.Options{Endpoint: base})
	if err != nil {
		return err
	}
	if err := c.Do(ctx, "POST", "/v1/domain", url.Values{"domain": {domain}}, nil); err != nil {
		return err
	}
	return c.Do(ctx, "POST", "/v1/repository", url.Values{"domain": {domain}, "repository": {repo}}, nil)
}

// isolate gives a test an empty HOME, project and environment: nothing of
// the machine's own configuration leaks in.
func isolate(t *testing.T) (home, proj string) {
	home, proj = t.TempDir(), t.TempDir()
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		for _, p := range []string{"UV_", "PIP_", "POETRY_", "PDM_", "TWINE_", "NPM_CONFIG_", "NETRC", "VIRTUAL_ENV", "WHARF_", "AWS_ENDPOINT_URL"} {
			if strings.HasPrefix(k, p) {
				t.Setenv(k, "")
				os.Unsetenv(k)
			}
		}
	}
	t.Setenv("HOME", home)
	t.Setenv("PATH", t.TempDir()) // no client's version is found: each case gives the ones it needs
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	t.Setenv("XDG_CONFIG_DIRS", filepath.Join(home, "etc-xdg"))
	return home, proj
}

func write(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

func uvProject(index, name string, explicit, pinned bool) string {
	s := "[project]\nname = \"api\"\nversion = \"0.1\"\n\n[[tool.uv.index]]\nname = \"" + name + "\"\nurl = \"" + index + "\"\n"
	if explicit {
		s += "explicit = true\n"
	}
	if pinned {
		s += "\n[tool.uv.sources]\nproximal = { index = \"" + name + "\" }\n"
	}
	return s
}

func TestFindings(t *testing.T) {
	w := startWharf(t)
	good, other := w.token["proximal"], w.token["other"]
	idx := w.base + "/proximal-" + owner + "/pypi/hub/simple/"
	upload := w.base + "/proximal-" + owner + "/pypi/hub/"
	jsonBlob := "{\n    \"authorizationToken\": \"" + good + "\",\n    \"expiration\": 1795823267\n}\n"
	tampered := good[:len(good)-3] + "AAA"
	closed := func() string { l, _ := net.Listen("tcp", "127.0.0.1:0"); a := l.Addr().String(); l.Close(); return a }()

	type want struct {
		sev  Severity
		code string
		text string // in the message, fix or detail
	}
	cases := []struct {
		name    string
		files   map[string]string // "~/" = HOME, else project-relative
		env     map[string]string
		offline bool
		later   time.Duration     // doctor's clock runs ahead
		clients map[string]string // client versions to check against
		want    []want
		notWant []string
		ok      bool
	}{
		{name: "seed: JSON blob in the uv password",
			files: map[string]string{"pyproject.toml": uvProject(idx, "proximal-package-index", false, true)},
			env:   map[string]string{"UV_INDEX_PROXIMAL_PACKAGE_INDEX_USERNAME": "aws", "UV_INDEX_PROXIMAL_PACKAGE_INDEX_PASSWORD": jsonBlob},
			want: []want{{Error, "json-password", "authorizationToken"}, {Warn, "not-explicit", "explicit = true"},
				{Info, "refused", "The token inside it is valid"}}},
		{name: "seed: misnamed variable",
			files: map[string]string{"pyproject.toml": uvProject(idx, "proximal-package-index", false, true)},
			env:   map[string]string{"UV_INDEX_PROXIMAL_PACKAGE_INDEX_USERNAME": "aws", "UV_INDEX_PROXIMAL_PACKAGEINDEX_PASSWORD": good},
			want:  []want{{Error, "misnamed-variable", "UV_INDEX_PROXIMAL_PACKAGE_INDEX_PASSWORD"}, {Error, "no-password", ""}}},
		{name: "seed: right token",
			files: map[string]string{"pyproject.toml": uvProject(idx, "proximal-package-index", false, true)},
			env:   map[string]string{"UV_INDEX_PROXIMAL_PACKAGE_INDEX_USERNAME": "aws", "UV_INDEX_PROXIMAL_PACKAGE_INDEX_PASSWORD": good},
			want:  []want{{OK, "token-valid", "proximal"}, {OK, "accepted", "200"}, {Warn, "not-explicit", "not only for those pinned"}},
			ok:    true},
		{name: "explicit and pinned: no warning",
			files:   map[string]string{"pyproject.toml": uvProject(idx, "hub", true, true)},
			env:     map[string]string{"UV_INDEX_HUB_USERNAME": "aws", "UV_INDEX_HUB_PASSWORD": good},
			want:    []want{{OK, "accepted", ""}},
			notWant: []string{"not-explicit"}, ok: true},
		{name: "neither explicit nor pinned",
			files: map[string]string{"pyproject.toml": uvProject(idx, "hub", false, false)},
			env:   map[string]string{"UV_INDEX_HUB_USERNAME": "aws", "UV_INDEX_HUB_PASSWORD": good},
			want:  []want{{Warn, "not-explicit", "neither `explicit` nor pinned"}}, ok: true},
		{name: "uv.toml wins over pyproject, index-strategy respected",
			files: map[string]string{"uv.toml": "index-strategy = \"unsafe-best-match\"\n[[index]]\nname = \"hub\"\nurl = \"" + idx + "\"\n",
				"pyproject.toml": uvProject(idx, "ignored", false, false)},
			env:     map[string]string{"UV_INDEX_HUB_USERNAME": "aws", "UV_INDEX_HUB_PASSWORD": good},
			want:    []want{{OK, "accepted", ""}},
			notWant: []string{"not-explicit", "no-credentials"}, ok: true},
		{name: "trailing newline",
			files: map[string]string{"pyproject.toml": uvProject(idx, "hub", true, true)},
			env:   map[string]string{"UV_INDEX_HUB_USERNAME": "aws", "UV_INDEX_HUB_PASSWORD": good + "\n"},
			want:  []want{{Error, "whitespace", "newline"}}},
		{name: "quotes inside the value",
			files: map[string]string{"pyproject.toml": uvProject(idx, "hub", true, true)},
			env:   map[string]string{"UV_INDEX_HUB_USERNAME": "aws", "UV_INDEX_HUB_PASSWORD": `"` + good + `"`},
			want:  []want{{Error, "quoted", ""}}},
		{name: "percent-encoded variable",
			files: map[string]string{"pyproject.toml": uvProject(idx, "hub", true, true)},
			env:   map[string]string{"UV_INDEX_HUB_USERNAME": "aws", "UV_INDEX_HUB_PASSWORD": good + "%3D"},
			want:  []want{{Error, "percent-encoded", ""}}},
		{name: "no credentials at all",
			files: map[string]string{"pyproject.toml": uvProject(idx, "hub", true, true)},
			want:  []want{{Error, "no-credentials", "UV_INDEX_HUB_USERNAME=aws"}}},
		{name: "password without username",
			files: map[string]string{"pyproject.toml": uvProject(idx, "hub", true, true)},
			env:   map[string]string{"UV_INDEX_HUB_PASSWORD": good},
			want:  []want{{Error, "no-username", "UV_INDEX_HUB_USERNAME=aws"}}},
		{name: "upper-case username",
			files: map[string]string{"pyproject.toml": uvProject(idx, "hub", true, true)},
			env:   map[string]string{"UV_INDEX_HUB_USERNAME": "AWS", "UV_INDEX_HUB_PASSWORD": good},
			want:  []want{{Error, "bad-username", "lower case"}, {Info, "refused", "lower case"}}},
		{name: "expired token", later: 13 * time.Hour,
			files: map[string]string{"pyproject.toml": uvProject(idx, "hub", true, true)},
			env:   map[string]string{"UV_INDEX_HUB_USERNAME": "aws", "UV_INDEX_HUB_PASSWORD": good},
			want:  []want{{Error, "expired", "ago"}}},
		{name: "token of another domain",
			files: map[string]string{"pyproject.toml": uvProject(idx, "hub", true, true)},
			env:   map[string]string{"UV_INDEX_HUB_USERNAME": "aws", "UV_INDEX_HUB_PASSWORD": other},
			want:  []want{{Error, "wrong-domain", `domain "other"`}, {Info, "refused", "domain"}}},
		{name: "altered token: the server's exact reason",
			files: map[string]string{"pyproject.toml": uvProject(idx, "hub", true, true)},
			env:   map[string]string{"UV_INDEX_HUB_USERNAME": "aws", "UV_INDEX_HUB_PASSWORD": tampered},
			want:  []want{{Error, "refused", "signature is not valid"}}},
		{name: "CodeArtifact token on a wharf index",
			files: map[string]string{"pyproject.toml": uvProject(idx, "hub", true, true)},
			env:   map[string]string{"UV_INDEX_HUB_USERNAME": "aws", "UV_INDEX_HUB_PASSWORD": "eyJ2ZXIiOjEsImlzdSI6MTcwMDAwMDAwMH0.abc.def"},
			want:  []want{{Error, "wrong-issuer", "AWS CodeArtifact token"}}},
		{name: "CodeArtifact token on a CodeArtifact index is recognized", offline: true,
			files: map[string]string{"pyproject.toml": uvProject("https://proximal-"+owner+".d.codeartifact.us-east-2.amazonaws.com/pypi/hub/simple/", "hub", true, true)},
			env:   map[string]string{"UV_INDEX_HUB_USERNAME": "aws", "UV_INDEX_HUB_PASSWORD": "eyJ2ZXIiOjEsImlzdSI6MTcwMDAwMDAwMH0.abc.def"},
			want:  []want{{Info, "codeartifact-token", ""}}, notWant: []string{"not-a-token", "malformed"}, ok: true},
		{name: "access key as password", offline: true,
			files: map[string]string{"pyproject.toml": uvProject(idx, "hub", true, true)},
			env:   map[string]string{"UV_INDEX_HUB_USERNAME": "aws", "UV_INDEX_HUB_PASSWORD": "AKIAABCDEFGHIJKLMNOP"},
			want:  []want{{Error, "access-key", ""}}},
		{name: "something else as password", offline: true,
			files: map[string]string{"pyproject.toml": uvProject(idx, "hub", true, true)},
			env:   map[string]string{"UV_INDEX_HUB_USERNAME": "aws", "UV_INDEX_HUB_PASSWORD": "hunter2hunter2"},
			want:  []want{{Error, "not-a-token", "14-character"}}},
		{name: "cut-short wharf token", offline: true,
			files: map[string]string{"pyproject.toml": uvProject(idx, "hub", true, true)},
			env:   map[string]string{"UV_INDEX_HUB_USERNAME": "aws", "UV_INDEX_HUB_PASSWORD": good[:20]},
			want:  []want{{Error, "malformed", "damaged"}}},
		{name: "two names, one variable", offline: true,
			files: map[string]string{"pyproject.toml": uvProject(idx, "my-hub", true, true) + "\n[[tool.uv.index]]\nname = \"my.hub\"\nurl = \"" + idx + "\"\nexplicit = true\n"},
			env:   map[string]string{"UV_INDEX_MY_HUB_USERNAME": "aws", "UV_INDEX_MY_HUB_PASSWORD": good},
			want:  []want{{Warn, "name-collision", "UV_INDEX_MY_HUB_USERNAME"}}, ok: true},
		{name: "UV_INDEX variable with a name",
			env:  map[string]string{"UV_INDEX": "hub=" + idx, "UV_INDEX_HUB_USERNAME": "aws", "UV_INDEX_HUB_PASSWORD": good},
			want: []want{{OK, "accepted", ""}, {Warn, "not-explicit", ""}}, ok: true},
		{name: ".netrc supplies what is missing",
			files: map[string]string{"pyproject.toml": uvProject(idx, "hub", true, true), "~/.netrc": "machine 127.0.0.1\n  login aws\n  password " + good + "\n"},
			want:  []want{{Warn, "netrc-used", ".netrc"}, {OK, "accepted", ""}}, ok: true},
		{name: ".netrc shadows configured credentials",
			files: map[string]string{"pyproject.toml": uvProject(idx, "hub", true, true), "~/.netrc": "default login aws password " + tampered + "\n"},
			env:   map[string]string{"UV_INDEX_HUB_USERNAME": "aws", "UV_INDEX_HUB_PASSWORD": good},
			want:  []want{{Warn, "netrc-shadow", ""}, {OK, "accepted", ""}}, ok: true},
		{name: ".netrc entry with a JSON password", offline: true,
			files: map[string]string{"pyproject.toml": uvProject(idx, "hub", true, true), "~/.netrc": "machine 127.0.0.1 login aws password {\"authorizationToken\":\"x\"}\n"},
			env:   map[string]string{"UV_INDEX_HUB_USERNAME": "aws", "UV_INDEX_HUB_PASSWORD": good},
			want:  []want{{Warn, "json-password", "does not send"}}, ok: true},
		{name: "pip: URL credentials accepted",
			files: map[string]string{"~/.config/pip/pip.conf": "[global]\nindex-url = " + strings.Replace(idx, "http://", "http://aws:"+good+"@", 1) + "\n"},
			want:  []want{{OK, "token-valid", ""}, {OK, "accepted", ""}}, ok: true},
		{name: "pip: PIP_INDEX_URL overrides the file, JSON pasted into the URL",
			files: map[string]string{"~/.config/pip/pip.conf": "[global]\nindex-url = " + idx + "\n"},
			env:   map[string]string{"PIP_INDEX_URL": strings.Replace(idx, "http://", `http://aws:{"authorizationToken": "x"}@`, 1)},
			want:  []want{{Error, "needs-percent-encoding", ""}, {Error, "json-password", ""}}},
		{name: "pip: a token in the index URL's query is never shown",
			files: map[string]string{"~/.config/pip/pip.conf": "[global]\nindex-url = " + idx + "?token=QUERYSECRETdoctor\n"},
			want:  []want{{Error, "no-credentials", ""}}},
		{name: "pip: extra-index-url in a legacy file, no password",
			files: map[string]string{"~/.pip/pip.conf": "[install]\nextra-index-url =\n    " + idx + "\n"},
			want:  []want{{Error, "no-credentials", "wharf login --tool pip"}}},
		{name: "twine: section not listed, file readable by others",
			files: map[string]string{"~/.pypirc": "[distutils]\nindex-servers = pypi\n\n[codeartifact]\nrepository = " + upload + "\nusername = aws\npassword = " + good + "\n"},
			want:  []want{{Error, "pypirc-unlisted", "index-servers"}, {Warn, "pypirc-mode", "chmod 600"}, {OK, "accepted", ""}}},
		{name: "twine: TWINE_PASSWORD overrides .pypirc",
			files: map[string]string{"~/.pypirc": "[distutils]\nindex-servers = codeartifact\n\n[codeartifact]\nrepository = " + upload + "\nusername = aws\npassword = " + good + "\n"},
			env:   map[string]string{"TWINE_PASSWORD": jsonBlob},
			want:  []want{{Error, "json-password", "TWINE_PASSWORD"}}},
		{name: "poetry: misnamed and dotted",
			files: map[string]string{"pyproject.toml": "[[tool.poetry.source]]\nname = \"my-hub\"\nurl = \"" + idx + "\"\n\n[[tool.poetry.source]]\nname = \"a.b\"\nurl = \"https://example.invalid/simple/\"\n"},
			env:   map[string]string{"POETRY_HTTP_BASIC_MYHUB_PASSWORD": good, "POETRY_HTTP_BASIC_MY_HUB_USERNAME": "aws"},
			want:  []want{{Error, "misnamed-variable", "POETRY_HTTP_BASIC_MY_HUB_PASSWORD"}, {Warn, "poetry-dotted-name", "POETRY_HTTP_BASIC_A.B_"}}},
		{name: "poetry: auth.toml credentials",
			files: map[string]string{"pyproject.toml": "[[tool.poetry.source]]\nname = \"hub\"\nurl = \"" + idx + "\"\n",
				"~/.config/pypoetry/auth.toml": "[http-basic.hub]\nusername = \"aws\"\npassword = \"" + good + "\"\n"},
			want: []want{{OK, "accepted", ""}}, ok: true},
		{name: "pdm: ${VAR} in the source",
			files: map[string]string{"pyproject.toml": "[[tool.pdm.source]]\nname = \"hub\"\nurl = \"" + idx + "\"\nusername = \"aws\"\npassword = \"${HUB_TOKEN}\"\n"},
			env:   map[string]string{"HUB_TOKEN": other},
			want:  []want{{Error, "wrong-domain", ""}}},
		{name: "npm: token accepted, format not served",
			files: map[string]string{"~/.npmrc": "registry=" + w.base + "/proximal-" + owner + "/npm/hub/\n//" + strings.TrimPrefix(w.base, "http://") + "/proximal-" + owner + "/npm/hub/:_authToken=" + good + "\n"},
			want:  []want{{Warn, "format-not-served", "npm"}}, ok: true},
		{name: "unreachable server: the client fails too",
			files: map[string]string{"pyproject.toml": uvProject("http://"+closed+"/proximal-"+owner+"/pypi/hub/simple/", "hub", true, true)},
			env:   map[string]string{"UV_INDEX_HUB_USERNAME": "aws", "UV_INDEX_HUB_PASSWORD": good},
			want:  []want{{Error, "unreachable", "http://" + closed + "/proximal-" + owner + "/pypi/hub/simple/: dial tcp"}, {Error, "unreachable", "is `wharf serve` running"}}},
		{name: "poetry 1.3 refuses priority",
			files:   map[string]string{"pyproject.toml": "[[tool.poetry.source]]\nname = \"hub\"\nurl = \"" + idx + "\"\npriority = \"explicit\"\n"},
			env:     map[string]string{"POETRY_HTTP_BASIC_HUB_USERNAME": "aws", "POETRY_HTTP_BASIC_HUB_PASSWORD": good},
			clients: map[string]string{"poetry": "1.3.2"},
			want:    []want{{Error, "poetry-unknown-key", "[source.0] Additional properties are not allowed ('priority' was unexpected)"}, {Error, "poetry-unknown-key", "secondary = true"}}},
		{name: "poetry 2 refuses secondary",
			files:   map[string]string{"pyproject.toml": "[[tool.poetry.source]]\nname = \"hub\"\nurl = \"" + idx + "\"\nsecondary = true\n"},
			env:     map[string]string{"POETRY_HTTP_BASIC_HUB_USERNAME": "aws", "POETRY_HTTP_BASIC_HUB_PASSWORD": good},
			clients: map[string]string{"poetry": "2.5.1"},
			want:    []want{{Error, "poetry-unknown-key", "must not contain {'secondary'}"}}},
		{name: "poetry 1.3 reads secondary",
			files:   map[string]string{"pyproject.toml": "[[tool.poetry.source]]\nname = \"hub\"\nurl = \"" + idx + "\"\nsecondary = true\n"},
			env:     map[string]string{"POETRY_HTTP_BASIC_HUB_USERNAME": "aws", "POETRY_HTTP_BASIC_HUB_PASSWORD": good},
			clients: map[string]string{"poetry": "1.3.2"},
			want:    []want{{OK, "accepted", ""}}, notWant: []string{"poetry-unknown-key"}, ok: true},
		{name: "pdm 2.2 ignores [pypi.NAME] credentials",
			files: map[string]string{"pyproject.toml": "[[tool.pdm.source]]\nname = \"hub\"\nurl = \"" + idx + "\"\n",
				"~/.config/pdm/config.toml": "[pypi.hub]\nurl = \"" + idx + "\"\nusername = \"aws\"\npassword = \"" + good + "\"\n"},
			clients: map[string]string{"pdm": "2.2.1"},
			want:    []want{{Error, "no-credentials", "aws:${WHARF_PDM_HUB_TOKEN}@"}, {Warn, "pdm-ignores-credentials", "2.5"}}},
		{name: "pdm 2.29 reads [pypi.NAME] credentials",
			files: map[string]string{"pyproject.toml": "[[tool.pdm.source]]\nname = \"hub\"\nurl = \"" + idx + "\"\n",
				"~/.config/pdm/config.toml": "[pypi.hub]\nurl = \"" + idx + "\"\nusername = \"aws\"\npassword = \"" + good + "\"\n"},
			clients: map[string]string{"pdm": "2.29.4"},
			want:    []want{{OK, "accepted", ""}}, ok: true},
		{name: "pdm: ${VAR} in the URL",
			files:   map[string]string{"pyproject.toml": "[[tool.pdm.source]]\nname = \"hub\"\nurl = \"" + strings.Replace(idx, "http://", "http://aws:${WHARF_PDM_HUB_TOKEN}@", 1) + "\"\n"},
			env:     map[string]string{"WHARF_PDM_HUB_TOKEN": good},
			clients: map[string]string{"pdm": "2.2.1"},
			want:    []want{{OK, "accepted", ""}}, ok: true},
		{name: "pdm: unset ${VAR} in the URL",
			files:   map[string]string{"pyproject.toml": "[[tool.pdm.source]]\nname = \"hub\"\nurl = \"" + strings.Replace(idx, "http://", "http://aws:${WHARF_PDM_HUB_TOKEN}@", 1) + "\"\n"},
			clients: map[string]string{"pdm": "2.2.1"},
			want:    []want{{Error, "unset-variable", "export WHARF_PDM_HUB_TOKEN="}}},
		{name: "pip: a bad .netrc entry pip does not send is a warning",
			files: map[string]string{"~/.config/pip/pip.conf": "[global]\nindex-url = " + strings.Replace(idx, "http://", "http://aws:"+good+"@", 1) + "\n",
				"~/.netrc": "machine 127.0.0.1 login aws password hunter2hunter2\n"},
			want:    []want{{Warn, "not-a-token", "does not send"}, {OK, "accepted", ""}},
			notWant: []string{"https://"}, ok: true},
		{name: "pip: the fix keeps the server's scheme",
			files: map[string]string{"~/.config/pip/pip.conf": "[global]\nindex-url = " + idx + "\n"},
			want:  []want{{Error, "no-credentials", "writes " + strings.Replace(idx, "http://", "http://aws:<token>@", 1)}}},
		{name: "broken TOML",
			files: map[string]string{"pyproject.toml": "[tool.uv\nname = 1\n"},
			want:  []want{{Error, "bad-toml", "line 1"}}},
		{name: "nothing configured",
			want: []want{{Info, "no-index", ""}}, ok: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			home, proj := isolate(t)
			for p, c := range tc.files {
				mode := os.FileMode(0o600)
				if strings.HasSuffix(p, ".pypirc") && strings.Contains(tc.name, "readable") {
					mode = 0o644
				}
				if rest, ok := strings.CutPrefix(p, "~/"); ok {
					write(t, filepath.Join(home, rest), c, mode)
				} else {
					write(t, filepath.Join(proj, p), c, mode)
				}
			}
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			r := Run(context.Background(), Options{Project: proj, Offline: tc.offline, Now: time.Now().Add(tc.later), Versions: tc.clients})
			var text, js bytes.Buffer
			r.WriteText(&text)
			if err := r.WriteJSON(&js); err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				found := false
				for _, f := range r.Findings {
					if f.Code == w.code && f.Severity == w.sev && strings.Contains(f.Message+f.Fix+f.Detail, w.text) {
						found = true
					}
				}
				if !found {
					t.Errorf("want a %s %q finding mentioning %q:\n%s", w.sev, w.code, w.text, text.String())
				}
			}
			for _, code := range tc.notWant {
				for _, f := range r.Findings {
					if f.Code == code || strings.Contains(f.Message+f.Fix, code) {
						t.Errorf("unexpected %q finding:\n%s", code, text.String())
					}
				}
			}
			if r.OK != tc.ok {
				t.Errorf("OK = %v, want %v:\n%s", r.OK, tc.ok, text.String())
			}
			for _, secret := range []string{good, other, tampered, "hunter2hunter2", "AKIAABCDEFGHIJKLMNOP", "QUERYSECRETdoctor"} {
				if strings.Contains(text.String(), secret) || strings.Contains(js.String(), secret) {
					t.Errorf("the output contains a secret:\n%s", text.String())
				}
			}
		})
	}
}

func TestEnvNames(t *testing.T) {
	for in, want := range map[string]string{
		"proximal-package-index": "PROXIMAL_PACKAGE_INDEX", "my.index_2": "MY_INDEX_2", "Ünïcode": "_N_CODE", "test": "TEST",
	} {
		if got := UVEnvName(in); got != want {
			t.Errorf("UVEnvName(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"my-repo": "MY_REPO", "my.repo": "MY.REPO", "my_repo": "MY_REPO"} {
		if got := PoetryEnvName(in); got != want {
			t.Errorf("PoetryEnvName(%q) = %q, want %q", in, got, want)
		}
	}
}
