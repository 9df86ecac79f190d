package server

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/wharfhq/wharf/internal/upstream"
)

// Config is everything `wharf serve` is told. Names follow the public
// contract: flag --x-y <-> environment WHARF_X_Y.
type Config struct {
	Listen              string // --listen, WHARF_LISTEN
	DataDir             string // --data-dir, WHARF_DATA_DIR
	Store               string // --store, WHARF_STORE: sqlite://PATH or postgres://...
	Blob                string // --blob, WHARF_BLOB: file://DIR or s3://BUCKET?endpoint=...
	PublicURL           string // --public-url, WHARF_PUBLIC_URL
	AccountID           string // WHARF_ACCOUNT_ID
	RootAccessKeyID     string // WHARF_ROOT_ACCESS_KEY_ID
	RootSecretAccessKey string // WHARF_ROOT_SECRET_ACCESS_KEY
	MasterKey           string // WHARF_MASTER_KEY: seals access keys' secrets; empty: <data-dir>/master.key
	Region              string // --region, WHARF_REGION (used in ARNs)
	LogLevel            string // --log-level, WHARF_LOG_LEVEL
	// ExternalConnections configures connections by name: the URL they
	// fetch from (--external-connections, WHARF_EXTERNAL_CONNECTIONS) and
	// credentials (WHARF_EXTERNAL_CONNECTION_<NAME>_*). Both print redacted.
	ExternalConnections map[string]upstream.Connection
	UpstreamTTL         time.Duration // --upstream-ttl, WHARF_UPSTREAM_TTL
	UpstreamNegativeTTL time.Duration // --upstream-negative-ttl, WHARF_UPSTREAM_NEGATIVE_TTL
	UpstreamMissLimit   upstream.Rate // --upstream-miss-limit, WHARF_UPSTREAM_MISS_LIMIT
	UpstreamTimeout     time.Duration // --upstream-timeout, WHARF_UPSTREAM_TIMEOUT
	// SweepInterval is how often leftovers of killed uploads are removed
	// while running (--sweep-interval, WHARF_SWEEP_INTERVAL; sweep.go).
	SweepInterval time.Duration
	// BodyIdleTimeout cuts a request body that sends nothing for this
	// long (--body-idle-timeout, WHARF_BODY_IDLE_TIMEOUT; 0: DefaultBodyIdleTimeout).
	BodyIdleTimeout time.Duration
}

// DefaultListen is where wharf listens unless told otherwise.
const DefaultListen = "127.0.0.1:8080"

// DefaultDataDir is "wharf-data" under the user's data directory
// ($XDG_DATA_HOME, else ~/.local/share).
func DefaultDataDir() string {
	base := os.Getenv("XDG_DATA_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "wharf-data"
		}
		base = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(base, "wharf-data")
}

// publicURL is the base URL clients reach, derived from the listen address
// when not configured.
func (c Config) publicURL(actual net.Addr) string {
	if c.PublicURL != "" {
		return strings.TrimRight(c.PublicURL, "/")
	}
	host, port, err := net.SplitHostPort(actual.String())
	if err != nil {
		return "http://" + actual.String()
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
