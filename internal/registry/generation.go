package registry

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wharfhq/wharf/internal/store"
)

// Formats cache what they render from a PackageView (index pages), and a
// cached page must never outlive a write that changes it. Every such write
// goes through the metadata store, so the registry wraps its store and
// counts writes: one counter per package name in a domain (every
// repository of the domain, because a view merges upstream repositories),
// and one counter for writes that can change any view (repositories,
// their upstreams and connections, package groups, domains).
//
// The counters see this process's writes only. Replicas sharing a store
// (PostgreSQL) see each other's writes after at most SharedStoreMaxAge
// (see ShareStore); a single process sees its own at once.
type generations struct {
	all      atomic.Uint64
	packages sync.Map      // viewKey -> *atomic.Uint64
	policies atomic.Uint64 // see PolicyReader
	// maxAge > 0: the store is shared with other processes, whose writes
	// these counters do not see; cached renderings expire after maxAge.
	maxAge atomic.Int64
}

type viewKey struct{ owner, domain, format, namespace, name string }

func (g *generations) counter(k viewKey) *atomic.Uint64 {
	if c, ok := g.packages.Load(k); ok {
		return c.(*atomic.Uint64)
	}
	c, _ := g.packages.LoadOrStore(k, new(atomic.Uint64))
	return c.(*atomic.Uint64)
}

func (g *generations) bumpPackage(k store.PackageKey) {
	g.counter(viewKey{k.DomainOwner, k.DomainName, k.Format, k.Namespace, k.Name}).Add(1)
}

func (g *generations) bumpAll() { g.all.Add(1) }

// ViewGeneration returns a number that changes whenever this process
// changes anything PackageView(ref, format, namespace, name) depends on,
// except what external connections list (a view that consulted one says so
// in View.Volatile). name must be in the format's normal form. A caller
// takes the generation before it reads the view and keeps what it rendered
// only while the generation is unchanged. It costs no I/O.
func (r *Registry) ViewGeneration(ref RepoRef, format, namespace, name string) uint64 {
	g := r.gens
	n := g.all.Load()
	if c, ok := g.packages.Load(viewKey{ref.Owner, ref.Domain, format, namespace, name}); ok {
		n += c.(*atomic.Uint64).Load()
	}
	return n
}

// ShareStore tells the registry that other processes write to its store
// (replicas on PostgreSQL): renderings cached from its views are then kept
// at most maxAge, the bound on how long another replica's write can go
// unseen here.
func (r *Registry) ShareStore(maxAge time.Duration) { r.gens.maxAge.Store(int64(maxAge)) }

// ViewCacheMaxAge is how long a rendering cached under an unchanged
// ViewGeneration stays valid: 0 means until the generation changes.
func (r *Registry) ViewCacheMaxAge() time.Duration { return time.Duration(r.gens.maxAge.Load()) }

// countingStore is the registry's store: each write that can change a
// view bumps a generation after it returns (after, so that a reader that
// took the old generation and read the old rows is invalidated). Methods
// not listed here change neither views nor policies (settings, tags, access
// keys, the upstream page cache) and pass through.
type countingStore struct {
	store.Store
	g *generations
}

func (s countingStore) CreateDomain(ctx context.Context, d store.Domain) error {
	defer s.g.bumpAll()
	return s.Store.CreateDomain(ctx, d)
}

func (s countingStore) DeleteDomain(ctx context.Context, owner, name string) error {
	defer s.g.bumpAll()
	return s.Store.DeleteDomain(ctx, owner, name)
}

func (s countingStore) CreateRepository(ctx context.Context, r store.Repository) error {
	defer s.g.bumpAll()
	return s.Store.CreateRepository(ctx, r)
}

func (s countingStore) UpdateRepository(ctx context.Context, r store.Repository) error {
	defer s.g.bumpAll()
	return s.Store.UpdateRepository(ctx, r)
}

func (s countingStore) DeleteRepository(ctx context.Context, owner, domain, name string) ([]string, error) {
	defer s.g.bumpAll()
	return s.Store.DeleteRepository(ctx, owner, domain, name)
}

func (s countingStore) PutPackageOrigin(ctx context.Context, k store.PackageKey, publish, upstream string) error {
	defer s.g.bumpPackage(k)
	return s.Store.PutPackageOrigin(ctx, k, publish, upstream)
}

func (s countingStore) AddAsset(ctx context.Context, pkg store.Package, v store.PackageVersion, a store.Asset) (store.Asset, error) {
	defer s.g.bumpPackage(pkg.PackageKey)
	return s.Store.AddAsset(ctx, pkg, v, a)
}

func (s countingStore) SetVersionStatus(ctx context.Context, k store.VersionKey, status, revision, ifRevision string, updatedAt time.Time) (store.PackageVersion, error) {
	defer s.g.bumpPackage(k.PackageKey)
	return s.Store.SetVersionStatus(ctx, k, status, revision, ifRevision, updatedAt)
}

func (s countingStore) DisposeVersion(ctx context.Context, k store.VersionKey, revision string, updatedAt time.Time) ([]string, error) {
	defer s.g.bumpPackage(k.PackageKey)
	return s.Store.DisposeVersion(ctx, k, revision, updatedAt)
}

func (s countingStore) DeleteVersion(ctx context.Context, k store.VersionKey) ([]string, error) {
	defer s.g.bumpPackage(k.PackageKey)
	return s.Store.DeleteVersion(ctx, k)
}

func (s countingStore) DeletePackage(ctx context.Context, k store.PackageKey) ([]string, error) {
	defer s.g.bumpPackage(k)
	return s.Store.DeletePackage(ctx, k)
}

func (s countingStore) PutPolicy(ctx context.Context, p store.Policy, ifRevision string) error {
	defer s.g.policies.Add(1)
	return s.Store.PutPolicy(ctx, p, ifRevision)
}

func (s countingStore) DeletePolicy(ctx context.Context, resourceARN, ifRevision string) (store.Policy, error) {
	defer s.g.policies.Add(1)
	return s.Store.DeletePolicy(ctx, resourceARN, ifRevision)
}

func (s countingStore) CreatePackageGroup(ctx context.Context, pg store.PackageGroup) error {
	defer s.g.bumpAll()
	return s.Store.CreatePackageGroup(ctx, pg)
}

func (s countingStore) UpdatePackageGroup(ctx context.Context, pg store.PackageGroup) error {
	defer s.g.bumpAll()
	return s.Store.UpdatePackageGroup(ctx, pg)
}

func (s countingStore) DeletePackageGroup(ctx context.Context, owner, domain, pattern string) error {
	defer s.g.bumpAll()
	return s.Store.DeletePackageGroup(ctx, owner, domain, pattern)
}
