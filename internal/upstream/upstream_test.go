package upstream

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wharfhq/wharf/internal/store/sqlite"
)

// countingServer is a real loopback upstream that counts requests and can
// be told to fail or stall.
type countingServer struct {
	*httptest.Server
	requests atomic.Int64
	mode     atomic.Value // "ok", "fail", "slow", "404"
	release  chan struct{}
}

func newUpstream(t *testing.T) *countingServer {
	cs := &countingServer{release: make(chan struct{})}
	cs.mode.Store("ok")
	cs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cs.requests.Add(1)
		switch cs.mode.Load().(string) {
		case "fail":
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		case "404":
			http.NotFound(w, r)
			return
		case "slow":
			select {
			case <-cs.release:
			case <-r.Context().Done():
				return
			}
		case "gate": // hold every request until released, to pile up waiters
			<-cs.release
		}
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "page for "+r.URL.Path)
	}))
	t.Cleanup(func() {
		select {
		case <-cs.release:
		default:
			close(cs.release)
		}
		cs.Close()
	})
	return cs
}

func newClient(t *testing.T, cfg Config) *Client {
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "wharf.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return New(cfg, st, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

func notYet(context.Context) (any, bool, error) { return nil, false, nil }

func identity(_, _ string, body []byte) ([]byte, error) { return body, nil }

func mustURL(t *testing.T, s string) URL {
	t.Helper()
	u, err := ParseURL(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// req asks for the page at url as HTML, kept as it came.
func req(t *testing.T, url string) PageRequest {
	return PageRequest{URL: mustURL(t, url), Accept: "text/html", Parse: identity}
}

func TestPageCacheTTLAndStaleIfError(t *testing.T) {
	up := newUpstream(t)
	c := newClient(t, Config{TTL: time.Hour, Timeout: 2 * time.Second})
	now := time.Now()
	c.now = func() time.Time { return now }
	ctx := context.Background()
	url := up.URL + "/simple/a/"

	p, err := c.Page(ctx, req(t, url))
	if err != nil || string(p.Body) != "page for /simple/a/" || p.Stale {
		t.Fatalf("first fetch: %+v %v", p, err)
	}
	if _, err := c.Page(ctx, req(t, url)); err != nil || up.requests.Load() != 1 {
		t.Fatalf("a fresh page must come from the cache: %d upstream requests, %v", up.requests.Load(), err)
	}
	// After the TTL the upstream is asked again; when it fails, the old
	// page is served and marked stale.
	now = now.Add(2 * time.Hour)
	up.mode.Store("fail")
	p, err = c.Page(ctx, req(t, url))
	if err != nil || !p.Stale || string(p.Body) != "page for /simple/a/" || up.requests.Load() != 2 {
		t.Fatalf("stale-if-error: %+v %v (requests %d)", p, err, up.requests.Load())
	}
	// A page never fetched has nothing to fall back on: an error naming
	// the upstream and its status.
	_, err = c.Page(ctx, req(t, up.URL+"/simple/b/"))
	var ue *Error
	if !errors.As(err, &ue) || ue.Status != 500 || !strings.Contains(err.Error(), up.URL) {
		t.Fatalf("want an upstream error naming %s, got %v", up.URL, err)
	}
	// A 404 is remembered as "not there" (nil body), not an error.
	up.mode.Store("404")
	p, err = c.Page(ctx, req(t, up.URL+"/simple/c/"))
	if err != nil || p.Body != nil {
		t.Fatalf("404: %+v %v", p, err)
	}
}

func TestSlowUpstreamTimesOut(t *testing.T) {
	up := newUpstream(t)
	up.mode.Store("slow")
	c := newClient(t, Config{Timeout: 200 * time.Millisecond})
	start := time.Now()
	_, err := c.Page(context.Background(), req(t, up.URL+"/simple/slow/"))
	var ue *Error
	if !errors.As(err, &ue) || !ue.Timeout || !strings.Contains(err.Error(), "did not answer in time") {
		t.Fatalf("want a timeout error, got %v", err)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Fatalf("a slow upstream held the request for %v", waited)
	}
}

func TestConcurrentRequestsCoalesce(t *testing.T) {
	up := newUpstream(t)
	up.mode.Store("gate")
	c := newClient(t, Config{Timeout: 10 * time.Second})
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := c.Page(context.Background(), req(t, up.URL+"/simple/hot/"))
			if err == nil && string(p.Body) != "page for /simple/hot/" {
				err = errors.New("wrong body " + string(p.Body))
			}
			errs <- err
		}()
	}
	// Let the waiters pile up behind the one upstream request, then answer.
	for up.requests.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	close(up.release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := up.requests.Load(); got != 1 {
		t.Fatalf("%d concurrent requests made %d upstream requests, want 1", n, got)
	}
	t.Logf("%d concurrent requests -> %d upstream request", n, up.requests.Load())
}

func TestDepartedCallerDoesNotCancelFetch(t *testing.T) {
	up := newUpstream(t)
	up.mode.Store("gate")
	c := newClient(t, Config{Timeout: 10 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.Fetch(ctx, "k", mustURL(t, up.URL+"/files/x.whl"), notYet, func(_ context.Context, body io.Reader) (any, error) {
			b, err := io.ReadAll(body)
			return string(b), err
		})
		done <- err
	}()
	for up.requests.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	// The first caller leaves; a second one joins the same download.
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("departed caller: %v", err)
	}
	second := make(chan any, 1)
	go func() {
		v, err := c.Fetch(context.Background(), "k", mustURL(t, up.URL+"/files/x.whl"), notYet, func(context.Context, io.Reader) (any, error) {
			return nil, errors.New("a second download must not start")
		})
		if err != nil {
			v = err
		}
		second <- v
	}()
	time.Sleep(50 * time.Millisecond)
	close(up.release)
	if v := <-second; v != "page for /files/x.whl" {
		t.Fatalf("the joined download gave %v", v)
	}
	if up.requests.Load() != 1 {
		t.Fatalf("upstream requests: %d, want 1", up.requests.Load())
	}
}
