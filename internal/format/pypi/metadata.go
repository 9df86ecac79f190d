package pypi

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxMetadataSize bounds a METADATA or PKG-INFO file. Real ones are a few
// KiB to a few hundred KiB (long READMEs); more is an attack or a mistake.
const MaxMetadataSize = 16 << 20

// Metadata holds the core metadata fields wharf uses. Name and Version are as
// written in the file.
type Metadata struct {
	MetadataVersion, Name, Version, Summary, Description, DescriptionContentType,
	HomePage, License, LicenseExpression, RequiresPython, Author, AuthorEmail string
	Keywords                                                                       string
	Classifiers, RequiresDist, ProvidesExtra, ProjectURLs, Platforms, LicenseFiles []string
	Dynamic                                                                        []string
}

// ParseMetadata parses core metadata the way Python's email parser reads it:
// header lines, continuation lines starting with whitespace, then the body,
// which is the Description when not empty.
func ParseMetadata(b []byte) (*Metadata, error) {
	if len(b) > MaxMetadataSize {
		return nil, invalidf("the core metadata is %d bytes; the limit is %d", len(b), MaxMetadataSize)
	}
	if !utf8.Valid(b) {
		return nil, invalidf("the core metadata is not valid UTF-8")
	}
	headers, body := splitMessage(string(b))
	md := &Metadata{}
	seen := map[string]bool{}
	single := map[string]*string{
		"metadata-version":         &md.MetadataVersion,
		"name":                     &md.Name,
		"version":                  &md.Version,
		"summary":                  &md.Summary,
		"description":              &md.Description,
		"description-content-type": &md.DescriptionContentType,
		"home-page":                &md.HomePage,
		"license":                  &md.License,
		"license-expression":       &md.LicenseExpression,
		"requires-python":          &md.RequiresPython,
		"author":                   &md.Author,
		"author-email":             &md.AuthorEmail,
		"keywords":                 &md.Keywords,
	}
	multi := map[string]*[]string{
		"classifier":     &md.Classifiers,
		"requires-dist":  &md.RequiresDist,
		"provides-extra": &md.ProvidesExtra,
		"project-url":    &md.ProjectURLs,
		"platform":       &md.Platforms,
		"license-file":   &md.LicenseFiles,
		"dynamic":        &md.Dynamic,
	}
	for _, h := range headers {
		key := strings.ToLower(h.name)
		if p, ok := single[key]; ok {
			if seen[key] {
				// An ambiguous identity would let the index and the
				// installer disagree about which project this is.
				if key == "metadata-version" || key == "name" || key == "version" {
					return nil, invalidf("the core metadata has more than one %s field", h.name)
				}
				continue
			}
			seen[key] = true
			*p = h.value(key == "description")
		} else if p, ok := multi[key]; ok {
			*p = append(*p, h.value(false))
		}
	}
	if strings.TrimSpace(body) != "" {
		md.Description = strings.ReplaceAll(body, "\r\n", "\n")
	}
	for _, f := range []struct{ name, value string }{{"Metadata-Version", md.MetadataVersion}, {"Name", md.Name}, {"Version", md.Version}} {
		if f.value == "" {
			return nil, invalidf("the core metadata has no %s field; it is required", f.name)
		}
	}
	if err := checkMetadataVersion(md.MetadataVersion); err != nil {
		return nil, err
	}
	if !ValidName(md.Name) {
		return nil, invalidf("the core metadata Name %q is not a valid project name (letters, digits, '.', '_' and '-', starting and ending with a letter or digit)", md.Name)
	}
	if _, err := ParseVersion(md.Version); err != nil {
		return nil, invalidf("the core metadata Version %q is not a valid PEP 440 version", md.Version)
	}
	return md, nil
}

// checkMetadataVersion applies the spec's rule that a consumer must fail on
// a major version it does not know.
func checkMetadataVersion(v string) error {
	major, _, _ := strings.Cut(v, ".")
	for _, p := range strings.Split(v, ".") {
		if !isDigits(p) {
			return invalidf("the core metadata Metadata-Version %q is not a version such as 2.1", v)
		}
	}
	if n, err := strconv.Atoi(major); err != nil || n < 1 || n > 2 {
		return invalidf("Metadata-Version %q is not supported: wharf reads core metadata 1.x and 2.x", v)
	}
	return nil
}

type header struct {
	name  string
	lines []string // first line's value, then continuation lines as written
}

func (h header) value(description bool) string {
	if !description {
		parts := make([]string, 0, len(h.lines))
		for _, l := range h.lines {
			if l = strings.TrimSpace(l); l != "" {
				parts = append(parts, l)
			}
		}
		return strings.Join(parts, " ")
	}
	// Build tools indent the continuation lines of a Description header with
	// 8 spaces (old distutils) or 7 spaces and '|' (current setuptools), so a
	// line of the description that starts with whitespace survives.
	out := []string{strings.TrimSpace(h.lines[0])}
	for _, l := range h.lines[1:] {
		switch {
		case strings.HasPrefix(l, "        |"):
			l = l[9:]
		case strings.HasPrefix(l, "       |"), strings.HasPrefix(l, "        "):
			l = l[8:]
		default:
			l = strings.TrimLeft(l, " \t")
		}
		out = append(out, l)
	}
	return strings.TrimRight(strings.Join(out, "\n"), "\n")
}

// splitMessage splits an RFC 822 style message into headers and body. Like
// Python's email.parser, a line that is not a header ends the headers and
// starts the body, and a continuation line before any header is dropped.
func splitMessage(text string) ([]header, string) {
	var headers []header
	for pos := 0; pos < len(text); {
		line, next := text[pos:], len(text)
		if i := strings.IndexByte(line, '\n'); i >= 0 {
			line, next = line[:i], pos+i+1
		}
		line = strings.TrimSuffix(line, "\r")
		switch {
		case line == "":
			return headers, text[next:]
		case line[0] == ' ' || line[0] == '\t':
			if len(headers) > 0 {
				h := &headers[len(headers)-1]
				h.lines = append(h.lines, line)
			}
		default:
			name, value, ok := strings.Cut(line, ":")
			if !ok || !validHeaderName(name) {
				return headers, text[pos:]
			}
			headers = append(headers, header{name: name, lines: []string{value}})
		}
		pos = next
	}
	return headers, ""
}

func validHeaderName(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
