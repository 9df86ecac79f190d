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
