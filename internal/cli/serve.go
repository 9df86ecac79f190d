package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/wharfhq/wharf/internal/server"
	"github.com/wharfhq/wharf/internal/upstream"
)

// fileConfig is the configuration file (--config / WHARF_CONFIG, TOML). Its
// keys are the flag names with '_' for '-'. Secrets are not read from it.
type fileConfig struct {
	Listen              string            `toml:"listen"`
	DataDir             string            `toml:"data_dir"`
	Store               string            `toml:"store"`
	Blob                string            `toml:"blob"`
	PublicURL           string            `toml:"public_url"`
	Region              string            `toml:"region"`
	LogLevel            string            `toml:"log_level"`
	AccountID           string            `toml:"account_id"`
	ExternalConnections map[string]string `toml:"external_connections"`
	UpstreamTTL         string            `toml:"upstream_ttl"`
	UpstreamTimeout     string            `toml:"upstream_timeout"`
	BodyIdleTimeout     string            `toml:"body_idle_timeout"`
}

func loadFileConfig(path string) (fileConfig, error) {
	var fc fileConfig
	if path == "" {
		return fc, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fc, fmt.Errorf("read the configuration file: %w", err)
	}
	dec := toml.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fc); err != nil {
		var strict *toml.StrictMissingError
		if errors.As(err, &strict) {
			var keys []string
			for _, e := range strict.Errors {
				keys = append(keys, strings.Join(e.Key(), "."))
			}
			return fc, fmt.Errorf("configuration file %s: unknown keys %s; known keys: listen, data_dir, store, blob, public_url, region, log_level, account_id, upstream_ttl, upstream_timeout, [external_connections]", path, strings.Join(keys, ", "))
		}
		return fc, fmt.Errorf("configuration file %s: %w", path, err)
	}
	return fc, nil
}

// setting applies the precedence below flags: environment, then the
// configuration file, then the built-in default.
func setting(envName, fromFile, builtin string) string {
	if v, ok := os.LookupEnv(envName); ok {
		return v
	}
	if fromFile != "" {
		return fromFile
	}
	return builtin
}

// configPath finds --config before the other flags are defined, because
// the file supplies their defaults.
func configPath(args []string) string {
	for i, a := range args {
		a = strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		if v, ok := strings.CutPrefix(a, "config="); ok {
			return v
		}
		if a == "config" && i+1 < len(args) {
			return args[i+1]
		}
	}
	return os.Getenv("WHARF_CONFIG")
}

// parseConnections reads "public:pypi=URL,public:npmjs=URL".
func parseConnections(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, url, ok := strings.Cut(item, "=")
		if !ok || name == "" || url == "" {
			return nil, fmt.Errorf("WHARF_EXTERNAL_CONNECTIONS: %q is not NAME=URL (e.g. public:pypi=http://mirror/simple/)", item)
		}
		out[strings.TrimSpace(name)] = strings.TrimSpace(url)
	}
	return out, nil
}

func positiveDuration(flagName, v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s: %q is not a positive duration such as 30s, 10m or 3h", flagName, v)
	}
	return d, nil
}

func formatConnections(m map[string]string) string {
	var parts []string
	for k, v := range m {
		parts = append(parts, k+"="+v)
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func serve(args []string, stderr io.Writer) int {
	cfgFile := configPath(args)
	fc, err := loadFileConfig(cfgFile)
	if err != nil {
		fmt.Fprintln(stderr, "wharf serve:", err)
		return 2
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg server.Config
	var connections, ttl, timeout, bodyIdle string
	fs.String("config", cfgFile, "TOML configuration file; flags and WHARF_* variables override it (WHARF_CONFIG)")
	fs.StringVar(&cfg.Listen, "listen", setting("WHARF_LISTEN", fc.Listen, server.DefaultListen), "address to listen on (WHARF_LISTEN)")
	fs.StringVar(&cfg.DataDir, "data-dir", setting("WHARF_DATA_DIR", fc.DataDir, server.DefaultDataDir()), "where metadata and files live (WHARF_DATA_DIR)")
	fs.StringVar(&cfg.Store, "store", setting("WHARF_STORE", fc.Store, ""), "metadata store: sqlite:///path/wharf.db or postgres://user:pass@host/db (WHARF_STORE; default sqlite://<data-dir>/wharf.db)")
	fs.StringVar(&cfg.Blob, "blob", setting("WHARF_BLOB", fc.Blob, ""), "blob store: file:///dir or s3://bucket?endpoint=URL&region=R&use_path_style=true (WHARF_BLOB; default file://<data-dir>/blobs; S3 credentials from WHARF_S3_ACCESS_KEY_ID/WHARF_S3_SECRET_ACCESS_KEY or the AWS chain)")
	fs.StringVar(&cfg.PublicURL, "public-url", setting("WHARF_PUBLIC_URL", fc.PublicURL, ""), "base URL clients reach; endpoints are built under it (WHARF_PUBLIC_URL; default http://<listen>)")
	fs.StringVar(&cfg.Region, "region", setting("WHARF_REGION", fc.Region, "us-east-1"), "region shown in ARNs (WHARF_REGION)")
	fs.StringVar(&cfg.LogLevel, "log-level", setting("WHARF_LOG_LEVEL", fc.LogLevel, "info"), "debug, info, warn or error (WHARF_LOG_LEVEL)")
	fs.StringVar(&connections, "external-connections", setting("WHARF_EXTERNAL_CONNECTIONS", formatConnections(fc.ExternalConnections), ""),
		"where external connections fetch from, NAME=URL,... e.g. public:pypi=http://mirror/simple/ (WHARF_EXTERNAL_CONNECTIONS; default: the public registries)")
	fs.StringVar(&ttl, "upstream-ttl", setting("WHARF_UPSTREAM_TTL", fc.UpstreamTTL, upstream.DefaultConfig.TTL.String()), "how long an upstream index page is used before asking again (WHARF_UPSTREAM_TTL)")
	fs.StringVar(&timeout, "upstream-timeout", setting("WHARF_UPSTREAM_TIMEOUT", fc.UpstreamTimeout, upstream.DefaultConfig.Timeout.String()), "how long to wait for an upstream to answer (WHARF_UPSTREAM_TIMEOUT)")
	fs.StringVar(&bodyIdle, "body-idle-timeout", setting("WHARF_BODY_IDLE_TIMEOUT", fc.BodyIdleTimeout, server.DefaultBodyIdleTimeout.String()), "cut a request body (upload) that sends nothing for this long (WHARF_BODY_IDLE_TIMEOUT)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "wharf serve: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if cfg.ExternalConnections, err = parseConnections(connections); err != nil {
		fmt.Fprintln(stderr, "wharf serve:", err)
		return 2
	}
	if cfg.UpstreamTTL, err = positiveDuration("--upstream-ttl", ttl); err == nil {
		cfg.UpstreamTimeout, err = positiveDuration("--upstream-timeout", timeout)
	}
	if err == nil {
		cfg.BodyIdleTimeout, err = positiveDuration("--body-idle-timeout", bodyIdle)
	}
	if err != nil {
		fmt.Fprintln(stderr, "wharf serve:", err)
		return 2
	}
	// Secrets come from the environment only, so they never show up in a
	// process listing or a configuration file.
	cfg.AccountID = setting("WHARF_ACCOUNT_ID", fc.AccountID, "")
	cfg.RootAccessKeyID = os.Getenv("WHARF_ROOT_ACCESS_KEY_ID")
	cfg.RootSecretAccessKey = os.Getenv("WHARF_ROOT_SECRET_ACCESS_KEY")
	cfg.MasterKey = os.Getenv("WHARF_MASTER_KEY")

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
