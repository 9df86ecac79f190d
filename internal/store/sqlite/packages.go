package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/wharfhq/wharf/internal/store"
)

// pkgWhere addresses one package (alias p) by its natural key; pkgArgs
// supplies the matching arguments.
const pkgWhere = ` JOIN repositories r ON r.id = p.repository_id JOIN domains d ON d.id = r.domain_id
	WHERE d.owner = ? AND d.name = ? AND r.name = ? AND p.format = ? AND p.namespace = ? AND p.name = ?`

func pkgArgs(k store.PackageKey, more ...any) []any {
	return append([]any{k.DomainOwner, k.DomainName, k.Repository, k.Format, k.Namespace, k.Name}, more...)
}

func pkgName(k store.PackageKey) string {
	return fmt.Sprintf("package %s/%s/%s %s %q/%q", k.DomainOwner, k.DomainName, k.Repository, k.Format, k.Namespace, k.Name)
}

func verName(k store.VersionKey) string { return pkgName(k.PackageKey) + " version " + k.Version }

func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return err
}

func pkgID(ctx context.Context, q querier, k store.PackageKey) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, qPkgID, pkgArgs(k)...).Scan(&id)
	return id, notFound(err, pkgName(k))
}

const pkgCols = `p.format, p.namespace, p.name, p.display_name, p.origin_publish, p.origin_upstream, p.created_at`

// scanPkg reads pkgCols into a package of the repository that repo names.
func scanPkg(repo store.PackageKey) func(scanner) (store.Package, error) {
	return func(sc scanner) (store.Package, error) {
		p := store.Package{PackageKey: repo}
		var created sql.NullInt64
		err := sc.Scan(&p.Format, &p.Namespace, &p.Name, &p.DisplayName, &p.OriginPublish, &p.OriginUpstream, &created)
		p.CreatedAt = timeOf(created)
		return p, err
	}
}

func (s *Store) GetPackage(ctx context.Context, k store.PackageKey) (store.Package, error) {
	p, err := scanPkg(k)(s.r.QueryRowContext(ctx, pkgSelect+pkgWhere, pkgArgs(k)...))
	return p, notFound(err, pkgName(k))
}

const (
	pkgSelect = `SELECT ` + pkgCols + ` FROM packages p`
	pkgOrder  = `p.format, p.namespace, p.name`
)

func (s *Store) ListPackages(ctx context.Context, owner, domain, repo string, f store.PackageFilter, page store.Page) ([]store.Package, string, error) {
	rid, err := repoID(ctx, s.r, owner, domain, repo)
	if err != nil {
		return nil, "", err
	}
	q, err := packagesQuery(rid, f, page)
	if err != nil {
		return nil, "", err
	}
	return list(ctx, s.r, q, pkgSelect, pkgOrder,
		scanPkg(store.PackageKey{DomainOwner: owner, DomainName: domain, Repository: repo}),
		func(p store.Package) []string { return []string{p.Format, p.Namespace, p.Name} })
}

func packagesQuery(repoID int64, f store.PackageFilter, page store.Page) (listQuery, error) {
	q := listQuery{limit: page.Limit}
	q.where("p.repository_id = ?", repoID)
	var fixed []string
	if f.Format != "" {
		q.where("p.format = ?", f.Format)
		fixed = append(fixed, f.Format)
	}
	if f.Namespace != nil {
		q.where("p.namespace = ?", *f.Namespace)
		if len(fixed) == 1 {
			fixed = append(fixed, *f.Namespace)
		}
	}
	if err := q.after(page.After, fixed, "p.format", "p.namespace", "p.name"); err != nil {
		return q, err
	}
	q.prefix("p.name", f.NamePrefix)
	return q, nil
}

func (s *Store) PutPackageOrigin(ctx context.Context, k store.PackageKey, publish, upstream string) error {
	return s.change(ctx, packageChange(k), func(tx *writeTx) error {
		res, err := tx.ExecContext(ctx, `UPDATE packages SET origin_publish = ?, origin_upstream = ?
			WHERE id = (SELECT p.id FROM packages p`+pkgWhere+`)`, append([]any{publish, upstream}, pkgArgs(k)...)...)
		return affected(res, err, pkgName(k), store.ErrNotFound)
	})
}

const verCols = `v.version, v.display_version, v.status, v.revision, v.origin_type, v.origin_repository,
	v.origin_external_connection, v.summary, v.home_page, v.source_code_repository, v.licenses, v.attributes,
	v.published_at, v.updated_at`

func scanVer(k store.PackageKey) func(scanner) (store.PackageVersion, error) {
	return func(sc scanner) (store.PackageVersion, error) {
		v := store.PackageVersion{VersionKey: store.VersionKey{PackageKey: k}}
		var licenses, attrs string
		var published, updated sql.NullInt64
		err := sc.Scan(&v.Version, &v.DisplayVersion, &v.Status, &v.Revision, &v.OriginType, &v.OriginRepository,
			&v.OriginExternalConnection, &v.Summary, &v.HomePage, &v.SourceCodeRepository, &licenses, &attrs,
			&published, &updated)
		if err != nil {
			return v, err
		}
		v.PublishedAt, v.UpdatedAt = timeOf(published), timeOf(updated)
		if v.Licenses, err = store.ListOf(licenses); err != nil {
			return v, err
		}
		v.Attributes, err = store.MapOf(attrs)
		return v, err
	}
}

func (s *Store) GetVersion(ctx context.Context, k store.VersionKey) (store.PackageVersion, error) {
	v, err := scanVer(k.PackageKey)(s.r.QueryRowContext(ctx, qGetVersion, pkgArgs(k.PackageKey, k.Version)...))
	return v, notFound(err, verName(k))
}

func (s *Store) ListVersions(ctx context.Context, k store.PackageKey) ([]store.PackageVersion, error) {
	return listOfPackage(ctx, s.r, k, qListVersions, scanVer(k))
}

// listOfPackage reads the rows of package k with query, which addresses the
// package by pkgArgs: one query where a lookup of the package's id and then
// its rows took two, each query being a read transaction of its own. Only
// when no row comes back does a second query tell an empty package from a
// missing one.
func listOfPackage[T any](ctx context.Context, q querier, k store.PackageKey, query string, scan func(scanner) (T, error)) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, pkgArgs(k)...)
	if err != nil {
		return nil, err
	}
	items, err := collect(rows, scan)
	if err == nil && len(items) == 0 {
		_, err = pkgID(ctx, q, k)
	}
	return items, err
}

const assetCols = `v.version, a.name, a.size, a.sha256, a.sha512, a.sha1, a.md5, a.attributes, a.created_at`

func scanAsset(k store.PackageKey) func(scanner) (store.Asset, error) {
	return func(sc scanner) (store.Asset, error) {
		a := store.Asset{VersionKey: store.VersionKey{PackageKey: k}}
		return a, scanAssetInto(sc, &a)
	}
}

// scanFile scans assetCols followed by the version's status.
func scanFile(k store.PackageKey) func(scanner) (store.PackageFile, error) {
	return func(sc scanner) (store.PackageFile, error) {
		f := store.PackageFile{Asset: store.Asset{VersionKey: store.VersionKey{PackageKey: k}}}
		return f, scanAssetInto(sc, &f.Asset, &f.Status)
	}
}

// scanAssetInto scans assetCols into a, then any further columns into more.
func scanAssetInto(sc scanner, a *store.Asset, more ...any) error {
	var attrs string
	var created sql.NullInt64
	dest := append([]any{&a.Version, &a.Name, &a.Size, &a.SHA256, &a.SHA512, &a.SHA1, &a.MD5, &attrs, &created}, more...)
	if err := sc.Scan(dest...); err != nil {
		return err
	}
	a.CreatedAt = timeOf(created)
	var err error
	a.Attributes, err = store.MapOf(attrs)
	return err
}

// Hot read paths, named for the query-plan test.
const (
	qPkgID        = `SELECT p.id FROM packages p` + pkgWhere
	qGetVersion   = `SELECT ` + verCols + ` FROM package_versions v JOIN packages p ON p.id = v.package_id` + pkgWhere + ` AND v.version = ?`
	qListVersions = `SELECT ` + verCols + ` FROM package_versions v WHERE v.package_id = (` + qPkgID + `) ORDER BY v.version`
	qVersionID    = `SELECT v.id FROM package_versions v JOIN packages p ON p.id = v.package_id` + pkgWhere + ` AND v.version = ?`
	qGetAsset     = `SELECT ` + assetCols + ` FROM assets a JOIN package_versions v ON v.id = a.version_id
		JOIN packages p ON p.id = v.package_id` + pkgWhere + ` AND v.version = ? AND a.name = ?`
	qListAssets = `SELECT ` + assetCols + ` FROM assets a JOIN package_versions v ON v.id = a.version_id
		WHERE a.version_id = ? ORDER BY a.name`
	qListPackageAssets = `SELECT ` + assetCols + ` FROM package_versions v JOIN assets a ON a.version_id = v.id
		WHERE v.package_id = (` + qPkgID + `) ORDER BY v.version, a.name`
	// A version without assets comes as one row with an empty asset name.
	qListPackageFiles = `SELECT v.version, coalesce(a.name, ''), coalesce(a.size, 0), coalesce(a.sha256, ''),
		coalesce(a.sha512, ''), coalesce(a.sha1, ''), coalesce(a.md5, ''), coalesce(a.attributes, '{}'), a.created_at, v.status
		FROM package_versions v LEFT JOIN assets a ON a.version_id = v.id
		WHERE v.package_id = (` + qPkgID + `) ORDER BY v.version, a.name`
)

func (s *Store) GetAsset(ctx context.Context, k store.VersionKey, name string) (store.Asset, error) {
	a, err := scanAsset(k.PackageKey)(s.r.QueryRowContext(ctx, qGetAsset, pkgArgs(k.PackageKey, k.Version, name)...))
	return a, notFound(err, verName(k)+" asset "+name)
}

func (s *Store) ListAssets(ctx context.Context, k store.VersionKey) ([]store.Asset, error) {
	var vid int64
	err := s.r.QueryRowContext(ctx, qVersionID, pkgArgs(k.PackageKey, k.Version)...).Scan(&vid)
	if err != nil {
		return nil, notFound(err, verName(k))
	}
	rows, err := s.r.QueryContext(ctx, qListAssets, vid)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanAsset(k.PackageKey))
}

func (s *Store) ListPackageAssets(ctx context.Context, k store.PackageKey) ([]store.Asset, error) {
	return listOfPackage(ctx, s.r, k, qListPackageAssets, scanAsset(k))
}

func (s *Store) ListPackageFiles(ctx context.Context, k store.PackageKey) ([]store.PackageFile, error) {
	return listOfPackage(ctx, s.r, k, qListPackageFiles, scanFile(k))
}

func (s *Store) AddAsset(ctx context.Context, pkg store.Package, v store.PackageVersion, a store.Asset) (store.Asset, error) {
	if pkg.PackageKey != v.PackageKey || a.VersionKey != v.VersionKey {
		return store.Asset{}, fmt.Errorf("sqlite: AddAsset: package %+v, version %+v and asset %+v keys differ", pkg.PackageKey, v.VersionKey, a.VersionKey)
	}
	var existing store.Asset
	err := s.change(ctx, packageChange(v.PackageKey), func(tx *writeTx) error {
		var rid, did int64
		err := tx.QueryRowContext(ctx, `SELECT r.id, r.domain_id FROM repositories r JOIN domains d ON d.id = r.domain_id
			WHERE d.owner = ? AND d.name = ? AND r.name = ?`, v.DomainOwner, v.DomainName, v.Repository).Scan(&rid, &did)
		if err != nil {
			return notFound(err, repoName(v.DomainOwner, v.DomainName, v.Repository))
		}

		var pid int64
		err = tx.QueryRowContext(ctx, `SELECT id FROM packages WHERE repository_id = ? AND format = ? AND namespace = ? AND name = ?`,
			rid, v.Format, v.Namespace, v.Name).Scan(&pid)
		if errors.Is(err, sql.ErrNoRows) {
			err = tx.QueryRowContext(ctx, `INSERT INTO packages
				(repository_id, format, namespace, name, display_name, origin_publish, origin_upstream, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
				rid, v.Format, v.Namespace, v.Name, pkg.DisplayName, pkg.OriginPublish, pkg.OriginUpstream, timeVal(pkg.CreatedAt)).Scan(&pid)
		}
		if err != nil {
			return err
		}

		var vid int64
		newVersion := false
		err = tx.QueryRowContext(ctx, `SELECT id FROM package_versions WHERE package_id = ? AND version = ?`, pid, v.Version).Scan(&vid)
		if errors.Is(err, sql.ErrNoRows) {
			newVersion = true
			err = tx.QueryRowContext(ctx, `INSERT INTO package_versions
				(package_id, version, display_version, status, revision, origin_type, origin_repository,
				 origin_external_connection, summary, home_page, source_code_repository, licenses, attributes,
				 published_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
				pid, v.Version, v.DisplayVersion, v.Status, v.Revision, v.OriginType, v.OriginRepository,
				v.OriginExternalConnection, v.Summary, v.HomePage, v.SourceCodeRepository, store.JSONText(v.Licenses), store.JSONText(v.Attributes),
				timeVal(v.PublishedAt), timeVal(v.UpdatedAt)).Scan(&vid)
		}
		if err != nil {
			return err
		}

		existing, err = scanAsset(v.PackageKey)(tx.QueryRowContext(ctx, `SELECT `+assetCols+`
			FROM assets a JOIN package_versions v ON v.id = a.version_id WHERE a.version_id = ? AND a.name = ?`, vid, a.Name))
		if err == nil {
			return fmt.Errorf("%s asset %s: %w", verName(v.VersionKey), a.Name, store.ErrExists)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO assets
			(version_id, domain_id, name, size, sha256, sha512, sha1, md5, attributes, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			vid, did, a.Name, a.Size, a.SHA256, a.SHA512, a.SHA1, a.MD5, store.JSONText(a.Attributes), timeVal(a.CreatedAt)); err != nil {
			return err
		}
		if newVersion {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE package_versions SET revision = ?, updated_at = ? WHERE id = ?`,
			v.Revision, timeVal(v.UpdatedAt), vid)
		return err
	})
	switch {
	case errors.Is(err, store.ErrExists):
		return existing, err
	case err != nil:
		return store.Asset{}, err
	}
	// As GetAsset will return it.
	a.CreatedAt = timeOf(sql.NullInt64{Int64: a.CreatedAt.UnixNano(), Valid: !a.CreatedAt.IsZero()})
	if len(a.Attributes) == 0 {
		a.Attributes = nil
	}
	return a, nil
}
