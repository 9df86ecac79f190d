package doctor

import (
	"fmt"
	"regexp"
	"strings"
)

var (
	jsonToken     = regexp.MustCompile(`authorizationToken"?\s*[:|]\s*"?([A-Za-z0-9._-]+)`)
	percentEscape = regexp.MustCompile(`%[0-9A-Fa-f]{2}`)
	tokenChars    = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)
	wharfToken    = regexp.MustCompile(`^wharf1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$`)
)

// shape checks a password (or npm token) before anyone is asked: the ways a
// token gets mangled on its way into a variable or file. It reports at most
// one error and says whether it did. Messages describe the value, never
// quote it.
func (d *doctor) shape(ix *index, t target, v, src string) bool {
	fail := func(code, msg string) bool {
		d.add(Finding{Severity: Error, Code: code, Source: src, Index: ix.label(), Message: msg, Fix: ix.fix("password", t)})
		return true
	}
	trimmed := strings.TrimSpace(v)
	switch {
	case strings.HasPrefix(trimmed, "{") || strings.Contains(v, "authorizationToken"):
		msg := "the password is the JSON document printed by `aws codeartifact get-authorization-token` (or part of it), not the token: " +
			"the token is the value of its \"authorizationToken\" field alone. Print only the token with `" + tokenCmd(t) +
			"` or add `--query authorizationToken --output text` to the aws command"
		if m := jsonToken.FindStringSubmatch(v); m != nil && strings.HasPrefix(m[1], "wharf1.") {
			msg += " (the JSON does hold a wharf token)"
		}
		return fail("json-password", msg)
	case trimmed == "":
		return fail("empty-password", "the password is empty or only whitespace")
	case trimmed != v || strings.ContainsAny(v, " \t\r\n"):
		where := "inside it"
		switch {
		case strings.ContainsAny(v, "\r"):
			where = "a carriage return (\\r), typically from a file with Windows line endings"
		case strings.HasSuffix(v, "\n") || strings.HasPrefix(v, "\n"):
			where = "a newline around it, typically from `echo` or a file saved by an editor"
		case trimmed != v:
			where = "spaces or tabs around it"
		case strings.Count(trimmed, "\n") > 0:
			where = "a line break inside it, from line wrapping when it was copied"
		}
		return fail("whitespace", "the password contains whitespace ("+where+"); tokens never do. Command substitution strips a final newline: VAR=\"$("+tokenCmd(t)+")\"")
	case len(v) >= 2 && strings.ContainsAny(v[:1], `"'`) && v[len(v)-1] == v[0]:
		return fail("quoted", "the password is wrapped in quotes that are part of the value (quotes inside the value are sent; shell quotes around it are not)")
	case percentEscape.MatchString(v) && !strings.HasPrefix(src, "URL"):
		return fail("percent-encoded", "the password contains percent-encoding (%XX); values from variables and config keys are sent verbatim, so use the token exactly as printed")
	}
	if t.kind == "other" {
		return false
	}
	switch {
	case strings.HasPrefix(v, "wharf1."):
		if !wharfToken.MatchString(v) {
			return fail("malformed", "the password starts like a wharf token but is damaged or incomplete (typically cut short when copied)")
		}
		if t.kind == "codeartifact" {
			return fail("wrong-issuer", "the password is a wharf token, but this index is AWS CodeArtifact, which only accepts its own tokens")
		}
	case strings.HasPrefix(v, "eyJ") && tokenChars.MatchString(v):
		if t.kind == "wharf" {
			return fail("wrong-issuer", "the password is an AWS CodeArtifact token, but this index is a wharf server: the aws CLI was not pointed at wharf (--endpoint-url or AWS_ENDPOINT_URL) when it got the token")
		}
		d.add(Finding{Severity: Info, Code: "codeartifact-token", Source: src, Index: ix.label(),
			Message: "the password looks like an AWS CodeArtifact token; only CodeArtifact can tell whether it is still valid (see the probe below)"})
	case len(v) == 20 && (strings.HasPrefix(v, "AKIA") || strings.HasPrefix(v, "ASIA")):
		return fail("access-key", "the password is an AWS access key ID, not an authorization token")
	default:
		issuer := "wharf"
		if t.kind == "codeartifact" {
			issuer = "CodeArtifact"
		}
		return fail("not-a-token", fmt.Sprintf("the %d-character password is not a %s token (they look like %s)", len(v), issuer,
			map[string]string{"wharf": "wharf1.<letters, digits, - and _>.<...>", "CodeArtifact": "eyJ..."}[issuer]))
	}
	return false
}
