// Package cli implements wharf's subcommands.
package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/wharfhq/wharf/internal/server"
)

// Version is set at build time with -ldflags "-X .../internal/cli.Version=...".
var Version = "dev"

const usage = `wharf: a self-hosted package repository that speaks the AWS CodeArtifact API

Usage:
  wharf serve [flags]     run the server (wharf serve -h lists its flags)
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

// env returns the WHARF_ variable for a flag, or def.
func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func serve(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg server.Config
	fs.StringVar(&cfg.Listen, "listen", env("WHARF_LISTEN", server.DefaultListen), "address to listen on (WHARF_LISTEN)")
	fs.StringVar(&cfg.DataDir, "data-dir", env("WHARF_DATA_DIR", server.DefaultDataDir()), "where metadata and files live (WHARF_DATA_DIR)")
	fs.StringVar(&cfg.PublicURL, "public-url", env("WHARF_PUBLIC_URL", ""), "base URL clients reach; endpoints are built under it (WHARF_PUBLIC_URL; default http://<listen>)")
	fs.StringVar(&cfg.Region, "region", env("WHARF_REGION", "us-east-1"), "region shown in ARNs (WHARF_REGION)")
	fs.StringVar(&cfg.LogLevel, "log-level", env("WHARF_LOG_LEVEL", "info"), "debug, info, warn or error (WHARF_LOG_LEVEL)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "wharf serve: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	// Secrets and the account id come from the environment only, so they
	// never show up in a process listing.
	cfg.AccountID = os.Getenv("WHARF_ACCOUNT_ID")
	cfg.RootAccessKeyID = os.Getenv("WHARF_ROOT_ACCESS_KEY_ID")
	cfg.RootSecretAccessKey = os.Getenv("WHARF_ROOT_SECRET_ACCESS_KEY")

	var level slog.Level
	if err := level.UnmarshalText([]byte(strings.ToLower(cfg.LogLevel))); err != nil {
		fmt.Fprintf(stderr, "wharf serve: --log-level: %v\n", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := server.New(ctx, cfg, log)
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	if err := srv.Run(ctx); err != nil {
		log.Error("server stopped with an error", "err", err)
		return 1
	}
	return 0
}
