package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wharfhq/wharf/internal/store"
)

// pkgWhere addresses one package (alias p) by its natural key as $1..$6;
// pkgArgs supplies the matching arguments.
const pkgWhere = ` JOIN repositories r ON r.id = p.repository_id JOIN domains d ON d.id = r.domain_id
	WHERE d.owner = $1 AND d.name = $2 AND r.name = $3 AND p.format = $4 AND p.namespace = $5 AND p.name = $6`

func pkgArgs(k store.PackageKey, more ...any) []any {
	return append([]any{k.DomainOwner, k.DomainName, k.Repository, k.Format, k.Namespace, k.Name}, more...)
}

func pkgName(k store.PackageKey) string {
	return fmt.Sprintf("package %s/%s/%s %s %q/%q", k.DomainOwner, k.DomainName, k.Repository, k.Format, k.Namespace, k.Name)
}

func verName(k store.VersionKey) string { return pkgName(k.PackageKey) + " version " + k.Version }

func pkgID(ctx context.Context, q querier, k store.PackageKey) (int64, error) {
	var id int64
	err := q.QueryRow(ctx, qPkgID, pkgArgs(k)...).Scan(&id)
	return id, notFound(err, pkgName(k))
}

const pkgCols = `p.format, p.namespace, p.name, p.display_name, p.origin_publish, p.origin_upstream, p.created_at`

// scanPkg reads pkgCols into a package of the repository that repo names.
func scanPkg(repo store.PackageKey) func(scanner) (store.Package, error) {
	return func(sc scanner) (store.Package, error) {
		p := store.Package{PackageKey: repo}
		var created *int64
		err := sc.Scan(&p.Format, &p.Namespace, &p.Name, &p.DisplayName, &p.OriginPublish, &p.OriginUpstream, &created)
		p.CreatedAt = timeOf(created)
		return p, err
	}
}

func (s *Store) GetPackage(ctx context.Context, k store.PackageKey) (store.Package, error) {
	p, err := scanPkg(k)(s.db.QueryRow(ctx, pkgSelect+pkgWhere, pkgArgs(k)...))
	return p, notFound(err, pkgName(k))
}

const (
	pkgSelect = `SELECT ` + pkgCols + ` FROM packages p`
	pkgOrder  = `p.format, p.namespace, p.name`
)

func (s *Store) ListPackages(ctx context.Context, owner, domain, repo string, f store.PackageFilter, page store.Page) ([]store.Package, string, error) {
	var rid int64
	err := s.db.QueryRow(ctx, qRepoID, owner, domain, repo).Scan(&rid)
	if err != nil {
		return nil, "", notFound(err, repoName(owner, domain, repo))
	}
	q, err := packagesQuery(rid, f, page)
	if err != nil {
		return nil, "", err
	}
	return list(ctx, s.db, q, pkgSelect, pkgOrder,
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
	return s.change(ctx, packageChange(k), func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE packages SET origin_publish = $7, origin_upstream = $8
			WHERE id = (SELECT p.id FROM packages p`+pkgWhere+`)`, pkgArgs(k, publish, upstream)...)
		return affected(tag, err, pkgName(k), store.ErrNotFound)
	})
}

const verCols = `v.version, v.display_version, v.status, v.revision, v.origin_type, v.origin_repository,
	v.origin_external_connection, v.summary, v.home_page, v.source_code_repository, v.licenses, v.attributes,
	v.published_at, v.updated_at`

func scanVer(k store.PackageKey) func(scanner) (store.PackageVersion, error) {
	return func(sc scanner) (store.PackageVersion, error) {
		v := store.PackageVersion{VersionKey: store.VersionKey{PackageKey: k}}
		var licenses, attrs string
		var published, updated *int64
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
	v, err := scanVer(k.PackageKey)(s.db.QueryRow(ctx, qGetVersion, pkgArgs(k.PackageKey, k.Version)...))
	return v, notFound(err, verName(k))
}

func (s *Store) ListVersions(ctx context.Context, k store.PackageKey) ([]store.PackageVersion, error) {
	pid, err := pkgID(ctx, s.db, k)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, qListVersions, pid)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanVer(k))
}

const assetCols = `v.version, a.name, a.size, a.sha256, a.sha512, a.sha1, a.md5, a.attributes, a.created_at`

func scanAsset(k store.PackageKey) func(scanner) (store.Asset, error) {
	return func(sc scanner) (store.Asset, error) {
		a := store.Asset{VersionKey: store.VersionKey{PackageKey: k}}
		return a, scanAssetInto(sc, &a)
	}
}

// scanAssetInto scans assetCols into a, then any further columns into more.
func scanAssetInto(sc scanner, a *store.Asset, more ...any) error {
	var attrs string
	var created *int64
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
	qRepoID = `SELECT r.id FROM repositories r JOIN domains d ON d.id = r.domain_id
		WHERE d.owner = $1 AND d.name = $2 AND r.name = $3`
	qPkgID        = `SELECT p.id FROM packages p` + pkgWhere
	qGetVersion   = `SELECT ` + verCols + ` FROM package_versions v JOIN packages p ON p.id = v.package_id` + pkgWhere + ` AND v.version = $7`
	qListVersions = `SELECT ` + verCols + ` FROM package_versions v WHERE v.package_id = $1 ORDER BY v.version`
	qVersionID    = `SELECT v.id FROM package_versions v JOIN packages p ON p.id = v.package_id` + pkgWhere + ` AND v.version = $7`
	qGetAsset     = `SELECT ` + assetCols + ` FROM assets a JOIN package_versions v ON v.id = a.version_id
		JOIN packages p ON p.id = v.package_id` + pkgWhere + ` AND v.version = $7 AND a.name = $8`
	qListAssets = `SELECT ` + assetCols + ` FROM assets a JOIN package_versions v ON v.id = a.version_id
		WHERE a.version_id = $1 ORDER BY a.name`
	qListPackageAssets = `SELECT ` + assetCols + ` FROM package_versions v JOIN assets a ON a.version_id = v.id
		WHERE v.package_id = $1 ORDER BY v.version, a.name`
	// A version without assets comes as one row with an empty asset name.
	qListPackageFiles = `SELECT v.version, coalesce(a.name, ''), coalesce(a.size, 0), coalesce(a.sha256, ''),
		coalesce(a.sha512, ''), coalesce(a.sha1, ''), coalesce(a.md5, ''), coalesce(a.attributes, '{}'), a.created_at, v.status
		FROM package_versions v LEFT JOIN assets a ON a.version_id = v.id
		WHERE v.package_id = (` + qPkgID + `) ORDER BY v.version, a.name`
)

func (s *Store) GetAsset(ctx context.Context, k store.VersionKey, name string) (store.Asset, error) {
	a, err := scanAsset(k.PackageKey)(s.db.QueryRow(ctx, qGetAsset, pkgArgs(k.PackageKey, k.Version, name)...))
	return a, notFound(err, verName(k)+" asset "+name)
}

func (s *Store) ListAssets(ctx context.Context, k store.VersionKey) ([]store.Asset, error) {
	var vid int64
	err := s.db.QueryRow(ctx, qVersionID, pkgArgs(k.PackageKey, k.Version)...).Scan(&vid)
	if err != nil {
		return nil, notFound(err, verName(k))
	}
	rows, err := s.db.Query(ctx, qListAssets, vid)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanAsset(k.PackageKey))
}

func (s *Store) ListPackageAssets(ctx context.Context, k store.PackageKey) ([]store.Asset, error) {
	pid, err := pkgID(ctx, s.db, k)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, qListPackageAssets, pid)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanAsset(k))
}

func (s *Store) ListPackageFiles(ctx context.Context, k store.PackageKey) ([]store.PackageFile, error) {
	// One round trip for the page of an existing package; only an empty
	// answer asks whether the package exists.
	rows, err := s.db.Query(ctx, qListPackageFiles, pkgArgs(k)...)
	if err != nil {
		return nil, err
	}
	files, err := collect(rows, func(sc scanner) (store.PackageFile, error) {
		f := store.PackageFile{Asset: store.Asset{VersionKey: store.VersionKey{PackageKey: k}}}
		return f, scanAssetInto(sc, &f.Asset, &f.Status)
	})
	if err == nil && len(files) == 0 {
		_, err = pkgID(ctx, s.db, k)
	}
	return files, err
}

// insertOrGet runs insert (INSERT ... ON CONFLICT DO NOTHING RETURNING id)
// and, when a concurrent or earlier writer holds the key, get. A
// conflicting insert waits until the holder commits, and get, a new
// statement, sees its row: READ COMMITTED takes a fresh snapshot per
// statement.
func insertOrGet(ctx context.Context, tx pgx.Tx, insert string, insertArgs []any, get string, getArgs ...any) (id int64, created bool, err error) {
	err = tx.QueryRow(ctx, insert, insertArgs...).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return id, false, tx.QueryRow(ctx, get, getArgs...).Scan(&id)
	}
	return id, err == nil, err
}

func (s *Store) AddAsset(ctx context.Context, pkg store.Package, v store.PackageVersion, a store.Asset) (store.Asset, error) {
	if pkg.PackageKey != v.PackageKey || a.VersionKey != v.VersionKey {
		return store.Asset{}, fmt.Errorf("postgres: AddAsset: package %+v, version %+v and asset %+v keys differ", pkg.PackageKey, v.VersionKey, a.VersionKey)
	}
	repo := repoName(v.DomainOwner, v.DomainName, v.Repository)
	var existing store.Asset
	err := s.change(ctx, packageChange(v.PackageKey), func(tx pgx.Tx) error {
		// KEY SHARE on the repository and its domain up front (the foreign
		// keys below would take them anyway, but later): a DeleteRepository,
		// which locks the domain FOR UPDATE, then waits for this whole
		// transaction or this one for it, instead of a deadlock.
		var rid, did int64
		err := tx.QueryRow(ctx, `SELECT r.id, r.domain_id FROM repositories r JOIN domains d ON d.id = r.domain_id
			WHERE d.owner = $1 AND d.name = $2 AND r.name = $3 FOR KEY SHARE`, v.DomainOwner, v.DomainName, v.Repository).Scan(&rid, &did)
		if err != nil {
			return notFound(err, repo)
		}

		pid, _, err := insertOrGet(ctx, tx, `INSERT INTO packages
			(repository_id, format, namespace, name, display_name, origin_publish, origin_upstream, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING RETURNING id`,
			[]any{rid, v.Format, v.Namespace, v.Name, pkg.DisplayName, pkg.OriginPublish, pkg.OriginUpstream, timeVal(pkg.CreatedAt)},
			`SELECT id FROM packages WHERE repository_id = $1 AND format = $2 AND namespace = $3 AND name = $4`,
			rid, v.Format, v.Namespace, v.Name)
		if err != nil {
			return notFound(err, pkgName(v.PackageKey)) // no row: deleted meanwhile with its repository
		}

		vid, newVersion, err := insertOrGet(ctx, tx, `INSERT INTO package_versions
			(package_id, version, display_version, status, revision, origin_type, origin_repository,
			 origin_external_connection, summary, home_page, source_code_repository, licenses, attributes,
			 published_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) ON CONFLICT DO NOTHING RETURNING id`,
			[]any{pid, v.Version, v.DisplayVersion, v.Status, v.Revision, v.OriginType, v.OriginRepository,
				v.OriginExternalConnection, v.Summary, v.HomePage, v.SourceCodeRepository, store.JSONText(v.Licenses), store.JSONText(v.Attributes),
				timeVal(v.PublishedAt), timeVal(v.UpdatedAt)},
			`SELECT id FROM package_versions WHERE package_id = $1 AND version = $2`, pid, v.Version)
		if err != nil {
			return notFound(err, verName(v.VersionKey))
		}

		tag, err := tx.Exec(ctx, `INSERT INTO assets
			(version_id, domain_id, name, size, sha256, sha512, sha1, md5, attributes, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`,
			vid, did, a.Name, a.Size, a.SHA256, a.SHA512, a.SHA1, a.MD5, store.JSONText(a.Attributes), timeVal(a.CreatedAt))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 { // the winner has committed: its asset is visible now
			existing, err = scanAsset(v.PackageKey)(tx.QueryRow(ctx, `SELECT `+assetCols+`
				FROM assets a JOIN package_versions v ON v.id = a.version_id WHERE a.version_id = $1 AND a.name = $2`, vid, a.Name))
			if err != nil {
				return err
			}
			return fmt.Errorf("%s asset %s: %w", verName(v.VersionKey), a.Name, store.ErrExists)
		}
		if newVersion {
			return nil
		}
		_, err = tx.Exec(ctx, `UPDATE package_versions SET revision = $1, updated_at = $2 WHERE id = $3`,
			v.Revision, timeVal(v.UpdatedAt), vid)
		return err
	})
	switch {
	case errors.Is(err, store.ErrExists):
		return existing, err
	case sqlState(err) == "23503": // a parent went away between lookup and insert
		return store.Asset{}, fmt.Errorf("%s: %w", repo, store.ErrNotFound)
	case err != nil:
		return store.Asset{}, err
	}
	// As GetAsset will return it.
	if !a.CreatedAt.IsZero() {
		a.CreatedAt = time.Unix(0, a.CreatedAt.UnixNano()).UTC()
	}
	if len(a.Attributes) == 0 {
		a.Attributes = nil
	}
	return a, nil
}
