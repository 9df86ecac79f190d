package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wharfhq/wharf/internal/store"
)

// qOrphansOf lists the blobs of the assets selected by the subquery %s (a
// set of asset ids, with $1 its only parameter) that no asset outside the
// set references in the same domain. It runs before the delete, in the same
// transaction.
const qOrphansOf = `SELECT DISTINCT a.sha256 FROM assets a
	WHERE a.id IN (%[1]s) AND NOT EXISTS (
		SELECT 1 FROM assets b WHERE b.domain_id = a.domain_id AND b.sha256 = a.sha256 AND b.id NOT IN (%[1]s))
	ORDER BY a.sha256`

func orphansOf(ctx context.Context, tx pgx.Tx, assetIDs string, id int64) ([]string, error) {
	rows, err := tx.Query(ctx, fmt.Sprintf(qOrphansOf, assetIDs), id)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(sc scanner) (string, error) {
		var sum string
		return sum, sc.Scan(&sum)
	})
}

// lockDomain locks the domain row FOR UPDATE before a delete that reports
// orphans: it waits for the transactions adding assets to the domain (each
// holds a KEY SHARE lock on the row) and holds off new ones, so the orphans
// are computed against every committed asset, as under SQLite's single
// writer. what names the record for ErrNotFound.
func lockDomain(ctx context.Context, tx pgx.Tx, owner, domain, what string) error {
	var id int64
	err := tx.QueryRow(ctx, `SELECT id FROM domains WHERE owner = $1 AND name = $2 FOR UPDATE`, owner, domain).Scan(&id)
	return notFound(err, what)
}

// SetVersionStatus is one compare-and-set UPDATE; only when it changes
// nothing does a second read tell a missing version from a stale revision.
func (s *Store) SetVersionStatus(ctx context.Context, k store.VersionKey, status, revision, ifRevision string, updatedAt time.Time) (store.PackageVersion, error) {
	var v store.PackageVersion
	err := s.change(ctx, packageChange(k.PackageKey), func(tx pgx.Tx) error {
		var err error
		v, err = scanVer(k.PackageKey)(tx.QueryRow(ctx, `UPDATE package_versions v SET status = $8, revision = $9, updated_at = $10
			WHERE v.id = (`+qVersionID+`) AND ($11::text = '' OR v.revision = $11) RETURNING `+verCols,
			pkgArgs(k.PackageKey, k.Version, status, revision, timeVal(updatedAt), ifRevision)...))
		return err
	})
	if !errors.Is(err, pgx.ErrNoRows) || ifRevision == "" {
		return v, notFound(err, verName(k))
	}
	cur, err := s.GetVersion(ctx, k)
	if err != nil {
		return store.PackageVersion{}, err
	}
	return store.PackageVersion{}, fmt.Errorf("%s has revision %s: %w", verName(k), cur.Revision, store.ErrRevisionMismatch)
}

// versionID looks up a version inside tx after locking its domain.
func versionID(ctx context.Context, tx pgx.Tx, k store.VersionKey) (int64, error) {
	if err := lockDomain(ctx, tx, k.DomainOwner, k.DomainName, verName(k)); err != nil {
		return 0, err
	}
	var vid int64
	err := tx.QueryRow(ctx, qVersionID, pkgArgs(k.PackageKey, k.Version)...).Scan(&vid)
	return vid, notFound(err, verName(k))
}

func (s *Store) DisposeVersion(ctx context.Context, k store.VersionKey, revision string, updatedAt time.Time) ([]string, error) {
	var orphans []string
	err := s.change(ctx, packageChange(k.PackageKey), func(tx pgx.Tx) error {
		vid, err := versionID(ctx, tx, k)
		if err != nil {
			return err
		}
		if orphans, err = orphansOf(ctx, tx, `SELECT id FROM assets WHERE version_id = $1`, vid); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM assets WHERE version_id = $1`, vid); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE package_versions SET status = 'Disposed', revision = $1, updated_at = $2 WHERE id = $3`,
			revision, timeVal(updatedAt), vid)
		return err
	})
	return orphans, err
}

func (s *Store) DeleteVersion(ctx context.Context, k store.VersionKey) ([]string, error) {
	var orphans []string
	err := s.change(ctx, packageChange(k.PackageKey), func(tx pgx.Tx) error {
		vid, err := versionID(ctx, tx, k)
		if err != nil {
			return err
		}
		if orphans, err = orphansOf(ctx, tx, `SELECT id FROM assets WHERE version_id = $1`, vid); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM package_versions WHERE id = $1`, vid)
		return err
	})
	return orphans, err
}

func (s *Store) DeletePackage(ctx context.Context, k store.PackageKey) ([]string, error) {
	var orphans []string
	err := s.change(ctx, packageChange(k), func(tx pgx.Tx) error {
		if err := lockDomain(ctx, tx, k.DomainOwner, k.DomainName, pkgName(k)); err != nil {
			return err
		}
		pid, err := pkgID(ctx, tx, k)
		if err != nil {
			return err
		}
		if orphans, err = orphansOf(ctx, tx, `SELECT a.id FROM assets a JOIN package_versions v ON v.id = a.version_id WHERE v.package_id = $1`, pid); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM packages WHERE id = $1`, pid)
		return err
	})
	return orphans, err
}

func (s *Store) BlobReferenced(ctx context.Context, owner, domain, sha string) (bool, error) {
	did, err := domainID(ctx, s.db, owner, domain)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	// Sidecar digests sit in the attributes' JSON as quoted values; the
	// LIKE scan only runs when no asset has the blob as its content.
	var used bool
	err = s.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM assets WHERE domain_id = $1 AND sha256 = $2)
		OR EXISTS (SELECT 1 FROM assets WHERE domain_id = $1 AND attributes LIKE '%"' || $2 || '"%')`, did, sha).Scan(&used)
	return used, err
}
