package useragent

import (
	"strings"
	"testing"
)

// The User-Agents of the clients wharf serves, as they were seen on the wire.
var seen = []struct{ ua, want string }{
	{`pip/26.3 {"ci":null,"cpu":"x86_64","distro":{"id":"bookworm","libc":{"lib":"glibc","version":"2.36"},"name":"Debian GNU/Linux","version":"12"},"implementation":{"name":"CPython","version":"3.11.7"},"installer":{"name":"pip","version":"26.3"},"openssl_version":"OpenSSL 3.0.15 3 Sep 2024","python":"3.11.7","setuptools_version":"65.5.0","system":{"name":"Linux","release":"6.18.4"}}`, "pip/26.3"},
	{`pip/23.2.1 {"ci":null,"cpu":"x86_64"}`, "pip/23.2.1"},
	{`uv/0.13.9 {"installer":{"name":"uv","version":"0.13.9"},"python":"3.11.7"}`, "uv/0.13.9"},
	{"twine/7.0.0 CPython/3.11.7", "twine/7.0.0"},
	{"twine/4.0.2 CPython/3.11.2", "twine/4.0.2"},
	{"poetry/2.5.1 CPython/3.11.7 Linux/6.18.4", "poetry/2.5.1"},
	{"python-requests/2.28.1", "python-requests/2.28.1"}, // poetry 1.3.2 resolving
	{"pdm/2.29.4 CPython/3.11.7", "pdm/2.29.4"},
	{"aws-cli/1.32.0 md/Botocore#1.34.0 ua/2.0 os/linux#6.18.4 md/arch#x86_64 lang/python#3.11.7 md/pyimpl#CPython cfg/retry-mode#legacy botocore/1.34.0", "aws-cli/1.32.0"},
	{"aws-cli/2.15.0 Python/3.11.6 Linux/6.18.4 exe/x86_64.debian.12 prompt/off command/codeartifact.login", "aws-cli/2.15.0"},
	{"Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux#6.18.4 lang/python#3.11.7", "Boto3/1.34.0"},
	{"npm/10.2.4 node/v20.11.0 linux x64 workspaces/false", "npm/10.2.4"},
	{"node", "node"},
	{"aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64", "aws-sdk-go-v2/1.30.3"},
	{"curl/7.88.1", "curl/7.88.1"},
	{"", Unknown},
	{"   ", Unknown},
	{`"quoted"`, Unknown},
	{"Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0", "Mozilla/5.0"},
	{"name(with-comment)", "name"},
	{"bad\nline/1.0", "bad"},
	{strings.Repeat("x", 500), strings.Repeat("x", MaxLen)},
}

func TestShort(t *testing.T) {
	for _, c := range seen {
		if got := Short(c.ua); got != c.want {
			t.Errorf("Short(%.60q) = %q, want %q", c.ua, got, c.want)
		}
	}
}

// FuzzShort checks what a log line relies on, for any header a client can
// send: one non-empty word of printable ASCII, at most MaxLen bytes, and
// shortening it again changes nothing.
func FuzzShort(f *testing.F) {
	for _, c := range seen {
		f.Add(c.ua)
	}
	f.Fuzz(func(t *testing.T, ua string) {
		got := Short(ua)
		if got == "" || len(got) > MaxLen {
			t.Fatalf("Short(%q) = %q: empty or longer than %d", ua, got, MaxLen)
		}
		for i := 0; i < len(got); i++ {
			if c := got[i]; c <= ' ' || c >= 0x7f || c == '"' || c == '=' {
				t.Fatalf("Short(%q) = %q: byte %d is %q", ua, got, i, c)
			}
		}
		if again := Short(got); again != got {
			t.Fatalf("Short(%q) = %q, but Short(%q) = %q", ua, got, got, again)
		}
	})
}
