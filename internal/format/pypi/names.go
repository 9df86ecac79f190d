package pypi

import (
	"fmt"
	"strings"
)

// MaxNameLength bounds a project name: a longer one leaves no room in a
// filename of MaxFilenameLength bytes even for the shortest distribution
// ("NAME-0.tar.gz"), so no such project can have a file. PyPI's own names
// stay far below it. Checked before any upstream is asked about a name.
const MaxNameLength = MaxFilenameLength - len("-0.tar.gz")

// NormalizeName returns the PEP 503 form of a project name: lowercase, with
// every run of '-', '_' and '.' collapsed to a single '-'.
func NormalizeName(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	sep := false
	for _, r := range strings.ToLower(name) {
		if r == '-' || r == '_' || r == '.' {
			sep = true
			continue
		}
		if sep {
			b.WriteByte('-')
			sep = false
		}
		b.WriteRune(r)
	}
	if sep {
		b.WriteByte('-')
	}
	return b.String()
}

// CheckName says what is wrong with a project name, for the person who
// typed it, quoting at most the start of it.
func CheckName(name string) error {
	switch {
	case len(name) > MaxNameLength:
		return fmt.Errorf("the project name %.40q... is %d bytes long; Python project names are at most %d", name, len(name), MaxNameLength)
	case !ValidName(name):
		return fmt.Errorf("%q is not a valid Python project name: use ASCII letters, digits, '.', '_' and '-', starting and ending with a letter or digit", name)
	}
	return nil
}

// ValidName reports whether name is a valid project name per the core
// metadata spec, ^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$ ignoring case,
// of at most MaxNameLength bytes.
func ValidName(name string) bool {
	if name == "" || len(name) > MaxNameLength || !isAlnum(name[0]) || !isAlnum(name[len(name)-1]) {
		return false
	}
	for i := 1; i < len(name)-1; i++ {
		if c := name[i]; !isAlnum(c) && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
