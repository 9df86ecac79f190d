package registry_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/wharfhq/wharf/internal/blob"
	"github.com/wharfhq/wharf/internal/blob/s3blob"
	"github.com/wharfhq/wharf/internal/format/pypi"
	"github.com/wharfhq/wharf/internal/registry"
	"github.com/wharfhq/wharf/internal/store"
	"github.com/wharfhq/wharf/internal/store/postgres"
	"github.com/wharfhq/wharf/internal/testenv/pgtest"
	"github.com/wharfhq/wharf/internal/testenv/s3test"
)

// scaleOut is the scale-out storage of replicas: one PostgreSQL database
// and one S3 bucket; each replica opens its own connections to both.
type scaleOut struct {
	dsn, blobURL string
	s3           *s3test.Server
}

func newScaleOut(t *testing.T) scaleOut {
	t.Helper()
	srv, bucket := s3test.Bucket(t)
	return scaleOut{dsn: pgtest.NewDatabase(t), blobURL: srv.URL(bucket), s3: srv}
}

// replica opens a registry on the shared storage, as one `wharf serve`.
func (so scaleOut) replica(t *testing.T) (*registry.Registry, store.Store, blob.Store) {
	t.Helper()
	ctx := context.Background()
	st, err := postgres.Open(ctx, so.dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg, err := s3blob.ParseURL(so.blobURL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.AccessKeyID, cfg.SecretAccessKey = so.s3.AccessKey, so.s3.SecretKey
	bl, err := s3blob.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return registry.New(st, bl, slog.New(slog.NewTextHandler(io.Discard, nil)), pypi.Format{}), st, bl
}

// listBlobs counts a store's blobs through blob.Sweeper.
func listBlobs(t *testing.T, bl blob.Store) int {
	t.Helper()
	n := 0
	if err := bl.(blob.Sweeper).List(context.Background(), func(string, blob.Info) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}
