package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/wharfhq/wharf/internal/blob"
	"github.com/wharfhq/wharf/internal/store"
)

// Blobs are shared by every asset of a domain with the same bytes, so a
// deletion and a publish can meet on one blob: the deletion finds it
// unreferenced while a publish of identical bytes, whose Put found the blob
// already there, is about to record an asset pointing at it. Both sides
// take the blob's lock (shared by replicas): a publish from checking that
// its bytes exist to recording its asset, a deletion from checking that
// nothing references the blob to deleting it. So nothing a user publishes
// can lose its bytes.

func blobLockKey(ns, sha string) string { return "blob:" + ns + "/" + sha }

// holdBlob locks a blob the caller is about to reference and checks its
// bytes are there; the caller releases it once the reference is recorded.
// If a concurrent deletion won, the publish must be retried: the bytes it
// streamed are gone with the blob it deduplicated against.
func (r *Registry) holdBlob(ctx context.Context, owner, domain, sha string) (func(), error) {
	ns := blobNamespace(owner, domain)
	unlock, err := r.store.Lock(ctx, blobLockKey(ns, sha))
	if err != nil {
		return nil, err
	}
	if _, err := r.blobs.Stat(ctx, ns, sha); err != nil {
		unlock()
		if errors.Is(err, blob.ErrNotFound) {
			return nil, fmt.Errorf("%w: identical bytes were being deleted at the same moment; send the file again", store.ErrUnavailable)
		}
		return nil, err
	}
	return unlock, nil
}

// blobHolds are the blob locks one operation holds, each taken once.
type blobHolds struct {
	r             *Registry
	owner, domain string
	held          map[string]func()
}

func (r *Registry) newHolds(owner, domain string) *blobHolds {
	return &blobHolds{r: r, owner: owner, domain: domain, held: map[string]func(){}}
}

func (h *blobHolds) hold(ctx context.Context, sha string) error {
	if _, ok := h.held[sha]; ok {
		return nil
	}
	unlock, err := h.r.holdBlob(ctx, h.owner, h.domain, sha)
	if err != nil {
		return err
	}
	h.held[sha] = unlock
	return nil
}

// asset holds every blob a (its content and its sidecars) references.
func (h *blobHolds) asset(ctx context.Context, a store.Asset) error {
	if err := h.hold(ctx, a.SHA256); err != nil {
		return err
	}
	for k, v := range a.Attributes {
		if strings.HasPrefix(k, SidecarAttr("")) && v != "" {
			if err := h.hold(ctx, v); err != nil {
				return err
			}
		}
	}
	return nil
}

func (h *blobHolds) release() {
	for sha, unlock := range h.held {
		unlock()
		delete(h.held, sha)
	}
}

// holdBlobs holds every blob an asset references until release.
func (r *Registry) holdBlobs(ctx context.Context, a store.Asset) (release func(), err error) {
	h := r.newHolds(a.DomainOwner, a.DomainName)
	if err := h.asset(ctx, a); err != nil {
		h.release()
		return nil, err
	}
	return h.release, nil
}

// removeBlobs deletes those of candidates that no asset of the domain
// references any more. Failures only leave bytes behind, so they are logged.
func (r *Registry) removeBlobs(ctx context.Context, owner, domain string, candidates []string) {
	ns := blobNamespace(owner, domain)
	seen := map[string]bool{}
	for _, sha := range candidates {
		if seen[sha] {
			continue
		}
		seen[sha] = true
		unlock, err := r.store.Lock(ctx, blobLockKey(ns, sha))
		if err != nil {
			r.log.Warn("could not lock an orphaned blob; keeping it", "domain", domain, "sha256", sha, "err", err)
			continue
		}
		used, err := r.store.BlobReferenced(ctx, owner, domain, sha)
		if err == nil && !used {
			err = r.blobs.Delete(ctx, ns, sha)
		}
		unlock()
		if err != nil {
			r.log.Warn("could not delete an orphaned blob", "domain", domain, "sha256", sha, "err", err)
		}
	}
}

// discardUnreferenced deletes the held blobs that no asset references —
// what a refused publish stored — and releases them all. Deleting while
// holding the lock is what makes it safe: no other publish can be between
// checking a held blob and recording its asset. One that has put the same
// bytes and not yet taken the lock finds them gone and asks its client to
// send the file again (holdBlob), as with any deletion. The deletion
// outlives the request: a client that hangs up must not leave bytes behind.
func (h *blobHolds) discardUnreferenced(ctx context.Context) {
	defer h.release()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	ns := blobNamespace(h.owner, h.domain)
	for sha := range h.held {
		used, err := h.r.store.BlobReferenced(ctx, h.owner, h.domain, sha)
		if err == nil && !used {
			err = h.r.blobs.Delete(ctx, ns, sha)
		}
		if err != nil {
			h.r.log.Warn("could not remove the bytes of a refused upload; the blob sweep will", "domain", h.domain, "sha256", sha, "err", err)
		}
	}
}

// cleanupTimeout bounds the removal of what a refused upload stored.
const cleanupTimeout = time.Minute
