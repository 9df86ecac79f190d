package registry

import (
	"github.com/wharfhq/wharf/internal/blob"
)

// RemoteFile is one file an external registry lists for a package, as the
// format parsed it from the registry's index page.
type RemoteFile struct {
	Name     string // the package the file belongs to, normalized
	Version  string // the format's normalized version
	Filename string
	URL      string // absolute; shown only through upstream.URL (redacted)
	SHA256   string // lowercase hex, as the registry declared it ("" if none)
	Size     int64  // 0 when the registry did not say
	// Attributes become the asset's attributes once the file is ingested,
	// and are shown on index pages before that (pypi: requires_python,
	// yanked, core-metadata digest).
	Attributes map[string]string
	UploadTime string // RFC 3339, "" when unknown
}

// RemoteIndex is what a format implements so its packages can come from an
// external connection: where a package's index page is, how to ask for it,
// how to read it, and how to inspect an ingested file.
type RemoteIndex interface {
	// IndexURL is the page listing a package's files under the
	// connection's base URL (without its query or credentials, which the
	// upstream client adds).
	IndexURL(baseURL, namespace, name string) string
	// Accept is the Accept header to send for index pages.
	Accept() string
	// ParseIndex reads an index page fetched from pageURL.
	ParseIndex(pageURL, contentType string, body []byte) ([]RemoteFile, error)
	// InspectRemote reads an ingested file like Publish's Inspect does; f
	// is what the index said about it.
	InspectRemote(obj blob.Object, f RemoteFile) (Inspection, error)
}

// RemoteSidecars is implemented by a format whose upstreams may serve a
// file's sidecar apart from the file (pypi: a wheel's PEP 658 core
// metadata), so a client reading only the sidecar never makes wharf
// download the whole file.
type RemoteSidecars interface {
	// RemoteSidecar returns where the upstream serves f's sidecar and the
	// sha256 its index declared for it; ok is false when it offers none or
	// declares no digest (bytes that cannot be verified are not served).
	RemoteSidecar(f RemoteFile, sidecar string) (url, sha256 string, ok bool)
}
