package clients

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadmePointTheClients runs the README's "Point the aws CLI, twine,
// pip and uv at it" block as a new user would paste it, against a first
// start with generated credentials in the default data directory: every
// line must work as written (only the port differs), so the README cannot
// drift from what wharf does.
func TestReadmePointTheClients(t *testing.T) {
	t.Parallel()
	block := readmeBlock(t, "## Point the aws CLI, twine, pip and uv at it")
	c := newClientEnv(t, nil)
	dataDir := filepath.Join(c.Home, ".local", "share", "wharf-data") // the default under this HOME
	srv := startServer(t, serverConfig{DataDir: dataDir, Unset: []string{"WHARF_ROOT_ACCESS_KEY_ID", "WHARF_ROOT_SECRET_ACCESS_KEY"}})
	c.srv = srv
	buildProject(t, c, c.Work, map[string]string{
		"pyproject.toml": "[build-system]\nrequires = [\"flit_core>=3.2,<4\"]\nbuild-backend = \"flit_core.buildapi\"\n\n" +
			"[project]\nname = \"my-package\"\nversion = \"1.0\"\ndescription = \"d\"\n",
		"my_package/__init__.py": "",
	})
	script := "set -euo pipefail\n" + strings.ReplaceAll(block, "http://127.0.0.1:8080", srv.URL) +
		"\npython3 -c 'import my_package' && echo README-BLOCK-OK\n"
	// A new user's shell: no credentials, no endpoint; pip installs into a
	// virtual environment of the image's Python (what `pip` is on PATH).
	venv := filepath.Join(c.Work, "venv")
	c.must(nil, need(t, "python3"), "-m", "venv", venv)
	r := c.run([]string{"AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_DEFAULT_REGION=",
		"PATH=" + filepath.Join(venv, "bin") + ":" + c.env["PATH"], "PIP_NO_INDEX="}, "bash", "-c", script)
	if r.Code != 0 || !strings.Contains(r.Stdout, "README-BLOCK-OK") {
		t.Fatalf("the README block fails when pasted:\n%s", r)
	}
}

// readmeBlock returns the first ```sh block after heading.
func readmeBlock(t *testing.T, heading string) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "\n"+heading+"\n")
	if !ok {
		t.Fatalf("README.md has no heading %q", heading)
	}
	_, rest, ok = strings.Cut(rest, "```sh\n")
	block, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatalf("no ```sh block under %q", heading)
	}
	return block
}
