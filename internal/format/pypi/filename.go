package pypi

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxFilenameLength matches common file system limits on one path component.
const MaxFilenameLength = 255

// ValidateFilename refuses names that could not be stored as one path
// component or that would be hidden or ambiguous once written to disk.
func ValidateFilename(fn string) error {
	switch {
	case fn == "":
		return invalidf("the filename is empty")
	case len(fn) > MaxFilenameLength:
		return invalidf("filename %.40q... is %d bytes long; the limit is %d", fn, len(fn), MaxFilenameLength)
	case !utf8.ValidString(fn):
		return invalidf("filename %q is not valid UTF-8", fn)
	case strings.ContainsAny(fn, `/\`):
		return invalidf("filename %q must not contain '/' or '\\'; send only the base name of the file", fn)
	case fn[0] == '.':
		return invalidf("filename %q must not start with '.'", fn)
	case strings.ContainsFunc(fn, unicode.IsControl):
		return invalidf("filename %q must not contain control characters", fn)
	}
	return nil
}

// WheelName is a parsed wheel filename. Name and Version are as written in
// the filename (escaped per the binary distribution format); normalize them
// with NormalizeName and NormalizeVersion before comparing.
type WheelName struct {
	Name, Version, Build, PythonTag, ABITag, PlatformTag string
}

// ParseWheelFilename parses {name}-{ver}(-{build})?-{py}-{abi}-{plat}.whl
// with the rules of packaging.utils.parse_wheel_filename.
func ParseWheelFilename(fn string) (WheelName, error) {
	if err := ValidateFilename(fn); err != nil {
		return WheelName{}, err
	}
	stem, ok := strings.CutSuffix(fn, ".whl")
	if !ok {
		return WheelName{}, invalidf("wheel filename %q must end with .whl", fn)
	}
	parts := strings.Split(stem, "-")
	if len(parts) != 5 && len(parts) != 6 {
		return WheelName{}, invalidf("wheel filename %q must have 5 or 6 dash-separated parts: {name}-{version}(-{build})?-{python}-{abi}-{platform}.whl", fn)
	}
	w := WheelName{Name: parts[0], Version: parts[1]}
	n := len(parts)
	w.PythonTag, w.ABITag, w.PlatformTag = parts[n-3], parts[n-2], parts[n-1]
	if !ValidName(w.Name) || strings.Contains(w.Name, "__") {
		return WheelName{}, invalidf("wheel filename %q: the project name part %q is not a valid project name (letters, digits, '.' and single '_', starting and ending with a letter or digit; '-' must be written as '_')", fn, w.Name)
	}
	if _, err := parseFilenameVersion(w.Version); err != nil {
		return WheelName{}, invalidf("wheel filename %q: the version part %q is not a valid PEP 440 version", fn, w.Version)
	}
	if n == 6 {
		w.Build = parts[2]
		if w.Build == "" || w.Build[0] < '0' || w.Build[0] > '9' {
			return WheelName{}, invalidf("wheel filename %q: the build tag %q must start with a digit", fn, w.Build)
		}
	}
	for _, t := range []struct{ what, tag string }{{"python", w.PythonTag}, {"abi", w.ABITag}, {"platform", w.PlatformTag}} {
		if !validTag(t.tag) {
			return WheelName{}, invalidf("wheel filename %q: the %s tag %q is not valid (dot-separated tags of letters, digits and '_', e.g. py3, cp312, none, abi3, any, manylinux_2_17_x86_64)", fn, t.what, t.tag)
		}
	}
	return w, nil
}

// validTag accepts a compressed tag set such as "py2.py3" or
// "manylinux_2_17_x86_64.manylinux2014_x86_64".
func validTag(t string) bool {
	for _, p := range strings.Split(t, ".") {
		if p == "" {
			return false
		}
		for i := 0; i < len(p); i++ {
			if !isAlnum(p[i]) && p[i] != '_' {
				return false
			}
		}
	}
	return true
}

// SdistName is a parsed source distribution filename; Name and Version are
// as written in the filename.
type SdistName struct {
	Name, Version, Ext string
}

// sdistExts are the only extensions PyPI accepts for new sdists (PEP 527).
var sdistExts = []string{".tar.gz", ".zip"}

// ParseSdistFilename parses {name}-{version}.tar.gz or .zip. The version is
// what follows the last '-': PEP 440 versions have no '-' in normal form,
// while names in old uploads may.
func ParseSdistFilename(fn string) (SdistName, error) {
	if err := ValidateFilename(fn); err != nil {
		return SdistName{}, err
	}
	var s SdistName
	for _, ext := range sdistExts {
		if stem, ok := strings.CutSuffix(fn, ext); ok {
			s.Ext = ext
			s.Name, s.Version, ok = cutLast(stem, "-")
			if !ok {
				return SdistName{}, invalidf("sdist filename %q must be {name}-{version}%s", fn, ext)
			}
			break
		}
	}
	if s.Ext == "" {
		return SdistName{}, invalidf("sdist filename %q has an unsupported extension: source distributions must be .tar.gz or .zip (PEP 527, PEP 625)", fn)
	}
	if !ValidName(s.Name) {
		return SdistName{}, invalidf("sdist filename %q: the project name part %q is not a valid project name", fn, s.Name)
	}
	if _, err := parseFilenameVersion(s.Version); err != nil {
		return SdistName{}, invalidf("sdist filename %q: the version part %q is not a valid PEP 440 version", fn, s.Version)
	}
	return s, nil
}

func cutLast(s, sep string) (before, after string, found bool) {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[:i], s[i+len(sep):], true
	}
	return s, "", false
}

// parseFilenameVersion refuses the surrounding whitespace ParseVersion
// tolerates: in a filename it would make two names for one file.
func parseFilenameVersion(v string) (Version, error) {
	if strings.TrimSpace(v) != v {
		return Version{}, invalidf("version %q has surrounding whitespace", v)
	}
	return ParseVersion(v)
}
