package registry

import (
	"context"
	"errors"

	"github.com/wharfhq/wharf/internal/store"
)

// PolicyReader reads resource policies for authorization, from memory
// once read: every data-plane request is authorized against the domain's
// and the repository's policy, almost always to find none, and two queries
// per request cost more than serving a cached page. Entries (absences
// included) stay valid until a policy is put or deleted, or a domain or
// repository changes, through this registry's store or, as of the last
// Sync, another replica's.
type PolicyReader struct {
	st   store.Store // the underlying store
	gens *generations
	memo *genMemo[string, store.Policy]
}

// PolicyReader returns the registry's cached policy reader (it implements
// policy.PolicyStore).
func (r *Registry) PolicyReader() *PolicyReader {
	r.policiesOnce.Do(func() {
		p := &PolicyReader{st: r.store.(countingStore).Store, gens: r.gens}
		p.memo = newGenMemo[string, store.Policy](p.generation, func(err error) bool {
			return err == nil || errors.Is(err, store.ErrNotFound)
		})
		r.policies = p
	})
	return r.policies
}

func (c *PolicyReader) generation() uint64 { return c.gens.all.Load() + c.gens.policies.Load() }

// Generation changes whenever a policy may have changed (as ViewGeneration
// for views): a decision taken from policies read at one generation holds
// while it is unchanged.
func (c *PolicyReader) Generation() uint64 { return c.generation() }

// GetPolicy returns the policy stored under key, or store.ErrNotFound.
func (c *PolicyReader) GetPolicy(ctx context.Context, key string) (store.Policy, error) {
	return c.memo.get(key, func() (store.Policy, error) { return c.st.GetPolicy(ctx, key) })
}
