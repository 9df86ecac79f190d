package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wharfhq/wharf/internal/store"
)

// change runs fn in a transaction like write and, if fn succeeds, records c
// in the same transaction (see store.Change). Recording comes last, so the
// row lock on change_seq, which orders every recording transaction, is held
// only for the commit.
func (s *Store) change(ctx context.Context, c store.Change, fn func(tx pgx.Tx) error) error {
	return s.write(ctx, func(tx pgx.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return recordChange(ctx, tx, c)
	})
}

// pruneEvery: one recording transaction in this many also deletes the
// changes older than the last store.ChangesKept.
const pruneEvery = 1000

func recordChange(ctx context.Context, tx pgx.Tx, c store.Change) error {
	k := c.Package
	var seq int64
	err := tx.QueryRow(ctx, `WITH n AS (UPDATE change_seq SET seq = seq + 1 WHERE id = 1 RETURNING seq)
		INSERT INTO changes (seq, kind, domain_owner, domain_name, repository, format, namespace, name)
		SELECT n.seq, $1, $2, $3, $4, $5, $6, $7 FROM n RETURNING seq`,
		c.Kind, k.DomainOwner, k.DomainName, k.Repository, k.Format, k.Namespace, k.Name).Scan(&seq)
	if err != nil {
		return err
	}
	if seq%pruneEvery == 0 {
		_, err = tx.Exec(ctx, `DELETE FROM changes WHERE seq <= $1`, seq-store.ChangesKept)
	}
	return err
}

func (s *Store) Changes(ctx context.Context, after uint64, limit int) (uint64, []store.Change, error) {
	// One statement, one snapshot: the counter and the changes agree.
	rows, err := s.db.Query(ctx, `SELECT s.seq, c.seq, c.kind, c.domain_owner, c.domain_name, c.repository, c.format, c.namespace, c.name
		FROM change_seq s LEFT JOIN changes c ON c.seq > $1 AND c.seq <= s.seq
		ORDER BY c.seq LIMIT $2`, int64(after), max(limit, 1))
	if err != nil {
		return 0, nil, err
	}
	defer rows.Close()
	var latest int64
	var changes []store.Change
	for rows.Next() {
		var seq *int64
		var kind, owner, domain, repo, format, namespace, name *string
		if err := rows.Scan(&latest, &seq, &kind, &owner, &domain, &repo, &format, &namespace, &name); err != nil {
			return 0, nil, err
		}
		if seq == nil || limit < 1 {
			continue
		}
		changes = append(changes, store.Change{Seq: uint64(*seq), Kind: *kind, Package: store.PackageKey{
			DomainOwner: *owner, DomainName: *domain, Repository: *repo, Format: *format, Namespace: *namespace, Name: *name}})
	}
	return uint64(latest), changes, rows.Err()
}

func (s *Store) CreateRevocation(ctx context.Context, r store.Revocation) error {
	return s.change(ctx, store.Change{Kind: store.ChangeRevocation}, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO token_revocations (access_key_id, principal, before_time, reason, created_at)
			VALUES ($1, $2, $3, $4, $5)`, r.AccessKeyID, r.Principal, r.Before.UnixNano(), r.Reason, timeVal(r.CreatedAt))
		return err
	})
}

func (s *Store) ListRevocations(ctx context.Context, since time.Time) ([]store.Revocation, error) {
	rows, err := s.db.Query(ctx, `SELECT access_key_id, principal, before_time, reason, created_at
		FROM token_revocations WHERE before_time > $1 ORDER BY before_time, id`, since.UnixNano())
	if err != nil {
		return nil, err
	}
	return collect(rows, func(sc scanner) (store.Revocation, error) {
		var r store.Revocation
		var before, created *int64
		err := sc.Scan(&r.AccessKeyID, &r.Principal, &before, &r.Reason, &created)
		r.Before, r.CreatedAt = timeOf(before), timeOf(created)
		return r, err
	})
}

func domainChange(owner, domain string) store.Change {
	return store.Change{Kind: store.ChangeDomain, Package: store.PackageKey{DomainOwner: owner, DomainName: domain}}
}

func packageChange(k store.PackageKey) store.Change {
	return store.Change{Kind: store.ChangePackage, Package: k}
}
