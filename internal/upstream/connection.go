package upstream

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/textproto"
	"strings"
)

// Credentials authenticate wharf to one connection's upstream: an HTTP Basic
// pair, or one header (devpi and Artifactory take "Authorization: Bearer
// ...", "X-JFrog-Art-Api: ...") — not both. They are sent only on requests
// to that upstream's origin (scheme, host and port): never to another host
// that a page links to or a redirect points at. Like URL, they never print.
type Credentials struct {
	Username, Password string
	Header, Value      string
}

// IsZero reports whether there are no credentials.
func (c Credentials) IsZero() bool { return c == Credentials{} }

// String names the kind of credentials, never their secret.
func (c Credentials) String() string {
	switch {
	case c.Header != "":
		return "header " + c.Header
	case c.Username != "" || c.Password != "":
		return "basic auth"
	}
	return "none"
}

// GoString keeps %#v from printing the fields.
func (c Credentials) GoString() string { return "upstream.Credentials(" + c.String() + ")" }

// LogValue is what slog shows.
func (c Credentials) LogValue() slog.Value { return slog.StringValue(c.String()) }

// Check reports what is wrong with c, without quoting a secret.
func (c Credentials) Check() error {
	basic := c.Username != "" || c.Password != ""
	switch {
	case basic && c.Header != "":
		return fmt.Errorf("give either a username and password or a header, not both")
	case c.Header == "" && c.Value != "":
		return fmt.Errorf("a header value was given without a header name")
	case c.Header != "" && !validHeaderName(c.Header):
		return fmt.Errorf("%q is not a valid HTTP header name (want NAME: VALUE, e.g. Authorization: Bearer TOKEN)", c.Header)
	case c.Header != "" && strings.ContainsAny(c.Value, "\r\n"):
		return fmt.Errorf("the %s header's value has a line break", c.Header)
	case strings.ContainsAny(c.Username, ":\r\n"):
		return fmt.Errorf("the username has a ':' or a line break")
	}
	return nil
}

// ParseHeader reads "Name: value", as WHARF_EXTERNAL_CONNECTION_*_HEADER
// gives it. Its errors never quote the value.
func ParseHeader(s string) (Credentials, error) {
	name, value, ok := strings.Cut(s, ":")
	c := Credentials{Header: textproto.TrimString(name), Value: textproto.TrimString(value)}
	if !ok || c.Header == "" {
		return Credentials{}, fmt.Errorf("want NAME: VALUE, e.g. Authorization: Bearer TOKEN (no ':' found)")
	}
	c.Header = textproto.CanonicalMIMEHeaderKey(c.Header)
	return c, c.Check()
}

func validHeaderName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return s != ""
}

func (c Credentials) apply(h http.Header) {
	switch {
	case c.Header != "":
		h.Set(c.Header, c.Value)
	case c.Username != "" || c.Password != "":
		r := http.Request{Header: h}
		r.SetBasicAuth(c.Username, c.Password)
	}
}

// Connection is where an external connection fetches from and how it
// authenticates there.
type Connection struct {
	URL  URL
	Auth Credentials
}

// ParseConnection reads a connection's base URL. Userinfo in it
// (http://user:password@host/...) becomes the connection's Basic
// credentials, so it is held apart from the URL like credentials given
// separately; giving both is refused.
func ParseConnection(raw string, auth Credentials) (Connection, error) {
	u, err := ParseURL(raw)
	if err != nil {
		return Connection{}, err
	}
	if u.u.User != nil {
		if !auth.IsZero() {
			return Connection{}, fmt.Errorf("%s has credentials in the URL and separately; give them once", u)
		}
		pw, _ := u.u.User.Password()
		auth = Credentials{Username: u.u.User.Username(), Password: pw}
		clean := *u.u
		clean.User = nil
		u.u = &clean
	}
	if u.u.Fragment != "" {
		return Connection{}, fmt.Errorf("%s has a #fragment, which no request sends; leave it out", u)
	}
	if err := auth.Check(); err != nil {
		return Connection{}, fmt.Errorf("credentials for %s: %w", u, err)
	}
	return Connection{URL: u, Auth: auth}, nil
}

// MustParseConnection is ParseConnection without credentials for a URL
// known to be valid (tests, built-in defaults); it panics otherwise.
func MustParseConnection(raw string) Connection {
	c, err := ParseConnection(raw, Credentials{})
	if err != nil {
		panic(err)
	}
	return c
}
