package clients

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/wharfhq/wharf/internal/auth"
)

// TestCompatibilityMatrix drives every Python client and version under test
// through the same cases — install, publish, re-publish, a refused
// re-publish, a yanked (Unlisted) version and each common credential
// mistake — against one server, and writes what each client did and showed
// into README.md's "Client compatibility" section, so the table cannot go
// stale: the test fails when README.md differs from what the clients did.
// WHARF_UPDATE_README=1 rewrites the section instead;
// WHARF_MATRIX_VERBOSE=1 logs each client's whole output.
//
// Each client gets its own domain, so the columns run in parallel and no
// case sees another's packages.
func TestCompatibilityMatrix(t *testing.T) {
	srv := startServer(t, serverConfig{})
	m := newMatrix(t, srv)
	t.Run("clients", func(t *testing.T) {
		for _, in := range installers {
			t.Run(in.id(), func(t *testing.T) { t.Parallel(); m.runInstaller(t, in) })
		}
		for _, p := range publishers {
			t.Run(p.id(), func(t *testing.T) { t.Parallel(); m.runPublisher(t, p) })
		}
		for _, b := range builders {
			t.Run(b.id(), func(t *testing.T) { t.Parallel(); m.runBuilder(t, b) })
		}
	})
	if t.Failed() || len(m.cells) != len(installers)+len(publishers)+len(builders) {
		// A half-filled table (a failure, or -run picking some columns)
		// must not land in README.md.
		t.Logf("the matrix of this run (README.md not compared):\n%s", m.render())
		return
	}
	checkReadmeSection(t, "compat", "go test ./test/clients -run TestCompatibilityMatrix", m.render())
}

// matrix is the shared state of one run: the server, each column's domain
// and token, and the cells filled so far.
type matrix struct {
	srv  *server
	ring *auth.Keyring // the server's signing key, for expired tokens
	// tokens by domain; jsonDoc is what `aws codeartifact
	// get-authorization-token` prints, with TOKEN where its token goes.
	tokens  map[string]string
	jsonDoc string

	mu     sync.Mutex
	cells  map[string][]row  // by column ("install-uv")
	labels map[string]string // by column: "pip 26.3 (`pip install`)"
}

type row struct {
	Case string
	cell
}

// Every column's repository is called "repo" in a domain of its own; a
// token for otherDomain is the "token for another domain" mistake.
const (
	matrixRepo  = "repo"
	otherDomain = "matrix-elsewhere"
	demo        = "matrix-demo" // the package every column installs or publishes
)

// columnDomain is the domain of a column ("install-uv", "publish-uv").
func columnDomain(column string) string { return "matrix-" + column }

func newMatrix(t *testing.T, srv *server) *matrix {
	admin := newClientEnv(t, srv)
	domains := []string{otherDomain}
	for _, in := range installers {
		domains = append(domains, columnDomain(in.id()))
	}
	for _, p := range publishers {
		domains = append(domains, columnDomain(p.id()))
	}
	list, _ := json.Marshal(domains)
	// One Python process for all domains: the aws CLI would take a second each.
	out := admin.boto3(fmt.Sprintf(`out = {}
for d in json.loads(%q):
    ca.create_domain(domain=d)
    ca.create_repository(domain=d, domainOwner=%q, repository=%q)
    out[d] = ca.get_authorization_token(domain=d, domainOwner=%q)['authorizationToken']
print(json.dumps(out))
`, list, accountID, matrixRepo, accountID))
	m := &matrix{srv: srv, ring: serverKeyring(t, srv), cells: map[string][]row{}, labels: map[string]string{}}
	if err := json.Unmarshal([]byte(out.Stdout), &m.tokens); err != nil {
		t.Fatalf("boto3 setup printed no tokens: %v\n%s", err, out)
	}
	// The document exactly as the aws CLI prints it, made a template that
	// each column fills with its own token.
	doc := admin.tokenJSON(otherDomain)
	var d struct{ AuthorizationToken string }
	if err := json.Unmarshal([]byte(doc), &d); err != nil || d.AuthorizationToken == "" {
		t.Fatalf("get-authorization-token printed no token:\n%s", doc)
	}
	m.jsonDoc = strings.Replace(doc, d.AuthorizationToken, "TOKEN", 1)
	return m
}

// newMatrixEnv is a client sandbox whose clients do not wrap their lines,
// so that a line of output is a line of the table: rich (twine, pdm, hatch)
// wraps at 80 columns when TERM is "dumb", else at COLUMNS.
func newMatrixEnv(t *testing.T, srv *server) *clientEnv {
	c := newClientEnv(t, srv)
	delete(c.env, "TERM")
	c.env["COLUMNS"] = "1000"
	return c
}

// credentials are a username and password as a client is given them.
type credentials struct{ User, Pass string }

// good is the right way: username aws, the domain's bare token.
func (m *matrix) good(domain string) credentials {
	return credentials{"aws", m.tokens[domain]}
}

// mistake is one of the ways users get credentials wrong.
type mistake struct {
	Name  string
	creds func(m *matrix, t *testing.T, domain string) credentials
}

var mistakes = []mistake{
	{"JSON document as password", func(m *matrix, _ *testing.T, d string) credentials {
		return credentials{"aws", strings.Replace(m.jsonDoc, "TOKEN", m.tokens[d], 1)}
	}},
	{"expired token", func(m *matrix, t *testing.T, d string) credentials {
		return credentials{"aws", expiredToken(t, m.ring, m.tokens[d])}
	}},
	{"wrong username (user)", func(m *matrix, _ *testing.T, d string) credentials {
		return credentials{"user", m.tokens[d]}
	}},
	{"token for another domain", func(m *matrix, _ *testing.T, d string) credentials {
		return credentials{"aws", m.tokens[otherDomain]}
	}},
}

// refusal is wharf's answer to these credentials on the column's index:
// the words a client would have to show.
func (m *matrix) refusal(t *testing.T, domain string, cr credentials) string {
	t.Helper()
	r := fetch(t, "GET", m.srv.Endpoint(domain, matrixRepo)+"simple/", nil, basic(cr.User, cr.Pass))
	if r.Status < 400 {
		t.Fatalf("the server accepts credentials the matrix calls a mistake:\n%s", r)
	}
	return string(r.Body)
}

// column finds a column's client (failing when it is missing) and names the
// column by the client, the version found installed, and the command the
// cases run: "pip 26.3 (`pip install`)".
func (m *matrix) column(t *testing.T, column, tool, dist, name, command string) (exe string) {
	t.Helper()
	exe = need(t, tool)
	l := fmt.Sprintf("%s %s (`%s`)", name, clientVersion(t, exe, dist), command)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.labels[column] = l
	return exe
}

// record adds a cell to a column, in the order the column runs its cases.
func (m *matrix) record(column, name string, c cell) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cells[column] = append(m.cells[column], row{name, c})
}

// expect records the cell and fails the test when the verdict is not the
// one every client must reach (want "ok" or "refused"; "" accepts any).
func (m *matrix) expect(t *testing.T, column, name, want string, c cell, r result) {
	t.Helper()
	m.record(column, name, c)
	if os.Getenv("WHARF_MATRIX_VERBOSE") != "" {
		t.Logf("CELL %s / %s:\n%s", column, name, r)
	}
	if want != "" && !strings.HasPrefix(c.Verdict, want) {
		t.Errorf("%s: want %s, got %q:\n%s", name, want, c.Verdict, r)
	}
}

// render writes the three tables: installing, publishing, building.
func (m *matrix) render() string {
	var b strings.Builder
	section := func(title string, cols []string) {
		fmt.Fprintf(&b, "\n%s\n\n| client | case | result | what the client shows of wharf's reason |\n|---|---|---|---|\n", title)
		for _, col := range cols {
			for _, r := range m.cells[col] {
				fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", m.labels[col], r.Case, r.Verdict, cellText(r.Shown))
			}
		}
	}
	var cols []string
	for _, in := range installers {
		cols = append(cols, in.id())
	}
	section("Installing (the repository holds "+demo+" 1.0 and 2.0; 2.0 is Unlisted, which the simple API shows as yanked):", cols)
	cols = nil
	for _, p := range publishers {
		cols = append(cols, p.id())
	}
	section("Publishing "+demo+" 1.0:", cols)
	cols = nil
	for _, bl := range builders {
		cols = append(cols, bl.id())
	}
	section("Building (offline, `--no-isolation`):", cols)
	return b.String()
}

// cellText keeps a client's line from breaking the Markdown table.
func cellText(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// checkReadmeSection compares README.md's generated section named name
// (between <!-- name:begin ... --> and <!-- name:end -->) with content,
// rewriting it when WHARF_UPDATE_README=1 and failing otherwise.
func checkReadmeSection(t *testing.T, name, command, content string) {
	t.Helper()
	const path = "../../README.md"
	begin := "<!-- " + name + ":begin (generated by WHARF_UPDATE_README=1 " + command + ") -->"
	end := "<!-- " + name + ":end -->"
	readme, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	start, stop := strings.Index(string(readme), begin), strings.Index(string(readme), end)
	if start < 0 || stop < start {
		t.Fatalf("README.md lacks the markers %q ... %q", begin, end)
	}
	want := begin + "\n" + content + "\n" + end
	if string(readme[start:stop+len(end)]) == want {
		return
	}
	if os.Getenv("WHARF_UPDATE_README") != "1" {
		t.Fatalf("README.md's %s section is out of date; run: WHARF_UPDATE_README=1 %s\nwant:\n%s", name, command, want)
	}
	updated := string(readme[:start]) + want + string(readme[stop+len(end):])
	if err := os.WriteFile(path, []byte(updated), 0o644); err != nil {
		t.Fatal(err)
	}
}
