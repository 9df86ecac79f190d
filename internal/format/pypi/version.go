package pypi

import (
	"cmp"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// MaxReleaseSegments bounds the release segment so a hostile version string
// cannot make every comparison walk thousands of numbers.
const MaxReleaseSegments = 50

// Version is a parsed PEP 440 version. Numbers that do not fit in a uint64
// are refused at parse time; local segments are kept as normalized strings,
// so they never overflow.
type Version struct {
	Epoch    uint64
	Release  []uint64
	PreLabel string // "", "a", "b" or "rc"
	Pre      uint64
	HasPost  bool
	Post     uint64
	HasDev   bool
	Dev      uint64
	Local    []string // lowercase; numeric parts without leading zeros
}

// versionRE is packaging's VERSION_PATTERN (the PEP 440 appendix), anchored
// and case-insensitive. Surrounding whitespace is trimmed before matching.
var versionRE = regexp.MustCompile(`(?i)^v?` +
	`(?:(?P<epoch>[0-9]+)!)?` +
	`(?P<release>[0-9]+(?:\.[0-9]+)*)` +
	`(?P<pre>[-_.]?(?P<pre_l>alpha|a|beta|b|preview|pre|c|rc)[-_.]?(?P<pre_n>[0-9]+)?)?` +
	`(?P<post>(?:-(?P<post_n1>[0-9]+))|(?:[-_.]?(?P<post_l>post|rev|r)[-_.]?(?P<post_n2>[0-9]+)?))?` +
	`(?P<dev>[-_.]?(?P<dev_l>dev)[-_.]?(?P<dev_n>[0-9]+)?)?` +
	`(?:\+(?P<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?$`)

var versionGroup = func() map[string]int {
	m := map[string]int{}
	for i, n := range versionRE.SubexpNames() {
		m[n] = i
	}
	return m
}()

// ParseVersion parses any spelling PEP 440 allows and returns it in a form
// whose String is the canonical normal form.
func ParseVersion(s string) (Version, error) {
	trimmed := strings.TrimSpace(s)
	for i := 0; i < len(trimmed); i++ {
		// Go's (?i) folds e.g. the Kelvin sign to k; PEP 440 is ASCII.
		if trimmed[i] >= 0x80 {
			return Version{}, invalidf("version %q is not a valid PEP 440 version: it contains non-ASCII characters", s)
		}
	}
	m := versionRE.FindStringSubmatchIndex(trimmed)
	if m == nil {
		return Version{}, invalidf("version %q is not a valid PEP 440 version (e.g. 1.2.3, 1.0rc1, 2.0.post1, 1.0.dev2, 1!2.0+local.1)", s)
	}
	group := func(name string) (string, bool) {
		i := versionGroup[name]
		if m[2*i] < 0 {
			return "", false
		}
		return trimmed[m[2*i]:m[2*i+1]], true
	}
	var v Version
	var err error
	num := func(digits string) uint64 {
		if err != nil || digits == "" {
			return 0
		}
		n, e := strconv.ParseUint(digits, 10, 64)
		if e != nil {
			err = invalidf("version %q has a number too large to handle: %s", s, digits)
		}
		return n
	}
	if e, ok := group("epoch"); ok {
		v.Epoch = num(e)
	}
	rel, _ := group("release")
	if strings.Count(rel, ".") >= MaxReleaseSegments {
		return Version{}, invalidf("version %q has more than %d release segments", s, MaxReleaseSegments)
	}
	for _, p := range strings.Split(rel, ".") {
		v.Release = append(v.Release, num(p))
	}
	if l, ok := group("pre_l"); ok {
		switch strings.ToLower(l) {
		case "a", "alpha":
			v.PreLabel = "a"
		case "b", "beta":
			v.PreLabel = "b"
		default: // c, rc, pre, preview
			v.PreLabel = "rc"
		}
		n, _ := group("pre_n")
		v.Pre = num(n)
	}
	if _, ok := group("post"); ok {
		v.HasPost = true
		n, ok := group("post_n1")
		if !ok {
			n, _ = group("post_n2")
		}
		v.Post = num(n)
	}
	if _, ok := group("dev"); ok {
		v.HasDev = true
		n, _ := group("dev_n")
		v.Dev = num(n)
	}
	if l, ok := group("local"); ok {
		for _, p := range strings.FieldsFunc(strings.ToLower(l), func(r rune) bool { return r == '-' || r == '_' || r == '.' }) {
			if isDigits(p) {
				if p = strings.TrimLeft(p, "0"); p == "" {
					p = "0"
				}
			}
			v.Local = append(v.Local, p)
		}
	}
	if err != nil {
		return Version{}, err
	}
	return v, nil
}

// String returns the canonical normal form, as packaging's str(Version(s)).
// Trailing zeros of the release are kept: 1.0.0 stays 1.0.0.
func (v Version) String() string {
	var b strings.Builder
	if v.Epoch != 0 {
		b.WriteString(strconv.FormatUint(v.Epoch, 10))
		b.WriteByte('!')
	}
	for i, n := range v.Release {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strconv.FormatUint(n, 10))
	}
	if v.PreLabel != "" {
		b.WriteString(v.PreLabel)
		b.WriteString(strconv.FormatUint(v.Pre, 10))
	}
	if v.HasPost {
		b.WriteString(".post")
		b.WriteString(strconv.FormatUint(v.Post, 10))
	}
	if v.HasDev {
		b.WriteString(".dev")
		b.WriteString(strconv.FormatUint(v.Dev, 10))
	}
	if len(v.Local) > 0 {
		b.WriteByte('+')
		b.WriteString(strings.Join(v.Local, "."))
	}
	return b.String()
}

// IsPrerelease reports whether v is a pre-release or a development release,
// which installers skip unless asked for them.
func (v Version) IsPrerelease() bool { return v.PreLabel != "" || v.HasDev }

// NormalizeVersion returns the canonical normal form of a PEP 440 version.
func NormalizeVersion(s string) (string, error) {
	v, err := ParseVersion(s)
	if err != nil {
		return "", err
	}
	return v.String(), nil
}

// CompareVersions orders versions as packaging's Version does (its _cmpkey):
// release compared without trailing zeros; X.devN < X.aN < X < X.postN; a
// dev release of a pre or post release sorts just before it; a local
// version sorts after its public version.
func CompareVersions(a, b Version) int {
	if c := cmp.Compare(a.Epoch, b.Epoch); c != 0 {
		return c
	}
	if c := slices.Compare(trimZeros(a.Release), trimZeros(b.Release)); c != 0 {
		return c
	}
	if c := cmp.Compare(a.preRank(), b.preRank()); c != 0 {
		return c
	}
	if a.PreLabel != "" && a.PreLabel == b.PreLabel {
		if c := cmp.Compare(a.Pre, b.Pre); c != 0 {
			return c
		}
	}
	if c := compareOptional(a.HasPost, a.Post, b.HasPost, b.Post, -1); c != 0 {
		return c
	}
	if c := compareOptional(a.HasDev, a.Dev, b.HasDev, b.Dev, +1); c != 0 {
		return c
	}
	return compareLocal(a.Local, b.Local)
}

// preRank places the pre-release phase: a bare dev release (1.0.dev0) comes
// before every pre-release of the same release, and a final after them.
func (v Version) preRank() int {
	switch {
	case v.PreLabel == "a":
		return 1
	case v.PreLabel == "b":
		return 2
	case v.PreLabel == "rc":
		return 3
	case v.HasDev && !v.HasPost:
		return 0
	default:
		return 4
	}
}

// compareOptional compares optional numbers where a missing one sorts at
// missing (-1: before every number, +1: after every number).
func compareOptional(hasA bool, a uint64, hasB bool, b uint64, missing int) int {
	switch {
	case hasA && hasB:
		return cmp.Compare(a, b)
	case hasA == hasB:
		return 0
	case hasA:
		return -missing
	default:
		return missing
	}
}

func trimZeros(r []uint64) []uint64 {
	for len(r) > 0 && r[len(r)-1] == 0 {
		r = r[:len(r)-1]
	}
	return r
}

// compareLocal follows PEP 440: numeric segments sort after alphanumeric
// ones and compare as numbers; strings compare lexicographically; a shorter
// local version that is a prefix of a longer one sorts first.
func compareLocal(a, b []string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		an, bn := isDigits(a[i]), isDigits(b[i])
		var c int
		switch {
		case an && bn: // no leading zeros, so length then text is numeric order
			c = cmp.Or(cmp.Compare(len(a[i]), len(b[i])), strings.Compare(a[i], b[i]))
		case an:
			c = 1
		case bn:
			c = -1
		default:
			c = strings.Compare(a[i], b[i])
		}
		if c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a), len(b))
}

// CompareVersionStrings compares two version strings as PEP 440 versions.
// Strings that do not parse sort before all valid versions, and among
// themselves by byte order, so sorting a list with junk in it is still total.
func CompareVersionStrings(a, b string) int {
	va, errA := ParseVersion(a)
	vb, errB := ParseVersion(b)
	switch {
	case errA != nil && errB != nil:
		return strings.Compare(a, b)
	case errA != nil:
		return -1
	case errB != nil:
		return 1
	}
	return CompareVersions(va, vb)
}
