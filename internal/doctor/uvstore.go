package doctor

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// uvStored is one [[credential]] of uv's own credentials store, which
// `uv auth login URL --username U --password P` (or --token T, stored as
// username __token__) writes. uv 0.13.9 used it when neither the URL nor
// UV_INDEX_<NAME>_PASSWORD gave a password (TestUVHelp).
type uvStored struct {
	service, user, pass string
	bearer              bool
}

// uvStore reads the store: $UV_CREDENTIALS_DIR, else
// $XDG_DATA_HOME/uv/credentials, else ~/.local/share/uv/credentials.
func (d *doctor) uvStore() (string, []uvStored) {
	dir := os.Getenv("UV_CREDENTIALS_DIR")
	if dir == "" {
		data := os.Getenv("XDG_DATA_HOME")
		if data == "" {
			data = filepath.Join(d.home, ".local", "share")
		}
		dir = filepath.Join(data, "uv", "credentials")
	}
	path := filepath.Join(dir, "credentials.toml")
	m, ok := d.loadTOML(path)
	if !ok {
		return path, nil
	}
	var out []uvStored
	for _, c := range tables(m["credential"]) {
		s := uvStored{service: str(c, "service"), user: str(c, "username"), pass: str(c, "password"), bearer: strings.EqualFold(str(c, "scheme"), "bearer")}
		if s.bearer && s.pass == "" {
			s.pass = str(c, "token")
		}
		d.secret(s.pass)
		out = append(out, s)
	}
	return path, out
}

// uvStoredFor finds the stored credential for an index URL: same scheme and
// host, the service's path a prefix of the index's (`uv auth login` stores
// the index URL without its /simple/), and the given user if there is one.
func uvStoredFor(stored []uvStored, index, user string) (uvStored, bool) {
	iu, err := url.Parse(index)
	if err != nil {
		return uvStored{}, false
	}
	for _, s := range stored {
		su, err := url.Parse(s.service)
		if err != nil || !strings.EqualFold(su.Scheme, iu.Scheme) || !strings.EqualFold(su.Host, iu.Host) || user != "" && s.user != user {
			continue
		}
		sp, ip := strings.TrimSuffix(su.Path, "/"), strings.TrimSuffix(iu.Path, "/")
		if ip == sp || strings.HasPrefix(ip, sp+"/") {
			return s, true
		}
	}
	return uvStored{}, false
}
