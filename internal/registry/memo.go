package registry

import "sync"

// genMemo remembers values read from the store while a generation counter
// is unchanged (other replicas' writes move it too, see Sync): the read paths
// of every data-plane request look up the same few rows — repositories,
// their upstream order, the domain's package groups, policies — which
// change rarely and only through a store's writes (see generations).
// Only successful reads are remembered, unless keep says otherwise.
type genMemo[K comparable, V any] struct {
	generation func() uint64 // the counter the values depend on
	keep       func(error) bool

	mu      sync.RWMutex
	entries map[K]memoEntry[V]
}

type memoEntry[V any] struct {
	gen uint64
	v   V
	err error
}

// maxMemoEntries bounds each memo: keys come from requests and need not
// exist.
const maxMemoEntries = 10000

func newGenMemo[K comparable, V any](generation func() uint64, keep func(error) bool) *genMemo[K, V] {
	if keep == nil {
		keep = func(err error) bool { return err == nil }
	}
	return &genMemo[K, V]{generation: generation, keep: keep, entries: map[K]memoEntry[V]{}}
}

// get returns the value remembered for key, or load's result, remembered if
// keep allows.
func (m *genMemo[K, V]) get(key K, load func() (V, error)) (V, error) {
	gen := m.generation() // before the read: a write during it invalidates
	m.mu.RLock()
	e, ok := m.entries[key]
	m.mu.RUnlock()
	if ok && e.gen == gen {
		return e.v, e.err
	}
	v, err := load()
	if !m.keep(err) {
		return v, err
	}
	m.mu.Lock()
	if len(m.entries) >= maxMemoEntries {
		clear(m.entries)
	}
	m.entries[key] = memoEntry[V]{gen: gen, v: v, err: err}
	m.mu.Unlock()
	return v, err
}
