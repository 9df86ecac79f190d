// Package cli implements wharf's subcommands.
package cli

import (
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// Version may be set at build time with -ldflags "-X .../internal/cli.Version=...";
// otherwise versionLine reads what Go embedded in the build.
var Version = ""

// versionLine names this build: the module version Go stamps (a tag, or a
// pseudo-version such as v0.0.0-20261204171500-5b25bc2cd0a1 for a commit of
// a checkout), and the VCS revision, its time, and "+modified" when the
// checkout had uncommitted changes. `go run` stamps no revision; it says so.
func versionLine() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "wharf " + orUnknown(Version)
	}
	v := Version
	if v == "" {
		v = info.Main.Version
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	line := []string{"wharf", orUnknown(v)}
	if rev := settings["vcs.revision"]; rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if settings["vcs.modified"] == "true" {
			rev += "+modified"
		}
		line = append(line, "revision "+rev)
		if t := settings["vcs.time"]; t != "" {
			line = append(line, "("+t+")")
		}
	} else {
		line = append(line, "(no VCS revision stamped: go run, or GOFLAGS=-buildvcs=false; go build -buildvcs=true ./cmd/wharf stamps one)")
	}
	return strings.Join(append(line, info.GoVersion), " ")
}

func orUnknown(s string) string {
	if s == "" || s == "(devel)" {
		return "(devel)"
	}
	return s
}

const usage = `wharf: a self-hosted package repository that speaks the AWS CodeArtifact API

Usage:
  wharf serve [flags]     run the server (wharf serve -h lists its flags)
  wharf token --domain D  print an authorization token (bare; --json for the JSON document)
  wharf login --tool T --domain D --repository R
                          configure pip, twine, uv, poetry, pdm or npm for a repository
  wharf doctor            explain why pip, uv, poetry, pdm, twine or npm will be refused
  wharf admin ...         create, list and delete access keys (wharf admin -h)
  wharf version           print the version
`

// Main runs the command line and returns the process exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stdout, stderr)
	case "token":
		return token(args[1:], stdout, stderr)
	case "login":
		return login(args[1:], stdout, stderr)
	case "doctor":
		return doctorCmd(args[1:], stdout, stderr)
	case "admin":
		return admin(args[1:], stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, versionLine())
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "wharf: unknown command %q\n\n%s", args[0], usage)
	return 2
}
