// Package server assembles Wharf: storage, the registry core, the control
// plane, the data planes and the HTTP listener with its middleware.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/wharfhq/wharf/internal/api"
	"github.com/wharfhq/wharf/internal/auth"
	"github.com/wharfhq/wharf/internal/blob"
	"github.com/wharfhq/wharf/internal/format/generic"
	"github.com/wharfhq/wharf/internal/format/pypi"
	"github.com/wharfhq/wharf/internal/policy"
	"github.com/wharfhq/wharf/internal/registry"
	"github.com/wharfhq/wharf/internal/secrets"
	"github.com/wharfhq/wharf/internal/sigv4"
	"github.com/wharfhq/wharf/internal/store"
	"github.com/wharfhq/wharf/internal/upstream"
)

// Server is a configured, not yet listening, wharf.
type Server struct {
	cfg       Config
	log       *slog.Logger
	store     store.Store
	blobs     blob.Store
	reg       *registry.Registry
	tokens    *auth.Keyring
	root      rootCredentials
	accountID string
	pypi      *pypi.Handler
	generic   *generic.Handler
	api       *api.API
	listener  net.Listener // opened by New, served by Run
	publicURL string       // the base URL clients reach, known once listening
	ready     chan struct{}
	secrets   *secrets.Box       // seals access keys' secrets at rest
	verifier  *sigv4.Verifier    // SigV4 for the control plane and the admin endpoint
	authz     *policy.Authorizer // permission policies, for both planes
	reads     *readMemo          // data-plane reads already allowed
	upstream  *upstream.Client   // external connections' fetches and page cache
	revoked   *revocationSet     // token revocations, checked on every data-plane request
}

// New opens the storage and prepares every component.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*Server, error) {
	if cfg.Listen == "" {
		cfg.Listen = DefaultListen
	}
	if cfg.DataDir == "" {
		cfg.DataDir = DefaultDataDir()
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.SweepInterval <= 0 {
		cfg.SweepInterval = DefaultSweepInterval
	}
	if cfg.BodyIdleTimeout <= 0 {
		cfg.BodyIdleTimeout = DefaultBodyIdleTimeout
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	// Listen before anything is generated: a first start that fails on a
	// port already taken must not create administrator credentials it would
	// then never show.
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w (another wharf, or another program, is using it: stop it or pass --listen)", cfg.Listen, err)
	}
	st, err := openStore(ctx, cfg.storeURL())
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("open metadata store: %w", err)
	}
	blobs, err := openBlobs(ctx, cfg.blobURL())
	if err != nil {
		ln.Close()
		st.Close()
		return nil, fmt.Errorf("open blob store: %w", err)
	}
	s := &Server{cfg: cfg, log: log, store: st, blobs: blobs, listener: ln, ready: make(chan struct{})}
	fail := func(err error) (*Server, error) { ln.Close(); st.Close(); return nil, err }
	if s.accountID, err = accountID(ctx, st, cfg.AccountID); err != nil {
		return fail(err)
	}
	if s.root, err = loadRootCredentials(cfg.DataDir, cfg.RootAccessKeyID, cfg.RootSecretAccessKey); err != nil {
		return fail(err)
	}
	if s.tokens, err = tokenKeyring(ctx, st); err != nil {
		return fail(err)
	}
	var masterKey string
	if s.secrets, masterKey, err = openSecrets(cfg.DataDir, cfg.MasterKey); err != nil {
		return fail(err)
	}
	log.Info("access key secrets are encrypted at rest", "master_key", masterKey)
	if err := checkMasterKey(ctx, st, s.secrets); err != nil {
		log.Error("access keys unusable", "err", err) // the root key still works: let the administrator in
	}
	s.reg = registry.New(st, blobs, log, pypi.Format{}, generic.Format{})
	if !strings.HasPrefix(cfg.storeURL(), "sqlite://") {
		// Other replicas write to this store: each request first reads
		// what they changed (see synced), so that what this one caches
		// never outlives their writes.
		if err := s.reg.ShareStore(ctx); err != nil {
			return fail(fmt.Errorf("read the change feed: %w", err))
		}
	}
	// Policies are read from memory, invalidated by writes (no I/O per request).
	s.authz = &policy.Authorizer{Store: s.reg.PolicyReader()}
	s.reads = &readMemo{policies: s.reg.PolicyReader()}
	s.revoked = &revocationSet{reg: s.reg, store: st}
	s.upstream = upstream.New(upstream.Config{TTL: cfg.UpstreamTTL, NegativeTTL: cfg.UpstreamNegativeTTL,
		MissLimit: cfg.UpstreamMissLimit, Timeout: cfg.UpstreamTimeout}, st, log)
	if err := s.reg.UseUpstreams(s.upstream, cfg.ExternalConnections); err != nil {
		return fail(err)
	}
	for _, name := range slices.Sorted(maps.Keys(registry.ExternalConnections)) {
		c, configured := cfg.ExternalConnections[name] // URL and credentials print redacted
		if !configured || c.URL.IsZero() {
			log.Info("external connection", "name", name, "url", registry.ExternalConnections[name].DefaultURL, "source", "default", "credentials", c.Auth)
			continue
		}
		log.Info("external connection", "name", name, "url", c.URL, "source", "configured", "credentials", c.Auth)
	}
	s.pypi = pypi.NewHandler(s.reg, log)
	s.generic = generic.NewHandler(s.reg, log)
	return s, nil
}

// Run listens until ctx is cancelled, then shuts down gracefully.
func (s *Server) Run(ctx context.Context) error {
	defer s.store.Close()
	ln := s.listener
	publicURL := s.cfg.publicURL(ln.Addr())
	s.publicURL = publicURL
	rootARN := fmt.Sprintf("arn:aws:iam::%s:root", s.accountID)
	s.verifier = &sigv4.Verifier{Service: "codeartifact", Lookup: s.lookup(rootARN)}
	var err error
	s.api, err = api.New(s.reg, api.Config{
		AccountID: s.accountID, Region: s.cfg.Region, PublicURL: publicURL,
		Tokens: s.tokens, Verifier: s.verifier, Authz: s.authz, Log: s.log,
	})
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           requestMiddleware(s.routes(), s.cfg.BodyIdleTimeout, MinBodyProgress),
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.announce(ln.Addr(), publicURL)
	sweepCtx, stopSweeping := context.WithCancel(ctx)
	swept := s.startSweeper(sweepCtx, s.cfg.SweepInterval)
	defer func() { stopSweeping(); <-swept }() // before the store closes
	close(s.ready)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	pruneCtx, stopPruning := context.WithCancel(ctx)
	defer stopPruning()
	go s.upstream.RunPruner(pruneCtx) // bounds the upstream page cache
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down: finishing requests in flight (up to 30s)")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	s.log.Info("stopped")
	return nil
}

// announce says where wharf listens, where its data lives and how to point
// the aws CLI at it. A generated secret is shown this once only.
func (s *Server) announce(addr net.Addr, publicURL string) {
	s.log.Info("wharf is listening", "listen", addr.String(), "public_url", publicURL)
	s.log.Info("data", "dir", s.cfg.DataDir, "metadata", redactURL(s.cfg.storeURL()), "blobs", redactURL(s.cfg.blobURL()))
	s.log.Info("account", "id", s.accountID, "root_access_key_id", s.root.AccessKeyID)
	// Paste-ready: the secret comes from where it lives (the file, or the
	// variable the server was started with), never printed again.
	secret := `"$WHARF_ROOT_SECRET_ACCESS_KEY"   # the secret wharf was started with`
	if s.root.File != "" {
		secret = `"$(cut -d: -f2- ` + shellQuote(s.root.File) + `)"`
	}
	fmt.Fprintf(os.Stderr, "\nPoint the aws CLI and wharf's own commands at this server (paste these lines):\n"+
		"  export AWS_ACCESS_KEY_ID=%s\n  export AWS_SECRET_ACCESS_KEY=%s\n  export AWS_DEFAULT_REGION=%s\n"+
		"  export AWS_ENDPOINT_URL_CODEARTIFACT=%s\n  aws codeartifact list-domains\n\n",
		s.root.AccessKeyID, secret, s.cfg.Region, publicURL)
	if s.root.Generated {
		fmt.Fprintf(os.Stderr, "Generated administrator credentials (shown once; kept in %s, mode 0600):\n  AWS_ACCESS_KEY_ID=%s\n  AWS_SECRET_ACCESS_KEY=%s\n\n", s.root.File, s.root.AccessKeyID, s.root.Secret)
	}
}

// shellQuote quotes a path for a POSIX shell.
func shellQuote(p string) string {
	if strings.Trim(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-") == "" {
		return p
	}
	return "'" + strings.ReplaceAll(p, "'", `'\''`) + "'"
}

// Ready is closed once the server accepts requests.
func (s *Server) Ready() <-chan struct{} { return s.ready }
