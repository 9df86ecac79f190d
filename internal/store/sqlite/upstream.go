package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/wharfhq/wharf/internal/store"
)

func (s *Store) GetUpstreamPage(ctx context.Context, key string) (store.UpstreamPage, error) {
	p := store.UpstreamPage{Key: key}
	var fetched sql.NullInt64
	err := s.r.QueryRowContext(ctx, `SELECT body, fetched_at FROM upstream_pages WHERE key = ?`, key).Scan(&p.Body, &fetched)
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("upstream page %q: %w", key, store.ErrNotFound)
	}
	p.FetchedAt = timeOf(fetched)
	return p, err
}

func (s *Store) PutUpstreamPage(ctx context.Context, p store.UpstreamPage) error {
	body := p.Body
	if body == nil {
		body = []byte{}
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO upstream_pages (key, body, fetched_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET body = excluded.body, fetched_at = excluded.fetched_at`, p.Key, body, timeVal(p.FetchedAt))
	return err
}

func (s *Store) PruneUpstreamPages(ctx context.Context, p store.UpstreamPrune) (int64, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM upstream_pages
		WHERE fetched_at IS NULL OR fetched_at < ? OR (length(body) = 0 AND fetched_at < ?)`,
		timeVal(p.Before), timeVal(p.EmptyBefore))
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	if p.Keep <= 0 {
		return n, nil
	}
	res, err = s.w.ExecContext(ctx, `DELETE FROM upstream_pages WHERE key IN
		(SELECT key FROM upstream_pages ORDER BY fetched_at DESC, key LIMIT -1 OFFSET ?)`, p.Keep)
	if err != nil {
		return n, err
	}
	more, _ := res.RowsAffected()
	return n + more, nil
}
