package pypi

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Project pages are rendered once per change and then served from memory,
// plain and gzip-compressed, with their ETag: pip and uv ask for the same
// pages over and over, and a page changes only when someone writes to its
// package. A cached page carries the registry's ViewGeneration taken before
// its view was read; it is served only while the generation is unchanged,
// so a publish, a status change, a retention from upstream or a change of
// upstreams is visible on the very next request. Pages whose view consulted
// an external connection (View.Volatile) are cached only until the first
// upstream page they used expires (View.FreshFor), and not at all when an
// upstream failed or a stale page was used.

// pageCacheBytes bounds the memory held by cached pages.
const pageCacheBytes = 32 << 20

type pageKey struct {
	owner, domain, repository, project, media string
}

// renderedPage is immutable once built, except for its gzip copy, made
// once by the first request that accepts gzip; its header values are shared
// by every response (net/http only reads them).
type renderedPage struct {
	gen          uint64
	born         time.Time
	expires      time.Time // zero: valid while gen is unchanged
	body         []byte
	contentType  []string
	etag, length []string

	compress bool // worth a gzip copy (cached and not tiny)
	gzOnce   sync.Once
	gz       []byte // nil: the page is sent plain even to gzip clients
	etagGz   []string
	lenGz    []string
}

var (
	hdrVary         = []string{"Accept, Accept-Encoding"}
	hdrCacheControl = []string{"max-age=0, must-revalidate, private"}
	hdrGzip         = []string{"gzip"}
)

// newPage prepares a rendered body for serving: its ETag and, with
// compress, a gzip copy on first demand (compressed once, never per
// request; a page that will not be cached is sent plain). Compressing
// lazily keeps renders cheap for clients that never ask for gzip.
func newPage(mediaType string, body []byte, gen uint64, compress bool) *renderedPage {
	sum := sha256.Sum256(body)
	tag := hex.EncodeToString(sum[:16])
	ct := mediaType
	if mediaType != mediaJSON {
		ct += "; charset=utf-8"
	}
	p := &renderedPage{
		gen: gen, born: time.Now(), body: body,
		contentType: []string{ct},
		etag:        []string{`"` + tag + `"`},
		length:      []string{strconv.Itoa(len(body))},
		compress:    compress && len(body) >= 1024,
	}
	return p
}

// gzipWriters are reused: a new flate writer allocates ~1 MiB of state.
var gzipWriters = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(io.Discard, gzip.DefaultCompression)
	return zw
}}

// gzipped returns the gzip copy, making it on the first call, or nil when
// compression does not pay.
func (p *renderedPage) gzipped() []byte {
	if !p.compress {
		return nil
	}
	p.gzOnce.Do(func() {
		var buf bytes.Buffer
		zw := gzipWriters.Get().(*gzip.Writer)
		zw.Reset(&buf)
		zw.Write(p.body)
		zw.Close()
		gzipWriters.Put(zw)
		if buf.Len() < len(p.body) {
			// A different representation needs a different strong ETag.
			p.etagGz = []string{strings.TrimSuffix(p.etag[0], `"`) + `-gz"`}
			p.lenGz = []string{strconv.Itoa(buf.Len())}
			p.gz = buf.Bytes()
		}
	})
	return p.gz
}

// size is what the page may come to hold, its gzip copy included.
func (p *renderedPage) size() int {
	if p.compress {
		return 2*len(p.body) + 256
	}
	return len(p.body) + 256
}

// serve writes the page, compressed when the client accepts gzip, and
// answers If-None-Match with 304. Range requests (rare on pages) go through
// http.ServeContent on the chosen representation.
func (p *renderedPage) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	body, etag, length := p.body, p.etag, p.length
	if p.compress && acceptsGzip(r.Header["Accept-Encoding"]) {
		if gz := p.gzipped(); gz != nil {
			body, etag, length = gz, p.etagGz, p.lenGz
			h["Content-Encoding"] = hdrGzip
		}
	}
	h["Content-Type"] = p.contentType
	h["Vary"] = hdrVary
	h["Cache-Control"] = hdrCacheControl
	h["Etag"] = etag
	if inm := r.Header["If-None-Match"]; len(inm) > 0 && etagListMatches(inm, etag[0]) {
		delete(h, "Content-Type")
		delete(h, "Content-Encoding")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if _, ok := r.Header["Range"]; ok {
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
		return
	}
	h["Content-Length"] = length
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// acceptsGzip reports whether Accept-Encoding allows gzip (a "gzip" or "*"
// coding without q=0), without allocating.
func acceptsGzip(values []string) bool {
	for _, v := range values {
		for v != "" {
			var part string
			part, v, _ = strings.Cut(v, ",")
			coding, params, _ := strings.Cut(part, ";")
			coding = strings.TrimSpace(coding)
			if !strings.EqualFold(coding, "gzip") && coding != "*" {
				continue
			}
			if k, q, ok := strings.Cut(strings.TrimSpace(params), "="); ok && strings.TrimSpace(k) == "q" {
				if f, err := strconv.ParseFloat(strings.TrimSpace(q), 64); err == nil && f == 0 {
					return false
				}
			}
			return true
		}
	}
	return false
}

// etagListMatches applies If-None-Match's weak comparison.
func etagListMatches(values []string, etag string) bool {
	for _, v := range values {
		for v != "" {
			var tag string
			tag, v, _ = strings.Cut(v, ",")
			tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
			if tag == "*" || tag == etag {
				return true
			}
		}
	}
	return false
}

// pageCache holds rendered pages up to a byte budget.
type pageCache struct {
	mu    sync.RWMutex
	pages map[pageKey]*renderedPage
	bytes int
	limit int
}

func newPageCache(limit int) *pageCache {
	return &pageCache{pages: map[pageKey]*renderedPage{}, limit: limit}
}

// get returns the page cached under k if it was rendered at generation gen
// (and, for a volatile page, has not expired).
func (c *pageCache) get(k pageKey, gen uint64) *renderedPage {
	c.mu.RLock()
	p := c.pages[k]
	c.mu.RUnlock()
	if p == nil || p.gen != gen ||
		(!p.expires.IsZero() && !time.Now().Before(p.expires)) {
		return nil
	}
	return p
}

func (c *pageCache) put(k pageKey, p *renderedPage) {
	if p.size() > c.limit/8 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.pages[k]; old != nil {
		if old.gen > p.gen { // a newer rendering got here first
			return
		}
		c.bytes -= old.size()
	}
	// Over budget: drop arbitrary pages (map order is random) until it fits.
	for k2, old := range c.pages {
		if c.bytes+p.size() <= c.limit {
			break
		}
		delete(c.pages, k2)
		c.bytes -= old.size()
	}
	c.pages[k] = p
	c.bytes += p.size()
}
