package postgres

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/wharfhq/wharf/internal/store"
)

func (s *Store) GetPolicy(ctx context.Context, arn string) (store.Policy, error) {
	p := store.Policy{ResourceARN: arn}
	err := s.db.QueryRow(ctx, `SELECT document, revision FROM policies WHERE resource_arn = $1`, arn).Scan(&p.Document, &p.Revision)
	return p, notFound(err, "policy of "+arn)
}

// checkRevision enforces a policy compare-and-set inside tx; FOR UPDATE
// holds the row until the change commits, so two replicas cannot both
// pass the check.
func checkRevision(ctx context.Context, tx pgx.Tx, arn, ifRevision string) (store.Policy, error) {
	cur := store.Policy{ResourceARN: arn}
	err := tx.QueryRow(ctx, `SELECT document, revision FROM policies WHERE resource_arn = $1 FOR UPDATE`, arn).Scan(&cur.Document, &cur.Revision)
	if err != nil {
		return cur, notFound(err, "policy of "+arn)
	}
	if ifRevision != "" && cur.Revision != ifRevision {
		return cur, fmt.Errorf("policy of %s has revision %s: %w", arn, cur.Revision, store.ErrRevisionMismatch)
	}
	return cur, nil
}

func (s *Store) PutPolicy(ctx context.Context, p store.Policy, ifRevision string) error {
	return s.change(ctx, store.Change{Kind: store.ChangePolicy}, func(tx pgx.Tx) error {
		if ifRevision != "" {
			if _, err := checkRevision(ctx, tx, p.ResourceARN, ifRevision); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO policies (resource_arn, document, revision) VALUES ($1, $2, $3)
			ON CONFLICT (resource_arn) DO UPDATE SET document = excluded.document, revision = excluded.revision`,
			p.ResourceARN, p.Document, p.Revision)
		return err
	})
}

func (s *Store) DeletePolicy(ctx context.Context, arn, ifRevision string) (store.Policy, error) {
	var old store.Policy
	err := s.change(ctx, store.Change{Kind: store.ChangePolicy}, func(tx pgx.Tx) error {
		var err error
		if old, err = checkRevision(ctx, tx, arn, ifRevision); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM policies WHERE resource_arn = $1`, arn)
		return err
	})
	return old, err
}

func (s *Store) GetTags(ctx context.Context, arn string) (map[string]string, error) {
	rows, err := s.db.Query(ctx, `SELECT key, value FROM tags WHERE resource_arn = $1`, arn)
	if err != nil {
		return nil, err
	}
	pairs, err := collect(rows, func(sc scanner) ([2]string, error) {
		var kv [2]string
		return kv, sc.Scan(&kv[0], &kv[1])
	})
	if err != nil || len(pairs) == 0 {
		return nil, err
	}
	tags := make(map[string]string, len(pairs))
	for _, kv := range pairs {
		tags[kv[0]] = kv[1]
	}
	return tags, nil
}

// SetTags writes all of add in one statement, in key order, so that two
// concurrent calls lock the rows they share in the same order.
func (s *Store) SetTags(ctx context.Context, arn string, add map[string]string, remove []string) error {
	keys := slices.Sorted(maps.Keys(add))
	values := make([]string, len(keys))
	for i, k := range keys {
		values[i] = add[k]
	}
	return s.write(ctx, func(tx pgx.Tx) error {
		if len(keys) > 0 {
			if _, err := tx.Exec(ctx, `INSERT INTO tags (resource_arn, key, value)
				SELECT $1, k, v FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS t(k, v, i) ORDER BY i
				ON CONFLICT (resource_arn, key) DO UPDATE SET value = excluded.value`, arn, keys, values); err != nil {
				return err
			}
		}
		if len(remove) > 0 {
			if _, err := tx.Exec(ctx, `DELETE FROM tags WHERE resource_arn = $1 AND key = ANY($2::text[])`, arn, remove); err != nil {
				return err
			}
		}
		return nil
	})
}

const keyCols = `access_key_id, secret, principal, created_at, inactive`

func scanKey(sc scanner) (store.AccessKey, error) {
	var k store.AccessKey
	var created *int64
	err := sc.Scan(&k.AccessKeyID, &k.Secret, &k.Principal, &created, &k.Inactive)
	k.CreatedAt = timeOf(created)
	return k, err
}

func (s *Store) CreateAccessKey(ctx context.Context, k store.AccessKey) error {
	tag, err := s.db.Exec(ctx, `INSERT INTO access_keys (`+keyCols+`) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
		k.AccessKeyID, k.Secret, k.Principal, timeVal(k.CreatedAt), k.Inactive)
	return affected(tag, err, "access key "+k.AccessKeyID, store.ErrExists)
}

func (s *Store) GetAccessKey(ctx context.Context, id string) (store.AccessKey, error) {
	k, err := scanKey(s.db.QueryRow(ctx, `SELECT `+keyCols+` FROM access_keys WHERE access_key_id = $1`, id))
	return k, notFound(err, "access key "+id)
}

func (s *Store) ListAccessKeys(ctx context.Context) ([]store.AccessKey, error) {
	rows, err := s.db.Query(ctx, `SELECT `+keyCols+` FROM access_keys ORDER BY access_key_id`)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanKey)
}

func (s *Store) DeleteAccessKey(ctx context.Context, id string) error {
	tag, err := s.db.Exec(ctx, `DELETE FROM access_keys WHERE access_key_id = $1`, id)
	return affected(tag, err, "access key "+id, store.ErrNotFound)
}

func (s *Store) SetAccessKeyInactive(ctx context.Context, id string, inactive bool) error {
	tag, err := s.db.Exec(ctx, `UPDATE access_keys SET inactive = $2 WHERE access_key_id = $1`, id, inactive)
	return affected(tag, err, "access key "+id, store.ErrNotFound)
}
