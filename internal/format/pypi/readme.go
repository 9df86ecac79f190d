package pypi

import "github.com/wharfhq/wharf/internal/store"

// Readme is the long description from core metadata (registry.Readmer),
// which the upload recorded as a version attribute.
func (Format) Readme(v store.PackageVersion) string { return v.Attributes["pypi.description"] }
