package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/wharfhq/wharf/internal/store"
)

// change runs fn in a write transaction and, if fn succeeds, records c in
// the same transaction (see store.Change). One node reads this store, but
// the feed is the same as PostgreSQL's so that both pass one suite.
func (s *Store) change(ctx context.Context, c store.Change, fn func(tx *writeTx) error) error {
	return s.write(ctx, func(tx *writeTx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return recordChange(ctx, tx, c)
	})
}

// pruneEvery: one recording transaction in this many also deletes the
// changes older than the last store.ChangesKept.
const pruneEvery = 1000

func recordChange(ctx context.Context, tx *writeTx, c store.Change) error {
	var seq int64
	if err := tx.QueryRowContext(ctx, `UPDATE change_seq SET seq = seq + 1 WHERE id = 1 RETURNING seq`).Scan(&seq); err != nil {
		return err
	}
	k := c.Package
	_, err := tx.ExecContext(ctx, `INSERT INTO changes (seq, kind, domain_owner, domain_name, repository, format, namespace, name)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, seq, c.Kind, k.DomainOwner, k.DomainName, k.Repository, k.Format, k.Namespace, k.Name)
	if err == nil && seq%pruneEvery == 0 {
		_, err = tx.ExecContext(ctx, `DELETE FROM changes WHERE seq <= ?`, seq-store.ChangesKept)
	}
	return err
}

func (s *Store) Changes(ctx context.Context, after uint64, limit int) (uint64, []store.Change, error) {
	// One statement, one snapshot: the counter and the changes agree.
	rows, err := s.r.QueryContext(ctx, `SELECT s.seq, c.seq, c.kind, c.domain_owner, c.domain_name, c.repository, c.format, c.namespace, c.name
		FROM change_seq s LEFT JOIN changes c ON c.seq > ? AND c.seq <= s.seq
		ORDER BY c.seq LIMIT ?`, int64(after), max(limit, 1))
	if err != nil {
		return 0, nil, err
	}
	defer rows.Close()
	var latest int64
	var changes []store.Change
	for rows.Next() {
		var seq sql.NullInt64
		var kind, owner, domain, repo, format, namespace, name sql.NullString
		if err := rows.Scan(&latest, &seq, &kind, &owner, &domain, &repo, &format, &namespace, &name); err != nil {
			return 0, nil, err
		}
		if !seq.Valid || limit < 1 {
			continue
		}
		changes = append(changes, store.Change{Seq: uint64(seq.Int64), Kind: kind.String, Package: store.PackageKey{
			DomainOwner: owner.String, DomainName: domain.String, Repository: repo.String,
			Format: format.String, Namespace: namespace.String, Name: name.String}})
	}
	return uint64(latest), changes, rows.Err()
}

func (s *Store) CreateRevocation(ctx context.Context, r store.Revocation) error {
	return s.change(ctx, store.Change{Kind: store.ChangeRevocation}, func(tx *writeTx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO token_revocations (access_key_id, principal, before_time, reason, created_at)
			VALUES (?, ?, ?, ?, ?)`, r.AccessKeyID, r.Principal, r.Before.UnixNano(), r.Reason, timeVal(r.CreatedAt))
		return err
	})
}

func (s *Store) ListRevocations(ctx context.Context, since time.Time) ([]store.Revocation, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT access_key_id, principal, before_time, reason, created_at
		FROM token_revocations WHERE before_time > ? ORDER BY before_time, id`, since.UnixNano())
	if err != nil {
		return nil, err
	}
	return collect(rows, func(sc scanner) (store.Revocation, error) {
		var r store.Revocation
		var before int64
		var created sql.NullInt64
		err := sc.Scan(&r.AccessKeyID, &r.Principal, &before, &r.Reason, &created)
		r.Before, r.CreatedAt = time.Unix(0, before).UTC(), timeOf(created)
		return r, err
	})
}

func domainChange(owner, domain string) store.Change {
	return store.Change{Kind: store.ChangeDomain, Package: store.PackageKey{DomainOwner: owner, DomainName: domain}}
}

func packageChange(k store.PackageKey) store.Change {
	return store.Change{Kind: store.ChangePackage, Package: k}
}
