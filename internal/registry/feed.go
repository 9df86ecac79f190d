package registry

import (
	"context"
	"sync"
	"time"
)

// ShareStore tells the registry that other processes write to its store
// (replicas on PostgreSQL): from now on Sync reads the store's change feed.
// It reads where the feed stands; nothing is cached yet that could be older.
func (r *Registry) ShareStore(ctx context.Context) error {
	latest, _, err := r.store.Changes(ctx, 0, 0)
	if err != nil {
		return err
	}
	g := r.gens
	g.feedMu.Lock()
	g.seen = max(g.seen, latest)
	g.feedMu.Unlock()
	g.shared.Store(true)
	return nil
}

// Sync brings the generations up to date with every write committed
// before it was called, whichever replica made it: the server calls it at
// the start of every request, before any cache is consulted. With a shared
// store it waits for one read of the change feed that starts after the
// call (a one-row read, plus the changes when there are any); without,
// it returns at once. An error means the store could not be read, and
// nothing cached may be trusted for this request.
//
// Up to maxFeedReads reads run at once, one per request; requests arriving
// while that many run share the next read, which starts as soon as one
// ends (a read already running may have started before they arrived, and
// miss a write they must see). So a quiet replica pays one round trip per
// request, and a busy one at most maxFeedReads reads per round trip,
// however many requests it serves.
func (r *Registry) Sync(ctx context.Context) error {
	g := r.gens
	if !g.shared.Load() {
		return nil
	}
	f := &g.feed
	f.mu.Lock()
	if f.pending == nil && f.running < maxFeedReads {
		f.running++
		f.mu.Unlock()
		rd := &feedRound{done: make(chan struct{})}
		r.runFeedRound(rd) // on this goroutine: nobody else waits for it
		return rd.err
	}
	rd := f.pending
	if rd == nil {
		rd = &feedRound{done: make(chan struct{})}
		f.pending = rd
	}
	f.mu.Unlock()
	select {
	case <-rd.done:
		return rd.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// maxFeedReads bounds the feed reads one replica runs at once.
const maxFeedReads = 4

// feedReads coalesces Sync's reads of the change feed.
type feedReads struct {
	mu      sync.Mutex
	running int        // reads under way
	pending *feedRound // the read that starts when a running one ends
}

type feedRound struct {
	done chan struct{}
	err  error
}

// feedTimeout bounds one read of the feed, which may serve many requests
// and so follows none's context.
const feedTimeout = 10 * time.Second

// runFeedRound reads the feed for rd, then hands its slot to the round
// requests joined meanwhile, if any.
func (r *Registry) runFeedRound(rd *feedRound) {
	rd.err = r.readChanges()
	close(rd.done)
	f := &r.gens.feed
	f.mu.Lock()
	next := f.pending
	f.pending = nil
	if next == nil {
		f.running--
	}
	f.mu.Unlock()
	if next != nil {
		go r.runFeedRound(next) // the slot passes on; this request goes back to its client
	}
}

func (r *Registry) readChanges() error {
	g := r.gens
	ctx, cancel := context.WithTimeout(context.Background(), feedTimeout)
	defer cancel()
	g.feedMu.Lock()
	after := g.seen
	g.feedMu.Unlock()
	g.syncs.Add(1)
	latest, changes, err := r.store.Changes(ctx, after, syncBatch)
	if err != nil {
		return err
	}
	g.apply(after, latest, changes)
	return nil
}

// SyncStats reports how many times Sync read the change feed and how many
// changes it applied from it (for tests and benchmarks).
func (r *Registry) SyncStats() (reads, applied uint64) {
	return r.gens.syncs.Load(), r.gens.applied.Load()
}
