package doctor

import (
	"bufio"
	"bytes"
	"strings"
)

// The config files doctor reads are written by people and by other tools, so
// the parsers below accept anything without panicking and keep only what the
// client itself would see. Each is fuzzed (parse_test.go).

// iniFile is what Python's configparser (pip.conf, .pypirc) or npm's ini
// reader (.npmrc) makes of a file: sections in order, keys in order.
type iniFile struct {
	Sections []*iniSection
}

type iniSection struct {
	Name string
	Keys []iniKey
}

type iniKey struct {
	Name, Value string
	Line        int
}

// Get returns the last value of key in section (configparser: last wins).
func (f *iniFile) Get(section, key string) (string, int, bool) {
	var v string
	line, ok := 0, false
	for _, s := range f.Sections {
		if s.Name != section {
			continue
		}
		for _, k := range s.Keys {
			if k.Name == key {
				v, line, ok = k.Value, k.Line, true
			}
		}
	}
	return v, line, ok
}

// parseINI parses configparser-style INI. delims are the characters that may
// separate a key from its value ("=:" for configparser, "=" for .npmrc,
// whose keys contain ':'). Keys are lower-cased with '_' -> '-' when
// normalize is set, as pip does. Indented lines continue the previous value
// (pip's multi-line extra-index-url); '#' and ';' start comment lines.
func parseINI(data []byte, delims string, normalize bool) *iniFile {
	f := &iniFile{}
	cur := &iniSection{} // keys before any section header (npmrc has no sections)
	f.Sections = append(f.Sections, cur)
	var last *iniKey
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		raw := strings.TrimSuffix(sc.Text(), "\r")
		if n == 1 {
			raw = strings.TrimPrefix(raw, "\ufeff")
		}
		line := strings.TrimSpace(raw)
		if line == "" || line[0] == '#' || line[0] == ';' {
			if line == "" {
				last = nil
			}
			continue
		}
		if last != nil && (raw[0] == ' ' || raw[0] == '\t') {
			last.Value = strings.TrimSpace(last.Value + "\n" + line)
			continue
		}
		if line[0] == '[' {
			if end := strings.IndexByte(line, ']'); end > 0 {
				cur = &iniSection{Name: strings.TrimSpace(line[1:end])}
				f.Sections = append(f.Sections, cur)
				last = nil
				continue
			}
		}
		i := strings.IndexAny(line, delims)
		if i <= 0 {
			last = nil
			continue
		}
		key := strings.TrimSpace(line[:i])
		if normalize {
			key = strings.ReplaceAll(strings.ToLower(key), "_", "-")
		}
		cur.Keys = append(cur.Keys, iniKey{Name: key, Value: strings.TrimSpace(line[i+1:]), Line: n})
		last = &cur.Keys[len(cur.Keys)-1]
	}
	return f
}

// netrcEntry is one machine (or the default, Machine == "") of a .netrc.
type netrcEntry struct {
	Machine, Login, Password string
	HasPassword              bool
}

// parseNetrc reads .netrc the way Python's netrc module and curl do: a
// stream of whitespace-separated tokens; "macdef" bodies run to a blank line.
func parseNetrc(data []byte) []netrcEntry {
	var out []netrcEntry
	cur := -1 // index into out: appends move the backing array
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	var toks []string
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if t := strings.TrimSpace(line); strings.HasPrefix(t, "#") {
			continue
		}
		fields := strings.Fields(line)
		for j, f := range fields {
			if f == "macdef" {
				toks = append(toks, fields[:j]...)
				// Skip the macro body: following lines up to an empty one.
				for i+1 < len(lines) && strings.TrimSpace(lines[i+1]) != "" {
					i++
				}
				fields = nil
				break
			}
		}
		toks = append(toks, fields...)
	}
	for i := 0; i < len(toks); i++ {
		next := func() string {
			if i+1 < len(toks) {
				i++
				return toks[i]
			}
			return ""
		}
		switch toks[i] {
		case "machine":
			out = append(out, netrcEntry{Machine: next()})
			cur = len(out) - 1
		case "default":
			out = append(out, netrcEntry{})
			cur = len(out) - 1
		case "login":
			if v := next(); cur >= 0 {
				out[cur].Login = v
			}
		case "password":
			if v := next(); cur >= 0 {
				out[cur].Password, out[cur].HasPassword = v, true
			}
		case "account":
			next()
		}
	}
	return out
}

// netrcFor returns the entry a client uses for host: the machine's own, else
// the default.
func netrcFor(entries []netrcEntry, host string) (netrcEntry, bool) {
	for _, e := range entries {
		if e.Machine != "" && strings.EqualFold(e.Machine, host) {
			return e, true
		}
	}
	for _, e := range entries {
		if e.Machine == "" {
			return e, true
		}
	}
	return netrcEntry{}, false
}
