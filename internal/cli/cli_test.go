package cli

import (
	"strings"
	"testing"
)

// TestHelpExitsZero: asking for help is not an error. Every command's
// -h/--help prints its usage to stdout and exits 0; a wrong flag still
// exits 2 with the usage on stderr.
func TestHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{
		{"--help"}, {"-h"}, {"help"},
		{"serve", "--help"}, {"serve", "-h"},
		{"token", "--help"}, {"login", "--help"}, {"doctor", "--help"},
		{"admin", "--help"}, {"admin", "create-access-key", "--help"},
	} {
		var out, errOut strings.Builder
		code := Main(args, &out, &errOut)
		if code != 0 || !strings.Contains(strings.ToLower(out.String()), "usage") || errOut.Len() != 0 {
			t.Errorf("wharf %s: exit %d, stdout %q, stderr %q; want exit 0 and the usage on stdout only",
				strings.Join(args, " "), code, clipped(out.String()), errOut.String())
		}
	}
	for _, args := range [][]string{{"serve", "--no-such-flag"}, {"login", "--no-such-flag"}, {"doctor", "extra"}} {
		var out, errOut strings.Builder
		if code := Main(args, &out, &errOut); code != 2 || errOut.Len() == 0 || out.Len() != 0 {
			t.Errorf("wharf %s: exit %d, stdout %q, stderr %q; want exit 2 and the complaint on stderr",
				strings.Join(args, " "), code, out.String(), clipped(errOut.String()))
		}
	}
}

// TestServeHelpListsEnvironmentOnlySettings: the secrets have no flag, so
// --help is the one place a newcomer learns their names.
func TestServeHelpListsEnvironmentOnlySettings(t *testing.T) {
	var out, errOut strings.Builder
	serve([]string{"--help"}, &out, &errOut)
	for _, name := range []string{"WHARF_ROOT_ACCESS_KEY_ID", "WHARF_ROOT_SECRET_ACCESS_KEY", "WHARF_ACCOUNT_ID",
		"WHARF_MASTER_KEY", "WHARF_S3_ACCESS_KEY_ID", "WHARF_S3_SECRET_ACCESS_KEY",
		"WHARF_EXTERNAL_CONNECTION_<NAME>_USERNAME", "_PASSWORD", "_HEADER", "WHARF_CONFIG", "WHARF_LISTEN"} {
		if !strings.Contains(out.String(), name) {
			t.Errorf("serve --help does not mention %s:\n%s", name, out.String())
		}
	}
}

// TestVersion: a test binary carries Go's build information, so the line
// names the module version and Go's; never the bare "dev" of old.
func TestVersion(t *testing.T) {
	var out, errOut strings.Builder
	if code := Main([]string{"version"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	line := strings.TrimSpace(out.String())
	if !strings.HasPrefix(line, "wharf ") || !strings.Contains(line, "go1.") || strings.Contains(line, " dev") {
		t.Errorf("wharf version = %q; want the module version and the Go version", line)
	}
}

func clipped(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}
