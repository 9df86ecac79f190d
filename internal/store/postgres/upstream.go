package postgres

import (
	"context"
	"fmt"

	"github.com/wharfhq/wharf/internal/store"
)

func (s *Store) GetUpstreamPage(ctx context.Context, key string) (store.UpstreamPage, error) {
	p := store.UpstreamPage{Key: key}
	var fetched *int64
	err := s.db.QueryRow(ctx, `SELECT body, fetched_at FROM upstream_pages WHERE key = $1`, key).Scan(&p.Body, &fetched)
	p.FetchedAt = timeOf(fetched)
	return p, notFound(err, fmt.Sprintf("upstream page %q", key))
}

func (s *Store) PutUpstreamPage(ctx context.Context, p store.UpstreamPage) error {
	body := p.Body
	if body == nil {
		body = []byte{} // pgx sends a nil slice as NULL
	}
	_, err := s.db.Exec(ctx, `INSERT INTO upstream_pages (key, body, fetched_at) VALUES ($1, $2, $3)
		ON CONFLICT (key) DO UPDATE SET body = excluded.body, fetched_at = excluded.fetched_at`, p.Key, body, timeVal(p.FetchedAt))
	return err
}

func (s *Store) PruneUpstreamPages(ctx context.Context, p store.UpstreamPrune) (int64, error) {
	tag, err := s.db.Exec(ctx, `DELETE FROM upstream_pages
		WHERE fetched_at IS NULL OR fetched_at < $1 OR (octet_length(body) = 0 AND fetched_at < $2)`,
		timeVal(p.Before), timeVal(p.EmptyBefore))
	if err != nil {
		return 0, err
	}
	n := tag.RowsAffected()
	if p.Keep <= 0 {
		return n, nil
	}
	tag, err = s.db.Exec(ctx, `DELETE FROM upstream_pages WHERE key IN
		(SELECT key FROM upstream_pages ORDER BY fetched_at DESC, key OFFSET $1)`, p.Keep)
	if err != nil {
		return n, err
	}
	return n + tag.RowsAffected(), nil
}
