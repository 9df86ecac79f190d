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
	UpstreamNegativeTTL string            `toml:"upstream_negative_ttl"`
	UpstreamMissLimit   string            `toml:"upstream_miss_limit"`
	UpstreamTimeout     string            `toml:"upstream_timeout"`
	SweepInterval       string            `toml:"sweep_interval"`
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
			return fc, fmt.Errorf("configuration file %s: unknown keys %s; known keys: listen, data_dir, store, blob, public_url, region, log_level, account_id, upstream_ttl, upstream_negative_ttl, upstream_miss_limit, upstream_timeout, sweep_interval, [external_connections]", path, strings.Join(keys, ", "))
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

func positiveDuration(flagName, v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s: %q is not a positive duration such as 30s, 10m or 3h", flagName, v)
	}
	return d, nil
}

func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

func formatConnections(m map[string]string) string {
	var parts []string
	for k, v := range m {
		parts = append(parts, k+"="+v)
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// serveEnvOnly lists the settings with no flag: secrets, read only from the
// environment so they never show up in a process listing or a file.
const serveEnvOnly = `
Settings read only from the environment (secrets never come from flags or files):
  WHARF_ROOT_ACCESS_KEY_ID, WHARF_ROOT_SECRET_ACCESS_KEY
        the administrator's credentials (both or neither; default: generated at
        first start, printed once, kept in <data-dir>/root-credentials, mode 0600)
  WHARF_ACCOUNT_ID
        the 12-digit account id in ARNs and endpoints (also account_id in --config;
        default: generated at first start and kept in the metadata store)
  WHARF_MASTER_KEY
        the key sealing access keys' secrets at rest (default: generated into
        <data-dir>/master.key); every replica needs the same one
  WHARF_S3_ACCESS_KEY_ID, WHARF_S3_SECRET_ACCESS_KEY
        credentials for an s3:// --blob (default: the AWS credential chain)
  WHARF_EXTERNAL_CONNECTION_<NAME>_USERNAME, ..._PASSWORD, ..._HEADER
        credentials an external connection sends to its own origin; <NAME> is the
        connection name upper-cased with every other character as '_'
        (public:pypi -> PUBLIC_PYPI); _PASSWORD_FILE and _HEADER_FILE read a file
`

func serve(args []string, stdout, stderr io.Writer) int {
	cfgFile := configPath(args)
	fc, err := loadFileConfig(cfgFile)
	if err != nil {
		fmt.Fprintln(stderr, "wharf serve:", err)
		return 2
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg server.Config
	var connections, ttl, negativeTTL, missLimit, timeout, sweep, bodyIdle string
	fs.String("config", cfgFile, "TOML configuration file; flags and WHARF_* variables override it (WHARF_CONFIG)")
	fs.StringVar(&cfg.Listen, "listen", setting("WHARF_LISTEN", fc.Listen, server.DefaultListen), "address to listen on (WHARF_LISTEN)")
	fs.StringVar(&cfg.DataDir, "data-dir", setting("WHARF_DATA_DIR", fc.DataDir, server.DefaultDataDir()), "where metadata and files live (WHARF_DATA_DIR)")
	fs.StringVar(&cfg.Store, "store", "", "metadata store: sqlite:///path/wharf.db or postgres://user:pass@host/db (WHARF_STORE; default sqlite://<data-dir>/wharf.db)")
	fs.StringVar(&cfg.Blob, "blob", "", "blob store: file:///dir or s3://bucket?endpoint=URL&region=R&use_path_style=true (WHARF_BLOB; default file://<data-dir>/blobs; S3 credentials from WHARF_S3_ACCESS_KEY_ID/WHARF_S3_SECRET_ACCESS_KEY or the AWS chain)")
	fs.StringVar(&cfg.PublicURL, "public-url", setting("WHARF_PUBLIC_URL", fc.PublicURL, ""), "base URL clients reach; endpoints are built under it (WHARF_PUBLIC_URL; default http://<listen>)")
	fs.StringVar(&cfg.Region, "region", setting("WHARF_REGION", fc.Region, "us-east-1"), "region shown in ARNs (WHARF_REGION)")
	fs.StringVar(&cfg.LogLevel, "log-level", setting("WHARF_LOG_LEVEL", fc.LogLevel, "info"), "debug, info, warn or error (WHARF_LOG_LEVEL)")
	// Its default is not shown by --help (it may hold a password): it is
	// read after parsing when the flag is not given.
	fs.StringVar(&connections, "external-connections", "",
		"where external connections fetch from, NAME=URL,... e.g. public:pypi=http://mirror/simple/ (WHARF_EXTERNAL_CONNECTIONS; default: the public registries; credentials: WHARF_EXTERNAL_CONNECTION_<NAME>_USERNAME/_PASSWORD or _HEADER)")
	fs.StringVar(&ttl, "upstream-ttl", setting("WHARF_UPSTREAM_TTL", fc.UpstreamTTL, upstream.DefaultConfig.TTL.String()), "how long an upstream index page is used before asking again (WHARF_UPSTREAM_TTL)")
	fs.StringVar(&negativeTTL, "upstream-negative-ttl", setting("WHARF_UPSTREAM_NEGATIVE_TTL", fc.UpstreamNegativeTTL, upstream.DefaultConfig.NegativeTTL.String()), "how long an upstream's \"no such package\" is believed before asking again (WHARF_UPSTREAM_NEGATIVE_TTL)")
	fs.StringVar(&missLimit, "upstream-miss-limit", setting("WHARF_UPSTREAM_MISS_LIMIT", fc.UpstreamMissLimit, upstream.DefaultConfig.MissLimit.Spec()),
		"how many uncached index pages one principal may have fetched from upstreams, N/DURATION, 0 for no limit; past it, 429 (WHARF_UPSTREAM_MISS_LIMIT)")
	fs.StringVar(&timeout, "upstream-timeout", setting("WHARF_UPSTREAM_TIMEOUT", fc.UpstreamTimeout, upstream.DefaultConfig.Timeout.String()), "how long to wait for an upstream to answer (WHARF_UPSTREAM_TIMEOUT)")
	fs.StringVar(&sweep, "sweep-interval", setting("WHARF_SWEEP_INTERVAL", fc.SweepInterval, server.DefaultSweepInterval.String()), "how often leftovers of killed uploads are removed while running (WHARF_SWEEP_INTERVAL)")
	fs.StringVar(&bodyIdle, "body-idle-timeout", setting("WHARF_BODY_IDLE_TIMEOUT", fc.BodyIdleTimeout, server.DefaultBodyIdleTimeout.String()), "cut a request body (upload) that sends nothing for this long (WHARF_BODY_IDLE_TIMEOUT)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: wharf serve [flags]\n\nFlags (each also read from the WHARF_* variable named, then from --config):\n")
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), serveEnvOnly)
	}
	if code, ok := parse(fs, args, stdout, stderr); !ok {
		return code
	}
	// Like the connections, --store and --blob may hold a password: their
	// defaults are read after parsing so --help never prints them.
	if !flagGiven(fs, "store") {
		cfg.Store = setting("WHARF_STORE", fc.Store, "")
	}
	if !flagGiven(fs, "blob") {
		cfg.Blob = setting("WHARF_BLOB", fc.Blob, "")
	}
	if !flagGiven(fs, "external-connections") {
		connections = setting("WHARF_EXTERNAL_CONNECTIONS", formatConnections(fc.ExternalConnections), "")
	}
	urls, err := parseConnections(connections)
	if err == nil {
		cfg.ExternalConnections, err = connectionConfig(urls, os.Environ())
	}
	if err == nil {
		cfg.UpstreamTTL, err = positiveDuration("--upstream-ttl", ttl)
	}
	if err == nil {
		cfg.UpstreamNegativeTTL, err = positiveDuration("--upstream-negative-ttl", negativeTTL)
	}
	if err == nil {
		cfg.UpstreamTimeout, err = positiveDuration("--upstream-timeout", timeout)
	}
	if err == nil {
		if cfg.UpstreamMissLimit, err = upstream.ParseRate(missLimit); err != nil {
			err = fmt.Errorf("--upstream-miss-limit: %w", err)
		}
	}
	if err == nil {
		cfg.SweepInterval, err = positiveDuration("--sweep-interval", sweep)
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
