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
}
