package sqlite

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wharfhq/wharf/internal/store"
)

// qOrphansOf lists the blobs of the assets selected by the subquery %s (a
// set of asset ids) that no asset outside the set references in the same
// domain. It runs before the delete, in the same transaction.
const qOrphansOf = `SELECT DISTINCT a.sha256 FROM assets a
	WHERE a.id IN (%[1]s) AND NOT EXISTS (
		SELECT 1 FROM assets b WHERE b.domain_id = a.domain_id AND b.sha256 = a.sha256 AND b.id NOT IN (%[1]s))
	ORDER BY a.sha256`

func orphansOf(ctx context.Context, tx *writeTx, assetIDs string, args ...any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, fmt.Sprintf(qOrphansOf, assetIDs), append(args, args...)...)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(sc scanner) (string, error) {
		var sum string
		return sum, sc.Scan(&sum)
	})
}

func (s *Store) SetVersionStatus(ctx context.Context, k store.VersionKey, status, revision, ifRevision string, updatedAt time.Time) (store.PackageVersion, error) {
	var v store.PackageVersion
	err := s.change(ctx, packageChange(k.PackageKey), func(tx *writeTx) error {
		cur, err := scanVer(k.PackageKey)(tx.QueryRowContext(ctx, qGetVersion, pkgArgs(k.PackageKey, k.Version)...))
		if err != nil {
			return notFound(err, verName(k))
		}
		if ifRevision != "" && cur.Revision != ifRevision {
			return fmt.Errorf("%s has revision %s: %w", verName(k), cur.Revision, store.ErrRevisionMismatch)
		}
		_, err = tx.ExecContext(ctx, `UPDATE package_versions SET status = ?, revision = ?, updated_at = ? WHERE id = (`+qVersionID+`)`,
			append([]any{status, revision, timeVal(updatedAt)}, pkgArgs(k.PackageKey, k.Version)...)...)
		cur.Status, cur.Revision, cur.UpdatedAt = status, revision, updatedAt.UTC()
		v = cur
		return err
	})
	return v, err
}

func (s *Store) DisposeVersion(ctx context.Context, k store.VersionKey, revision string, updatedAt time.Time) ([]string, error) {
	var orphans []string
	err := s.change(ctx, packageChange(k.PackageKey), func(tx *writeTx) error {
		var vid int64
		if err := tx.QueryRowContext(ctx, qVersionID, pkgArgs(k.PackageKey, k.Version)...).Scan(&vid); err != nil {
			return notFound(err, verName(k))
		}
		var err error
		if orphans, err = orphansOf(ctx, tx, `SELECT id FROM assets WHERE version_id = ?`, vid); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM assets WHERE version_id = ?`, vid); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE package_versions SET status = 'Disposed', revision = ?, updated_at = ? WHERE id = ?`,
			revision, timeVal(updatedAt), vid)
		return err
	})
	return orphans, err
}

func (s *Store) DeleteVersion(ctx context.Context, k store.VersionKey) ([]string, error) {
	var orphans []string
	err := s.change(ctx, packageChange(k.PackageKey), func(tx *writeTx) error {
		var vid int64
		if err := tx.QueryRowContext(ctx, qVersionID, pkgArgs(k.PackageKey, k.Version)...).Scan(&vid); err != nil {
			return notFound(err, verName(k))
		}
		var err error
		if orphans, err = orphansOf(ctx, tx, `SELECT id FROM assets WHERE version_id = ?`, vid); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM package_versions WHERE id = ?`, vid)
		return err
	})
	return orphans, err
}

func (s *Store) DeletePackage(ctx context.Context, k store.PackageKey) ([]string, error) {
	var orphans []string
	err := s.change(ctx, packageChange(k), func(tx *writeTx) error {
		pid, err := pkgID(ctx, tx, k)
		if err != nil {
			return err
		}
		if orphans, err = orphansOf(ctx, tx, `SELECT a.id FROM assets a JOIN package_versions v ON v.id = a.version_id WHERE v.package_id = ?`, pid); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM packages WHERE id = ?`, pid)
		return err
	})
	return orphans, err
}

func (s *Store) BlobReferenced(ctx context.Context, owner, domain, sha string) (bool, error) {
	did, err := domainID(ctx, s.r, owner, domain)
	if isNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	// Sidecar digests sit in the attributes' JSON as quoted values; the
	// LIKE scan only runs when no asset has the blob as its content.
	var used bool
	err = s.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM assets WHERE domain_id = ?1 AND sha256 = ?2)
		OR EXISTS (SELECT 1 FROM assets WHERE domain_id = ?1 AND attributes LIKE '%"' || ?2 || '"%')`, did, sha).Scan(&used)
	return used, err
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
