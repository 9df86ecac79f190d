package doctor

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// loadTOML reads a TOML file; a file that does not parse is a finding, since
// the client will refuse it too. The error names the position only: the
// file may hold secrets.
func (d *doctor) loadTOML(path string) (map[string]any, bool) {
	data, ok := readFile(path)
	if !ok {
		return nil, false
	}
	m := map[string]any{}
	if err := toml.Unmarshal(data, &m); err != nil {
		msg := "is not valid TOML"
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, col := de.Position()
			msg = fmt.Sprintf("is not valid TOML (line %d, column %d: %s)", row, col, de.Error())
		}
		d.add(Finding{Severity: Error, Code: "bad-toml", Source: d.rel(path), Message: "the file " + msg + "; the clients refuse it too", Fix: "correct the syntax"})
		return nil, false
	}
	return m, true
}

func table(m map[string]any, path ...string) map[string]any {
	for _, p := range path {
		next, ok := m[p].(map[string]any)
		if !ok {
			return nil
		}
		m = next
	}
	return m
}

func tables(v any) []map[string]any {
	var out []map[string]any
	if list, ok := v.([]any); ok {
		for _, x := range list {
			if t, ok := x.(map[string]any); ok {
				out = append(out, t)
			}
		}
	}
	if list, ok := v.([]map[string]any); ok {
		out = append(out, list...)
	}
	return out
}

func str(m map[string]any, k string) string   { s, _ := m[k].(string); return s }
func boolean(m map[string]any, k string) bool { b, _ := m[k].(bool); return b }

func xdgConfig(home string) string {
	if v := os.Getenv("XDG_CONFIG_HOME"); v != "" {
		return v
	}
	return filepath.Join(home, ".config")
}

// uvSettings are the uv settings that decide what uv asks and sends, each
// with where it came from. uv takes the command line (which doctor cannot
// see), then UV_* variables, then the project's uv.toml or pyproject.toml
// [tool.uv], then the user's uv.toml.
type uvSettings struct {
	strategy, strategyFrom string
	keyring, keyringFrom   string
	defaultFrom            string // "UV_DEFAULT_INDEX" when set
	storeAt                string // uv's credentials store (`uv auth login`)
	stored                 []uvStored
}

type uvSource struct {
	path string
	uv   map[string]any
	// pinsOnly marks pyproject.toml's [tool.uv] beside a uv.toml: uv 0.13.9
	// then ignores its settings but still takes [tool.uv.sources] and the
	// [[tool.uv.index]] entries they pin to (TestUVHelp/uv.toml).
	pinsOnly bool
}

// uvSetting finds one setting: the variable, else the first config that has it.
func (d *doctor) uvSetting(srcs []uvSource, key, variable, fallback string) (string, string) {
	if v, ok := env(variable); ok && v != "" {
		return v, variable
	}
	for _, s := range srcs {
		if v := str(s.uv, key); v != "" && !s.pinsOnly {
			return v, d.rel(s.path)
		}
	}
	return fallback, "uv's default"
}

// uvIndexes collects uv's indexes: the project's uv.toml (which wins over
// pyproject.toml's [tool.uv]), the user's uv.toml, and UV_INDEX /
// UV_DEFAULT_INDEX / UV_INDEX_URL / UV_EXTRA_INDEX_URL.
func (d *doctor) uvIndexes() []*index {
	var srcs []uvSource
	pinned := map[string]bool{}
	if p := filepath.Join(d.opt.Project, "uv.toml"); fileExists(p) {
		if m, ok := d.loadTOML(p); ok {
			srcs = append(srcs, uvSource{path: p, uv: m})
		}
	} else if m, ok := d.loadTOML(filepath.Join(d.opt.Project, "pyproject.toml")); ok {
		if uv := table(m, "tool", "uv"); uv != nil {
			srcs = append(srcs, uvSource{path: filepath.Join(d.opt.Project, "pyproject.toml"), uv: uv})
		}
	}
	user := filepath.Join(xdgConfig(d.home), "uv", "uv.toml")
	if v, ok := env("UV_CONFIG_FILE"); ok && v != "" {
		user = v
	}
	if m, ok := d.loadTOML(user); ok {
		srcs = append(srcs, uvSource{path: user, uv: m})
	}
	// Sources pin packages to indexes by name; [tool.uv.sources] lives in
	// pyproject.toml even when settings come from uv.toml.
	if p := filepath.Join(d.opt.Project, "pyproject.toml"); fileExists(filepath.Join(d.opt.Project, "uv.toml")) {
		if m, ok := d.loadTOML(p); ok {
			srcs = append(srcs, uvSource{path: p, uv: table(m, "tool", "uv"), pinsOnly: true})
		}
	}
	var set uvSettings
	set.strategy, set.strategyFrom = d.uvSetting(srcs, "index-strategy", "UV_INDEX_STRATEGY", "first-index")
	set.keyring, set.keyringFrom = d.uvSetting(srcs, "keyring-provider", "UV_KEYRING_PROVIDER", "disabled")
	set.storeAt, set.stored = d.uvStore()
	// UV_DEFAULT_INDEX replaces a `default = true` index of the files;
	// UV_INDEX_URL does not (uv 0.13.9, TestUVHelp/strategy).
	if v, ok := env("UV_DEFAULT_INDEX"); ok && strings.TrimSpace(v) != "" {
		set.defaultFrom = "UV_DEFAULT_INDEX"
	}
	for _, s := range srcs {
		for _, v := range table(s.uv, "sources") {
			for _, e := range append(tables(v), mapOf(v)...) {
				if n := str(e, "index"); n != "" {
					pinned[n] = true
				}
			}
		}
	}
	var out []*index
	for _, s := range srcs {
		label := " [[tool.uv.index]]"
		if strings.HasSuffix(s.path, "uv.toml") {
			label = " [[index]]"
		}
		for _, t := range tables(s.uv["index"]) {
			name := str(t, "name")
			if problem := UVIndexNameProblem(name); name != "" && problem != "" {
				d.add(Finding{Severity: Error, Code: "bad-index-name", Source: d.rel(s.path) + label,
					Message: fmt.Sprintf("uv refuses the index name %q, and with it the whole file: \"%s in: `%s`\"", name, problem, name),
					Fix:     "rename the index (and its [tool.uv.sources] entries) with ASCII letters, digits, '-', '_' and '.' only"})
			}
			if s.pinsOnly && !pinned[name] {
				d.add(Finding{Severity: Warn, Code: "index-ignored", Source: d.rel(s.path) + label,
					Message: fmt.Sprintf("uv ignores the index %q: uv.toml in the project overrides pyproject.toml's [tool.uv] (uv warns \"Found both a `uv.toml` file and a `[tool.uv]` section\"), and of its indexes uv uses only those [tool.uv.sources] pins packages to", name),
					Fix:     "move the index to uv.toml ([[index]]), or pin packages to it"})
				continue
			}
			for _, ix := range d.uvIndex(name, str(t, "url"), d.rel(s.path)+label, set) {
				ix.explicit, ix.isDefault = boolean(t, "explicit") || s.pinsOnly, boolean(t, "default") && !s.pinsOnly
				out = append(out, ix)
			}
		}
	}
	for _, name := range []string{"UV_INDEX", "UV_DEFAULT_INDEX"} {
		if v, ok := env(name); ok {
			for _, f := range strings.Fields(v) {
				n, u, ok := strings.Cut(f, "=")
				if !ok || strings.Contains(n, "/") {
					n, u = "", f
				}
				for _, ix := range d.uvIndex(n, u, name, set) {
					ix.isDefault = name == "UV_DEFAULT_INDEX"
					out = append(out, ix)
				}
			}
		}
	}
	for _, name := range []string{"UV_INDEX_URL", "UV_EXTRA_INDEX_URL"} {
		if v, ok := env(name); ok {
			for _, f := range strings.Fields(v) {
				for _, ix := range d.uvIndex("", f, name, set) {
					ix.isDefault = name == "UV_INDEX_URL"
					out = append(out, ix)
				}
			}
		}
	}
	for _, ix := range out {
		ix.pinned, ix.strategy = pinned[ix.name], set.strategy
		d.uvStrategyCheck(ix, set)
	}
	d.uvNameChecks(out)
	return out
}

func mapOf(v any) []map[string]any {
	if m, ok := v.(map[string]any); ok {
		return []map[string]any{m}
	}
	return nil
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// urlCredentials takes the userinfo out of an index URL, reports what needs
// percent-encoding, and returns the URL without it.
func (d *doctor) urlCredentials(ix *index, raw, from string) string {
	clean, ui, has := splitURL(strings.TrimSpace(raw))
	if !has {
		return clean
	}
	user, pass, hasPass := strings.Cut(ui, ":")
	src := "URL in " + from
	if bad := strings.IndexFunc(ui, func(r rune) bool {
		return !(r < 0x80 && (tokenChars.MatchString(string(r)) || strings.ContainsRune("~!$&'()*+,;=:%", r)))
	}); bad >= 0 {
		d.secret(ui)
		d.add(Finding{Severity: Error, Code: "needs-percent-encoding", Source: from, Index: ix.client + " index " + shownURL(clean),
			Message: fmt.Sprintf("the credentials in the URL contain a character that must be percent-encoded (character %d of the userinfo); clients cut or misread such a URL", bad+1),
			Fix:     "put the token in the URL exactly as `wharf token` prints it (it needs no encoding), or use the client's credential variables instead of the URL"})
	}
	if u, err := url.PathUnescape(user); err == nil {
		user = u
	}
	if p, err := url.PathUnescape(pass); err == nil {
		pass = p
	}
	ix.user, ix.hasUser, ix.userFrom = user, true, src
	if hasPass {
		ix.pass, ix.hasPass, ix.passFrom = pass, true, src
	}
	return clean
}

// uvStrategyCheck says which packages uv asks a private index for, and
// what that hides or lets in; uv 0.13.9 did each of these in TestUVHelp.
func (d *doctor) uvStrategyCheck(ix *index, set uvSettings) {
	t := parseTarget(ix.url)
	if t.kind == "other" && !ix.hasUser && !ix.hasPass || ix.role != "" {
		return
	}
	name := "this index"
	if ix.name != "" {
		name = fmt.Sprintf("index %q", ix.name)
	}
	f := Finding{Severity: Warn, Source: ix.from, Index: ix.label()}
	pin := "[tool.uv.sources] my-package = { index = \"" + orStr(ix.name, "NAME") + "\" }"
	switch {
	case ix.explicit && !ix.pinned:
		f.Code = "explicit-unpinned"
		f.Message = fmt.Sprintf("the private %s is `explicit`, but no package is pinned to it in [tool.uv.sources]: uv never asks it, and takes every package from the other indexes (a public package named like one of yours included)", name)
		f.Fix = "pin your packages to it: " + pin
	case ix.explicit:
		f.Severity, f.Code = Info, "uv-pip-explicit"
		f.Message = fmt.Sprintf("`uv pip install` ignores [tool.uv.sources], so it never asks the explicit %s: it takes even the packages pinned to it from the other indexes (a public package named like one of yours included)", name)
		f.Fix = "install the project's dependencies with `uv sync` or `uv add`, which follow the pins"
	case ix.isDefault && set.defaultFrom != "" && ix.from != set.defaultFrom && !ix.pinned:
		f.Code = "default-replaced"
		f.Message = fmt.Sprintf("the private %s is `default = true`, but %s replaces it: uv never asks it", name, set.defaultFrom)
		f.Fix = "unset " + set.defaultFrom + ", or pin your packages to this index: " + pin
	case strings.HasPrefix(set.strategy, "unsafe-"):
		f.Code = "best-match"
		f.Message = fmt.Sprintf("index-strategy is %s (from %s): for every package not pinned in [tool.uv.sources], uv takes the highest version of a package from any index, so a public package named like one of yours, with a higher version, wins (dependency confusion)", set.strategy, set.strategyFrom)
		if set.strategy == "unsafe-first-match" {
			f.Message = fmt.Sprintf("index-strategy is unsafe-first-match (from %s): for every package not pinned in [tool.uv.sources], uv takes versions from the other indexes too when this one has none that fit, so a public package named like one of yours can win (dependency confusion)", set.strategyFrom)
		}
		f.Fix = "pin your packages to the index (" + pin + ") and add `explicit = true`, or use index-strategy first-index"
	case ix.isDefault:
		return
	case ix.pinned:
		f.Code = "not-explicit"
		f.Message = fmt.Sprintf("the private %s is not `explicit`: under index-strategy first-index uv asks it first for every package, not only for those pinned to it in [tool.uv.sources], "+
			"and a 401 or 403 from it stops the search, so public packages look missing (\"X was not found in the package registry\")", name)
		f.Fix = "add `explicit = true` to the index: the packages pinned to it in [tool.uv.sources] still come from it"
	default:
		f.Code = "not-explicit"
		f.Message = fmt.Sprintf("the private %s is neither `explicit` nor pinned: under index-strategy first-index uv asks it first for every package, "+
			"and a 401 or 403 from it stops the search, so public packages look missing (\"X was not found in the package registry\")", name)
		f.Fix = "pin the packages it serves (" + pin + ") and add `explicit = true` to the index"
	}
	d.add(f)
}

// uvNameChecks finds UV_INDEX_*_USERNAME/_PASSWORD variables that match no
// index (the name was normalized differently), and index names that
// normalize to the same variables.
func (d *doctor) uvNameChecks(ixs []*index) {
	byEnv := map[string][]string{}
	for _, ix := range ixs {
		if ix.name != "" {
			n := UVEnvName(ix.name)
			if !contains(byEnv[n], ix.name) {
				byEnv[n] = append(byEnv[n], ix.name)
			}
		}
	}
	for n, names := range byEnv {
		if len(names) > 1 {
			sort.Strings(names)
			d.add(Finding{Severity: Warn, Code: "name-collision", Source: "uv index names",
				Message: fmt.Sprintf("the indexes %s all read their credentials from UV_INDEX_%s_USERNAME/_PASSWORD", quoteAll(names), n),
				Fix:     "give them names that differ in letters or digits, not only in '-', '.' or '_'"})
		}
	}
	d.misnamed("UV_INDEX_", []string{"_USERNAME", "_PASSWORD"}, byEnv, labels(ixs), "uv", "the index name with ASCII letters and digits upper-cased and every other character replaced by `_`")
}

// misnamed reports PREFIX<NAME>SUFFIX variables whose NAME no index has.
func (d *doctor) misnamed(prefix string, suffixes []string, byEnv map[string][]string, label map[string]string, client, rule string) {
	var names []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		for _, suf := range suffixes {
			if !strings.HasPrefix(k, prefix) || !strings.HasSuffix(k, suf) || len(k) <= len(prefix)+len(suf) {
				continue
			}
			mid := k[len(prefix) : len(k)-len(suf)]
			if _, ok := byEnv[mid]; ok {
				continue
			}
			want, idx := closest(mid, byEnv)
			f := Finding{Severity: Warn, Code: "misnamed-variable", Source: k,
				Message: fmt.Sprintf("%s is set, but no %s index is named so that %s reads it", k, client, client)}
			if want != "" {
				_, taken := os.LookupEnv(prefix + want + suf)
				f.Message = fmt.Sprintf("%s is set, but %s reads %s%s%s for index %q (%s)", k, client, prefix, want, suf, idx, rule)
				f.Fix = fmt.Sprintf("rename the variable to %s%s%s", prefix, want, suf)
				f.Index = label[idx]
				if !taken {
					f.Severity = Error
				}
			} else if len(byEnv) == 0 {
				f.Fix = "define the index it is meant for, or unset it"
			} else {
				f.Fix = "indexes and their variables: " + envList(prefix, suf, byEnv)
			}
			d.add(f)
		}
	}
}

// closest picks the index a misnamed variable was most likely meant for:
// the same letters and digits, or the only index there is.
func closest(mid string, byEnv map[string][]string) (string, string) {
	squash := func(s string) string { return strings.ReplaceAll(strings.ToUpper(s), "_", "") }
	var keys []string
	for k := range byEnv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if squash(k) == squash(UVEnvName(mid)) {
			return k, byEnv[k][0]
		}
	}
	if len(keys) == 1 {
		return keys[0], byEnv[keys[0]][0]
	}
	return "", ""
}

func envList(prefix, suf string, byEnv map[string][]string) string {
	var parts []string
	for k, names := range byEnv {
		parts = append(parts, fmt.Sprintf("%q -> %s%s%s", names[0], prefix, k, suf))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

func labels(ixs []*index) map[string]string {
	m := map[string]string{}
	for _, ix := range ixs {
		if _, ok := m[ix.name]; !ok && ix.name != "" {
			m[ix.name] = ix.label()
		}
	}
	return m
}
