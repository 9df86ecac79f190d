package pypi

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"golang.org/x/sync/singleflight"

	"github.com/wharfhq/wharf/internal/format/httperr"
	"github.com/wharfhq/wharf/internal/registry"
)

// Handler serves one repository's pypi endpoint: the simple API for pip and
// uv, file downloads, and the legacy upload API for twine, uv, poetry, pdm.
type Handler struct {
	reg *registry.Registry
	log *slog.Logger
	// MaxUploadBytes bounds one uploaded file (AWS: 5 GB per asset).
	MaxUploadBytes int64
	pages          *pageCache         // rendered project pages (pagecache.go)
	renders        singleflight.Group // one render per page and generation at a time
}

func NewHandler(reg *registry.Registry, log *slog.Logger) *Handler {
	return &Handler{reg: reg, log: log, MaxUploadBytes: 5 << 30, pages: newPageCache(pageCacheBytes)}
}

// ServeRepo answers a request for repository ref; rest is the path after
// ".../pypi/REPO" (for example "/simple/requests/").
func (h *Handler) ServeRepo(w http.ResponseWriter, r *http.Request, ref registry.RepoRef, rest string) {
	if r.Method == http.MethodPost && (rest == "" || rest == "/" || rest == "/legacy/" || rest == "/legacy") {
		h.upload(w, r, ref)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD, POST")
		httpError(w, http.StatusMethodNotAllowed, fmt.Sprintf("%s is not supported here: GET the simple index under simple/, POST uploads to the repository URL itself", r.Method))
		return
	}
	parts := strings.Split(strings.TrimPrefix(rest, "/"), "/")
	switch {
	case rest == "" || rest == "/":
		h.about(w, r, ref)
	case parts[0] != "simple":
		httpError(w, http.StatusNotFound, fmt.Sprintf("nothing is served at %s; the pip index is %ssimple/", r.URL.Path, repoBase(r.URL.Path, rest)))
	case len(parts) == 1: // ".../simple" without the slash
		redirect(w, r, r.URL.Path+"/")
	case len(parts) == 2 && parts[1] == "":
		h.rootIndex(w, r, ref)
	case len(parts) == 2: // ".../simple/name" without the slash
		redirect(w, r, r.URL.Path+"/")
	case len(parts) == 3 && parts[2] == "":
		h.projectPage(w, r, ref, parts[1])
	case len(parts) == 4:
		h.file(w, r, ref, parts[1], parts[2], parts[3])
	default:
		httpError(w, http.StatusNotFound, fmt.Sprintf("nothing is served at %s", r.URL.Path))
	}
}

func (h *Handler) about(w http.ResponseWriter, r *http.Request, ref registry.RepoRef) {
	if _, err := h.reg.GetRepository(r.Context(), ref.Owner, ref.Domain, ref.Repository); err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "This is the pypi endpoint of repository %s in domain %s.\n\npip/uv index URL: %s\nUpload URL (twine, uv publish, poetry, pdm): %s\n",
		ref.Repository, ref.Domain, absoluteURL(r, r.URL.Path+"simple/"), absoluteURL(r, r.URL.Path))
}

// repoBase returns the ".../pypi/REPO/" prefix of path.
func repoBase(path, rest string) string {
	return strings.TrimSuffix(path, rest) + "/"
}

func redirect(w http.ResponseWriter, r *http.Request, to string) {
	if r.URL.RawQuery != "" {
		to += "?" + r.URL.RawQuery
	}
	http.Redirect(w, r, to, http.StatusMovedPermanently)
}

func absoluteURL(r *http.Request, path string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + path
}

// fail answers a failed request; a parser's refusal is the client's fault.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, ErrInvalid) {
		h.log.Info("data plane request refused", httperr.RefusalAttrs(w, r, http.StatusBadRequest, err.Error())...)
		httperr.Refuse(w, r, http.StatusBadRequest, err.Error())
		return
	}
	httperr.Fail(w, r, h.log, err)
}

func httpError(w http.ResponseWriter, status int, msg string) { httperr.Write(w, status, msg) }
