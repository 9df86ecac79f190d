package server

import (
	"context"
	"time"

	"github.com/wharfhq/wharf/internal/blob"
	"github.com/wharfhq/wharf/internal/registry"
)

// DefaultSweepInterval is how often a running server removes what crashed
// or killed uploads left behind (--sweep-interval).
const DefaultSweepInterval = time.Hour

// abandonedPutAge is how long a temporary file or multipart upload must go
// unwritten before the sweep takes it for a killed Put's: longer than any
// upload in progress, here or on another replica, goes without a byte.
const abandonedPutAge = time.Hour

// startSweeper sweeps every interval until ctx ends; the returned channel
// is closed once it has stopped, so the store outlives the last sweep.
// Every replica sweeps: temporary files are only taken once abandoned, and
// blobs only under their lock (registry.SweepBlobs), so replicas sweeping
// together, or sweeping while others publish, take nothing in use.
func (s *Server) startSweeper(ctx context.Context, interval time.Duration) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				s.sweep(ctx)
			}
		}
	}()
	return done
}

// sweep removes abandoned temporary files and uploads, then unreferenced
// blobs older than registry.UnreferencedGrace.
func (s *Server) sweep(ctx context.Context) {
	if sw, ok := s.blobs.(blob.Sweeper); ok {
		n, err := sw.CleanupStale(ctx, abandonedPutAge)
		if err != nil && ctx.Err() == nil {
			s.log.Warn("sweep: could not remove abandoned uploads", "err", err)
		}
		if n > 0 {
			s.log.Info("sweep: removed abandoned uploads", "count", n)
		}
	}
	res, err := s.reg.SweepBlobs(ctx, registry.UnreferencedGrace)
	if err != nil && ctx.Err() == nil {
		s.log.Warn("sweep: could not remove unreferenced blobs", "err", err)
	}
	if res.Blobs > 0 {
		s.log.Info("sweep: removed unreferenced blobs", "count", res.Blobs, "bytes", res.Bytes)
	}
}
