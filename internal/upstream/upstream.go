// Package upstream talks to external registries (PyPI, a mirror, another
// wharf, a static directory) for external connections: bounded HTTP fetches
// with timeouts, a page cache with a time to live that serves stale pages
// when the upstream fails, and request coalescing, so N concurrent requests
// for the same uncached page or file make one upstream request.
//
// It knows no package format: callers pass the URL and a parser.
package upstream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/wharfhq/wharf/internal/store"
)

// Config tunes the client.
type Config struct {
	// TTL is how long a fetched index page is used without asking the
	// upstream again.
	TTL time.Duration
	// Timeout bounds the wait for an upstream's response headers.
	Timeout time.Duration
	// MaxPageBytes bounds an index page.
	MaxPageBytes int64
	// MaxFetch bounds a whole file download (headers to last byte).
	MaxFetch time.Duration
}

// DefaultConfig: AWS rechecks pypi metadata after hours; wharf defaults to
// 30 minutes so new releases show up sooner.
var DefaultConfig = Config{TTL: 30 * time.Minute, Timeout: 30 * time.Second, MaxPageBytes: 64 << 20, MaxFetch: time.Hour}

// Client fetches from upstreams. Safe for concurrent use.
type Client struct {
	cfg   Config
	http  *http.Client
	store store.Store
	log   *slog.Logger
	pages singleflight.Group
	files singleflight.Group
	now   func() time.Time
}

func New(cfg Config, st store.Store, log *slog.Logger) *Client {
	if cfg.TTL == 0 {
		cfg.TTL = DefaultConfig.TTL
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultConfig.Timeout
	}
	if cfg.MaxPageBytes == 0 {
		cfg.MaxPageBytes = DefaultConfig.MaxPageBytes
	}
	if cfg.MaxFetch == 0 {
		cfg.MaxFetch = DefaultConfig.MaxFetch
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: cfg.Timeout}).DialContext,
		TLSHandshakeTimeout:   cfg.Timeout,
		ResponseHeaderTimeout: cfg.Timeout,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
	}
	return &Client{cfg: cfg, http: &http.Client{Transport: tr}, store: st, log: log, now: time.Now}
}

// Error is an upstream failure; its message names the upstream, so the
// person reading it knows which registry to check.
type Error struct {
	URL     string
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
	Body      []byte // nil: the upstream does not have this package
	FetchedAt time.Time
	// Stale is set when the upstream failed and a cached page older than
	// the TTL is served instead.
	Stale bool
}

// FreshFor is how much longer p may be used without asking the upstream
// again: zero for a stale page.
func (c *Client) FreshFor(p Page) time.Duration {
	if p.Stale {
		return 0
	}
	return max(0, c.cfg.TTL-c.now().Sub(p.FetchedAt))
}

// ParseFunc turns an upstream response into the bytes to cache.
type ParseFunc func(pageURL, contentType string, body []byte) ([]byte, error)

// Page returns url's page: from the cache while fresh, else fetched once
// for all concurrent callers. A fetch is not cancelled when the caller that
// started it goes away; it finishes for the others and fills the cache.
func (c *Client) Page(ctx context.Context, url, accept string, parse ParseFunc) (Page, error) {
	cached, err := c.store.GetUpstreamPage(ctx, url)
	haveCache := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return Page{}, err
	}
	if haveCache && c.now().Sub(cached.FetchedAt) < c.cfg.TTL {
		return Page{Body: cached.Body, FetchedAt: cached.FetchedAt}, nil
	}
	ch := c.pages.DoChan(url, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.Timeout+c.cfg.Timeout)
		defer cancel()
		// singleflight coalesces this process; the store's lock coalesces
		// replicas: whoever waited finds the page the holder just fetched.
		unlock, err := c.store.Lock(fctx, "upstream-page:"+url)
		if err != nil {
			return Page{}, err
		}
		defer unlock()
		if p, err := c.store.GetUpstreamPage(fctx, url); err == nil && c.now().Sub(p.FetchedAt) < c.cfg.TTL {
			return Page{Body: p.Body, FetchedAt: p.FetchedAt}, nil
		}
		return c.fetchPage(fctx, url, accept, parse)
	})
	select {
	case <-ctx.Done():
		return Page{}, ctx.Err()
	case res := <-ch:
		if res.Err == nil {
			return res.Val.(Page), nil
		}
		if haveCache {
			c.log.Warn("upstream failed; serving the cached page (stale-if-error)", "url", url,
				"age", c.now().Sub(cached.FetchedAt).Round(time.Second).String(), "err", res.Err)
			return Page{Body: cached.Body, FetchedAt: cached.FetchedAt, Stale: true}, nil
		}
		return Page{}, res.Err
	}
}

func (c *Client) fetchPage(ctx context.Context, url, accept string, parse ParseFunc) (Page, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return Page{}, &Error{URL: url, Err: err}
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("User-Agent", "wharf (external connection)")
	start := c.now()
	resp, err := c.http.Do(req)
	if err != nil {
		return Page{}, classify(url, err)
	}
	defer resp.Body.Close()
	now := c.now()
	var body []byte
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		// Remembered like any page: asking again every request would turn
		// one typo into a flood of upstream requests.
	case resp.StatusCode != http.StatusOK:
		return Page{}, &Error{URL: url, Status: resp.StatusCode}
	default:
		raw, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxPageBytes+1))
		if err != nil {
			return Page{}, classify(url, err)
		}
		if int64(len(raw)) > c.cfg.MaxPageBytes {
			return Page{}, &Error{URL: url, Err: fmt.Errorf("the page is larger than %d bytes", c.cfg.MaxPageBytes)}
		}
		if body, err = parse(resp.Request.URL.String(), resp.Header.Get("Content-Type"), raw); err != nil {
			return Page{}, &Error{URL: url, Err: err}
		}
	}
	p := store.UpstreamPage{Key: url, Body: body, FetchedAt: now}
	if err := c.store.PutUpstreamPage(ctx, p); err != nil {
		return Page{}, err
	}
	c.log.Info("upstream page fetched", "url", url, "status", resp.StatusCode, "duration", now.Sub(start).Round(time.Millisecond).String())
	return Page{Body: body, FetchedAt: now}, nil
}

// Fetch downloads url once for all concurrent callers with the same key,
// on every replica sharing the store, and hands the stream to keep (which
// stores it); every caller gets keep's result. Under the cross-replica lock,
// recheck runs first and may return what another replica already stored.
// The download survives the departure of the caller that started it.
func (c *Client) Fetch(ctx context.Context, key, url string, recheck func(ctx context.Context) (any, bool, error),
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
		req, err := http.NewRequestWithContext(fctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, &Error{URL: url, Err: err}
		}
		req.Header.Set("User-Agent", "wharf (external connection)")
		resp, err := c.http.Do(req)
		if err != nil {
			return nil, classify(url, err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, &Error{URL: url, Status: resp.StatusCode}
		}
		c.log.Info("fetching from upstream", "url", url, "size", resp.ContentLength)
		return keep(fctx, resp.Body)
	})
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case res := <-ch:
		return res.Val, res.Err
	}
}

func classify(url string, err error) *Error {
	var ne net.Error
	timeout := errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
	return &Error{URL: url, Timeout: timeout, Err: err}
}
