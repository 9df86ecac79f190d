package doctor

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// UVEnvName is the <NAME> in UV_INDEX_<NAME>_USERNAME/_PASSWORD for an index
// name: uv upper-cases ASCII letters and digits and replaces every other
// character with '_' ("proximal-package-index" -> "PROXIMAL_PACKAGE_INDEX",
// "my.repo" -> "MY_REPO", "a--b..c" -> "A__B__C"; uv 0.13.9 read exactly
// these in TestUVHelp).
func UVEnvName(index string) string {
	var b strings.Builder
	for _, r := range index {
		switch {
		case 'a' <= r && r <= 'z':
			b.WriteRune(r - 'a' + 'A')
		case 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// UVIndexNameProblem says why uv refuses an index name, in uv's words
// (uv 0.13.9 refuses the whole pyproject.toml or uv.toml), or "".
func UVIndexNameProblem(name string) string {
	for _, r := range name {
		switch {
		case r >= 0x80:
			return fmt.Sprintf("Index names must be ASCII, but found non-ASCII character (`%c`)", r)
		case !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.'):
			return fmt.Sprintf("Index names may only contain letters, digits, hyphens, underscores, and periods, but found unsupported character (`%c`)", r)
		}
	}
	if name == "" {
		return "Index names cannot be empty"
	}
	return ""
}

// PoetryEnvName is the <NAME> in POETRY_HTTP_BASIC_<NAME>_USERNAME/_PASSWORD:
// poetry upper-cases the source name and replaces '-' with '_', but keeps
// dots, which no shell can put in a variable name.
func PoetryEnvName(source string) string {
	return strings.ReplaceAll(strings.ToUpper(source), "-", "_")
}

// target is what an index URL points at.
type target struct {
	kind                string // "wharf", "codeartifact" or "other"
	base                string // wharf: the server's base URL (scheme, host, path prefix)
	domain, owner, repo string
	format              string
	host                string
}

var (
	wharfPath        = regexp.MustCompile(`^(.*?)/([a-z][a-z0-9-]{0,48}[a-z0-9])-([0-9]{12})/([a-z]+)/([A-Za-z0-9][A-Za-z0-9._-]{1,99})(/.*)?$`)
	codeartifactHost = regexp.MustCompile(`^([a-z][a-z0-9-]{0,48}[a-z0-9])-([0-9]{12})\.d\.codeartifact\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$`)
	caPath           = regexp.MustCompile(`^/([a-z]+)/([A-Za-z0-9][A-Za-z0-9._-]{1,99})(/.*)?$`)
)

func parseTarget(raw string) target {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return target{kind: "other"}
	}
	t := target{kind: "other", host: u.Host}
	if m := codeartifactHost.FindStringSubmatch(u.Hostname()); m != nil {
		t.kind, t.domain, t.owner = "codeartifact", m[1], m[2]
		if p := caPath.FindStringSubmatch(u.Path); p != nil {
			t.format, t.repo = p[1], p[2]
		}
		return t
	}
	if m := wharfPath.FindStringSubmatch(u.Path); m != nil {
		t.kind, t.domain, t.owner, t.format, t.repo = "wharf", m[2], m[3], m[4], m[5]
		t.base = u.Scheme + "://" + u.Host + m[1]
	}
	return t
}

// splitURL separates the userinfo of an index URL textually: a token pasted
// without percent-encoding can make the URL unparseable, and that is exactly
// the case doctor must still explain. The last '@' ends the userinfo (index
// URLs have none in their path).
func splitURL(raw string) (clean, userinfo string, has bool) {
	i := strings.Index(raw, "://")
	if i < 0 {
		return raw, "", false
	}
	rest := raw[i+3:]
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return raw, "", false
	}
	return raw[:i+3] + rest[at+1:], rest[:at], true
}

// shownURL is an index URL (its userinfo already split off) as output
// shows it: every query value replaced, since some indexes take a token
// there. Textual, like splitURL, so a URL that does not parse still shows.
func shownURL(u string) string {
	base, query, ok := strings.Cut(u, "?")
	if !ok {
		return u
	}
	query, fragment, hasFragment := strings.Cut(query, "#")
	parts := strings.Split(query, "&")
	for i, kv := range parts {
		if k, _, hasValue := strings.Cut(kv, "="); hasValue {
			parts[i] = k + "=REDACTED"
		} else if kv != "" {
			parts[i] = "REDACTED"
		}
	}
	out := base + "?" + strings.Join(parts, "&")
	if hasFragment {
		out += "#" + fragment
	}
	return out
}

// queryValues are the values in u's query, to mask should one reach output.
func queryValues(u string) []string {
	_, query, _ := strings.Cut(u, "?")
	query, _, _ = strings.Cut(query, "#")
	var vs []string
	for _, kv := range strings.Split(query, "&") {
		if _, v, ok := strings.Cut(kv, "="); ok {
			vs = append(vs, v)
		} else if kv != "" {
			vs = append(vs, kv)
		}
	}
	return vs
}
