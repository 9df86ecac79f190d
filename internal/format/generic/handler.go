package generic

import (
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/wharfhq/wharf/internal/blob"
	"github.com/wharfhq/wharf/internal/format/httperr"
	"github.com/wharfhq/wharf/internal/registry"
)

// Handler serves a repository's generic endpoint: plain-HTTP downloads at
// .../generic/{repo}/{namespace}/{package}/{version}/{asset}. Publishing is
// the control plane's PublishPackageVersion, as in CodeArtifact.
type Handler struct {
	reg *registry.Registry
	log *slog.Logger
}

func NewHandler(reg *registry.Registry, log *slog.Logger) *Handler {
	return &Handler{reg: reg, log: log}
}

// ServeRepo answers a request for repository ref; rest is the path after
// ".../generic/REPO".
func (h *Handler) ServeRepo(w http.ResponseWriter, r *http.Request, ref registry.RepoRef, rest string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		httpError(w, http.StatusMethodNotAllowed, fmt.Sprintf("%s is not supported here: generic assets are downloaded with GET and published with `aws codeartifact publish-package-version`", r.Method))
		return
	}
	parts := strings.Split(strings.TrimPrefix(rest, "/"), "/")
	if rest == "" || rest == "/" {
		if _, err := h.reg.GetRepository(r.Context(), ref.Owner, ref.Domain, ref.Repository); err != nil {
			h.fail(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "This is the generic endpoint of repository %s in domain %s.\nDownload an asset with GET %s{namespace}/{package}/{version}/{asset}\n", ref.Repository, ref.Domain, strings.TrimSuffix(r.URL.Path, "/")+"/")
		return
	}
	if len(parts) != 4 || slices.Contains(parts, "") {
		httpError(w, http.StatusNotFound, fmt.Sprintf("nothing is served at %s: generic assets are at .../generic/%s/{namespace}/{package}/{version}/{asset}", r.URL.Path, ref.Repository))
		return
	}
	obj, err := h.reg.OpenAsset(r.Context(), ref, "generic", parts[0], parts[1], parts[2], parts[3])
	if err != nil {
		h.fail(w, r, err)
		return
	}
	defer obj.Close()
	info := obj.Info()
	hd := w.Header()
	hd.Set("Content-Type", "application/octet-stream")
	hd.Set("ETag", `"`+info.SHA256+`"`)
	hd.Set("X-Checksum-Sha256", info.SHA256)
	hd.Set("X-PackageVersionRevision", obj.Version.Revision)
	// Not immutable like pypi files: a status change (Archived) must stop
	// downloads, so caches revalidate.
	hd.Set("Cache-Control", "private, no-cache")
	http.ServeContent(w, r, "", info.ModTime, blob.Content(obj))
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	httperr.Fail(w, r, h.log, err)
}

func httpError(w http.ResponseWriter, status int, msg string) { httperr.Write(w, status, msg) }
