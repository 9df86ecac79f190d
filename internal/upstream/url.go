package upstream

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
)

// URL is an address at an upstream: a connection's base, an index page or a
// file. It may carry secrets (a token in the query, as some mirrors take
// it; userinfo in a link an upstream page wrote), so every way of showing it
// — String, %v, %q, %#v, slog, encoding/json — shows it redacted: no
// userinfo, every query value replaced. Only the client's own requests read
// the raw form, so no message, log line or response can carry the secret.
type URL struct{ u *url.URL }

// redacted stands in for a secret in what is shown.
const redacted = "REDACTED"

// ParseURL reads an absolute http(s) URL. Its errors never quote the input.
func ParseURL(raw string) (URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return URL{}, fmt.Errorf("%s is not a valid URL", Redact(raw))
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return URL{}, fmt.Errorf("%s is not an absolute http:// or https:// URL", Redact(raw))
	}
	return URL{u: u}, nil
}

// IsZero reports whether u was never set.
func (u URL) IsZero() bool { return u.u == nil }

// String is the redacted form.
func (u URL) String() string {
	if u.u == nil {
		return ""
	}
	return redactURL(u.u)
}

// GoString keeps %#v from printing the fields.
func (u URL) GoString() string { return fmt.Sprintf("upstream.URL(%q)", u.String()) }

// LogValue is what slog shows.
func (u URL) LogValue() slog.Value { return slog.StringValue(u.String()) }

// MarshalText is what encoding/json and friends show.
func (u URL) MarshalText() ([]byte, error) { return []byte(u.String()), nil }

// Public is the URL without userinfo, query and fragment: the part a format
// builds page URLs from and resolves links against. It holds no secret.
func (u URL) Public() string {
	if u.u == nil {
		return ""
	}
	p := *u.u
	p.User, p.RawQuery, p.ForceQuery, p.Fragment, p.RawFragment = nil, "", false, "", ""
	return p.String()
}

// WithPage returns page (an absolute URL a format built from u.Public())
// carrying u's query, so a token in a connection's query reaches every
// index page requested from it.
func (u URL) WithPage(page string) (URL, error) {
	p, err := ParseURL(page)
	if err != nil {
		return URL{}, err
	}
	if u.u != nil && u.u.RawQuery != "" {
		q := *p.u
		if q.RawQuery != "" {
			q.RawQuery += "&" + u.u.RawQuery
		} else {
			q.RawQuery = u.u.RawQuery
		}
		p.u = &q
	}
	return p, nil
}

// origin is scheme://host:port, lowercase, with the default port spelt out,
// so credentials are matched to requests exactly.
func (u URL) origin() string { return originOf(u.u) }

func originOf(u *url.URL) string {
	if u == nil {
		return ""
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[strings.ToLower(u.Scheme)]
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Hostname()) + ":" + port
}

// raw is the URL to request; only the client's requests use it.
func (u URL) raw() string { return u.u.String() }

func redactURL(u *url.URL) string {
	r := *u
	if r.User != nil {
		r.User = url.User(redacted)
	}
	if r.RawQuery != "" {
		var parts []string
		for _, kv := range strings.Split(r.RawQuery, "&") {
			// A bare word may be the token itself: only names are shown.
			k, _, hasValue := strings.Cut(kv, "=")
			switch {
			case hasValue:
				kv = k + "=" + redacted
			case kv != "":
				kv = redacted
			}
			parts = append(parts, kv)
		}
		r.RawQuery = strings.Join(parts, "&")
	}
	return r.String()
}

// Redact returns s, a URL as text, in URL's redacted form (trimmed, as
// ParseURL reads it); text that does not parse as a URL is not shown at all.
func Redact(s string) string {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return "(a URL that does not parse)"
	}
	return redactURL(u)
}

// redactErr rewrites the URLs net/http puts in its errors (*url.Error
// quotes the whole request URL, query included) in redacted form.
func redactErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = Redact(ue.URL)
	}
	return err
}
