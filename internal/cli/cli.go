// Package cli implements wharf's subcommands.
package cli

import (
	"fmt"
	"io"
)

// Version is set at build time with -ldflags "-X .../internal/cli.Version=...".
var Version = "dev"

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
		return serve(args[1:], stderr)
	case "token":
		return token(args[1:], stdout, stderr)
	case "login":
		return login(args[1:], stdout, stderr)
	case "doctor":
		return doctorCmd(args[1:], stdout, stderr)
	case "admin":
		return admin(args[1:], stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "wharf", Version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "wharf: unknown command %q\n\n%s", args[0], usage)
	return 2
}
