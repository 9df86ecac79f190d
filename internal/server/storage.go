package server

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/wharfhq/wharf/internal/blob"
	"github.com/wharfhq/wharf/internal/blob/fsblob"
	"github.com/wharfhq/wharf/internal/blob/s3blob"
	"github.com/wharfhq/wharf/internal/store"
	"github.com/wharfhq/wharf/internal/store/postgres"
	"github.com/wharfhq/wharf/internal/store/sqlite"
)

// storeURL and blobURL are the storage locations, defaulting to the
// embedded backends under the data directory.
func (c Config) storeURL() string {
	if c.Store != "" {
		return c.Store
	}
	return "sqlite://" + filepath.Join(c.DataDir, "wharf.db")
}

func (c Config) blobURL() string {
	if c.Blob != "" {
		return c.Blob
	}
	return "file://" + filepath.Join(c.DataDir, "blobs")
}

// openStore opens the metadata store --store names: sqlite://PATH or
// postgres://... (any libpq URL).
func openStore(ctx context.Context, raw string) (store.Store, error) {
	switch {
	case strings.HasPrefix(raw, "sqlite://"):
		path, sync, err := sqliteURL(raw)
		if err != nil {
			return nil, err
		}
		st, err := sqlite.OpenSync(path, sync)
		if err != nil {
			return nil, err
		}
		// The database holds the token signing key: owner only (SQLite
		// gives its -wal and -shm files the database's mode).
		if err := os.Chmod(path, 0o600); err != nil {
			st.Close()
			return nil, err
		}
		return st, nil
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		return postgres.Open(ctx, raw)
	}
	return nil, fmt.Errorf("--store %q: use sqlite:///path/to/wharf.db or postgres://user:password@host:5432/db", redactURL(raw))
}

// sqliteURL splits sqlite:///path/wharf.db[?synchronous=normal]: commits are
// durable (FULL) unless NORMAL is asked for, which trades the last writes
// before an OS crash or power loss for cheaper commits.
func sqliteURL(raw string) (string, sqlite.Synchronous, error) {
	path, query, _ := strings.Cut(strings.TrimPrefix(raw, "sqlite://"), "?")
	q, err := url.ParseQuery(query)
	if err != nil {
		return "", "", fmt.Errorf("--store %q: %v", raw, err)
	}
	sync := sqlite.SyncFull
	for k, v := range q {
		switch {
		case k == "synchronous" && len(v) == 1 && strings.EqualFold(v[0], "full"):
		case k == "synchronous" && len(v) == 1 && strings.EqualFold(v[0], "normal"):
			sync = sqlite.SyncNormal
		default:
			return "", "", fmt.Errorf("--store %q: the only sqlite option is synchronous=full (the default: commits survive a power loss) or synchronous=normal (faster commits; a crash can lose the last ones)", raw)
		}
	}
	return path, sync, nil
}

// openBlobs opens the blob store --blob names: file://DIR or
// s3://BUCKET?endpoint=...; S3 uploads a crashed replica left are cleaned up
// here, as fsblob cleans its temporary files.
func openBlobs(ctx context.Context, raw string) (blob.Store, error) {
	switch {
	case strings.HasPrefix(raw, "file://"):
		return fsblob.New(strings.TrimPrefix(raw, "file://"))
	case strings.HasPrefix(raw, "s3://"):
		cfg, err := s3blob.ParseURL(raw)
		if err != nil {
			return nil, err
		}
		s, err := s3blob.New(ctx, cfg)
		if err != nil {
			return nil, err
		}
		if _, err := s.CleanupStale(ctx, time.Hour); err != nil {
			return nil, fmt.Errorf("cleaning up stale S3 uploads: %w", err)
		}
		return s, nil
	}
	return nil, fmt.Errorf("--blob %q: use file:///path/to/dir or s3://bucket?endpoint=URL&region=R&use_path_style=true", redactURL(raw))
}

// redactURL drops a password from a URL before it is shown.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}
