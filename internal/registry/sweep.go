package registry

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/wharfhq/wharf/internal/blob"
	"github.com/wharfhq/wharf/internal/store"
)

// UnreferencedGrace is how old an unreferenced blob must be before the
// sweep removes it. A publish holds its blob (blobrefs.go) from just after
// its Put until its asset is recorded, so the grace only has to cover the
// moment between the two, and a Put that found the bytes already there
// refreshes their time (fsblob); an hour leaves room for clock skew between
// replicas and an S3 server.
const UnreferencedGrace = time.Hour

// SweepResult says what a sweep removed.
type SweepResult struct {
	Blobs int   // unreferenced blobs deleted
	Bytes int64 // their size
}

// SweepBlobs deletes the blobs no asset references that are older than
// olderThan: the bytes of uploads in flight when a process was killed,
// and of refusals whose cleanup failed. Each candidate is checked again
// under its blob lock, as every deletion is, so a sweep on one replica
// never takes bytes a publish on another is about to reference. A store
// that cannot list its blobs is not swept.
func (r *Registry) SweepBlobs(ctx context.Context, olderThan time.Duration) (SweepResult, error) {
	var res SweepResult
	lister, ok := r.blobs.(blob.Sweeper)
	if !ok {
		return res, nil
	}
	cutoff := r.now().Add(-olderThan)
	// Most blobs are referenced. Asking the store about each would cost a
	// scan of the domain's attributes per sidecar blob, so the references
	// of each domain are read once, in bulk; only blobs missing from them
	// are checked one by one, under their lock.
	referenced := map[string]map[string]bool{}
	err := lister.List(ctx, func(ns string, info blob.Info) error {
		if !info.ModTime.Before(cutoff) {
			return nil
		}
		owner, domain, ok := strings.Cut(ns, "/")
		if !ok {
			return nil // not a namespace this registry writes
		}
		refs, ok := referenced[ns]
		if !ok {
			var err error
			if refs, err = r.referencedBlobs(ctx, owner, domain); err != nil {
				return err
			}
			referenced[ns] = refs
		}
		if refs[info.SHA256] {
			return nil
		}
		removed, err := r.sweepBlob(ctx, owner, domain, info.SHA256, cutoff)
		if removed {
			res.Blobs++
			res.Bytes += info.Size
		}
		return err
	})
	return res, err
}

// sweepBlob deletes one blob if, under its lock, it is still old and still
// unreferenced.
func (r *Registry) sweepBlob(ctx context.Context, owner, domain, sha string, cutoff time.Time) (bool, error) {
	ns := blobNamespace(owner, domain)
	unlock, err := r.store.Lock(ctx, blobLockKey(ns, sha))
	if err != nil {
		return false, err
	}
	defer unlock()
	info, err := r.blobs.Stat(ctx, ns, sha)
	if errors.Is(err, blob.ErrNotFound) || err == nil && !info.ModTime.Before(cutoff) {
		return false, nil // gone, or just put again by a publish
	}
	if err != nil {
		return false, err
	}
	used, err := r.store.BlobReferenced(ctx, owner, domain, sha)
	if err != nil || used {
		return false, err
	}
	if err := r.blobs.Delete(ctx, ns, sha); err != nil {
		return false, err
	}
	return true, nil
}

// referencedBlobs is every blob an asset of the domain references, as its
// content or as a sidecar, read repository by repository and package by
// package. An asset recorded meanwhile may be missing: sweepBlob checks
// again, under the lock, before it deletes anything.
func (r *Registry) referencedBlobs(ctx context.Context, owner, domain string) (map[string]bool, error) {
	refs := map[string]bool{}
	repoPage := store.Page{Limit: 1000}
	for {
		repos, next, err := r.store.ListRepositories(ctx, owner, domain, "", repoPage)
		if err != nil {
			return nil, err
		}
		for _, repo := range repos {
			pkgPage := store.Page{Limit: 1000}
			for {
				pkgs, nextPkg, err := r.store.ListPackages(ctx, owner, domain, repo.Name, store.PackageFilter{}, pkgPage)
				if err != nil {
					return nil, err
				}
				for _, p := range pkgs {
					assets, err := r.store.ListPackageAssets(ctx, p.PackageKey)
					if err != nil {
						return nil, err
					}
					for _, a := range assets {
						refs[a.SHA256] = true
						for k, v := range a.Attributes {
							if strings.HasPrefix(k, SidecarAttr("")) {
								refs[v] = true
							}
						}
					}
				}
				if nextPkg == "" {
					break
				}
				pkgPage.After = nextPkg
			}
		}
		if next == "" {
			return refs, nil
		}
		repoPage.After = next
	}
}
