package pypi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/html"

	"github.com/wharfhq/wharf/internal/blob"
	"github.com/wharfhq/wharf/internal/registry"
)

// The external-connection side of pypi (registry.RemoteIndex): reading other
// registries' simple pages (PEP 503 HTML, PEP 691 JSON) and inspecting the
// files fetched from them.

// attrCoreMetadata is the upstream's PEP 658/714 core-metadata digest
// (lowercase hex), or "true" when it offers the metadata without a sha256.
const attrCoreMetadata = "pypi.core_metadata_sha256"

// remoteAccept is what pip and uv send: JSON when the server has it.
const remoteAccept = mediaJSON + ", " + mediaHTMLv1 + ";q=0.2, " + mediaHTML + ";q=0.01"

var (
	_ registry.RemoteIndex    = Format{}
	_ registry.RemoteSidecars = Format{}
)

// RemoteSidecar: an upstream that declares a wheel's core-metadata sha256
// serves it at the file's URL plus ".metadata" (PEP 658, 714).
func (Format) RemoteSidecar(f registry.RemoteFile, sidecar string) (string, string, bool) {
	sha := hexSHA256(f.Attributes[attrCoreMetadata])
	if sidecar != sidecarMetadata || sha == "" {
		return "", "", false
	}
	u, _, _ := strings.Cut(f.URL, "#")
	u, query, hasQuery := strings.Cut(u, "?")
	u += "." + sidecarMetadata
	if hasQuery {
		u += "?" + query
	}
	return u, sha, true
}

// IndexURL is {base}/{normalized name}/ with exactly one slash between. A
// query string on the base URL (some proxies carry a token there) is kept
// after the path.
func (Format) IndexURL(baseURL, namespace, name string) string {
	base, query, hasQuery := strings.Cut(baseURL, "?")
	u := strings.TrimRight(base, "/") + "/" + pathEscape(NormalizeName(name)) + "/"
	if hasQuery {
		u += "?" + query
	}
	return u
}

// Accept prefers PEP 691 JSON and takes HTML otherwise.
func (Format) Accept() string { return remoteAccept }

// ParseIndex reads an upstream project page: PEP 691 JSON when the content
// type says so or the body is a JSON object, PEP 503 HTML otherwise. Files
// whose names are neither a wheel nor an sdist (eggs, .exe installers,
// directory-listing junk) are skipped, as are links that do not resolve to an
// http or https URL. A filename listed twice keeps its first entry.
func (Format) ParseIndex(pageURL, contentType string, body []byte) ([]registry.RemoteFile, error) {
	base, err := url.Parse(pageURL)
	if err != nil {
		base = &url.URL{}
	}
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	mt, _, _ := mime.ParseMediaType(contentType)
	isJSON := mt == mediaJSON || mt == "application/vnd.pypi.simple.latest+json"
	if !isJSON {
		trimmed := bytes.TrimLeft(body, " \t\r\n")
		isJSON = len(trimmed) > 0 && trimmed[0] == '{'
	}
	var files []registry.RemoteFile
	if isJSON {
		files, err = parseJSONIndex(pageURL, base, body)
		if err != nil {
			return nil, err
		}
	} else {
		if files, err = parseHTMLIndex(base, body); err != nil {
			return nil, err
		}
	}
	return dedupe(files), nil
}

func dedupe(files []registry.RemoteFile) []registry.RemoteFile {
	seen := make(map[string]bool, len(files))
	out := files[:0]
	for _, f := range files {
		if !seen[f.Filename] {
			seen[f.Filename] = true
			out = append(out, f)
		}
	}
	return out
}

// remoteLink is what a page says about one file before it is checked.
type remoteLink struct {
	href     string // as written (entities decoded), fragment included
	filename string // the page's name for the file; "" when it gave none
	sha256   string // from a hashes field; "" to use the URL fragment
	size     int64
	uploaded string
	attrs    map[string]string
	fromJSON bool // the filename is authoritative; fall back only when empty
}

// toRemoteFile resolves and checks one link; ok is false for links that are
// not a wheel or sdist on an http(s) URL.
func toRemoteFile(base *url.URL, l remoteLink) (registry.RemoteFile, bool) {
	href := strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return -1 // the URL standard drops these anywhere
		}
		return r
	}, strings.TrimSpace(l.href))
	if href == "" {
		return registry.RemoteFile{}, false
	}
	ref, err := url.Parse(href)
	if err != nil {
		return registry.RemoteFile{}, false
	}
	u := base.ResolveReference(ref)
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return registry.RemoteFile{}, false
	}
	fragment := u.Fragment
	u.Fragment, u.RawFragment = "", ""

	filename, name, version, ok := distFile(l.filename)
	if !ok && (!l.fromJSON || l.filename == "") {
		// The anchor text may be missing or abbreviated (nginx autoindex
		// cuts long names to "name-1.0-py3-no..>"); the URL's last segment
		// is the file's name as well.
		filename, name, version, ok = distFile(path.Base(u.Path))
	}
	if !ok {
		return registry.RemoteFile{}, false
	}
	sum := l.sha256
	if sum == "" {
		sum = fragmentSHA256(fragment)
	}
	attrs := l.attrs
	if attrs == nil {
		attrs = map[string]string{}
	}
	return registry.RemoteFile{
		Name:       name,
		Version:    version,
		Filename:   filename,
		URL:        u.String(),
		SHA256:     sum,
		Size:       l.size,
		Attributes: attrs,
		UploadTime: l.uploaded,
	}, true
}

// distFile accepts a wheel or sdist filename and returns it with its
// normalized project name and version.
func distFile(fn string) (filename, name, version string, ok bool) {
	fn = strings.TrimSpace(fn)
	if fn == "" {
		return "", "", "", false
	}
	var n, v string
	if w, err := ParseWheelFilename(fn); err == nil {
		n, v = w.Name, w.Version
	} else if s, err := ParseSdistFilename(fn); err == nil {
		n, v = s.Name, s.Version
	} else {
		return "", "", "", false
	}
	nv, err := NormalizeVersion(v)
	if err != nil {
		return "", "", "", false
	}
	return fn, NormalizeName(n), nv, true
}

// fragmentSHA256 reads "sha256=HEX" from a URL fragment such as
// "sha256=..." or "egg=x&md5=...&sha256=..."; other digests are ignored.
func fragmentSHA256(fragment string) string {
	for _, p := range strings.Split(fragment, "&") {
		if k, v, ok := strings.Cut(p, "="); ok && strings.EqualFold(strings.TrimSpace(k), "sha256") {
			return hexSHA256(v)
		}
	}
	return ""
}

// hexSHA256 returns s as lowercase hex if it is a sha256 digest, else "".
func hexSHA256(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) != 64 || strings.Trim(s, "0123456789abcdef") != "" {
		return ""
	}
	return s
}

// --- PEP 691 JSON ---

func parseJSONIndex(pageURL string, base *url.URL, body []byte) ([]registry.RemoteFile, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, fmt.Errorf("upstream page %s is not valid PEP 691 JSON: %v", pageURL, err)
	}
	var meta struct {
		APIVersion string `json:"api-version"`
	}
	if raw, ok := top["meta"]; ok {
		if json.Unmarshal(raw, &meta) == nil && meta.APIVersion != "" {
			if major, _, _ := strings.Cut(meta.APIVersion, "."); major != "1" {
				return nil, fmt.Errorf("upstream page %s is not valid PEP 691 JSON: it uses API version %q and wharf reads only 1.x", pageURL, meta.APIVersion)
			}
		}
	}
	raw, ok := top["files"]
	if !ok {
		return nil, fmt.Errorf("upstream page %s is not valid PEP 691 JSON: it has no \"files\" list (is it a project page?)", pageURL)
	}
	var entries []json.RawMessage
	if err := json.Unmarshal(raw, &entries); err != nil {
		return nil, fmt.Errorf("upstream page %s is not valid PEP 691 JSON: \"files\" is not a list: %v", pageURL, err)
	}
	files := make([]registry.RemoteFile, 0, len(entries))
	for _, e := range entries {
		l, ok := jsonLink(e)
		if !ok {
			continue // one malformed entry does not hide the others
		}
		if f, ok := toRemoteFile(base, l); ok {
			files = append(files, f)
		}
	}
	return files, nil
}

// jsonLink reads one entry of "files" leniently: filename and url must be
// strings; optional fields of the wrong type are ignored.
func jsonLink(raw json.RawMessage) (remoteLink, bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return remoteLink{}, false
	}
	str := func(key string) (string, bool) {
		var s string
		r, ok := m[key]
		return s, ok && json.Unmarshal(r, &s) == nil
	}
	l := remoteLink{attrs: map[string]string{}, fromJSON: true}
	var ok bool
	if l.href, ok = str("url"); !ok {
		return remoteLink{}, false
	}
	if l.filename, ok = str("filename"); !ok {
		return remoteLink{}, false
	}
	var hashes map[string]json.RawMessage
	if r, ok := m["hashes"]; ok && json.Unmarshal(r, &hashes) == nil {
		var s string
		if h, ok := hashes["sha256"]; ok && json.Unmarshal(h, &s) == nil {
			l.sha256 = hexSHA256(s)
		}
	}
	if r, ok := m["size"]; ok {
		if n, err := strconv.ParseInt(string(bytes.TrimSpace(r)), 10, 64); err == nil && n >= 0 {
			l.size = n
		}
	}
	if s, ok := str("upload-time"); ok {
		if _, err := time.Parse(time.RFC3339, s); err == nil {
			l.uploaded = s
		}
	}
	if s, ok := str("requires-python"); ok && strings.TrimSpace(s) != "" {
		l.attrs[attrRequiresPython] = strings.TrimSpace(s)
	}
	// yanked: true, or a reason; pip treats "" like false.
	if r, ok := m["yanked"]; ok {
		var b bool
		var s string
		if json.Unmarshal(r, &b) == nil && b {
			l.attrs[attrYanked] = ""
		} else if json.Unmarshal(r, &s) == nil && s != "" {
			l.attrs[attrYanked] = s
		}
	}
	// core-metadata (PEP 714), or the older dist-info-metadata (PEP 658).
	cm, ok := m["core-metadata"]
	if !ok || string(bytes.TrimSpace(cm)) == "null" {
		cm, ok = m["dist-info-metadata"]
	}
	if ok {
		var b bool
		var obj map[string]json.RawMessage
		switch {
		case json.Unmarshal(cm, &b) == nil:
			if b {
				l.attrs[attrCoreMetadata] = "true"
			}
		case json.Unmarshal(cm, &obj) == nil:
			l.attrs[attrCoreMetadata] = "true"
			var s string
			if h, ok := obj["sha256"]; ok && json.Unmarshal(h, &s) == nil && hexSHA256(s) != "" {
				l.attrs[attrCoreMetadata] = hexSHA256(s)
			}
		}
	}
	return l, true
}

// --- PEP 503 HTML ---

// maxHTMLToken bounds one HTML token (a tag with its attributes, a run of
// text, a whole <script>): the tokenizer buffers a token whole, so this
// bounds its memory beside the page's; no index page needs one this large.
const maxHTMLToken = 4 << 20

// parseHTMLIndex collects every <a href> of the page with
// golang.org/x/net/html's tokenizer, which follows HTML's rules
// (case-insensitive names, quoted and unquoted attributes, character
// references, comments, raw-text elements such as <script> and <title>).
// The first of duplicate attributes counts, as in a browser; a <base href>
// changes what relative links resolve against, as in pip.
func parseHTMLIndex(page *url.URL, body []byte) ([]registry.RemoteFile, error) {
	z := html.NewTokenizer(bytes.NewReader(body))
	z.SetMaxBuf(maxHTMLToken)
	var anchors []*anchor
	var cur *anchor
	closeAnchor := func() {
		if cur != nil {
			anchors = append(anchors, cur)
			cur = nil
		}
	}
	base, hasBase := "", false
	for done := false; !done; {
		switch z.Next() {
		case html.ErrorToken:
			if err := z.Err(); err != io.EOF {
				if errors.Is(err, html.ErrBufferExceeded) {
					err = fmt.Errorf("it has an HTML tag or text run longer than %d bytes", maxHTMLToken)
				}
				return nil, fmt.Errorf("upstream page %s cannot be read as HTML: %v", page.Redacted(), err)
			}
			done = true
		case html.TextToken:
			if cur != nil {
				cur.addText(z.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttrs := z.TagName()
			switch string(name) {
			case "a":
				closeAnchor() // an <a> inside an <a> ends the first
				attrs := tagAttrs(z, hasAttrs)
				if attrs["href"] != "" {
					cur = &anchor{attrs: attrs}
				}
			case "base":
				if href, ok := tagAttrs(z, hasAttrs)["href"]; ok && !hasBase {
					base, hasBase = href, true
				}
			}
		case html.EndTagToken:
			if name, _ := z.TagName(); string(name) == "a" {
				closeAnchor()
			}
		}
	}
	closeAnchor()
	if hasBase {
		if ref, err := url.Parse(strings.TrimSpace(base)); err == nil {
			page = page.ResolveReference(ref)
		}
	}
	var files []registry.RemoteFile
	for _, a := range anchors {
		if f, ok := toRemoteFile(page, a.link()); ok {
			files = append(files, f)
		}
	}
	return files, nil
}

// tagAttrs reads the current tag's attributes (names lowercased, values
// with character references decoded); the first of duplicates wins.
func tagAttrs(z *html.Tokenizer, more bool) map[string]string {
	attrs := map[string]string{}
	for more {
		var k, v []byte
		k, v, more = z.TagAttr()
		if _, dup := attrs[string(k)]; !dup {
			attrs[string(k)] = string(v)
		}
	}
	return attrs
}

// maxAnchorText bounds the text kept per anchor: a longer text is no
// filename, and the URL's last segment is used instead.
const maxAnchorText = 4 * MaxFilenameLength

type anchor struct {
	attrs    map[string]string
	text     []byte
	overflow bool
}

func (a *anchor) addText(s []byte) {
	if a.overflow {
		return
	}
	if len(a.text)+len(s) > maxAnchorText {
		a.overflow, a.text = true, nil
		return
	}
	a.text = append(a.text, s...)
}

func (a *anchor) link() remoteLink {
	l := remoteLink{href: a.attrs["href"], attrs: map[string]string{}}
	if !a.overflow {
		l.filename = strings.TrimSpace(string(a.text))
	}
	if rp, ok := a.attrs["data-requires-python"]; ok && strings.TrimSpace(rp) != "" {
		l.attrs[attrRequiresPython] = strings.TrimSpace(rp)
	}
	if reason, ok := a.attrs["data-yanked"]; ok {
		l.attrs[attrYanked] = reason
	}
	cm, ok := a.attrs["data-core-metadata"]
	if !ok {
		cm, ok = a.attrs["data-dist-info-metadata"]
	}
	if ok {
		cm = strings.TrimSpace(cm)
		if strings.EqualFold(cm, "true") {
			l.attrs[attrCoreMetadata] = "true"
		} else if name, value, found := strings.Cut(cm, "="); found {
			// "sha256=HEX"; another digest (or a bad one) still says the
			// metadata file exists.
			l.attrs[attrCoreMetadata] = "true"
			if strings.EqualFold(strings.TrimSpace(name), "sha256") && hexSHA256(value) != "" {
				l.attrs[attrCoreMetadata] = hexSHA256(value)
			}
		}
	}
	return l
}

// --- ingest ---

// InspectRemote reads a fetched file's core metadata as an upload's is read:
// a wheel's METADATA (kept as the PEP 658 sidecar) or an sdist's PKG-INFO,
// which must exist and name the project and version of the filename. What
// the upstream page said about requires-python and yanking is kept; its
// core-metadata digest is replaced by that of the bytes wharf will serve.
func (Format) InspectRemote(obj blob.Object, f registry.RemoteFile) (registry.Inspection, error) {
	var name string
	isWheel := false
	if w, err := ParseWheelFilename(f.Filename); err == nil {
		name, isWheel = w.Name, true
	} else if s, err := ParseSdistFilename(f.Filename); err == nil {
		name = s.Name
	} else {
		return registry.Inspection{}, invalidf("%s is neither a wheel (.whl) nor an sdist (.tar.gz, .zip); wharf does not ingest it", f.Filename)
	}
	form := url.Values{"name": {name}}
	if rp := f.Attributes[attrRequiresPython]; rp != "" {
		form.Set("requires_python", rp)
	}
	insp, err := inspect(obj, f.Filename, isWheel, form)
	if err != nil {
		return registry.Inspection{}, err
	}
	if reason, ok := f.Attributes[attrYanked]; ok {
		insp.AssetAttributes[attrYanked] = reason
	}
	if raw, ok := insp.Sidecars[sidecarMetadata]; ok {
		sum := sha256.Sum256(raw)
		insp.AssetAttributes[attrCoreMetadata] = hex.EncodeToString(sum[:])
	}
	return insp, nil
}
