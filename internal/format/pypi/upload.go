package pypi

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"golang.org/x/crypto/blake2b"

	"github.com/wharfhq/wharf/internal/blob"
	"github.com/wharfhq/wharf/internal/fanout"
	"github.com/wharfhq/wharf/internal/format/httperr"
	"github.com/wharfhq/wharf/internal/registry"
)

// upload implements the legacy upload API (PROTOCOLS.md, "Upload"). Form
// fields are read within bounds (uploadform.go) and validated before the
// file streams in, so most refusals cost nothing; the file goes straight to
// the blob store, hashed on the way.
func (h *Handler) upload(w http.ResponseWriter, r *http.Request, ref registry.RepoRef) {
	body := http.MaxBytesReader(w, r.Body, h.MaxUploadBytes+maxFormBytes)
	// The multipart reader reads at most 4 KiB at a time; reading the
	// connection through a larger buffer makes a 200 MiB upload a few
	// thousand read system calls instead of 51,200.
	meter := &formMeter{r: bufio.NewReaderSize(body, uploadReadBuffer), limit: -1}
	r.Body = readCloser{meter, body}
	mr, err := r.MultipartReader()
	if err != nil {
		h.refuse(w, r, http.StatusBadRequest, "an upload must be a multipart/form-data POST with the fields twine sends (:action=file_upload, name, version, filetype, content ...): "+err.Error())
		return
	}
	form, part, err := readUploadForm(mr, meter)
	meter.unlimited() // a refusal reads the rest of the body
	var bounds errFormBounds
	switch {
	case errors.As(err, &bounds):
		h.refuse(w, r, http.StatusBadRequest, bounds.msg)
	case err == io.EOF:
		h.refuse(w, r, http.StatusBadRequest, "the upload has no file: send it in the form field named \"content\"")
	case err != nil:
		h.refuse(w, r, http.StatusBadRequest, "could not read the multipart upload: "+err.Error())
	default:
		h.receiveFile(w, r, ref, form, part)
	}
}

// uploadReadBuffer is the read buffer in front of an upload's body.
const uploadReadBuffer = 64 << 10

// readCloser reads a request body through another reader (a buffer, a
// meter) and closes the body itself.
type readCloser struct {
	io.Reader
	io.Closer
}

var hexDigest = regexp.MustCompile(`^[0-9a-fA-F]+$`)

// checkForm validates the fields that arrive before the file, as warehouse
// does, and returns the parsed filename.
func checkForm(form url.Values, filename string) (name, version string, err error) {
	if a := form.Get(":action"); a != "file_upload" {
		return "", "", fmt.Errorf("unsupported :action %q: only file_upload is supported", a)
	}
	if p := form.Get("protocol_version"); p != "" && p != "1" {
		return "", "", fmt.Errorf("unsupported protocol_version %q: only 1 is supported", p)
	}
	name, version = strings.TrimSpace(form.Get("name")), strings.TrimSpace(form.Get("version"))
	if name == "" || version == "" {
		return "", "", errors.New("the upload must include the form fields name and version")
	}
	if err := CheckName(name); err != nil {
		return "", "", err
	}
	v, err := ParseVersion(version)
	if err != nil {
		return "", "", fmt.Errorf("%q is not a valid PEP 440 version: %v", version, err)
	}
	if err := ValidateFilename(filename); err != nil {
		return "", "", err
	}
	for _, d := range []string{"sha256_digest", "md5_digest", "blake2_256_digest"} {
		if val := form.Get(d); val != "" && !hexDigest.MatchString(val) {
			return "", "", fmt.Errorf("%s must be a hexadecimal digest", d)
		}
	}
	switch ft := form.Get("filetype"); ft {
	case "bdist_wheel":
		wn, err := ParseWheelFilename(filename)
		if err != nil {
			return "", "", err
		}
		if err := matchFilename(filename, wn.Name, wn.Version, name, v); err != nil {
			return "", "", err
		}
	case "sdist":
		sn, err := ParseSdistFilename(filename)
		if err != nil {
			return "", "", err
		}
		if err := matchFilename(filename, sn.Name, sn.Version, name, v); err != nil {
			return "", "", err
		}
	default:
		return "", "", fmt.Errorf("unsupported filetype %q: wharf accepts sdist (.tar.gz, .zip) and bdist_wheel (.whl); legacy eggs and bdist_wininst are not accepted, as on PyPI", ft)
	}
	return name, version, nil
}

func matchFilename(filename, fileName, fileVersion, formName string, formVersion Version) error {
	if NormalizeName(fileName) != NormalizeName(formName) {
		return fmt.Errorf("the filename %s is for project %q but the upload says name=%q", filename, fileName, formName)
	}
	fv, err := ParseVersion(fileVersion)
	if err != nil || CompareVersions(fv, formVersion) != 0 {
		return fmt.Errorf("the filename %s is for version %s but the upload says version=%s", filename, fileVersion, formVersion.String())
	}
	return nil
}

// rawFileName is the filename exactly as the client sent it: Part.FileName
// drops directory components, which would let "../x.whl" through.
func rawFileName(p *multipart.Part) string {
	_, params, err := mime.ParseMediaType(p.Header.Get("Content-Disposition"))
	if err != nil {
		return ""
	}
	return params["filename"]
}

func (h *Handler) receiveFile(w http.ResponseWriter, r *http.Request, ref registry.RepoRef, form url.Values, part *multipart.Part) {
	filename := rawFileName(part)
	name, version, err := checkForm(form, filename)
	if err != nil {
		h.refuse(w, r, http.StatusBadRequest, err.Error())
		return
	}
	// sha256_digest and md5_digest are checked by the registry, which
	// computes both anyway; blake2_256_digest only here, on a goroutine of
	// its own (fanout.Writer) so it hashes while the registry's hashes do.
	content := io.Reader(part)
	var blake2 hash.Hash
	var blake2w *fanout.Writer
	if form.Get("blake2_256_digest") != "" {
		blake2, _ = blake2b.New256(nil)
		blake2w = fanout.NewWriter(blake2)
		defer blake2w.Close()
		content = io.TeeReader(content, blake2w)
	}
	isWheel := form.Get("filetype") == "bdist_wheel"
	res, err := h.reg.Publish(r.Context(), registry.PublishRequest{
		Repo: ref, Format: "pypi", Name: name, Version: version, AssetName: filename,
		Content:      io.LimitReader(content, h.MaxUploadBytes+1),
		ExpectSHA256: strings.ToLower(form.Get("sha256_digest")),
		ExpectMD5:    strings.ToLower(form.Get("md5_digest")),
		Inspect: func(obj blob.Object) (registry.Inspection, error) {
			if obj.Info().Size > h.MaxUploadBytes {
				return registry.Inspection{}, registry.Invalid("%s is larger than the %d GiB limit per file", filename, h.MaxUploadBytes>>30)
			}
			if blake2w != nil {
				blake2w.Close() // a hash never fails to write
				if got := hex.EncodeToString(blake2.Sum(nil)); !strings.EqualFold(got, form.Get("blake2_256_digest")) {
					return registry.Inspection{}, registry.Invalid("blake2_256_digest of %s does not match the file's bytes (the upload was corrupted, or the digest belongs to another file); nothing was stored", filename)
				}
			}
			return inspect(obj, filename, isWheel, form)
		},
	})
	if err != nil {
		var re *registry.Error
		if errors.As(err, &re) && re.Kind == registry.KindConflict {
			h.refuse(w, r, http.StatusConflict, re.Message)
			return
		}
		if errors.As(err, &re) || errors.Is(err, ErrInvalid) {
			status := http.StatusBadRequest
			if re != nil && re.Kind == registry.KindForbidden {
				status = http.StatusForbidden
			} else if re != nil && re.Kind == registry.KindNotFound {
				status = http.StatusNotFound
			}
			h.refuse(w, r, status, err.Error())
			return
		}
		if registry.NoSpace(err) {
			httperr.LogNoSpace(h.log, err)
			h.answer(w, r, http.StatusInsufficientStorage, httperr.NoSpaceMessage)
			return
		}
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			h.refuse(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("the upload is larger than the %d GiB limit per file", h.MaxUploadBytes>>30))
			return
		}
		h.fail(w, r, err)
		return
	}
	// A re-upload decided by its declared digest was not read: read past it
	// so the client, still sending, gets the answer.
	io.Copy(io.Discard, r.Body)
	if res.Unchanged {
		h.log.Info("upload repeated with identical content", "repository", ref.Repository, "file", filename)
	} else {
		h.log.Info("file published", "domain", ref.Domain, "repository", ref.Repository, "file", filename, "size", res.Asset.Size, "sha256", res.Asset.SHA256)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	if res.Unchanged {
		fmt.Fprintf(w, "%s was already published with identical content; nothing changed\n", filename)
		return
	}
	fmt.Fprintf(w, "published %s\n", filename)
}

// inspect reads the archive's core metadata and checks it against the form.
func inspect(obj blob.Object, filename string, isWheel bool, form url.Values) (registry.Inspection, error) {
	var (
		raw []byte
		md  *Metadata
		err error
	)
	size := obj.Info().Size
	if isWheel {
		wn, _ := ParseWheelFilename(filename) // validated in checkForm
		raw, md, err = WheelMetadata(obj, size, wn)
	} else {
		sn, _ := ParseSdistFilename(filename)
		raw, md, err = SdistMetadata(obj, size, sn)
	}
	if err != nil {
		return registry.Inspection{}, err
	}
	if NormalizeName(md.Name) != NormalizeName(form.Get("name")) {
		return registry.Inspection{}, registry.Invalid("the metadata inside %s names project %q but the upload says name=%q", filename, md.Name, form.Get("name"))
	}
	insp := registry.Inspection{
		Summary:           md.Summary,
		HomePage:          md.HomePage,
		VersionAttributes: map[string]string{},
		AssetAttributes:   map[string]string{},
	}
	if md.License != "" || md.LicenseExpression != "" {
		insp.Licenses = []string{firstNonEmpty(md.LicenseExpression, firstLine(md.License))}
	}
	for _, u := range md.ProjectURLs {
		label, link, _ := strings.Cut(u, ",")
		l := strings.ToLower(strings.TrimSpace(label))
		if l == "source" || l == "source code" || l == "repository" {
			insp.SourceCodeRepository = strings.TrimSpace(link)
		}
		if insp.HomePage == "" && l == "homepage" {
			insp.HomePage = strings.TrimSpace(link)
		}
	}
	rp := md.RequiresPython
	if rp == "" {
		rp = form.Get("requires_python")
	}
	if rp != "" {
		insp.AssetAttributes[attrRequiresPython] = rp
	}
	if md.Description != "" {
		insp.VersionAttributes["pypi.description"] = md.Description
		insp.VersionAttributes["pypi.description_content_type"] = md.DescriptionContentType
	}
	if deps := dependencies(md.RequiresDist); deps != "" {
		insp.VersionAttributes[registry.AttrDependencies] = deps
	}
	if isWheel {
		insp.Sidecars = map[string][]byte{sidecarMetadata: raw}
	}
	return insp, nil
}

var requirementName = regexp.MustCompile(`^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(.*)$`)

// dependencies turns Requires-Dist lines into the API's PackageDependency
// list, keeping extras, version specifiers and markers in versionRequirement.
func dependencies(requires []string) string {
	type dep struct {
		Package            string `json:"package"`
		DependencyType     string `json:"dependencyType,omitempty"`
		VersionRequirement string `json:"versionRequirement,omitempty"`
	}
	var deps []dep
	for _, req := range requires {
		m := requirementName.FindStringSubmatch(req)
		if m == nil {
			continue
		}
		d := dep{Package: NormalizeName(m[1]), VersionRequirement: strings.TrimSpace(m[2])}
		if strings.Contains(d.VersionRequirement, "extra ==") || strings.Contains(d.VersionRequirement, "extra==") {
			d.DependencyType = "extra"
		}
		deps = append(deps, d)
	}
	if len(deps) == 0 {
		return ""
	}
	b, _ := json.Marshal(deps)
	return string(b)
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	if len(line) > 200 {
		line = line[:200]
	}
	return line
}

// refuse answers an upload with a status and a message, and logs both.
// Twine and pdm show only the status line unless --verbose, so, like
// warehouse, the message also goes into the reason phrase
// (httperr.Refuse).
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, status int, msg string) {
	h.log.Warn("upload refused", httperr.RefusalAttrs(w, r, status, msg)...)
	h.answer(w, r, status, msg)
}

// answer is refuse without the log line, for refusals logged otherwise
// (a full disk, logged once a minute however many uploads it refuses).
func (h *Handler) answer(w http.ResponseWriter, r *http.Request, status int, msg string) {
	httperr.Refuse(w, r, status, msg)
}
