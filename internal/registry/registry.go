// Package registry is Wharf's core: domains, repositories, packages,
// versions and assets, and every business rule about them. It speaks no wire
// protocol; the control plane (internal/api) and the formats
// (internal/format/*) translate requests into calls on a *Registry.
package registry

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/wharfhq/wharf/internal/blob"
	"github.com/wharfhq/wharf/internal/store"
	"github.com/wharfhq/wharf/internal/upstream"
)

// Format is what the core needs to know about a package format. Each
// format package implements it; the server hands them to New, so the core
// never imports a format.
type Format interface {
	Name() string // "pypi", "npm", "generic", ...
	// NormalizeName returns the namespace and name as the format stores and
	// addresses them, or an error a person can act on.
	NormalizeName(namespace, name string) (string, string, error)
	// NormalizeVersion returns the version as the format stores it.
	NormalizeVersion(version string) (string, error)
	// CompareVersions orders versions the format's way (PEP 440, semver...).
	CompareVersions(a, b string) int
}

// Registry implements the core operations. It is safe for concurrent use.
type Registry struct {
	store   store.Store
	blobs   blob.Store
	formats map[string]Format
	log     *slog.Logger
	now     func() time.Time

	// External connections (see UseUpstreams); nil when disabled.
	upstream    *upstream.Client
	connections map[string]upstream.Connection

	gens         *generations // see ViewGeneration
	policiesOnce sync.Once
	policies     *PolicyReader

	// What every page or file request reads, remembered while no
	// repository, upstream list, package group or domain changes (memo.go).
	repos  *genMemo[repoKey, store.Repository]
	orders *genMemo[RepoRef, []source]
	groups *genMemo[domainKey, *groupTree]
}

type repoKey struct{ owner, domain, name string }
type domainKey struct{ owner, domain string }

// New assembles a registry from its stores and the formats it serves.
func New(st store.Store, bl blob.Store, log *slog.Logger, formats ...Format) *Registry {
	gens := &generations{}
	r := &Registry{store: countingStore{st, gens}, gens: gens, blobs: bl, formats: map[string]Format{}, log: log, now: time.Now}
	r.repos = newGenMemo[repoKey, store.Repository](gens.all.Load, nil)
	r.orders = newGenMemo[RepoRef, []source](gens.all.Load, nil)
	r.groups = newGenMemo[domainKey, *groupTree](gens.all.Load, nil)
	for _, f := range formats {
		r.formats[f.Name()] = f
	}
	return r
}

// Store exposes the metadata store for start-up tasks (settings).
func (r *Registry) Store() store.Store { return r.store }

func (r *Registry) format(name string) (Format, error) {
	f, ok := r.formats[name]
	if !ok {
		return nil, Invalid("package format %q is not served by this wharf yet; supported formats: %s", name, r.formatNames())
	}
	return f, nil
}

func (r *Registry) formatNames() string {
	s := ""
	for n := range r.formats {
		if s != "" {
			s += ", "
		}
		s += n
	}
	return s
}

// blobNamespace keeps each domain's bytes apart, so a domain stores a file
// once for all its repositories and can be cleaned up on its own.
func blobNamespace(owner, domain string) string { return owner + "/" + domain }

// newRevision returns a fresh opaque revision id (CodeArtifact revisions
// are base64 strings that change on every change to a version).
func newRevision() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err))
	}
	return base64.StdEncoding.EncodeToString(b)
}

// translate turns store sentinels into registry errors naming the resource.
func translate(err error, resType, resID string) error {
	switch {
	case err == nil:
		return nil
	case isErr(err, store.ErrNotFound):
		return NotFound(resType, resID, "%s %s not found", resType, resID)
	case isErr(err, store.ErrExists):
		return Conflict(resType, resID, "%s %s already exists", resType, resID)
	}
	return err
}
