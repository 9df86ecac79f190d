package pypi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/wharfhq/wharf/internal/blob"
	"github.com/wharfhq/wharf/internal/registry"
	"github.com/wharfhq/wharf/internal/store"
)

// Media types of the simple repository API (PEP 691).
const (
	mediaJSON       = "application/vnd.pypi.simple.v1+json"
	mediaHTMLv1     = "application/vnd.pypi.simple.v1+html"
	mediaHTML       = "text/html"
	apiVersion      = "1.1"
	uploadTimeStamp = "2006-01-02T15:04:05.000000Z"
)

// Asset attributes the pypi format records.
const (
	attrRequiresPython = "pypi.requires_python"
	attrYanked         = "pypi.yanked" // present = yanked; value = reason
	sidecarMetadata    = "metadata"
)

// negotiate picks the response type from Accept with q-values; no Accept or
// no match gives text/html, as warehouse does.
func negotiate(accept string) string {
	if accept == "" {
		return mediaHTML
	}
	best, bestQ := "", -1.0
	for _, part := range strings.Split(accept, ",") {
		fields := strings.Split(part, ";")
		mt := strings.ToLower(strings.TrimSpace(fields[0]))
		q := 1.0
		for _, p := range fields[1:] {
			if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.TrimSpace(k) == "q" {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				}
			}
		}
		var cand string
		switch mt {
		case mediaJSON, "application/vnd.pypi.simple.latest+json":
			cand = mediaJSON
		case mediaHTMLv1, "application/vnd.pypi.simple.latest+html":
			cand = mediaHTMLv1
		case mediaHTML, "text/*", "*/*":
			cand = mediaHTML
		}
		if cand != "" && q > 0 && q > bestQ {
			best, bestQ = cand, q
		}
	}
	if best == "" {
		return mediaHTML
	}
	return best
}

// rootIndex streams the project list one store page at a time, so an index
// of 100,000 projects is never held in memory. The first page is read
// before anything is written: a failing store still gets a proper error
// answer. A failure later cuts the response short (never a complete-looking
// index with projects missing).
func (h *Handler) rootIndex(w http.ResponseWriter, r *http.Request, ref registry.RepoRef) {
	mt := negotiate(r.Header.Get("Accept"))
	page := store.Page{Limit: 1000}
	pkgs, next, err := h.reg.ListPackages(r.Context(), ref, store.PackageFilter{Format: "pypi"}, page)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	hd := w.Header()
	ct := mt
	if mt != mediaJSON {
		ct += "; charset=utf-8"
	}
	hd.Set("Content-Type", ct)
	hd.Set("Vary", "Accept, Accept-Encoding")
	hd.Set("Cache-Control", "max-age=0, must-revalidate, private")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	bw := bufio.NewWriterSize(w, 32<<10)
	if mt == mediaJSON {
		bw.WriteString(`{"meta":{"api-version":"` + apiVersion + `"},"projects":[`)
	} else {
		bw.WriteString("<!DOCTYPE html>\n<html>\n  <head>\n    <meta name=\"pypi:repository-version\" content=\"" + apiVersion + "\">\n    <title>Simple index</title>\n  </head>\n  <body>\n")
	}
	first := true
	for {
		for _, p := range pkgs {
			if mt == mediaJSON {
				if !first {
					bw.WriteByte(',')
				}
				first = false
				name, _ := json.Marshal(p.Name)
				bw.WriteString(`{"name":`)
				bw.Write(name)
				bw.WriteByte('}')
			} else {
				fmt.Fprintf(bw, "    <a href=\"%s/\">%s</a>\n", pathEscape(p.Name), html.EscapeString(p.Name))
			}
		}
		if next == "" {
			break
		}
		page.After = next
		if pkgs, next, err = h.reg.ListPackages(r.Context(), ref, store.PackageFilter{Format: "pypi"}, page); err != nil {
			h.log.Warn("root index cut short: the store failed while listing projects", "repository", ref.Repository, "err", err)
			bw.Flush()
			panic(http.ErrAbortHandler)
		}
	}
	if mt == mediaJSON {
		bw.WriteString("]}\n")
	} else {
		bw.WriteString("  </body>\n</html>\n")
	}
	bw.Flush()
}

// pageFile is one file on a project page.
type pageFile struct {
	Filename       string            `json:"filename"`
	URL            string            `json:"url"`
	Hashes         map[string]string `json:"hashes"`
	RequiresPython *string           `json:"requires-python,omitempty"`
	CoreMetadata   any               `json:"core-metadata"`
	Yanked         any               `json:"yanked"`
	Size           int64             `json:"size"`
	UploadTime     string            `json:"upload-time,omitempty"`
}

func (h *Handler) projectPage(w http.ResponseWriter, r *http.Request, ref registry.RepoRef, project string) {
	// Checked before anything is looked up, here or upstream.
	if err := CheckName(project); err != nil {
		httpError(w, http.StatusNotFound, err.Error())
		return
	}
	if norm := NormalizeName(project); norm != project {
		redirect(w, r, strings.TrimSuffix(r.URL.Path, project+"/")+norm+"/")
		return
	}
	mt := negotiate(r.Header.Get("Accept"))
	key := pageKey{ref.Owner, ref.Domain, ref.Repository, project, mt}
	// The generation is taken before the view is read (see pagecache.go).
	gen := h.reg.ViewGeneration(ref, "pypi", "", project)
	if p := h.pages.get(key, gen); p != nil {
		p.serve(w, r)
		return
	}
	// Requests that miss together wait for one render: on a busy page
	// whose cached copy was just invalidated (a publish, an upstream's
	// TTL) every request in flight would otherwise render it.
	flight := strings.Join([]string{ref.Owner, ref.Domain, ref.Repository, project, mt, strconv.FormatUint(gen, 10)}, "\x00")
	v, err, _ := h.renders.Do(flight, func() (any, error) {
		// Not the first requester's context: the others still need it.
		return h.renderPage(context.WithoutCancel(r.Context()), ref, key, gen)
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v.(*renderedPage).serve(w, r)
}

// renderPage renders a project page from its view and caches it if it may
// be reused.
func (h *Handler) renderPage(ctx context.Context, ref registry.RepoRef, key pageKey, gen uint64) (*renderedPage, error) {
	view, err := h.reg.PackageView(ctx, ref, "pypi", "", key.project)
	if err != nil {
		return nil, err
	}
	// A view that consulted an external connection is reused only while
	// the upstream pages it used are fresh.
	cacheable := !view.Volatile || view.FreshFor > 0
	p := newPage(key.media, renderProject(key.media, key.project, view), gen, cacheable)
	if view.Volatile && cacheable {
		p.expires = p.born.Add(view.FreshFor)
	}
	if cacheable {
		h.pages.put(key, p)
	}
	return p, nil
}

// renderProject renders a project page as PEP 691 JSON or PEP 503 HTML.
func renderProject(mt, project string, view *registry.View) []byte {
	files, shownVersions := projectFiles(view.Files)
	var buf bytes.Buffer
	if mt == mediaJSON {
		doc := struct {
			Meta     map[string]string `json:"meta"`
			Name     string            `json:"name"`
			Versions []string          `json:"versions"`
			Files    []pageFile        `json:"files"`
		}{Meta: map[string]string{"api-version": apiVersion}, Name: project, Versions: shownVersions, Files: files}
		json.NewEncoder(&buf).Encode(doc)
	} else {
		fmt.Fprintf(&buf, "<!DOCTYPE html>\n<html>\n  <head>\n    <meta name=\"pypi:repository-version\" content=\"%s\">\n    <title>Links for %s</title>\n  </head>\n  <body>\n    <h1>Links for %s</h1>\n", apiVersion, project, project)
		for _, f := range files {
			href := f.URL
			if sha := f.Hashes["sha256"]; sha != "" {
				href += "#sha256=" + sha
			}
			buf.WriteString("    <a href=\"" + html.EscapeString(href) + "\"")
			if f.RequiresPython != nil {
				buf.WriteString(" data-requires-python=\"" + html.EscapeString(*f.RequiresPython) + "\"")
			}
			if reason, ok := f.Yanked.(string); ok {
				buf.WriteString(" data-yanked=\"" + html.EscapeString(reason) + "\"")
			} else if f.Yanked == true {
				buf.WriteString(" data-yanked=\"\"")
			}
			if cm, ok := f.CoreMetadata.(map[string]string); ok {
				v := "sha256=" + cm["sha256"]
				buf.WriteString(" data-core-metadata=\"" + v + "\" data-dist-info-metadata=\"" + v + "\"")
			}
			buf.WriteString(">" + html.EscapeString(f.Filename) + "</a><br>\n")
		}
		buf.WriteString("  </body>\n</html>\n")
	}
	return buf.Bytes()
}

// projectFiles decides what a project page shows: files of Published
// versions; files of Unlisted versions as yanked, so only an exact pin
// (==) installs them (PEP 592); nothing of Archived or Disposed versions.
// Files not yet ingested from an upstream advertise the core metadata the
// upstream declares a digest for (wharf passes its .metadata through).
func projectFiles(view []registry.ViewFile) ([]pageFile, []string) {
	view = slices.Clone(view)
	// Each version is parsed once, not twice per comparison: PEP 440
	// parsing in the sort was a third of a 150-version page's render time.
	type parsedVersion struct {
		v   Version
		err error
	}
	parsed := make(map[string]parsedVersion, len(view))
	for _, vf := range view {
		if _, ok := parsed[vf.Asset.Version]; !ok {
			v, err := ParseVersion(vf.Asset.Version)
			parsed[vf.Asset.Version] = parsedVersion{v, err}
		}
	}
	slices.SortFunc(view, func(a, b registry.ViewFile) int {
		pa, pb := parsed[a.Asset.Version], parsed[b.Asset.Version]
		var c int
		switch { // as CompareVersionStrings
		case pa.err != nil && pb.err != nil:
			c = strings.Compare(a.Asset.Version, b.Asset.Version)
		case pa.err != nil:
			c = -1
		case pb.err != nil:
			c = 1
		default:
			c = CompareVersions(pa.v, pb.v)
		}
		if c != 0 {
			return c
		}
		return strings.Compare(a.Asset.Name, b.Asset.Name)
	})
	files := []pageFile{}
	seen := map[string]bool{}
	shown := []string{}
	for _, vf := range view {
		a := vf.Asset
		if !registry.Downloadable(vf.Status) {
			continue
		}
		f := pageFile{
			Filename:     a.Name,
			URL:          pathEscape(a.Version) + "/" + pathEscape(a.Name),
			Hashes:       map[string]string{},
			CoreMetadata: false,
			Yanked:       false,
			Size:         a.Size,
		}
		if a.SHA256 != "" {
			f.Hashes["sha256"] = a.SHA256
		}
		if !a.CreatedAt.IsZero() {
			f.UploadTime = a.CreatedAt.UTC().Format(uploadTimeStamp)
		}
		if rp, ok := a.Attributes[attrRequiresPython]; ok && rp != "" {
			f.RequiresPython = &rp
		}
		if sha := a.Attributes[registry.SidecarAttr(sidecarMetadata)]; sha != "" {
			f.CoreMetadata = map[string]string{"sha256": sha}
		} else if _, sha, ok := (Format{}).RemoteSidecar(remoteOf(vf), sidecarMetadata); ok {
			f.CoreMetadata = map[string]string{"sha256": sha} // passed through from the upstream
		}
		if reason, ok := a.Attributes[attrYanked]; ok {
			f.Yanked = yankValue(reason)
		}
		if vf.Status == registry.StatusUnlisted {
			f.Yanked = "unlisted: install with an exact pin (==" + a.Version + ")"
		}
		files = append(files, f)
		if !seen[a.Version] {
			seen[a.Version] = true
			shown = append(shown, a.Version)
		}
	}
	return files, shown
}

// remoteOf is what an upstream listed for a file wharf does not hold yet.
func remoteOf(vf registry.ViewFile) registry.RemoteFile {
	if vf.Remote == nil {
		return registry.RemoteFile{}
	}
	return *vf.Remote
}

func yankValue(reason string) any {
	if reason == "" {
		return true
	}
	return reason
}

// pathEscape escapes one path segment, including '+' (local versions),
// which some clients would otherwise read as a space.
func pathEscape(s string) string {
	return strings.ReplaceAll(url.PathEscape(s), "+", "%2B")
}

// file serves a distribution file or its PEP 658 metadata.
func (h *Handler) file(w http.ResponseWriter, r *http.Request, ref registry.RepoRef, project, version, filename string) {
	var (
		obj *registry.OpenedAsset
		err error
	)
	if asset, ok := strings.CutSuffix(filename, ".metadata"); ok {
		obj, err = h.reg.FetchSidecar(r.Context(), ref, "pypi", "", project, version, asset, sidecarMetadata)
	} else {
		obj, err = h.reg.FetchAsset(r.Context(), ref, "pypi", "", project, version, filename)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	defer obj.Close()
	// One line per file served, at debug level: the record that shows which
	// files a client fetched (a resolver reading PEP 658 metadata fetches
	// .metadata files, not wheels).
	h.log.Debug("file served", "repository", ref.Repository, "file", filename, "method", r.Method, "range", r.Header.Get("Range"))
	info := obj.Info()
	hd := w.Header()
	hd.Set("Content-Type", contentType(filename))
	hd.Set("ETag", `"`+info.SHA256+`"`)
	// Published files never change, so caches may keep them.
	hd.Set("Cache-Control", "private, max-age=31536000, immutable")
	http.ServeContent(w, r, "", info.ModTime, blob.Content(obj))
}

// contentType never claims gzip for .tar.gz: a Content-Encoding would make
// clients unpack the archive they are about to hash.
func contentType(filename string) string {
	if strings.HasSuffix(filename, ".metadata") {
		return "text/plain; charset=utf-8"
	}
	return "application/octet-stream"
}
