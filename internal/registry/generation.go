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
// The counters see this process's writes as they happen. With a store
// shared by replicas (PostgreSQL, see ShareStore), every request first
// calls Sync, which reads the store's change feed (store.Change) in one
// round trip and moves the counters of whatever other replicas changed: a
// write any replica acknowledged before the request arrived is then seen
// by every cache this request consults.
type generations struct {
	all         atomic.Uint64
	packages    sync.Map      // viewKey -> *atomic.Uint64
	policies    atomic.Uint64 // see PolicyReader
	revocations atomic.Uint64 // see RevocationGeneration

	shared atomic.Bool // ShareStore was called: Sync reads the feed
	feed   feedReads
	feedMu sync.Mutex
	seen   uint64 // the latest change of the feed the counters reflect (feedMu)

	// For tests and benchmarks: feed reads, and changes applied from them.
	syncs, applied atomic.Uint64
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

// bumpEverything invalidates every cache: the feed lost track (a replica
// further behind than the changes the store keeps, or a restored store).
func (g *generations) bumpEverything() {
	g.all.Add(1)
	g.policies.Add(1)
	g.revocations.Add(1)
}

// syncBatch bounds the changes one Sync reads; a replica further behind
// invalidates everything instead.
const syncBatch = 1000

// apply moves the counters for the changes numbered after..latest that a
// feed read returned. Changes are numbered densely, so fewer of them than
// the numbers skipped means some were pruned or cut off by syncBatch.
func (g *generations) apply(after, latest uint64, changes []store.Change) {
	g.feedMu.Lock()
	defer g.feedMu.Unlock()
	switch {
	case latest < after: // the store went back in time (restored): nothing cached can be trusted
		g.bumpEverything()
		g.seen = latest // and its numbers after latest are new writes
		return
	case latest <= g.seen: // nothing new, or a concurrent read that ended later saw more
		return
	case uint64(len(changes)) != latest-after:
		g.bumpEverything()
	default:
		for _, c := range changes {
			if c.Seq <= g.seen { // another Sync applied it already
				continue
			}
			g.applied.Add(1)
			switch c.Kind {
			case store.ChangePackage:
				g.bumpPackage(c.Package)
			case store.ChangePolicy:
				g.policies.Add(1)
			case store.ChangeRevocation:
				g.revocations.Add(1)
			default: // ChangeDomain, and any kind this version does not know
				g.bumpAll()
			}
		}
	}
	g.seen = max(g.seen, latest)
}

// ViewGeneration returns a number that changes whenever anything
// PackageView(ref, format, namespace, name) depends on changes, except what
// external connections list (a view that consulted one says so in
// View.Volatile): at once for this process's writes, and, with a shared
// store, for other replicas' writes from the next Sync. name must be in the
// format's normal form. A caller takes the generation before it reads the
// view and keeps what it rendered only while the generation is unchanged.
// It costs no I/O.
func (r *Registry) ViewGeneration(ref RepoRef, format, namespace, name string) uint64 {
	g := r.gens
	n := g.all.Load()
	if c, ok := g.packages.Load(viewKey{ref.Owner, ref.Domain, format, namespace, name}); ok {
		n += c.(*atomic.Uint64).Load()
	}
	return n
}

// RevocationGeneration changes whenever a token revocation is recorded
// (by this process, or by another replica as of the last Sync).
func (r *Registry) RevocationGeneration() uint64 { return r.gens.revocations.Load() }

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

func (s countingStore) CreateRevocation(ctx context.Context, rv store.Revocation) error {
	defer s.g.revocations.Add(1)
	return s.Store.CreateRevocation(ctx, rv)
}

func (s countingStore) DeletePackageGroup(ctx context.Context, owner, domain, pattern string) error {
	defer s.g.bumpAll()
	return s.Store.DeletePackageGroup(ctx, owner, domain, pattern)
}
