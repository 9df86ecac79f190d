package pypi

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

// The project page of a 150-version project through the handler, as pip
// and uv ask for it: the numbers bench/ measures end to end, without the
// HTTP server and auth. "cached" is the steady state; "render" is the cost
// after each write to the package (the view read from SQLite and rendered).
//
//	go test ./internal/format/pypi -run '^$' -bench ProjectPage -benchmem
func BenchmarkProjectPage(b *testing.B) {
	f := newCacheFixture(b)
	for i := range 150 {
		f.upload("repo", "bench-project", fmt.Sprintf("1.%d.%d", i/10, i%10))
	}
	ref := f.ref("repo")
	for _, c := range []struct {
		name    string
		headers map[string]string
	}{
		{"JSON", map[string]string{"Accept": "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01"}},
		{"HTML", map[string]string{"Accept": "text/html"}},
		{"JSONGzip", map[string]string{"Accept": mediaJSON, "Accept-Encoding": "gzip, deflate"}},
		{"JSON304", map[string]string{"Accept": mediaJSON}},
	} {
		req := httptest.NewRequest("GET", "/pypi/repo/simple/bench-project/", nil)
		for k, v := range c.headers {
			req.Header.Set(k, v)
		}
		w := &discardWriter{header: http.Header{}}
		f.h.ServeRepo(w, req, ref, "/simple/bench-project/")
		if w.status != 200 {
			b.Fatalf("%s: status %d", c.name, w.status)
		}
		size := int64(w.n)
		if c.name == "JSON304" {
			req.Header.Set("If-None-Match", w.header.Get("ETag"))
		}
		b.Run("cached/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				clear(w.header)
				f.h.ServeRepo(w, req, ref, "/simple/bench-project/")
			}
			b.SetBytes(size)
		})
	}
	for _, mt := range []string{mediaJSON, mediaHTML} {
		b.Run("render/"+map[string]string{mediaJSON: "JSON", mediaHTML: "HTML"}[mt], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				view, err := f.reg.PackageView(b.Context(), ref, "pypi", "", "bench-project")
				if err != nil {
					b.Fatal(err)
				}
				// As the next request after a write sees it, gzip included
				// (pip asks for it).
				newPage(mt, renderProject(mt, "bench-project", view), 0, true).gzipped()
			}
		})
	}
}

// discardWriter is a ResponseWriter that keeps nothing, so the benchmark
// counts the handler's allocations only.
type discardWriter struct {
	header http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header { return w.header }
func (w *discardWriter) WriteHeader(s int)   { w.status = s }
func (w *discardWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = 200
	}
	w.n += len(p)
	return len(p), nil
}
