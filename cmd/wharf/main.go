// Command wharf is a self-hosted package repository that speaks the AWS
// CodeArtifact API. See README.md.
package main

import (
	"os"

	"github.com/wharfhq/wharf/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
