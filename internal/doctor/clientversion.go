package doctor

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ClientVersion is the version of a client a user will run: the binary
// that comes first on PATH, as the user's shell would find it. Config files
// mean different things to different versions (poetry 1.3 refuses the
// `priority` key that poetry 2 requires; pdm before 2.5 ignores the
// credentials in its config file), so login and doctor both ask.
type ClientVersion struct {
	Tool    string `json:"tool"`
	Version string `json:"version"`        // as the client prints it, e.g. "1.3.2"
	Path    string `json:"path,omitempty"` // the binary; "" when given by the user
	parts   [3]int
}

// String is how reports name the client: "poetry 1.3.2 (/usr/bin/poetry)".
func (v ClientVersion) String() string {
	if v.Path == "" {
		return v.Tool + " " + v.Version
	}
	return fmt.Sprintf("%s %s (%s)", v.Tool, v.Version, v.Path)
}

// Before reports whether the version is older than major.minor.
func (v ClientVersion) Before(major, minor int) bool {
	return v.parts[0] < major || v.parts[0] == major && v.parts[1] < minor
}

var versionNumber = regexp.MustCompile(`\b(\d+)\.(\d+)(?:\.(\d+))?`)

// ParseClientVersion reads the first dotted number in text (a client's
// --version output: "Poetry (version 1.3.2)", "PDM, version 2.2.1",
// "pip 23.2.1 from ...", "twine version 4.0.2 (...)", or a bare "2.5").
func ParseClientVersion(tool, text string) (ClientVersion, error) {
	m := versionNumber.FindStringSubmatch(text)
	if m == nil {
		return ClientVersion{}, fmt.Errorf("no version number in %q", strings.TrimSpace(firstLine(text)))
	}
	v := ClientVersion{Tool: tool, Version: strings.TrimSuffix(m[0], ".")}
	for i := range 3 {
		v.parts[i], _ = strconv.Atoi(m[i+1])
	}
	return v, nil
}

func firstLine(s string) string { l, _, _ := strings.Cut(strings.TrimSpace(s), "\n"); return l }

var installed sync.Map // tool -> installedResult: one `--version` per process

type installedResult struct {
	v   ClientVersion
	err error
}

// InstalledVersion runs `<tool> --version` for the tool first on PATH.
// The error says whether it is missing or did not answer.
func InstalledVersion(ctx context.Context, tool string) (ClientVersion, error) {
	if r, ok := installed.Load(tool); ok {
		return r.(installedResult).v, r.(installedResult).err
	}
	v, err := runVersion(ctx, tool)
	installed.Store(tool, installedResult{v, err})
	return v, err
}

func runVersion(ctx context.Context, tool string) (ClientVersion, error) {
	path, err := exec.LookPath(tool)
	if err != nil {
		return ClientVersion{}, fmt.Errorf("%s is not on PATH", tool)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second) // poetry takes a second or two to start
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "--version")
	cmd.Env = append(cmd.Environ(), "NO_COLOR=1", "PDM_CHECK_UPDATE=false", "PIP_DISABLE_PIP_VERSION_CHECK=1")
	out, err := cmd.Output()
	if err != nil {
		return ClientVersion{}, fmt.Errorf("`%s --version` failed: %v", path, err)
	}
	v, err := ParseClientVersion(tool, string(out))
	if err != nil {
		return ClientVersion{}, fmt.Errorf("`%s --version`: %v", path, err)
	}
	v.Path = path
	return v, nil
}
