package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "wharf.toml")
	os.WriteFile(path, []byte(`
listen = "127.0.0.1:9999"
region = "eu-west-1"
upstream_ttl = "2h"

[external_connections]
"public:pypi" = "http://mirror.internal/simple/"
`), 0o600)
	fc, err := loadFileConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := formatConnections(fc.ExternalConnections); got != "public:pypi=http://mirror.internal/simple/" {
		t.Fatalf("connections from the file: %q", got)
	}
	// The environment beats the file, which beats the default.
	t.Setenv("WHARF_REGION", "ap-south-1")
	if got := setting("WHARF_REGION", fc.Region, "us-east-1"); got != "ap-south-1" {
		t.Fatalf("environment must win over the file: %q", got)
	}
	if got := setting("WHARF_LISTEN_UNSET_IN_TEST", fc.Listen, "127.0.0.1:8080"); got != "127.0.0.1:9999" {
		t.Fatalf("the file must win over the default: %q", got)
	}
	if got := setting("WHARF_LOG_LEVEL_UNSET_IN_TEST", fc.LogLevel, "info"); got != "info" {
		t.Fatalf("default: %q", got)
	}

	os.WriteFile(path, []byte("listne = \"typo\"\n"), 0o600)
	if _, err := loadFileConfig(path); err == nil || !strings.Contains(err.Error(), "listne") {
		t.Fatalf("an unknown key must be named: %v", err)
	}
	for _, args := range [][]string{{"--config", path}, {"-config=" + path}, {"--listen", "x", "--config=" + path}} {
		if got := configPath(args); got != path {
			t.Fatalf("configPath(%q) = %q", args, got)
		}
	}
}

func TestParseConnections(t *testing.T) {
	m, err := parseConnections(" public:pypi=http://a/simple/ , public:npmjs=http://b/ ")
	if err != nil || m["public:pypi"] != "http://a/simple/" || m["public:npmjs"] != "http://b/" {
		t.Fatalf("%v %v", m, err)
	}
	if _, err := parseConnections("public:pypi"); err == nil || !strings.Contains(err.Error(), "NAME=URL") {
		t.Fatalf("missing URL: %v", err)
	}
	// A malformed entry is not quoted: it may hold a password.
	if _, err := parseConnections("public:pypi http://u:SECRET@h/"); err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Fatalf("a malformed entry: %v", err)
	}
}

// TestConnectionCredentials: credentials configured apart from the URL,
// from the environment or a file it names; misspelt variables are named,
// and no error quotes a secret.
func TestConnectionCredentials(t *testing.T) {
	pwFile := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwFile, []byte("FILESECRET\n"), 0o600)
	urls := map[string]string{"public:pypi": "https://mirror.internal/simple/?token=QSECRET"}
	conns, err := connectionConfig(urls, []string{
		"HOME=/root",
		"WHARF_EXTERNAL_CONNECTION_PUBLIC_PYPI_USERNAME=ci",
		"WHARF_EXTERNAL_CONNECTION_PUBLIC_PYPI_PASSWORD_FILE=" + pwFile,
		"WHARF_EXTERNAL_CONNECTION_PUBLIC_NPMJS_HEADER=Authorization: Bearer HSECRET",
	})
	if err != nil {
		t.Fatal(err)
	}
	if a := conns["public:pypi"].Auth; a.Username != "ci" || a.Password != "FILESECRET" {
		t.Errorf("pypi credentials: %#v", a)
	}
	if a := conns["public:npmjs"].Auth; a.Header != "Authorization" || a.Value != "Bearer HSECRET" {
		t.Errorf("npm credentials: %#v", a)
	}
	if u := conns["public:npmjs"].URL.String(); u != "https://registry.npmjs.org/" {
		t.Errorf("credentials alone keep the default URL: %s", u)
	}
	for _, tc := range []struct {
		env  []string
		urls map[string]string
		want string
	}{
		{[]string{"WHARF_EXTERNAL_CONNECTION_PUBLIC_PYPY_PASSWORD=XSECRET"}, nil, "WHARF_EXTERNAL_CONNECTION_PUBLIC_PYPY_PASSWORD names no external connection setting"},
		{[]string{"WHARF_EXTERNAL_CONNECTION_PUBLIC_PYPI_TOKEN=XSECRET"}, nil, "PUBLIC_PYPI"},
		{[]string{"WHARF_EXTERNAL_CONNECTION_PUBLIC_PYPI_HEADER=XSECRET"}, nil, "NAME: VALUE"},
		{[]string{"WHARF_EXTERNAL_CONNECTION_PUBLIC_PYPI_PASSWORD=XSECRET", "WHARF_EXTERNAL_CONNECTION_PUBLIC_PYPI_HEADER=X-Key: XSECRET"}, nil, "not both"},
		{[]string{"WHARF_EXTERNAL_CONNECTION_PUBLIC_PYPI_PASSWORD=XSECRET"}, map[string]string{"public:pypi": "http://u:XSECRET@h/simple/"}, "give them once"},
		{nil, map[string]string{"public:pypi": "ftp://u:XSECRET@h/simple/"}, "not an absolute http"},
		{nil, map[string]string{"public:pypo": "http://h/"}, "unknown external connection"},
	} {
		_, err := connectionConfig(tc.urls, tc.env)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "XSECRET") {
			t.Errorf("%v %v: %v (want %q, never the secret)", tc.env, tc.urls, err, tc.want)
		}
	}
}

// TestHelpShowsNoSecrets: --help prints every flag's default, and the
// defaults of --store, --blob and --external-connections come from the
// environment, where they may hold passwords.
func TestHelpShowsNoSecrets(t *testing.T) {
	t.Setenv("WHARF_STORE", "postgres://wharf:STORESECRET@127.0.0.1:5432/wharf")
	t.Setenv("WHARF_BLOB", "s3://bucket?endpoint=http://u:BLOBSECRET@127.0.0.1:1")
	t.Setenv("WHARF_EXTERNAL_CONNECTIONS", "public:pypi=http://u:CONNSECRET@127.0.0.1:1/simple/")
	var out, errOut strings.Builder
	if code := serve([]string{"--help"}, &out, &errOut); code != 0 {
		t.Fatalf("serve --help exited %d: %s%s", code, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "-store") {
		t.Fatalf("--help did not list the flags: %s", out.String())
	}
	for _, secret := range []string{"STORESECRET", "BLOBSECRET", "CONNSECRET"} {
		if strings.Contains(out.String(), secret) {
			t.Errorf("--help shows %s:\n%s", secret, out.String())
		}
	}
}
