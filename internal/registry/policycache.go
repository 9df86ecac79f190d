package registry

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/wharfhq/wharf/internal/store"
)

// PolicyReader reads resource policies for authorization, from memory
// once read: every data-plane request is authorized against the domain's
// and the repository's policy, almost always to find none, and two queries
// per request cost more than serving a cached page. Entries (absences
// included) stay valid until a policy is put or deleted, or a domain or
// repository changes, through this registry's store; with a shared store
// (ShareStore), at most the same max age as cached views.
type PolicyReader struct {
	st   store.Store // the underlying store
	gens *generations

	mu      sync.RWMutex
	entries map[string]policyEntry
}

type policyEntry struct {
	gen  uint64
	born time.Time
	p    store.Policy
	err  error // nil or store.ErrNotFound
}

// maxPolicyEntries bounds the cache: lookups are keyed by the ARN a
// request names, which need not exist.
const maxPolicyEntries = 10000

// PolicyReader returns the registry's cached policy reader (it implements
// policy.PolicyStore).
func (r *Registry) PolicyReader() *PolicyReader {
	r.policiesOnce.Do(func() {
		r.policies = &PolicyReader{st: r.store.(countingStore).Store, gens: r.gens, entries: map[string]policyEntry{}}
	})
	return r.policies
}

func (c *PolicyReader) generation() uint64 { return c.gens.all.Load() + c.gens.policies.Load() }

// Generation changes whenever a policy may have changed (as ViewGeneration
// for views): a decision taken from policies read at one generation holds
// while it is unchanged, and, with a shared store, at most ViewCacheMaxAge.
func (c *PolicyReader) Generation() uint64 { return c.generation() }

// GetPolicy returns the policy stored under key, or store.ErrNotFound.
func (c *PolicyReader) GetPolicy(ctx context.Context, key string) (store.Policy, error) {
	gen := c.generation() // before the read, as for views
	maxAge := time.Duration(c.gens.maxAge.Load())
	c.mu.RLock()
	e, ok := c.entries[key]
	c.mu.RUnlock()
	if ok && e.gen == gen && (maxAge == 0 || time.Since(e.born) <= maxAge) {
		return e.p, e.err
	}
	p, err := c.st.GetPolicy(ctx, key)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return p, err
	}
	c.mu.Lock()
	if len(c.entries) >= maxPolicyEntries {
		clear(c.entries)
	}
	c.entries[key] = policyEntry{gen: gen, born: time.Now(), p: p, err: err}
	c.mu.Unlock()
	return p, err
}
