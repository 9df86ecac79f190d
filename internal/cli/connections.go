package cli

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/wharfhq/wharf/internal/registry"
	"github.com/wharfhq/wharf/internal/upstream"
)

// External connections: where each fetches from (--external-connections,
// WHARF_EXTERNAL_CONNECTIONS, the [external_connections] table) and, apart
// from the URL, its credentials. Credentials are secrets: they come from
// the environment only, or from a file the environment names (a mounted
// container secret), never from a flag or the configuration file:
//
//	WHARF_EXTERNAL_CONNECTION_<NAME>_USERNAME   HTTP Basic username
//	WHARF_EXTERNAL_CONNECTION_<NAME>_PASSWORD   its password (or _PASSWORD_FILE)
//	WHARF_EXTERNAL_CONNECTION_<NAME>_HEADER     "Name: value", e.g. "Authorization: Bearer T" (or _HEADER_FILE)
//
// where <NAME> is the connection's name in capitals with '_' for every
// other character: public:pypi -> PUBLIC_PYPI.

const credentialPrefix = "WHARF_EXTERNAL_CONNECTION_"

var credentialSuffixes = []string{"_USERNAME", "_PASSWORD_FILE", "_PASSWORD", "_HEADER_FILE", "_HEADER"}

// connectionEnvName is <NAME> for a connection.
func connectionEnvName(connection string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case 'a' <= r && r <= 'z':
			return r - 'a' + 'A'
		case 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
			return r
		}
		return '_'
	}, connection)
}

// parseConnections reads "public:pypi=URL,public:npmjs=URL". Its errors
// never quote an entry, which may hold a password.
func parseConnections(s string) (map[string]string, error) {
	out := map[string]string{}
	for i, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, url, ok := strings.Cut(item, "=")
		if !ok || name == "" || url == "" {
			return nil, fmt.Errorf("WHARF_EXTERNAL_CONNECTIONS: entry %d is not NAME=URL (e.g. public:pypi=http://mirror/simple/)", i+1)
		}
		out[strings.TrimSpace(name)] = strings.TrimSpace(url)
	}
	return out, nil
}

// connectionConfig combines URLs and the credentials in environ (os.Environ's
// form) into what the server is given. Credentials for a connection wharf
// does not know are refused by name, so a misspelt variable is not ignored.
func connectionConfig(urls map[string]string, environ []string) (map[string]upstream.Connection, error) {
	byEnvName := map[string]string{}
	for name := range registry.ExternalConnections {
		byEnvName[connectionEnvName(name)] = name
	}
	creds := map[string]*upstream.Credentials{}
	for _, kv := range environ {
		key, value, _ := strings.Cut(kv, "=")
		rest, ok := strings.CutPrefix(key, credentialPrefix)
		if !ok {
			continue
		}
		var suffix string
		for _, s := range credentialSuffixes {
			if strings.HasSuffix(rest, s) {
				suffix = s
				break
			}
		}
		name, known := byEnvName[strings.TrimSuffix(rest, suffix)]
		if suffix == "" || !known {
			return nil, fmt.Errorf("%s names no external connection setting; use %s<NAME>{%s} with <NAME> one of %s",
				key, credentialPrefix, strings.Join(credentialSuffixes, ","), strings.Join(slices.Sorted(maps.Keys(byEnvName)), ", "))
		}
		if strings.HasSuffix(suffix, "_FILE") {
			b, err := os.ReadFile(value)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", key, err)
			}
			value = strings.TrimRight(string(b), "\r\n")
		}
		c := creds[name]
		if c == nil {
			c = &upstream.Credentials{}
			creds[name] = c
		}
		switch strings.TrimSuffix(suffix, "_FILE") {
		case "_USERNAME":
			c.Username = value
		case "_PASSWORD":
			if c.Password != "" {
				return nil, fmt.Errorf("%s: the password is given twice (_PASSWORD and _PASSWORD_FILE); keep one", key)
			}
			c.Password = value
		case "_HEADER":
			if c.Header != "" {
				return nil, fmt.Errorf("%s: the header is given twice (_HEADER and _HEADER_FILE); keep one", key)
			}
			h, err := upstream.ParseHeader(value)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", key, err)
			}
			c.Header, c.Value = h.Header, h.Value
		}
	}
	out := map[string]upstream.Connection{}
	names := slices.Collect(maps.Keys(urls))
	for name := range creds {
		if _, ok := urls[name]; !ok {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		if _, ok := registry.ExternalConnections[name]; !ok {
			return nil, fmt.Errorf("WHARF_EXTERNAL_CONNECTIONS: unknown external connection %q; known: %s", name, strings.Join(slices.Sorted(maps.Keys(registry.ExternalConnections)), ", "))
		}
		var auth upstream.Credentials
		if c := creds[name]; c != nil {
			auth = *c
		}
		raw := urls[name]
		if raw == "" {
			raw = registry.ExternalConnections[name].DefaultURL
		}
		conn, err := upstream.ParseConnection(raw, auth)
		if err != nil {
			return nil, fmt.Errorf("external connection %s: %w", name, err)
		}
		out[name] = conn
	}
	return out, nil
}
