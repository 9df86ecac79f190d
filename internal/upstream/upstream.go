// Package upstream talks to external registries (PyPI, a mirror, another
// wharf, a static directory) for external connections: bounded HTTP fetches
// with timeouts, a page cache with a time to live that serves stale pages
// when the upstream fails, and request coalescing, so N concurrent requests
// for the same uncached page or file make one upstream request.
//
// It knows no package format: callers pass the URL and a parser.
package upstream

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/wharfhq/wharf/internal/auth"
	"github.com/wharfhq/wharf/internal/store"
)

// Config tunes the client.
type Config struct {
	// TTL is how long a fetched index page is used without asking the
	// upstream again.
	TTL time.Duration
	// NegativeTTL is the same for an upstream's "no such package" (404,
	// 410): short, so a package published upstream shows up soon, and so
	// such answers are pruned soon.
	NegativeTTL time.Duration
	// MaxAge is how long a page is kept past its TTL to stand in when the
	// upstream fails (stale-if-error); MaxPages bounds how many are kept.
	// Prune deletes the rest.
	MaxAge   time.Duration
	MaxPages int
	// MissLimit bounds, per requester, how many index pages that are not
	// fresh in the cache may be asked of upstreams (a token bucket: up to
	// N at once, refilled at N per Per). Zero N: no limit.
	MissLimit Rate
	// Timeout bounds the wait for an upstream's response headers.
	Timeout time.Duration
	// MaxPageBytes bounds an index page.
	MaxPageBytes int64
	// MaxFetch bounds a whole file download (headers to last byte).
	MaxFetch time.Duration
}

// DefaultConfig: AWS rechecks pypi metadata after hours; wharf defaults to
// 30 minutes so new releases show up sooner. A build resolving a large
// dependency tree from a cold cache asks a few hundred pages at once.
var DefaultConfig = Config{
	TTL: 30 * time.Minute, NegativeTTL: 5 * time.Minute,
	MaxAge: 7 * 24 * time.Hour, MaxPages: 100_000,
	MissLimit: Rate{N: 300, Per: time.Minute},
	Timeout:   30 * time.Second, MaxPageBytes: 64 << 20, MaxFetch: time.Hour,
}

// PruneEvery is how often RunPruner prunes the page cache.
const PruneEvery = time.Minute

// Client fetches from upstreams. Safe for concurrent use.
type Client struct {
	cfg    Config
	http   *http.Client
	creds  credentialsByOrigin
	misses *limiter
	store  store.Store
	log    *slog.Logger
	pages  singleflight.Group
	files  singleflight.Group
	now    func() time.Time
}

func New(cfg Config, st store.Store, log *slog.Logger) *Client {
	d := DefaultConfig
	cfg.TTL = cmp.Or(cfg.TTL, d.TTL)
	cfg.NegativeTTL = cmp.Or(cfg.NegativeTTL, min(d.NegativeTTL, cfg.TTL))
	cfg.MaxAge = max(cmp.Or(cfg.MaxAge, d.MaxAge), cfg.TTL)
	cfg.MaxPages = cmp.Or(cfg.MaxPages, d.MaxPages)
	cfg.Timeout = cmp.Or(cfg.Timeout, d.Timeout)
	cfg.MaxPageBytes = cmp.Or(cfg.MaxPageBytes, d.MaxPageBytes)
	cfg.MaxFetch = cmp.Or(cfg.MaxFetch, d.MaxFetch)
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: cfg.Timeout}).DialContext,
		TLSHandshakeTimeout:   cfg.Timeout,
		ResponseHeaderTimeout: cfg.Timeout,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
	}
	c := &Client{cfg: cfg, store: st, log: log, now: time.Now}
	c.http = &http.Client{Transport: &authTransport{base: tr, creds: &c.creds}}
	c.misses = newLimiter(cfg.MissLimit, func() time.Time { return c.now() })
	return c
}

// Error is an upstream failure; its message names the upstream (redacted),
// so the person reading it knows which registry to check.
type Error struct {
	URL     URL
	Status  int  // the upstream's HTTP status, 0 if it did not answer
	Timeout bool // no answer within the configured time
	Err     error
}

func (e *Error) Error() string {
	switch {
	case e.Timeout:
		return fmt.Sprintf("the upstream %s did not answer in time (%v)", e.URL, e.Err)
	case e.Status != 0:
		return fmt.Sprintf("the upstream %s answered %d %s", e.URL, e.Status, http.StatusText(e.Status))
	}
	return fmt.Sprintf("the upstream %s could not be reached: %v", e.URL, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Page is an index page as the caller's parser encoded it.
type Page struct {
	Body      []byte // empty: the upstream does not have this package
	FetchedAt time.Time
	// Stale is set when the upstream failed, or the requester is over its
	// limit, and a cached page past its TTL is served instead.
	Stale bool
}

// ttl is how long a page is fresh: a "not found" for less time.
func (c *Client) ttl(body []byte) time.Duration {
	if len(body) == 0 {
		return c.cfg.NegativeTTL
	}
	return c.cfg.TTL
}

func (c *Client) fresh(p store.UpstreamPage) bool {
	return c.now().Sub(p.FetchedAt) < c.ttl(p.Body)
}

// FreshFor is how much longer p may be used without asking the upstream
// again: zero for a stale page.
func (c *Client) FreshFor(p Page) time.Duration {
	if p.Stale {
		return 0
	}
	return max(0, c.ttl(p.Body)-c.now().Sub(p.FetchedAt))
}

// ParseFunc turns an upstream response into the bytes to cache. pageURL is
// where the page was found (after redirects), without userinfo and query:
// what its relative links resolve against, and safe to quote in errors.
type ParseFunc func(pageURL, contentType string, body []byte) ([]byte, error)

// PageRequest asks for one index page.
type PageRequest struct {
	URL    URL
	Accept string
	Parse  ParseFunc
	// Requester is who asked (a principal), for MissLimit; "" is not
	// limited (wharf's own calls).
	Requester string
}

// LimitError refuses a requester over MissLimit.
type LimitError struct {
	Requester  string
	Limit      Rate
	RetryAfter time.Duration
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("%s asked for more packages that wharf has not cached than it may (%s); retry in %s",
		e.Requester, e.Limit, auth.HumanDuration(e.RetryAfter))
}

// Page returns the page at req.URL: from the cache while fresh, else
// fetched once for all concurrent callers. A fetch is not cancelled when the
// caller that started it goes away; it finishes for the others and fills
// the cache. The cache is keyed by the redacted URL, so no secret is stored.
func (c *Client) Page(ctx context.Context, req PageRequest) (Page, error) {
	key := req.URL.String()
	cached, err := c.store.GetUpstreamPage(ctx, key)
	haveCache := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return Page{}, err
	}
	if haveCache && c.fresh(cached) {
		return Page{Body: cached.Body, FetchedAt: cached.FetchedAt}, nil
	}
	if ok, wait := c.misses.take(req.Requester); !ok {
		if haveCache {
			return Page{Body: cached.Body, FetchedAt: cached.FetchedAt, Stale: true}, nil
		}
		return Page{}, &LimitError{Requester: req.Requester, Limit: c.cfg.MissLimit, RetryAfter: wait}
	}
	ch := c.pages.DoChan(key, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.Timeout+c.cfg.Timeout)
		defer cancel()
		// singleflight coalesces this process; the store's lock coalesces
		// replicas: whoever waited finds the page the holder just fetched.
		unlock, err := c.store.Lock(fctx, "upstream-page:"+key)
		if err != nil {
			return Page{}, err
		}
		defer unlock()
		if p, err := c.store.GetUpstreamPage(fctx, key); err == nil && c.fresh(p) {
			return Page{Body: p.Body, FetchedAt: p.FetchedAt}, nil
		}
		return c.fetchPage(fctx, key, req)
	})
	select {
	case <-ctx.Done():
		return Page{}, ctx.Err()
	case res := <-ch:
		if res.Err == nil {
			return res.Val.(Page), nil
		}
		if haveCache {
			c.log.Warn("upstream failed; serving the cached page (stale-if-error)", "url", req.URL,
				"age", c.now().Sub(cached.FetchedAt).Round(time.Second).String(), "err", res.Err)
			return Page{Body: cached.Body, FetchedAt: cached.FetchedAt, Stale: true}, nil
		}
		return Page{}, res.Err
	}
}

func (c *Client) fetchPage(ctx context.Context, key string, pr PageRequest) (Page, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, pr.URL.raw(), nil)
	if err != nil {
		return Page{}, &Error{URL: pr.URL, Err: redactErr(err)}
	}
	req.Header.Set("Accept", pr.Accept)
	req.Header.Set("User-Agent", "wharf (external connection)")
	start := c.now()
	resp, err := c.http.Do(req)
	if err != nil {
		return Page{}, classify(pr.URL, err)
	}
	defer resp.Body.Close()
	now := c.now()
	var body []byte
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		// Remembered for NegativeTTL: asking again every request would
		// turn one typo into a flood of upstream requests.
	case resp.StatusCode != http.StatusOK:
		return Page{}, &Error{URL: pr.URL, Status: resp.StatusCode}
	default:
		raw, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxPageBytes+1))
		if err != nil {
			return Page{}, classify(pr.URL, err)
		}
		if int64(len(raw)) > c.cfg.MaxPageBytes {
			return Page{}, &Error{URL: pr.URL, Err: fmt.Errorf("the page is larger than %d bytes", c.cfg.MaxPageBytes)}
		}
		where := URL{u: resp.Request.URL}.Public()
		if body, err = pr.Parse(where, resp.Header.Get("Content-Type"), raw); err != nil {
			return Page{}, &Error{URL: pr.URL, Err: err}
		}
	}
	p := store.UpstreamPage{Key: key, Body: body, FetchedAt: now}
	if err := c.store.PutUpstreamPage(ctx, p); err != nil {
		return Page{}, err
	}
	c.log.Info("upstream page fetched", "url", pr.URL, "status", resp.StatusCode, "duration", now.Sub(start).Round(time.Millisecond).String())
	return Page{Body: body, FetchedAt: now}, nil
}

// Fetch downloads u once for all concurrent callers with the same key,
// on every replica sharing the store, and hands the stream to keep (which
// stores it); every caller gets keep's result. Under the cross-replica lock,
// recheck runs first and may return what another replica already stored.
// The download survives the departure of the caller that started it.
func (c *Client) Fetch(ctx context.Context, key string, u URL, recheck func(ctx context.Context) (any, bool, error),
	keep func(ctx context.Context, body io.Reader) (any, error)) (any, error) {
	ch := c.files.DoChan(key, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.MaxFetch)
		defer cancel()
		unlock, err := c.store.Lock(fctx, "upstream-file:"+key)
		if err != nil {
			return nil, err
		}
		defer unlock()
		if v, done, err := recheck(fctx); err != nil || done {
			return v, err
		}
		req, err := http.NewRequestWithContext(fctx, http.MethodGet, u.raw(), nil)
		if err != nil {
			return nil, &Error{URL: u, Err: redactErr(err)}
		}
		req.Header.Set("User-Agent", "wharf (external connection)")
		resp, err := c.http.Do(req)
		if err != nil {
			return nil, classify(u, err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, &Error{URL: u, Status: resp.StatusCode}
		}
		c.log.Info("fetching from upstream", "url", u, "size", resp.ContentLength)
		return keep(fctx, resp.Body)
	})
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case res := <-ch:
		return res.Val, res.Err
	}
}

func classify(u URL, err error) *Error {
	var ne net.Error
	timeout := errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
	return &Error{URL: u, Timeout: timeout, Err: redactErr(err)}
}

// Prune bounds the page cache: pages past MaxAge, "not found" answers past
// NegativeTTL, and the oldest beyond MaxPages go.
func (c *Client) Prune(ctx context.Context) (int64, error) {
	now := c.now()
	return c.store.PruneUpstreamPages(ctx, store.UpstreamPrune{
		Before: now.Add(-c.cfg.MaxAge), EmptyBefore: now.Add(-c.cfg.NegativeTTL), Keep: c.cfg.MaxPages,
	})
}

// RunPruner prunes every PruneEvery until ctx ends. Every replica may run
// one: pruning twice deletes nothing more.
func (c *Client) RunPruner(ctx context.Context) {
	t := time.NewTicker(PruneEvery)
	defer t.Stop()
	for {
		if n, err := c.Prune(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("pruning the upstream page cache failed", "err", err)
		} else if n > 0 {
			c.log.Debug("pruned the upstream page cache", "pages", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
