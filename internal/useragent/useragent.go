// Package useragent shortens a request's User-Agent to the client's name
// and version, for log lines. pip and uv send several hundred characters
// of JSON after "pip/26.3"; the log needs only that first word to say
// which client saw a refusal.
package useragent

import "strings"

// MaxLen bounds what Short returns, whatever the client sent.
const MaxLen = 48

// Unknown is what Short returns for a request without a usable User-Agent.
const Unknown = "unknown"

// Short is the client's product token: "pip/26.3" for pip's
// `pip/26.3 {"ci":null,...}`, "uv/0.13.9", "twine/7.0.0" (requests-toolbelt's
// `twine/7.0.0 CPython/3.11.7`), "poetry/2.5.1", "pdm/2.29.4",
// "aws-cli/2.15.0", "Boto3/1.34.0", "npm/10.2.4", "curl/7.88.1". Every
// client the data plane serves puts its own name first (RFC 9110's
// product list, most significant first), so that is the first token,
// without a trailing comment, restricted to a token's characters and
// clipped to MaxLen. The result holds no space, quote or control
// character, so it stays one unquoted word in a log line.
func Short(ua string) string {
	ua = strings.TrimLeft(ua, " \t")
	var b strings.Builder
	for i := 0; i < len(ua) && b.Len() < MaxLen; i++ {
		c := ua[i]
		if !tokenChar(c) {
			break
		}
		b.WriteByte(c)
	}
	if b.Len() == 0 {
		return Unknown
	}
	return b.String()
}

// tokenChar reports whether c may appear in a product token (RFC 9110
// tchar) or its "/version".
func tokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~/", c) >= 0
}
