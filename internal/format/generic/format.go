// Package generic is CodeArtifact's generic format: any file, published
// through the control plane (PublishPackageVersion) and downloaded through
// the control plane or this package's plain-HTTP data plane.
package generic

import (
	"cmp"
	"fmt"
	"strings"
	"unicode"
)

// Format tells the registry core the generic rules (registry.Format).
type Format struct{}

func (Format) Name() string { return "generic" }

// NormalizeName keeps names as written (generic names are opaque and
// case-sensitive) but requires a namespace, as CodeArtifact does.
func (Format) NormalizeName(namespace, name string) (string, string, error) {
	if namespace == "" {
		return "", "", fmt.Errorf("generic packages need a namespace: add --namespace (for example --namespace my-team)")
	}
	if err := segment("namespace", namespace); err != nil {
		return "", "", err
	}
	if err := segment("package name", name); err != nil {
		return "", "", err
	}
	return namespace, name, nil
}

// NormalizeVersion accepts any version the model accepts that can also be
// a URL path segment of the data plane.
func (Format) NormalizeVersion(v string) (string, error) {
	return v, segment("version", v)
}

// segment checks a value that becomes one path segment of a download URL.
// The model's pattern ([^#/\s]+) already holds; "." and ".." would be
// rewritten by every HTTP client, and control characters cannot be typed.
func segment(what, s string) error {
	if s == "" || len(s) > 255 {
		return fmt.Errorf("a generic %s must be 1 to 255 characters", what)
	}
	if s == "." || s == ".." {
		return fmt.Errorf("%q is not a valid generic %s: it would be a relative path in download URLs", s, what)
	}
	for _, r := range s {
		if r == '/' || r == '#' || unicode.IsSpace(r) || unicode.IsControl(r) || r == unicode.ReplacementChar {
			return fmt.Errorf("%q is not a valid generic %s: it must not contain '/', '#', spaces or control characters", s, what)
		}
	}
	return nil
}

// assetSpecials are the punctuation marks CodeArtifact's documentation
// allows in asset names besides Unicode letters and numbers.
const assetSpecials = "~!@^&()-`_+[]{};,."

// ValidateAssetName applies CodeArtifact's rule for generic asset names:
// Unicode letters and numbers and a few punctuation marks. It rules out
// '/', so an asset is always one segment of its download URL.
func (Format) ValidateAssetName(name string) error {
	if name == "." || name == ".." {
		return fmt.Errorf("%q is not a valid asset name", name)
	}
	for _, r := range name {
		if !unicode.IsLetter(r) && !unicode.IsNumber(r) && !strings.ContainsRune(assetSpecials, r) {
			return fmt.Errorf("asset name %q contains %q: asset names may use Unicode letters and numbers and the characters %s", name, r, assetSpecials)
		}
	}
	return nil
}

// SealedWhenPublished: a generic version takes new assets only while it is
// Unfinished (CodeArtifact: publish all but the last asset with --unfinished).
func (Format) SealedWhenPublished() bool { return true }

// CompareVersions orders versions naturally: runs of digits compare as
// numbers (1.10 after 1.9), other runs as text. Only identical strings are
// equal, so two spellings never merge into one version.
func (Format) CompareVersions(a, b string) int {
	x, y := a, b
	for x != "" && y != "" {
		xr, xd := run(x)
		yr, yd := run(y)
		var c int
		switch {
		case xd && yd:
			xn, yn := strings.TrimLeft(xr, "0"), strings.TrimLeft(yr, "0")
			c = cmp.Or(cmp.Compare(len(xn), len(yn)), strings.Compare(xn, yn))
		case xd != yd: // digits sort before text: 1.0 < 1.a
			c = map[bool]int{true: -1, false: 1}[xd]
		default:
			c = strings.Compare(xr, yr)
		}
		if c != 0 {
			return c
		}
		x, y = x[len(xr):], y[len(yr):]
	}
	return cmp.Or(cmp.Compare(len(x), len(y)), strings.Compare(a, b))
}

// run returns the leading run of digits or of non-digits of s.
func run(s string) (string, bool) {
	digit := s[0] >= '0' && s[0] <= '9'
	i := 1
	for i < len(s) && (s[i] >= '0' && s[i] <= '9') == digit {
		i++
	}
	return s[:i], digit
}
