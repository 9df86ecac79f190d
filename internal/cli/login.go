package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/wharfhq/wharf/internal/client"
	"github.com/wharfhq/wharf/internal/doctor"
)

// edit is one file login changes: apply turns the old content into the new
// one; show is the part it sets, for --dry-run and the summary.
type edit struct {
	path  string
	mode  os.FileMode // 0: keep the file's mode
	apply func(old string) (string, error)
	show  string
}

// loginPlan is everything one login does.
type loginPlan struct {
	edits   []edit
	exports []string // shell lines for stdout (eval-able)
	notes   []string
}

type loginArgs struct {
	conn
	tool, repo, name, project string
	extraIndex, dryRun        bool
	endpoint                  string // the repository endpoint
	tok                       client.Token
	pypiVia                   string               // the repository whose public:pypi connection the search order reaches; "": none
	clientVer                 string               // --client-version
	writeFor                  doctor.ClientVersion // the version written for (loginversion.go)
}

func login(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("login", flag.ContinueOnError)
	var a loginArgs
	a.register(fs)
	fs.StringVar(&a.tool, "tool", "", "pip, twine, uv, poetry, pdm or npm (required)")
	fs.StringVar(&a.clientVer, "client-version", "", "the version of the tool to write for (default: ask the one first on PATH with --version)")
	fs.StringVar(&a.repo, "repository", "", "repository name (required)")
	fs.StringVar(&a.name, "name", "", "index/source name for uv, poetry, pdm and twine (default: the repository name; twine: codeartifact)")
	fs.StringVar(&a.project, "project", "", "uv, poetry, pdm: the project directory whose pyproject.toml gets the index (default: the current directory if it has a pyproject.toml)")
	fs.BoolVar(&a.extraIndex, "extra-index", false, "pip: add the repository to extra-index-url instead of replacing index-url")
	fs.BoolVar(&a.dryRun, "dry-run", false, "print what would be written, with the token masked, and write nothing")
	if code, ok := parse(fs, args, stdout, stderr); !ok {
		return code
	}
	planners := map[string]func(*loginArgs) (*loginPlan, error){
		"pip": planPip, "twine": planTwine, "uv": planUV, "poetry": planPoetry, "pdm": planPDM, "npm": planNPM,
	}
	plan := planners[a.tool]
	switch {
	case plan == nil:
		fmt.Fprintf(stderr, "wharf login: --tool must be one of pip, twine, uv, poetry, pdm, npm (got %q)\n", a.tool)
		return 2
	case a.repo == "":
		fmt.Fprintln(stderr, "wharf login: --repository is required")
		return 2
	}
	if a.name == "" {
		a.name = a.repo
		if a.tool == "twine" {
			a.name = "codeartifact" // what `aws codeartifact login` writes and twine docs use
		}
	}
	ctx := context.Background()
	versionNote, err := a.clientVersion(ctx)
	if err != nil {
		return fail(stderr, "login", err)
	}
	cl, err := a.client(ctx)
	if err != nil {
		return fail(stderr, "login", err)
	}
	// The endpoint first: an unknown repository fails before a token is minted.
	if a.endpoint, err = cl.GetRepositoryEndpoint(ctx, a.domain, a.owner, a.repo, "pypi"); err != nil {
		return fail(stderr, "login", err)
	}
	if a.tok, err = a.token(ctx, cl); err != nil {
		return fail(stderr, "login", err)
	}
	if a.tool == "uv" {
		if a.pypiVia, err = reachesPyPI(ctx, cl, a.domain, a.owner, a.repo); err != nil {
			return fail(stderr, "login", err)
		}
	}
	if a.project == "" && (a.tool == "uv" || a.tool == "poetry" || a.tool == "pdm") {
		if wd, err := os.Getwd(); err == nil && fileExists(filepath.Join(wd, "pyproject.toml")) {
			a.project = wd
		}
	}
	p, err := plan(&a)
	if err != nil {
		return fail(stderr, "login", err)
	}
	if versionNote != "" {
		p.notes = append(p.notes, versionNote)
	}
	out := stderr // narrative; stdout carries only eval-able export lines
	if a.dryRun {
		out = stdout
		for _, e := range p.edits {
			fmt.Fprintf(out, "would update %s:\n%s\n", e.path, indent(mask(e.show, a.tok.Value)))
		}
	} else {
		for _, e := range p.edits {
			old, err := os.ReadFile(e.path)
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				return fail(stderr, "login", err)
			}
			data, err := e.apply(string(old))
			if err == nil {
				err = writeAtomic(e.path, []byte(data), e.mode)
			}
			if err != nil {
				return fail(stderr, "login", fmt.Errorf("%s: %s", e.path, mask(err.Error(), a.tok.Value)))
			}
			fmt.Fprintf(out, "updated %s:\n%s\n", e.path, indent(mask(e.show, a.tok.Value)))
		}
	}
	if len(p.exports) > 0 {
		if !a.dryRun {
			fmt.Fprintln(out, "Set these in your shell (or run: eval \"$("+strings.Join(os.Args, " ")+")\"):")
		} else {
			fmt.Fprintln(out, "would print these for your shell:")
		}
		for _, l := range p.exports {
			fmt.Fprintln(stdout, l)
		}
	}
	for _, n := range p.notes {
		fmt.Fprintln(out, n)
	}
	if !a.dryRun && a.tool != "npm" {
		fmt.Fprintln(out, checkIndex(ctx, a.endpoint+"simple/", a.tok.Value))
	}
	fmt.Fprintf(out, "The token expires at %s; run `wharf login` again then.\n", until(a.tok.Expiration))
	return 0
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}

// checkIndex tells whether the freshly configured index accepts the token,
// in the server's words when it does not.
func checkIndex(ctx context.Context, index, tok string) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, index, nil)
	if err != nil {
		return "Could not check the index: " + err.Error()
	}
	req.SetBasicAuth("aws", tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "Could not check the index: " + mask(err.Error(), tok)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		return "Checked: " + index + " accepts the token."
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return fmt.Sprintf("Warning: %s answered %s: %s", index, resp.Status, mask(strings.TrimSpace(string(body)), tok))
}

// authURL puts aws:<token> into an endpoint URL, as `aws codeartifact login
// --tool pip` does; wharf tokens need no percent-encoding.
func authURL(endpoint, tok string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return endpoint
	}
	u.User = url.UserPassword("aws", tok)
	return u.String()
}

func sameIndex(a, b string) bool {
	strip := func(s string) string {
		if u, err := url.Parse(s); err == nil {
			u.User = nil
			return strings.TrimRight(u.String(), "/")
		}
		return strings.TrimRight(s, "/")
	}
	return strip(a) == strip(b)
}

func xdgConfig() string {
	if v := os.Getenv("XDG_CONFIG_HOME"); v != "" {
		return v
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".config")
}

func home() string { h, _ := os.UserHomeDir(); return h }

// planPip writes pip's user config file (or PIP_CONFIG_FILE), as
// `pip config set` would: index-url, or one more extra-index-url entry.
func planPip(a *loginArgs) (*loginPlan, error) {
	path := filepath.Join(xdgConfig(), "pip", "pip.conf")
	if v := os.Getenv("PIP_CONFIG_FILE"); v != "" && v != os.DevNull {
		path = v
	}
	idx := authURL(a.endpoint+"simple/", a.tok.Value)
	key := "index-url"
	if a.extraIndex {
		key = "extra-index-url"
	}
	e := edit{path: path, mode: 0o600, show: "[global]\n" + key + " = " + idx}
	e.apply = func(old string) (string, error) {
		val := idx
		if a.extraIndex {
			cur, _ := getINI(old, "global", pipKey(key))
			var kept []string
			for _, u := range strings.Fields(cur) {
				if !sameIndex(u, idx) { // a previous login's entry is replaced, not duplicated
					kept = append(kept, u)
				}
			}
			val = strings.Join(append(kept, idx), "\n")
		}
		return setINI(old, "global", key, val, pipKey(key)), nil
	}
	p := &loginPlan{edits: []edit{e}}
	if v := os.Getenv("PIP_INDEX_URL"); v != "" && !a.extraIndex {
		p.notes = append(p.notes, "Note: PIP_INDEX_URL is set in your environment and overrides pip.conf: unset it.")
	}
	return p, nil
}

// planTwine merges a section into ~/.pypirc, listed in index-servers, 0600.
func planTwine(a *loginArgs) (*loginPlan, error) {
	path := filepath.Join(home(), ".pypirc")
	e := edit{path: path, mode: 0o600,
		show: fmt.Sprintf("[distutils]\nindex-servers = ... %s\n\n[%s]\nrepository = %s\nusername = aws\npassword = %s", a.name, a.name, a.endpoint, a.tok.Value)}
	e.apply = func(old string) (string, error) {
		servers, ok := getINI(old, "distutils", exactKey("index-servers"))
		list := strings.Fields(servers)
		if !ok {
			list = []string{"pypi"} // twine's default list, which an explicit one replaces
		}
		found := false
		for _, s := range list {
			found = found || s == a.name
		}
		if !found {
			list = append(list, a.name)
		}
		s := setINI(old, "distutils", "index-servers", strings.Join(list, "\n"), exactKey("index-servers"))
		s = setINI(s, a.name, "repository", a.endpoint, exactKey("repository"))
		s = setINI(s, a.name, "username", "aws", exactKey("username"))
		return setINI(s, a.name, "password", a.tok.Value, exactKey("password")), nil
	}
	p := &loginPlan{edits: []edit{e}, notes: []string{"Upload with: twine upload -r " + a.name + " dist/*"}}
	if os.Getenv("TWINE_PASSWORD") != "" || os.Getenv("TWINE_USERNAME") != "" {
		p.notes = append(p.notes, "Note: TWINE_USERNAME/TWINE_PASSWORD are set in your environment and override ~/.pypirc: unset them.")
	}
	return p, nil
}

// tokenLine is the shell text that fetches a fresh token: login prints it
// instead of the token, so the token never lands in a terminal or a log.
func (a *loginArgs) tokenLine() string {
	s := self() + " token --domain " + a.domain
	if a.owner != "" {
		s += " --domain-owner " + a.owner
	}
	for _, f := range [][2]string{{"--endpoint-url", a.conn.endpoint}, {"--region", a.region}, {"--profile", a.profile}} {
		if f[1] != "" {
			s += " " + f[0] + " " + f[1]
		}
	}
	if a.duration != 0 {
		s += fmt.Sprintf(" --duration-seconds %d", a.duration)
	}
	return "\"$(" + s + ")\""
}

// planUV adds [[tool.uv.index]] to the project's pyproject.toml (or [[index]]
// to the user's uv.toml) and prints the UV_INDEX_<NAME>_* variables uv reads.
func planUV(a *loginArgs) (*loginPlan, error) {
	if problem := doctor.UVIndexNameProblem(a.name); problem != "" {
		return nil, fmt.Errorf("uv refuses the index name %q (%s): pass --name with ASCII letters, digits, '-', '_' and '.' only", a.name, problem)
	}
	idx := a.endpoint + "simple/"
	n := "UV_INDEX_" + doctor.UVEnvName(a.name)
	p := &loginPlan{exports: []string{"export " + n + "_USERNAME=aws", "export " + n + "_PASSWORD=" + a.tokenLine()}}
	// Which kind of index: when the repository reaches PyPI through its
	// upstreams, it replaces PyPI (default = true), as CodeArtifact's own
	// `login` does for pip: every package, yours and public ones, comes
	// through wharf, where origin controls keep a public package from
	// taking a private name, and `uv add PKG` works for both. Otherwise
	// public packages must come from PyPI, so the index is explicit in a
	// project (uv 0.13.9, seen in TestUVHelp: asked only for the packages
	// pinned to it, and `uv add --index NAME PKG` does not write the pin).
	kind, note := "explicit = true\n", fmt.Sprintf("The index is explicit because %s does not reach public:pypi through its upstreams (so uv still needs PyPI for public packages): "+
		"uv asks it only for the packages pinned to it, so `uv add my-package` alone takes my-package from PyPI (even a package of yours, if PyPI has one by that name). Pin each of yours in pyproject.toml first:\n"+
		"    [tool.uv.sources]\n    my-package = { index = %s }\nthen run `uv add my-package`. "+
		"Or give %s an upstream repository holding the public:pypi external connection and run login again: the index then replaces PyPI.", a.repo, tomlString(a.name), a.repo)
	if a.pypiVia != "" {
		kind, note = "default = true\n", fmt.Sprintf("The index replaces PyPI (default = true): %s reaches public:pypi through %s, so `uv add` takes your packages and public ones from it, "+
			"with wharf's package origin controls in force (`wharf doctor` warns if the search order lets a public package merge with one of yours).", a.repo, a.pypiVia)
	}
	if a.project != "" {
		path := filepath.Join(a.project, "pyproject.toml")
		block := fmt.Sprintf("[[tool.uv.index]]\nname = %s\nurl = %s\n%s", tomlString(a.name), tomlString(idx), kind)
		p.edits = append(p.edits, edit{path: path, show: block, apply: func(old string) (string, error) {
			return upsertTOMLTable(old, "tool.uv.index", a.name, block), nil
		}})
		p.notes = append(p.notes, note)
	} else {
		path := filepath.Join(xdgConfig(), "uv", "uv.toml")
		if v := os.Getenv("UV_CONFIG_FILE"); v != "" {
			path = v
		}
		// Outside a project nothing can be pinned: a non-explicit index is
		// asked first, PyPI after it.
		if a.pypiVia == "" {
			kind, note = "", "uv asks this index before PyPI for every package: while its token is wrong or expired, public packages look missing. Check with `wharf doctor`."
		}
		block := fmt.Sprintf("[[index]]\nname = %s\nurl = %s\n%s", tomlString(a.name), tomlString(idx), kind)
		p.edits = append(p.edits, edit{path: path, show: block, apply: func(old string) (string, error) {
			return upsertTOMLTable(old, "index", a.name, block), nil
		}})
		p.notes = append(p.notes, note)
	}
	return p, nil
}

// reachesPyPI walks repo's search order as the server does (upstreams
// depth-first, each once) and returns the repository holding the
// public:pypi external connection it reaches, or "".
func reachesPyPI(ctx context.Context, cl *client.Client, domain, owner, repo string) (string, error) {
	seen := map[string]bool{}
	var walk func(name string) (string, error)
	walk = func(name string) (string, error) {
		if seen[name] || len(seen) >= 25 {
			return "", nil
		}
		seen[name] = true
		l, err := cl.DescribeRepositoryLinks(ctx, domain, owner, name)
		if err != nil {
			return "", err
		}
		for _, c := range l.ExternalConnections {
			if c == "public:pypi" {
				return name, nil
			}
		}
		for _, u := range l.Upstreams {
			if via, err := walk(u); via != "" || err != nil {
				return via, err
			}
		}
		return "", nil
	}
	return walk(repo)
}

// planPoetry adds [[tool.poetry.source]] and stores the credentials where
// `poetry config http-basic.NAME` does without a keyring: auth.toml, 0600.
func planPoetry(a *loginArgs) (*loginPlan, error) {
	if a.project == "" {
		return nil, errors.New("poetry sources live in a project: run this in the project directory or pass --project DIR")
	}
	idx := a.endpoint + "simple/"
	// priority = "explicit" from poetry 1.5 on, secondary = true before.
	block := fmt.Sprintf("[[tool.poetry.source]]\nname = %s\nurl = %s\n%s\n", tomlString(a.name), tomlString(idx), doctor.PoetryExplicitKey(a.writeFor))
	dir := filepath.Join(xdgConfig(), "pypoetry")
	if v := os.Getenv("POETRY_CONFIG_DIR"); v != "" {
		dir = v
	}
	auth := fmt.Sprintf("[http-basic.%s]\nusername = \"aws\"\npassword = %s\n", tomlKey(a.name), tomlString(a.tok.Value))
	n := "POETRY_HTTP_BASIC_" + doctor.PoetryEnvName(a.name)
	p := &loginPlan{
		edits: []edit{
			{path: filepath.Join(a.project, "pyproject.toml"), show: block, apply: func(old string) (string, error) {
				return upsertTOMLTable(old, "tool.poetry.source", a.name, block), nil
			}},
			{path: filepath.Join(dir, "auth.toml"), mode: 0o600, show: auth, apply: func(old string) (string, error) {
				return replaceTOMLTable(old, "http-basic."+tomlKey(a.name), auth), nil
			}},
		},
		notes: []string{
			fmt.Sprintf("Add packages from it with: poetry add --source %s PACKAGE", a.name),
			fmt.Sprintf("In CI, set %s_USERNAME=aws and %s_PASSWORD instead.", n, n),
		},
	}
	if a.writeFor.Before(1, 5) {
		p.notes = append(p.notes, fmt.Sprintf("Note: %s has no explicit sources: with secondary = true it asks PyPI first for every package not pinned to %s, so pin yours (poetry add --source %s), or upgrade poetry to 1.5 or later and run login again.", a.writeFor, a.name, a.name))
	}
	return p, nil
}

// planPDM adds [[tool.pdm.source]] to the project (without the secret).
// pdm 2.5 and later take its credentials from pdm's user config,
// [pypi.NAME], 0600; older ones only from the source URL, so there the URL
// names a variable (${WHARF_PDM_<NAME>_TOKEN}) that login prints, as for uv.
func planPDM(a *loginArgs) (*loginPlan, error) {
	if !doctor.PDMReadsStoredCredentials(a.writeFor) {
		return planPDMURLCredentials(a)
	}
	idx := a.endpoint + "simple/"
	cfg := pdmConfigFile()
	p := &loginPlan{}
	creds := fmt.Sprintf("[pypi.%s]\nurl = %s\nusername = \"aws\"\npassword = %s\n", tomlKey(a.name), tomlString(idx), tomlString(a.tok.Value))
	if a.project != "" {
		p.edits = append(p.edits, pdmSourceEdit(a, idx))
	}
	p.edits = append(p.edits, edit{path: cfg, mode: 0o600, show: creds, apply: func(old string) (string, error) {
		return replaceTOMLTable(old, "pypi."+tomlKey(a.name), creds), nil
	}})
	return p, nil
}

func pdmConfigFile() string {
	if v := os.Getenv("PDM_CONFIG_FILE"); v != "" {
		return v
	}
	return filepath.Join(xdgConfig(), "pdm", "config.toml")
}

func pdmSourceEdit(a *loginArgs, url string) edit {
	block := fmt.Sprintf("[[tool.pdm.source]]\nname = %s\nurl = %s\nverify_ssl = true\n", tomlString(a.name), tomlString(url))
	return edit{path: filepath.Join(a.project, "pyproject.toml"), show: block, apply: func(old string) (string, error) {
		return upsertTOMLTable(old, "tool.pdm.source", a.name, block), nil
	}}
}

// planPDMURLCredentials is planPDM for pdm before 2.5: the source URL
// carries aws:${VAR}, which pdm expands when it runs, so pyproject.toml
// holds no secret and the shell holds the token.
func planPDMURLCredentials(a *loginArgs) (*loginPlan, error) {
	if a.project == "" {
		return nil, fmt.Errorf("%s reads index credentials only from the source URL in pyproject.toml: run this in the project directory or pass --project DIR", a.writeFor)
	}
	v := doctor.PDMTokenVariable(a.name)
	u, err := url.Parse(a.endpoint + "simple/")
	if err != nil {
		return nil, err
	}
	idx := u.Scheme + "://aws:${" + v + "}@" + u.Host + u.Path
	p := &loginPlan{edits: []edit{pdmSourceEdit(a, idx)}, exports: []string{"export " + v + "=" + a.tokenLine()}}
	if old, _ := os.ReadFile(pdmConfigFile()); strings.Contains(string(old), "[pypi."+tomlKey(a.name)+"]") {
		p.notes = append(p.notes, fmt.Sprintf("Note: %s ignores the [pypi.%s] table of %s (a login for pdm 2.5 or later wrote it).", a.writeFor, a.name, pdmConfigFile()))
	}
	return p, nil
}

// planNPM writes registry and //host/path/:_authToken to ~/.npmrc, as
// `aws codeartifact login --tool npm` does.
func planNPM(a *loginArgs) (*loginPlan, error) {
	// The npm endpoint has the pypi one's shape with the format segment
	// swapped; the server does not hand it out while npm is not served.
	reg := strings.Replace(a.endpoint, "/pypi/"+a.repo+"/", "/npm/"+a.repo+"/", 1)
	u, err := url.Parse(reg)
	if err != nil {
		return nil, err
	}
	key := "//" + u.Host + u.Path + ":_authToken"
	path := filepath.Join(home(), ".npmrc")
	if v := os.Getenv("NPM_CONFIG_USERCONFIG"); v != "" {
		path = v
	}
	return &loginPlan{
		edits: []edit{{path: path, mode: 0o600, show: "registry=" + reg + "\n" + key + "=" + a.tok.Value, apply: func(old string) (string, error) {
			s := setINI(old, "", "registry", reg, exactKey("registry"))
			return setINI(s, "", key, a.tok.Value, exactKey(key)), nil
		}}},
		notes: []string{"Note: this wharf does not serve the npm format yet; npm is configured for when it does."},
	}, nil
}

// tomlKey quotes a table-name part unless it is a bare key.
func tomlKey(k string) string {
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return tomlString(k)
		}
	}
	return k
}

// replaceTOMLTable replaces [header] up to the next table header, or appends.
func replaceTOMLTable(text, header, block string) string {
	lines := splitLines(text)
	for i, l := range lines {
		if strings.TrimSpace(l) != "["+header+"]" {
			continue
		}
		j := i + 1
		for j < len(lines) && !strings.HasPrefix(strings.TrimSpace(lines[j]), "[") {
			j++
		}
		for j > i+1 && strings.TrimSpace(lines[j-1]) == "" {
			j--
		}
		return joinLines(append(append(append([]string{}, lines[:i]...), splitLines(block)...), lines[j:]...))
	}
	out := strings.TrimRight(text, "\n")
	if out != "" {
		out += "\n\n"
	}
	return out + block
}
