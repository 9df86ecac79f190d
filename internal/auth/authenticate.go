package auth

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Refusal says why a request's credentials were not accepted. Message is
// written for the person behind the client: package clients show a 401's body
// (or log it), and it is the only place wharf can explain itself. Message
// never contains the presented secret, nor any part of it.
type Refusal struct {
	Code    string // short machine reason for logs and metrics
	Message string // what was wrong and how to fix it
}

func (r *Refusal) Error() string {
	first, _, _ := strings.Cut(r.Message, "\n")
	return "auth: " + r.Code + ": " + first
}

// Usernames wharf accepts with a token as the password: `aws` is
// CodeArtifact's, `__token__` is PyPI's, which twine and uv users reach for.
const (
	UsernameAWS   = "aws"
	UsernameToken = "__token__"
)

type presented struct {
	basic bool
	user  string // only when basic
	token string
}

// Authenticate extracts the credential of r for an endpoint of domain (owner,
// domain) and checks it completely: format, signature, expiry and scope.
func (k *Keyring) Authenticate(r *http.Request, owner, domain string, now time.Time) (Claims, *Refusal) {
	return k.examine(r, owner, domain, now, true)
}

// Describe is for an endpoint that tells a user what token they presented: it
// returns the claims if the token verifies, even if it has expired or belongs
// to another domain (the caller reports that from the claims). Owner and
// domain only make the fix commands in a Refusal concrete; they may be empty.
func (k *Keyring) Describe(r *http.Request, owner, domain string, now time.Time) (Claims, *Refusal) {
	return k.examine(r, owner, domain, now, false)
}

func (k *Keyring) examine(r *http.Request, owner, domain string, now time.Time, validity bool) (Claims, *Refusal) {
	s := scope{owner: owner, domain: domain, now: now}
	p, ref := extract(r)
	if ref != nil {
		return Claims{}, s.finish(ref)
	}
	userNote := ""
	if p.basic {
		userNote = usernameProblem(p.user, p.token)
		if p.token == UsernameAWS && strings.HasPrefix(p.user, tokenPrefix) {
			return Claims{}, s.finish(&Refusal{Code: "bad-username", Message: userNote})
		}
	}
	c, ref := k.check(p.token, s)
	if ref == nil && validity {
		ref = s.validity(c, "The token")
	}
	if ref != nil {
		if userNote != "" {
			ref.Message += "\n\nAlso: " + userNote
		}
		return Claims{}, s.finish(ref)
	}
	if userNote != "" {
		return Claims{}, s.finish(&Refusal{Code: "bad-username", Message: userNote +
			"\nThe token itself is fine" + s.until(c) + "."})
	}
	return c, nil
}

type scope struct {
	owner, domain string
	now           time.Time
}

// finish appends the commands that fix most refusals: how to get a token and
// where it goes.
func (s scope) finish(r *Refusal) *Refusal {
	switch r.Code {
	case "bad-username", "bad-scheme", "json-password", "cli-output", "whitespace", "quoted", "percent-encoded":
		// The token is (or may be) fine; the message already says what to change.
	default:
		r.Message += "\n\n" + s.howToGet()
	}
	return r
}

// ExampleIndexURL stands for the index URL with credentials in refusals.
// The server replaces it with the repository's own (ShowIndexURL), so a
// pip user reads the URL to paste, with the scheme the server really has.
const ExampleIndexURL = "https://aws:<token>@HOST/PATH/simple/"

// ShowIndexURL puts a repository's simple index URL, given as
// scheme://host/path/simple/, in place of ExampleIndexURL in msg.
func ShowIndexURL(msg, indexURL string) string {
	scheme, rest, ok := strings.Cut(indexURL, "://")
	if !ok {
		return msg
	}
	return strings.ReplaceAll(msg, ExampleIndexURL, scheme+"://aws:<token>@"+rest)
}

func (s scope) howToGet() string {
	d, o := orPlaceholder(s.domain, "DOMAIN"), orPlaceholder(s.owner, "OWNER")
	return "Get a token with:\n" +
		"  wharf token --domain " + d + " --domain-owner " + o + "\n" +
		"or with the AWS CLI pointed at this server (--endpoint-url or AWS_ENDPOINT_URL):\n" +
		"  aws codeartifact get-authorization-token --domain " + d + " --domain-owner " + o + " --query authorizationToken --output text\n" +
		"Send it as the password with the username `aws` (uv: UV_INDEX_<NAME>_USERNAME=aws and UV_INDEX_<NAME>_PASSWORD=<token>;\n" +
		"pip: " + ExampleIndexURL + ") or as the header `Authorization: Bearer <token>` (npm: _authToken)."
}

func (s scope) until(c Claims) string {
	return fmt.Sprintf(" (domain %s, owner %s, valid until %s)", c.Domain, c.DomainOwner, c.ExpiresAt.Format(time.RFC3339))
}

// validity refuses a verified token that has expired or belongs elsewhere.
// subject names the token in the message ("The token", "The token inside it").
func (s scope) validity(c Claims, subject string) *Refusal {
	if !s.now.Before(c.ExpiresAt) {
		return &Refusal{Code: "expired", Message: fmt.Sprintf("%s expired at %s (%s ago). Tokens last 12 hours unless requested otherwise (--duration-seconds, at most 43200).",
			subject, c.ExpiresAt.UTC().Format(time.RFC3339), HumanDuration(s.now.Sub(c.ExpiresAt)))}
	}
	if c.Domain != s.domain || c.DomainOwner != s.owner {
		return &Refusal{Code: "wrong-domain", Message: fmt.Sprintf("%s is for domain %q (owner %s), but this endpoint belongs to domain %q (owner %s).\n"+
			"A token is valid for the repositories of one domain only: get one for %q.",
			subject, c.Domain, c.DomainOwner, s.domain, s.owner, s.domain)}
	}
	return nil
}

// HumanDuration says how long d is the way refusals and `wharf doctor`
// put it ("42s", "17m", "3h05m", "9 days"), ignoring its sign.
func HumanDuration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d < time.Minute:
		return d.Truncate(time.Second).String()
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	default:
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	}
}

// extract finds the token in the Authorization header.
func extract(r *http.Request) (presented, *Refusal) {
	h := r.Header.Get("Authorization")
	if strings.TrimSpace(h) == "" {
		return presented{}, &Refusal{Code: "no-credentials", Message: "No credentials were sent: this endpoint requires an authorization token."}
	}
	scheme, param, _ := strings.Cut(h, " ")
	param = strings.TrimLeft(param, " ")
	switch {
	case strings.EqualFold(scheme, "Bearer"):
		if param == "" {
			return presented{}, &Refusal{Code: "empty-token", Message: "The header `Authorization: Bearer` carries no token: the variable or setting meant to hold it was probably empty or unset."}
		}
		return presented{token: param}, nil
	case strings.EqualFold(scheme, "Basic"):
		return basic(param)
	}
	var msg string
	switch {
	case strings.HasPrefix(h, tokenPrefix):
		msg = "The Authorization header holds a bare token. Send `Authorization: Bearer <token>`, or HTTP Basic with the username `aws` and the token as the password."
	case strings.EqualFold(scheme, "AWS4-HMAC-SHA256"):
		msg = "The request is signed with AWS Signature Version 4, which is for the CodeArtifact API (/v1/...). Package endpoints take an authorization token instead: " +
			"send it as the password with the username `aws`, or as `Authorization: Bearer <token>`."
	default:
		name := "an unsupported scheme"
		for _, known := range []string{"Digest", "Negotiate", "NTLM", "Token", "OAuth", "AWS", "HOBA", "Mutual"} {
			if strings.EqualFold(scheme, known) && param != "" {
				name = "the unsupported scheme " + known
			}
		}
		msg = "The Authorization header uses " + name + ". Use HTTP Basic with the username `aws` and the token as the password, or `Authorization: Bearer <token>`."
	}
	return presented{}, &Refusal{Code: "bad-scheme", Message: msg}
}

func basic(param string) (presented, *Refusal) {
	raw, err := base64.StdEncoding.DecodeString(param)
	if err != nil {
		// Some hand-written clients drop the padding; that is no reason to refuse.
		raw, err = base64.RawStdEncoding.DecodeString(param)
	}
	if err != nil {
		msg := "The HTTP Basic credentials are not valid base64. After `Basic ` comes base64(\"aws:<token>\")."
		if strings.HasPrefix(param, tokenPrefix) {
			msg = "The token itself was sent after `Basic `. HTTP Basic wants base64(\"aws:<token>\"); or send the token as `Authorization: Bearer <token>`."
		}
		return presented{}, &Refusal{Code: "bad-scheme", Message: msg}
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok {
		return presented{}, &Refusal{Code: "bad-scheme", Message: "The HTTP Basic credentials have no ':' between username and password. " +
			"They must be base64(\"aws:<token>\"): username `aws`, the token as the password."}
	}
	if pass != "" {
		return presented{basic: true, user: user, token: pass}, nil
	}
	switch {
	case user == "":
		return presented{}, &Refusal{Code: "empty-password", Message: "The username and the password are both empty: the settings or variables meant to hold them were probably unset or empty when the client ran.\n" +
			"uv reads UV_INDEX_<NAME>_USERNAME and UV_INDEX_<NAME>_PASSWORD, where <NAME> is the index name upper-cased with every '-' and '.' replaced by '_' " +
			"(index \"my-index\" -> UV_INDEX_MY_INDEX_PASSWORD)."}
	case user != UsernameAWS && user != UsernameToken && (strings.HasPrefix(user, tokenPrefix) || len(user) >= 20):
		return presented{}, &Refusal{Code: "token-as-username", Message: "The token was sent as the username, with an empty password. " +
			"The username must be `aws` and the token goes in the password: " + ExampleIndexURL + ", " +
			"or UV_INDEX_<NAME>_USERNAME=aws and UV_INDEX_<NAME>_PASSWORD=<token>."}
	}
	return presented{}, &Refusal{Code: "empty-password", Message: "A username was sent with an empty password; the token goes in the password.\n" +
		"With uv, UV_INDEX_<NAME>_PASSWORD was probably empty or unset, or its <NAME> does not match the index name " +
		"(upper-cased, every '-' and '.' replaced by '_': index \"my-index\" -> UV_INDEX_MY_INDEX_PASSWORD). " +
		"With pip, the URL needs the password too: " + ExampleIndexURL + "."}
}

// usernameProblem explains a wrong username without quoting it: users put
// secrets in the wrong field too.
func usernameProblem(user, pass string) string {
	switch {
	case user == UsernameAWS || user == UsernameToken:
		return ""
	case user == "":
		return "The username is empty; it must be `aws`."
	case strings.EqualFold(user, UsernameAWS) || strings.EqualFold(user, UsernameToken):
		return "The username must be `aws` in lower case (usernames are case-sensitive)."
	case pass == UsernameAWS && strings.HasPrefix(user, tokenPrefix):
		return "The username and the password are swapped: the username must be `aws` and the password the token."
	}
	return "The username must be `aws` (as with AWS CodeArtifact); the token goes in the password."
}

var (
	// Matches the token in JSON, YAML and table output of get-authorization-token.
	embeddedToken = regexp.MustCompile(`authorizationToken"?\s*[:|]\s*"?([A-Za-z0-9._-]+)`)
	percentEscape = regexp.MustCompile(`%[0-9A-Fa-f]{2}`)
)

// check verifies token and, before that, recognizes the ways people mangle a
// token on its way into a client, so the refusal names the mistake rather
// than "invalid token". When the mangled value still holds a good token, the
// message says so: then the fix is certainly the one named.
func (k *Keyring) check(tok string, s scope) (Claims, *Refusal) {
	if c, ok := k.verified.Load(tok); ok {
		return c.(Claims), nil
	}
	c, ref := k.checkAll(tok, s)
	if ref == nil {
		k.rememberVerified(tok, c)
	}
	return c, ref
}

func (k *Keyring) checkAll(tok string, s scope) (Claims, *Refusal) {
	trimmed := strings.TrimSpace(tok)
	if strings.HasPrefix(trimmed, "{") || strings.Contains(tok, "authorizationToken") || cliTextOutput(tok) != "" {
		return Claims{}, k.cliOutput(tok, s)
	}
	if ws := describeSpace(tok); ws != "" {
		return Claims{}, &Refusal{Code: "whitespace", Message: ws + k.inner(trimmed, s, "Without it, the token")}
	}
	if len(tok) >= 2 && strings.ContainsAny(tok[:1], `"'`) && tok[len(tok)-1] == tok[0] {
		return Claims{}, &Refusal{Code: "quoted", Message: "The token is wrapped in quotes, and the quotes were sent as part of the password. Remove them: " +
			"shell quotes around a value are fine (export VAR=\"$(...)\"), but quotes inside the value " +
			"(VAR='\"...\"', a JSON string copied with its quotes, some .env loaders) are kept." + k.inner(tok[1:len(tok)-1], s, "Without the quotes, the token")}
	}
	if percentEscape.MatchString(tok) {
		dec, _ := url.PathUnescape(tok)
		return Claims{}, &Refusal{Code: "percent-encoded", Message: "The token contains percent-encoding (%XX). Wharf tokens consist of letters, digits, '-', '_' and '.' only, so they never need encoding, " +
			"and values taken from environment variables (UV_INDEX_<NAME>_PASSWORD, TWINE_PASSWORD) are sent verbatim. Use the token exactly as printed." +
			k.inner(dec, s, "Decoded, the token")}
	}
	for i := 0; i < len(tok); i++ {
		if !isTokenChar(tok[i]) {
			if tok[i] >= 0x20 && tok[i] < 0x7f && !strings.HasPrefix(tok, "wharf") {
				return Claims{}, malformed(tok) // what it is matters more than which character is wrong
			}
			kind := "punctuation that never appears in a token"
			if tok[i] >= 0x80 {
				kind = "a non-ASCII character (for example a typographic quote or an invisible character added by a document or chat app)"
			} else if tok[i] < 0x20 || tok[i] == 0x7f {
				kind = "a control character"
			}
			return Claims{}, &Refusal{Code: "malformed", Message: fmt.Sprintf("Character %d of the token is %s. Wharf tokens consist of letters, digits, '-', '_' and '.' only: copy the token again from its source.", i+1, kind)}
		}
	}
	return k.verify(tok)
}

// inner describes the token hidden in a mangled value, if there is one.
func (k *Keyring) inner(tok string, s scope, subject string) string {
	c, ref := k.verify(tok)
	if ref != nil {
		return ""
	}
	if v := s.validity(c, subject+" would be valid, but it"); v != nil {
		return "\n" + v.Message
	}
	return "\n" + subject + " is valid" + s.until(c) + "."
}

func (k *Keyring) cliOutput(tok string, s scope) *Refusal {
	var inner string
	if m := embeddedToken.FindStringSubmatch(tok); m != nil {
		inner = m[1]
	} else {
		inner = cliTextOutput(tok)
	}
	code, what := "cli-output", "the output of `aws codeartifact get-authorization-token` (run without --query)"
	if strings.HasPrefix(strings.TrimSpace(tok), "{") || strings.Contains(tok, `"authorizationToken"`) {
		code, what = "json-password", "the JSON document printed by `aws codeartifact get-authorization-token` (or part of it)"
	}
	msg := "The password is " + what + ", not the token. The token is the value of its `authorizationToken` field.\n" +
		"Print only the token with --query authorizationToken --output text, e.g.\n" +
		"  export UV_INDEX_<NAME>_PASSWORD=\"$(aws codeartifact get-authorization-token --domain " + orPlaceholder(s.domain, "DOMAIN") +
		" --domain-owner " + orPlaceholder(s.owner, "OWNER") + " --query authorizationToken --output text)\"\n" +
		"or use `wharf token`, which prints the bare token."
	return &Refusal{Code: code, Message: msg + k.inner(inner, s, "The token inside it")}
}

// cliTextOutput returns the token from `--output text` without --query, which
// prints the token and the expiration separated by a tab.
func cliTextOutput(v string) string {
	f := strings.Fields(v)
	if len(f) != 2 {
		return ""
	}
	for i, x := range f {
		if strings.HasPrefix(x, tokenPrefix) && strings.Trim(f[1-i], "0123456789.") == "" {
			return x
		}
	}
	return ""
}

func orPlaceholder(v, p string) string {
	if v == "" {
		return p
	}
	return v
}

// describeSpace names stray whitespace and where it sits, because where it
// sits says where it came from.
func describeSpace(tok string) string {
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' }
	if strings.IndexFunc(tok, func(r rune) bool { return r < 0x80 && isSpace(byte(r)) }) < 0 {
		return ""
	}
	start, end := 0, len(tok)
	for start < end && isSpace(tok[start]) {
		start++
	}
	for end > start && isSpace(tok[end-1]) {
		end--
	}
	var parts []string
	if start > 0 {
		parts = append(parts, "a leading "+spaceNames(tok[:start]))
	}
	if end < len(tok) {
		parts = append(parts, "a trailing "+spaceNames(tok[end:]))
	}
	if mid := tok[start:end]; strings.ContainsFunc(mid, func(r rune) bool { return r < 0x80 && isSpace(byte(r)) }) {
		var ws []byte
		for i := 0; i < len(mid); i++ {
			if isSpace(mid[i]) {
				ws = append(ws, mid[i])
			}
		}
		parts = append(parts, "a "+spaceNames(string(ws))+" inside it")
	}
	msg := "The token has " + strings.Join(parts, ", and ") + ". Tokens never contain whitespace."
	switch {
	case strings.ContainsRune(tok, '\r'):
		msg += "\nA carriage return (\\r) usually comes from a file with Windows line endings (CRLF); strip it with tr -d '\\r\\n'."
	case strings.ContainsRune(tok[end:], '\n') || strings.ContainsRune(tok[:start], '\n'):
		msg += "\nA newline around the token usually comes from `echo`, a heredoc or a file saved by an editor. " +
			"Command substitution strips it: export UV_INDEX_<NAME>_PASSWORD=\"$(aws codeartifact get-authorization-token ... --query authorizationToken --output text)\"; " +
			"for a file: \"$(tr -d '\\r\\n' < token.txt)\"."
	case start == 0 && end == len(tok):
		msg += "\nWhitespace inside the token usually comes from line wrapping when it was copied from a terminal or a document: copy it again in one piece."
	default:
		msg += "\nRemove it from the value."
	}
	return msg
}

func spaceNames(ws string) string {
	names := map[byte]string{' ': "space", '\t': "tab", '\n': "newline (\\n)", '\r': "carriage return (\\r)", '\v': "vertical tab", '\f': "form feed"}
	var out []string
	seen := map[byte]bool{}
	for i := 0; i < len(ws); i++ {
		if !seen[ws[i]] {
			seen[ws[i]] = true
			out = append(out, names[ws[i]])
		}
	}
	return strings.Join(out, " and ")
}
