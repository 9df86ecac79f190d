package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/wharfhq/wharf/internal/store"
)

func (s *Store) GetPolicy(ctx context.Context, arn string) (store.Policy, error) {
	p := store.Policy{ResourceARN: arn}
	err := s.r.QueryRowContext(ctx, `SELECT document, revision FROM policies WHERE resource_arn = ?`, arn).Scan(&p.Document, &p.Revision)
	return p, notFound(err, "policy of "+arn)
}

// checkRevision enforces a policy compare-and-set inside tx.
func checkRevision(ctx context.Context, tx *writeTx, arn, ifRevision string) (store.Policy, error) {
	cur := store.Policy{ResourceARN: arn}
	err := tx.QueryRowContext(ctx, `SELECT document, revision FROM policies WHERE resource_arn = ?`, arn).Scan(&cur.Document, &cur.Revision)
	if err != nil {
		return cur, notFound(err, "policy of "+arn)
	}
	if ifRevision != "" && cur.Revision != ifRevision {
		return cur, fmt.Errorf("policy of %s has revision %s: %w", arn, cur.Revision, store.ErrRevisionMismatch)
	}
	return cur, nil
}

func (s *Store) PutPolicy(ctx context.Context, p store.Policy, ifRevision string) error {
	return s.change(ctx, store.Change{Kind: store.ChangePolicy}, func(tx *writeTx) error {
		if ifRevision != "" {
			if _, err := checkRevision(ctx, tx, p.ResourceARN, ifRevision); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO policies (resource_arn, document, revision) VALUES (?, ?, ?)
			ON CONFLICT (resource_arn) DO UPDATE SET document = excluded.document, revision = excluded.revision`,
			p.ResourceARN, p.Document, p.Revision)
		return err
	})
}

func (s *Store) DeletePolicy(ctx context.Context, arn, ifRevision string) (store.Policy, error) {
	var old store.Policy
	err := s.change(ctx, store.Change{Kind: store.ChangePolicy}, func(tx *writeTx) error {
		var err error
		if old, err = checkRevision(ctx, tx, arn, ifRevision); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM policies WHERE resource_arn = ?`, arn)
		return err
	})
	return old, err
}

func (s *Store) GetTags(ctx context.Context, arn string) (map[string]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT key, value FROM tags WHERE resource_arn = ? ORDER BY key`, arn)
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

func (s *Store) SetTags(ctx context.Context, arn string, add map[string]string, remove []string) error {
	return s.write(ctx, func(tx *writeTx) error {
		for k, v := range add {
			if _, err := tx.ExecContext(ctx, `INSERT INTO tags (resource_arn, key, value) VALUES (?, ?, ?)
				ON CONFLICT (resource_arn, key) DO UPDATE SET value = excluded.value`, arn, k, v); err != nil {
				return err
			}
		}
		for _, k := range remove {
			if _, err := tx.ExecContext(ctx, `DELETE FROM tags WHERE resource_arn = ? AND key = ?`, arn, k); err != nil {
				return err
			}
		}
		return nil
	})
}

const keyCols = `access_key_id, secret, principal, created_at, inactive`

func scanKey(sc scanner) (store.AccessKey, error) {
	var k store.AccessKey
	var created sql.NullInt64
	err := sc.Scan(&k.AccessKeyID, &k.Secret, &k.Principal, &created, &k.Inactive)
	k.CreatedAt = timeOf(created)
	return k, err
}

func (s *Store) CreateAccessKey(ctx context.Context, k store.AccessKey) error {
	res, err := s.w.ExecContext(ctx, `INSERT INTO access_keys (`+keyCols+`) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		k.AccessKeyID, k.Secret, k.Principal, timeVal(k.CreatedAt), k.Inactive)
	return inserted(res, err, "access key "+k.AccessKeyID)
}

func (s *Store) GetAccessKey(ctx context.Context, id string) (store.AccessKey, error) {
	k, err := scanKey(s.r.QueryRowContext(ctx, `SELECT `+keyCols+` FROM access_keys WHERE access_key_id = ?`, id))
	return k, notFound(err, "access key "+id)
}

func (s *Store) ListAccessKeys(ctx context.Context) ([]store.AccessKey, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+keyCols+` FROM access_keys ORDER BY access_key_id`)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanKey)
}

func (s *Store) DeleteAccessKey(ctx context.Context, id string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM access_keys WHERE access_key_id = ?`, id)
	return affected(res, err, "access key "+id, store.ErrNotFound)
}

func (s *Store) SetAccessKeyInactive(ctx context.Context, id string, inactive bool) error {
	res, err := s.w.ExecContext(ctx, `UPDATE access_keys SET inactive = ? WHERE access_key_id = ?`, inactive, id)
	return affected(res, err, "access key "+id, store.ErrNotFound)
}
