package server

import (
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wharfhq/wharf/internal/auth"
	"github.com/wharfhq/wharf/internal/registry"
)

// readMemo remembers the data-plane reads that were authenticated and
// allowed: pip and uv send the same Authorization header with every request
// of a session, and checking it again (decoding the token, evaluating the
// permission policies) cost more than serving a cached index page. An entry
// is keyed by the exact header and the repository; it holds while the
// token has not expired and no permission policy changed (the policy
// generation, which other replicas' changes move too: see synced), so an
// expiry or a policy change takes effect on the next request. Revocations
// are checked on every request, remembered or not (revocations.go).
// Refusals are never remembered: they are rare and their messages depend
// on the moment.
type readMemo struct {
	policies *registry.PolicyReader
	entries  sync.Map // readKey -> readEntry
	n        atomic.Int64
}

type readKey struct {
	authorization string
	repo          registry.RepoRef
}

type readEntry struct {
	claims auth.Claims
	gen    uint64
}

// maxReadMemo bounds the memo; it is emptied when full.
const maxReadMemo = 10000

// generation is taken before the checks whose outcome is remembered.
func (m *readMemo) generation() uint64 { return m.policies.Generation() }

// lookup returns the claims of a read r already allowed on ref.
func (m *readMemo) lookup(r *http.Request, ref registry.RepoRef, now time.Time) (auth.Claims, bool) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return auth.Claims{}, false
	}
	v, ok := m.entries.Load(readKey{r.Header.Get("Authorization"), ref})
	if !ok {
		return auth.Claims{}, false
	}
	e := v.(readEntry)
	if e.gen != m.generation() || !now.Before(e.claims.ExpiresAt) {
		return auth.Claims{}, false
	}
	return e.claims, true
}

// remember records that r was authenticated as claims and allowed to read
// ref, by checks that started at policy generation gen.
func (m *readMemo) remember(r *http.Request, ref registry.RepoRef, claims auth.Claims, gen uint64, now time.Time) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return
	}
	if m.n.Add(1) > maxReadMemo {
		m.entries.Clear()
		m.n.Store(1)
	}
	m.entries.Store(readKey{r.Header.Get("Authorization"), ref}, readEntry{claims: claims, gen: gen})
}
