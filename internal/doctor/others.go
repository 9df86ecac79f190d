package doctor

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

func (d *doctor) loadNetrc() {
	p := filepath.Join(d.home, ".netrc")
	if v, ok := env("NETRC"); ok && v != "" {
		p = v
	}
	if data, ok := readFile(p); ok {
		d.netrc, d.netrcAt = parseNetrc(data), p
	}
}

func loginCmd(tool string, t target, extra string) string {
	dom, repo := orStr(t.domain, "DOMAIN"), orStr(t.repo, "REPOSITORY")
	s := "wharf login --tool " + tool + " --domain " + dom
	if t.owner != "" {
		s += " --domain-owner " + t.owner
	}
	return s + " --repository " + repo + extra
}

// pipConfigFiles lists the files pip reads, lowest precedence first:
// global (XDG_CONFIG_DIRS, /etc), user (legacy ~/.pip, then XDG), site
// (the virtualenv), then PIP_CONFIG_FILE. PIP_CONFIG_FILE=/dev/null turns
// them all off.
func (d *doctor) pipConfigFiles() []string {
	pcf, hasPCF := env("PIP_CONFIG_FILE")
	if hasPCF && pcf == os.DevNull {
		return nil
	}
	var files []string
	dirs := os.Getenv("XDG_CONFIG_DIRS")
	if dirs == "" {
		dirs = "/etc/xdg"
	}
	for _, dir := range strings.Split(dirs, ":") {
		if dir != "" {
			files = append(files, filepath.Join(dir, "pip", "pip.conf"))
		}
	}
	files = append(files, "/etc/pip.conf",
		filepath.Join(d.home, ".pip", "pip.conf"),
		filepath.Join(xdgConfig(d.home), "pip", "pip.conf"))
	if venv := os.Getenv("VIRTUAL_ENV"); venv != "" {
		files = append(files, filepath.Join(venv, "pip.conf"))
	}
	if hasPCF && pcf != "" {
		files = append(files, pcf)
	}
	return files
}

// pipIndexes finds pip's effective index-url and extra-index-url: the last
// file that sets them wins, [install] over [global], PIP_* over every file.
func (d *doctor) pipIndexes() []*index {
	type setting struct{ value, from string }
	var idx, extra setting
	for _, f := range d.pipConfigFiles() {
		data, ok := readFile(f)
		if !ok {
			continue
		}
		ini := parseINI(data, "=:", true)
		for _, sec := range []string{"global", "install"} {
			if v, line, ok := ini.Get(sec, "index-url"); ok {
				idx = setting{v, fmt.Sprintf("%s:%d [%s] index-url", d.rel(f), line, sec)}
			}
			if v, line, ok := ini.Get(sec, "extra-index-url"); ok {
				extra = setting{v, fmt.Sprintf("%s:%d [%s] extra-index-url", d.rel(f), line, sec)}
			}
		}
	}
	if v, ok := env("PIP_INDEX_URL"); ok {
		idx = setting{v, "PIP_INDEX_URL"}
	}
	if v, ok := env("PIP_EXTRA_INDEX_URL"); ok {
		extra = setting{v, "PIP_EXTRA_INDEX_URL"}
	}
	var out []*index
	// index-url is one URL, whatever it contains; extra-index-url is a list.
	urls := func(s setting, list bool) []string {
		if !list {
			if v := strings.TrimSpace(s.value); v != "" {
				return []string{v}
			}
			return nil
		}
		return strings.Fields(s.value)
	}
	for i, s := range []setting{idx, extra} {
		for _, u := range urls(s, i == 1) {
			ix := &index{client: "pip", from: s.from}
			ix.url = d.urlCredentials(ix, u, s.from)
			ix.fix = func(what string, t target) string {
				return "run `" + loginCmd("pip", t, "") + "` (add --extra-index to keep your index-url), which writes " + withUserinfo(ix.url, "aws:<token>")
			}
			out = append(out, ix)
		}
	}
	return out
}

// twineIndexes reads ~/.pypirc and TWINE_*: each repository twine can
// upload to with -r NAME, or TWINE_REPOSITORY_URL.
func (d *doctor) twineIndexes() []*index {
	var out []*index
	user, hasUser := env("TWINE_USERNAME")
	pass, hasPass := env("TWINE_PASSWORD")
	apply := func(ix *index) {
		if hasUser {
			ix.user, ix.hasUser, ix.userFrom = user, true, "TWINE_USERNAME"
		}
		if hasPass {
			ix.pass, ix.hasPass, ix.passFrom = pass, true, "TWINE_PASSWORD"
		}
		ix.fix = func(what string, t target) string {
			if ix.passFrom == "TWINE_PASSWORD" || ix.userFrom == "TWINE_USERNAME" {
				return "export TWINE_USERNAME=aws TWINE_PASSWORD=\"$(" + tokenCmd(t) + ")\""
			}
			return "run `" + loginCmd("twine", t, "") + "`, which writes the [codeartifact] section of ~/.pypirc"
		}
		out = append(out, ix)
	}
	if u, ok := env("TWINE_REPOSITORY_URL"); ok && u != "" {
		ix := &index{client: "twine", from: "TWINE_REPOSITORY_URL", upload: true}
		ix.url = d.urlCredentials(ix, u, "TWINE_REPOSITORY_URL")
		apply(ix)
		return out
	}
	p := filepath.Join(d.home, ".pypirc")
	data, ok := readFile(p)
	if !ok {
		return nil
	}
	ini := parseINI(data, "=:", false)
	servers, _, hasServers := ini.Get("distutils", "index-servers")
	listed := map[string]bool{}
	for _, s := range strings.Fields(servers) {
		listed[s] = true
	}
	for _, sec := range ini.Sections {
		if sec.Name == "" || sec.Name == "distutils" {
			continue
		}
		repo, line, ok := ini.Get(sec.Name, "repository")
		if !ok || strings.Contains(repo, "pypi.org") {
			continue
		}
		from := fmt.Sprintf("%s:%d [%s]", d.rel(p), line, sec.Name)
		ix := &index{client: "twine", name: sec.Name, from: from, upload: true}
		ix.url = d.urlCredentials(ix, repo, from)
		if v, l, ok := ini.Get(sec.Name, "username"); ok {
			ix.user, ix.hasUser, ix.userFrom = v, true, fmt.Sprintf("%s:%d [%s] username", d.rel(p), l, sec.Name)
		}
		if v, l, ok := ini.Get(sec.Name, "password"); ok {
			ix.pass, ix.hasPass, ix.passFrom = v, true, fmt.Sprintf("%s:%d [%s] password", d.rel(p), l, sec.Name)
		}
		if hasServers && !listed[sec.Name] || !hasServers {
			d.add(Finding{Severity: Error, Code: "pypirc-unlisted", Source: d.rel(p), Index: "twine repository " + sec.Name,
				Message: fmt.Sprintf("the section [%s] is not listed in [distutils] index-servers, so `twine upload -r %s` fails with \"Missing '%s' section\"", sec.Name, sec.Name, sec.Name),
				Fix:     "add it: [distutils] index-servers = " + strings.TrimSpace(servers+" "+sec.Name)})
		}
		if fi, err := os.Stat(p); err == nil && fi.Mode().Perm()&0o077 != 0 && ix.hasPass {
			d.add(Finding{Severity: Warn, Code: "pypirc-mode", Source: d.rel(p),
				Message: fmt.Sprintf("the file holds a password and other users can read it (mode %04o)", fi.Mode().Perm()), Fix: "chmod 600 " + p})
		}
		apply(ix)
	}
	return out
}

func poetryConfigDir(home string) string {
	if v := os.Getenv("POETRY_CONFIG_DIR"); v != "" {
		return v
	}
	return filepath.Join(xdgConfig(home), "pypoetry")
}

// poetryIndexes reads [[tool.poetry.source]] and the credentials poetry
// finds for each: POETRY_HTTP_BASIC_<NAME>_* over auth.toml/config.toml.
func (d *doctor) poetryIndexes() []*index {
	m, ok := d.loadTOML(filepath.Join(d.opt.Project, "pyproject.toml"))
	if !ok {
		return nil
	}
	srcs := tables(table(m, "tool", "poetry")["source"])
	cfgDir := poetryConfigDir(d.home)
	var stored []map[string]any
	var storedAt []string
	for _, f := range []string{"config.toml", "auth.toml"} {
		if c, ok := d.loadTOML(filepath.Join(cfgDir, f)); ok {
			stored, storedAt = append(stored, table(c, "http-basic")), append(storedAt, filepath.Join(cfgDir, f))
		}
	}
	byEnv := map[string][]string{}
	var out []*index
	var v ClientVersion
	known := false
	if len(srcs) > 0 { // running poetry --version takes a second
		v, known = d.version("poetry")
	}
	for i, s := range srcs {
		name, raw := str(s, "name"), str(s, "url")
		if raw == "" {
			continue
		}
		from := d.rel(filepath.Join(d.opt.Project, "pyproject.toml")) + " [[tool.poetry.source]]"
		ix := &index{client: "poetry", name: name, from: from}
		ix.url = d.urlCredentials(ix, raw, from)
		if known {
			ix.version = v.String()
			d.poetrySourceKeys(ix, v, s, i, from)
		}
		for i, hb := range stored {
			if c := table(hb, name); c != nil {
				if v, ok := c["username"].(string); ok {
					ix.user, ix.hasUser, ix.userFrom = v, true, d.rel(storedAt[i])+" [http-basic."+name+"]"
				}
				if v, ok := c["password"].(string); ok {
					ix.pass, ix.hasPass, ix.passFrom = v, true, d.rel(storedAt[i])+" [http-basic."+name+"]"
				}
			}
		}
		n := PoetryEnvName(name)
		byEnv[n] = append(byEnv[n], name)
		if v, ok := env("POETRY_HTTP_BASIC_" + n + "_USERNAME"); ok {
			ix.user, ix.hasUser, ix.userFrom = v, true, "POETRY_HTTP_BASIC_"+n+"_USERNAME"
		}
		if v, ok := env("POETRY_HTTP_BASIC_" + n + "_PASSWORD"); ok {
			ix.pass, ix.hasPass, ix.passFrom = v, true, "POETRY_HTTP_BASIC_"+n+"_PASSWORD"
		}
		if strings.Contains(name, ".") {
			d.add(Finding{Severity: Warn, Code: "poetry-dotted-name", Source: from, Index: ix.label(),
				Message: fmt.Sprintf("poetry reads POETRY_HTTP_BASIC_%s_USERNAME/_PASSWORD for this source (dots are kept), and no shell can set a variable with a dot in its name", n),
				Fix:     "rename the source without dots, or store the credentials with `poetry config http-basic." + name + " aws TOKEN` (wharf login --tool poetry does)"})
		}
		ix.fix = func(what string, t target) string {
			v := "POETRY_HTTP_BASIC_" + n
			return "export " + v + "_USERNAME=aws " + v + "_PASSWORD=\"$(" + tokenCmd(t) + ")\" (or run `" + loginCmd("poetry", t, "") + "`)"
		}
		out = append(out, ix)
	}
	d.misnamed("POETRY_HTTP_BASIC_", []string{"_USERNAME", "_PASSWORD"}, byEnv, labels(out), "poetry", "the source name upper-cased with '-' replaced by '_'")
	return out
}

// poetrySourceKeys: a source key the installed poetry does not know makes
// it refuse the whole pyproject.toml, before any index is asked.
func (d *doctor) poetrySourceKeys(ix *index, v ClientVersion, s map[string]any, i int, from string) {
	key, says := poetryRefusedKey(v, s, i)
	if key == "" {
		return
	}
	fix := "write `" + PoetryExplicitKey(v) + "` instead, which " + v.Tool + " " + v.Version + " reads (`wharf login --tool poetry` writes what the poetry first on PATH reads)"
	if key == "priority" {
		fix += ", or upgrade poetry to 1.5 or later"
	}
	d.add(Finding{Severity: Error, Code: "poetry-unknown-key", Source: from, Index: ix.label(),
		Message: fmt.Sprintf("%s does not know `%s` here and refuses every command in this project: %q", v, key, says),
		Fix:     fix})
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// pdmIndexes reads [[tool.pdm.source]] (whose values may name variables as
// ${VAR}) and pdm's config ([pypi.<name>] in the project's pdm.toml or the
// user's config.toml) that supplies or overrides their credentials.
func (d *doctor) pdmIndexes() []*index {
	pyproject := filepath.Join(d.opt.Project, "pyproject.toml")
	m, _ := d.loadTOML(pyproject)
	cfgFile := filepath.Join(xdgConfig(d.home), "pdm", "config.toml")
	if v := os.Getenv("PDM_CONFIG_FILE"); v != "" {
		cfgFile = v
	}
	type conf struct {
		path string
		pypi map[string]any
	}
	var confs []conf
	for _, f := range []string{cfgFile, filepath.Join(d.opt.Project, "pdm.toml")} {
		if c, ok := d.loadTOML(f); ok {
			confs = append(confs, conf{f, table(c, "pypi")})
		}
	}
	srcs := tables(table(m, "tool", "pdm")["source"])
	configured := len(srcs) > 0
	for _, c := range confs {
		configured = configured || len(c.pypi) > 0
	}
	var v ClientVersion
	known := false
	if configured { // only then: running pdm --version takes a moment
		v, known = d.version("pdm")
	}
	stored := !known || PDMReadsStoredCredentials(v)
	var out []*index
	seen := map[string]*index{}
	expand := func(v, from string) (string, string) {
		if sub := envRef.FindStringSubmatch(v); sub != nil {
			return envRef.ReplaceAllStringFunc(v, func(r string) string { return os.Getenv(r[2 : len(r)-1]) }), sub[1]
		}
		return v, from
	}
	add := func(name, raw, user, pass, from string, s map[string]any) {
		ix := seen[name]
		if ix == nil {
			ix = &index{client: "pdm", name: name, from: from}
			ix.url = d.pdmURL(ix, raw, from)
			seen[name] = ix
			out = append(out, ix)
			if known {
				ix.version = v.String()
			}
			ix.fix = func(what string, t target) string {
				if !stored {
					return "run `" + loginCmd("pdm", t, "") + "` in the project, which writes the source URL with aws:${" + PDMTokenVariable(name) + "}@ (" + v.Tool + " " + v.Version + " reads credentials only from the URL) and prints the export line for the token"
				}
				return "run `" + loginCmd("pdm", t, "") + "`, which stores the credentials in pdm's config (pypi." + name + ".username/password)"
			}
		} else if raw != "" && ix.url == "" {
			ix.url = d.pdmURL(ix, raw, from)
		}
		if !stored {
			for _, k := range []string{"username", "password"} {
				if _, ok := s[k]; ok {
					d.add(Finding{Severity: Warn, Code: "pdm-ignores-credentials", Source: from, Index: ix.label(),
						Message: fmt.Sprintf("%s ignores the %s here: it reads a source's credentials only from its URL (pdm reads them here from 2.5 on)", v, k)})
				}
			}
			return
		}
		if _, ok := s["username"]; ok {
			ix.user, ix.userFrom = expand(user, from+" username")
			ix.hasUser = true
		}
		if _, ok := s["password"]; ok {
			ix.pass, ix.passFrom = expand(pass, from+" password")
			ix.hasPass = true
		}
	}
	for _, s := range srcs {
		add(str(s, "name"), str(s, "url"), str(s, "username"), str(s, "password"), d.rel(pyproject)+" [[tool.pdm.source]]", s)
	}
	for _, c := range confs {
		for name, v := range c.pypi {
			s, ok := v.(map[string]any)
			if !ok || name == "json_api" || name == "ignore_stored_index" {
				continue
			}
			if seen[name] == nil && (str(s, "url") == "" || !stored) {
				continue // before 2.5, pdm makes no source of it
			}
			add(name, str(s, "url"), str(s, "username"), str(s, "password"), d.rel(c.path)+" [pypi."+name+"]", s)
		}
	}
	var kept []*index
	for _, ix := range out {
		if ix.url != "" {
			kept = append(kept, ix)
		}
	}
	return kept
}

// pdmURL takes the credentials out of a pdm source URL after expanding the
// ${VAR} references in its userinfo, as every pdm version does when it runs
// (`wharf login --tool pdm` writes aws:${WHARF_PDM_<NAME>_TOKEN} for pdm
// before 2.5).
func (d *doctor) pdmURL(ix *index, raw, from string) string {
	clean, ui, has := splitURL(strings.TrimSpace(raw))
	if !has || !envRef.MatchString(ui) {
		return d.urlCredentials(ix, raw, from)
	}
	expand := func(s string) string {
		return envRef.ReplaceAllStringFunc(s, func(r string) string {
			v, ok := os.LookupEnv(r[2 : len(r)-1])
			if !ok {
				ix.unsetVars = append(ix.unsetVars, r[2:len(r)-1])
				return r // pdm sends the text as it is
			}
			return v
		})
	}
	user, pass, hasPass := strings.Cut(ui, ":")
	ui = expand(user)
	if hasPass {
		ui += ":" + expand(pass)
	}
	scheme, rest, _ := strings.Cut(clean, "://")
	u := d.urlCredentials(ix, scheme+"://"+ui+"@"+rest, from)
	if m := envRef.FindStringSubmatch(pass); m != nil {
		ix.passFrom = m[1] + " (named in the URL in " + from + ")"
	}
	if m := envRef.FindStringSubmatch(user); m != nil {
		ix.userFrom = m[1] + " (named in the URL in " + from + ")"
	}
	return u
}

// npmIndexes reads the registries of the project's and the user's .npmrc
// (and NPM_CONFIG_REGISTRY) and the _authToken npm would send to each.
func (d *doctor) npmIndexes() []*index {
	user := filepath.Join(d.home, ".npmrc")
	if v := os.Getenv("NPM_CONFIG_USERCONFIG"); v != "" {
		user = v
	}
	type kv struct{ key, value, from string }
	var all []kv
	for _, f := range []string{user, filepath.Join(d.opt.Project, ".npmrc")} {
		data, ok := readFile(f)
		if !ok {
			continue
		}
		for _, sec := range parseINI(data, "=", false).Sections {
			for _, k := range sec.Keys {
				v := envRef.ReplaceAllStringFunc(strings.Trim(k.Value, `"`), func(r string) string { return os.Getenv(r[2 : len(r)-1]) })
				all = append(all, kv{k.Name, v, fmt.Sprintf("%s:%d %s", d.rel(f), k.Line, k.Name)})
			}
		}
	}
	if v, ok := env("NPM_CONFIG_REGISTRY"); ok {
		all = append(all, kv{"registry", v, "NPM_CONFIG_REGISTRY"})
	}
	var out []*index
	regs := map[string]*index{}
	for _, e := range all {
		if e.key == "registry" || strings.HasSuffix(e.key, ":registry") {
			if ix := regs[e.key]; ix != nil {
				ix.url, ix.from = e.value, e.from // later files win
				continue
			}
			ix := &index{client: "npm", from: e.from, url: e.value, bearer: true}
			if e.key != "registry" {
				ix.name = strings.TrimSuffix(e.key, ":registry")
			}
			regs[e.key] = ix
			out = append(out, ix)
		}
	}
	var kept []*index
	for _, ix := range out {
		if strings.Contains(ix.url, "registry.npmjs.org") {
			continue
		}
		// npm sends the _authToken whose key is the longest prefix of
		// //host/path/ of the registry URL.
		best := ""
		scheme := strings.Index(ix.url, "//")
		for _, e := range all {
			k, ok := strings.CutSuffix(e.key, ":_authToken")
			if !ok || scheme < 0 || !strings.HasPrefix(ix.url[scheme:], k) || len(k) < len(best) {
				continue
			}
			best, ix.pass, ix.hasPass, ix.passFrom = k, e.value, true, e.from
		}
		ix.fix = func(what string, t target) string {
			return "run `" + loginCmd("npm", t, "") + "`, which writes registry and //HOST/PATH/:_authToken to ~/.npmrc"
		}
		kept = append(kept, ix)
	}
	return kept
}

// withUserinfo puts userinfo into an index URL (which has none), keeping
// its scheme: an http:// server gets an http:// URL.
func withUserinfo(u, userinfo string) string {
	scheme, rest, ok := strings.Cut(shownURL(u), "://")
	if !ok {
		return u
	}
	return scheme + "://" + userinfo + "@" + rest
}
