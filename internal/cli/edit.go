package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Login edits files people also edit by hand, so it changes only the
// settings it owns and keeps everything else — comments, order, other
// sections — byte for byte. Hence line-based edits rather than a
// parse-and-reserialize round trip.

// setINI sets key in [section] of an INI text (pip.conf, .pypirc; section ""
// is the top of a sectionless .npmrc), replacing the key's line and its
// continuation lines, or adding it. same says whether an existing key name
// is the one meant (pip treats index_url and index-url alike).
func setINI(text, section, key, value string, same func(string) bool) string {
	lines := splitLines(text)
	start, end := 0, len(lines) // the section's body
	if section != "" {
		start = -1
		for i, l := range lines {
			if h, ok := iniHeader(l); ok {
				if start >= 0 {
					end = i
					break
				}
				if h == section {
					start = i + 1
				}
			}
		}
		if start < 0 {
			out := strings.TrimRight(text, "\n")
			if out != "" {
				out += "\n\n"
			}
			return out + "[" + section + "]\n" + key + " = " + indentCont(value) + "\n"
		}
	} else {
		for i, l := range lines {
			if _, ok := iniHeader(l); ok {
				end = i
				break
			}
		}
	}
	sep := " = "
	if section == "" {
		sep = "="
	}
	newLine := key + sep + indentCont(value)
	lastKey := start - 1
	for i := start; i < end; i++ {
		l := lines[i]
		t := strings.TrimSpace(l)
		if t != "" && (l[0] == ' ' || l[0] == '\t') && lastKey == i-1 && lastKey >= start {
			lastKey = i // a continuation line belongs to the key above it
			continue
		}
		if t == "" || t[0] == '#' || t[0] == ';' || l[0] == ' ' || l[0] == '\t' {
			continue
		}
		lastKey = i
		k := strings.TrimSpace(l[:max(0, strings.IndexAny(l, delimsFor(section)))])
		if same(k) {
			j := i + 1
			for j < end && len(lines[j]) > 0 && (lines[j][0] == ' ' || lines[j][0] == '\t') && strings.TrimSpace(lines[j]) != "" {
				j++
			}
			return joinLines(append(append(append([]string{}, lines[:i]...), newLine), lines[j:]...))
		}
	}
	at := lastKey + 1
	if at < start {
		at = start
	}
	return joinLines(append(append(append([]string{}, lines[:at]...), newLine), lines[at:]...))
}

// getINI returns the value of key in [section], continuation lines joined
// with newlines.
func getINI(text, section string, same func(string) bool) (string, bool) {
	in := section == ""
	lines := splitLines(text)
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if h, ok := iniHeader(l); ok {
			in = h == section
			continue
		}
		t := strings.TrimSpace(l)
		if !in || t == "" || t[0] == '#' || t[0] == ';' || l[0] == ' ' || l[0] == '\t' {
			continue
		}
		d := strings.IndexAny(l, delimsFor(section))
		if d <= 0 || !same(strings.TrimSpace(l[:d])) {
			continue
		}
		v := strings.TrimSpace(l[d+1:])
		for i+1 < len(lines) && len(lines[i+1]) > 0 && (lines[i+1][0] == ' ' || lines[i+1][0] == '\t') && strings.TrimSpace(lines[i+1]) != "" {
			i++
			v += "\n" + strings.TrimSpace(lines[i])
		}
		return strings.TrimSpace(v), true
	}
	return "", false
}

func delimsFor(section string) string {
	if section == "" {
		return "=" // .npmrc keys contain ':'
	}
	return "=:"
}

func iniHeader(l string) (string, bool) {
	t := strings.TrimSpace(l)
	if strings.HasPrefix(t, "[") {
		if e := strings.IndexByte(t, ']'); e > 0 {
			return strings.TrimSpace(t[1:e]), true
		}
	}
	return "", false
}

// indentCont writes a multi-line value as configparser continuation lines.
func indentCont(v string) string { return strings.ReplaceAll(v, "\n", "\n    ") }

func exactKey(k string) func(string) bool { return func(s string) bool { return s == k } }

// pipKey matches pip's normalization: case-insensitive, '_' == '-'.
func pipKey(k string) func(string) bool {
	return func(s string) bool { return strings.ReplaceAll(strings.ToLower(s), "_", "-") == k }
}

func splitLines(text string) []string {
	if text == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(text, "\n"), "\n")
}

func joinLines(lines []string) string { return strings.Join(lines, "\n") + "\n" }

// upsertTOMLTable replaces the array-of-tables entry `[[header]]` whose
// name is name, or appends block. The entry runs to the next table header.
func upsertTOMLTable(text, header, name, block string) string {
	lines := splitLines(text)
	nameRe := regexp.MustCompile(`^\s*name\s*=\s*["']` + regexp.QuoteMeta(name) + `["']\s*(#.*)?$`)
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "[["+header+"]]" {
			continue
		}
		j := i + 1
		for j < len(lines) && !strings.HasPrefix(strings.TrimSpace(lines[j]), "[") {
			j++
		}
		for k := i + 1; k < j; k++ {
			if nameRe.MatchString(lines[k]) {
				// Keep blank lines and comments that separate it from what follows.
				for j > i+1 && (strings.TrimSpace(lines[j-1]) == "" || strings.HasPrefix(strings.TrimSpace(lines[j-1]), "#")) {
					j--
				}
				repl := splitLines(block)
				return joinLines(append(append(append([]string{}, lines[:i]...), repl...), lines[j:]...))
			}
		}
	}
	out := strings.TrimRight(text, "\n")
	if out != "" {
		out += "\n\n"
	}
	return out + block
}

func tomlString(s string) string { return fmt.Sprintf("%q", s) }

// writeAtomic replaces path through a temporary file in the same directory,
// so a crash leaves the old or the new file, never half of one. mode 0 keeps
// the file's current mode (0644 for a new file).
func writeAtomic(path string, data []byte, mode os.FileMode) error {
	if mode == 0 {
		mode = 0o644
		if fi, err := os.Stat(path); err == nil {
			mode = fi.Mode().Perm()
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".wharf-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
