package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/wharfhq/wharf/internal/store"
)

func (s *Store) GetSetting(ctx context.Context, name string) (string, error) {
	var v string
	err := s.r.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("setting %q: %w", name, store.ErrNotFound)
	}
	return v, err
}

func (s *Store) PutSettingIfAbsent(ctx context.Context, name, value string) (string, error) {
	var stored string
	err := s.write(ctx, func(tx *writeTx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT DO NOTHING`, name, value); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, name).Scan(&stored)
	})
	return stored, err
}

func (s *Store) CreateDomain(ctx context.Context, d store.Domain) error {
	return s.change(ctx, domainChange(d.Owner, d.Name), func(tx *writeTx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO domains (owner, name, encryption_key, created_at)
			VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`, d.Owner, d.Name, d.EncryptionKey, timeVal(d.CreatedAt))
		return inserted(res, err, "domain "+d.Owner+"/"+d.Name)
	})
}

// inserted turns an INSERT ... ON CONFLICT DO NOTHING that inserted nothing
// into ErrExists.
func inserted(res sql.Result, err error, what string) error {
	return affected(res, err, what, store.ErrExists)
}

// affected returns sentinel about what when the statement changed no row.
func affected(res sql.Result, err error, what string, sentinel error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err == nil && n == 0 {
		err = fmt.Errorf("%s: %w", what, sentinel)
	}
	return err
}

const domainCols = `owner, name, encryption_key, created_at`

func scanDomain(sc scanner) (store.Domain, error) {
	var d store.Domain
	var created sql.NullInt64
	err := sc.Scan(&d.Owner, &d.Name, &d.EncryptionKey, &created)
	d.CreatedAt = timeOf(created)
	return d, err
}

func (s *Store) GetDomain(ctx context.Context, owner, name string) (store.Domain, error) {
	d, err := scanDomain(s.r.QueryRowContext(ctx, `SELECT `+domainCols+` FROM domains WHERE owner = ? AND name = ?`, owner, name))
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("domain %s/%s: %w", owner, name, store.ErrNotFound)
	}
	return d, err
}

func (s *Store) ListDomains(ctx context.Context, page store.Page) ([]store.Domain, string, error) {
	q := listQuery{limit: page.Limit}
	if err := q.after(page.After, nil, "name", "owner"); err != nil {
		return nil, "", err
	}
	return list(ctx, s.r, q, `SELECT `+domainCols+` FROM domains`, `name, owner`, scanDomain,
		func(d store.Domain) []string { return []string{d.Name, d.Owner} })
}

func (s *Store) DeleteDomain(ctx context.Context, owner, name string) error {
	return s.change(ctx, domainChange(owner, name), func(tx *writeTx) error {
		var id int64
		var repos bool
		err := tx.QueryRowContext(ctx, `SELECT id, EXISTS (SELECT 1 FROM repositories WHERE domain_id = domains.id)
			FROM domains WHERE owner = ? AND name = ?`, owner, name).Scan(&id, &repos)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("domain %s/%s: %w", owner, name, store.ErrNotFound)
		case err != nil:
			return err
		case repos:
			return fmt.Errorf("domain %s/%s has repositories: %w", owner, name, store.ErrNotEmpty)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM domains WHERE id = ?`, id)
		return err
	})
}

func domainID(ctx context.Context, q querier, owner, name string) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `SELECT id FROM domains WHERE owner = ? AND name = ?`, owner, name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("domain %s/%s: %w", owner, name, store.ErrNotFound)
	}
	return id, err
}

func (s *Store) CountRepositories(ctx context.Context, owner, domain string) (int, error) {
	id, err := domainID(ctx, s.r, owner, domain)
	if err != nil {
		return 0, err
	}
	var n int
	err = s.r.QueryRowContext(ctx, `SELECT count(*) FROM repositories WHERE domain_id = ?`, id).Scan(&n)
	return n, err
}

func (s *Store) DomainAssetStats(ctx context.Context, owner, domain string) (count, size int64, err error) {
	id, err := domainID(ctx, s.r, owner, domain)
	if err != nil {
		return 0, 0, err
	}
	// Identical sha256 means identical bytes, so max(size) is just "the" size.
	err = s.r.QueryRowContext(ctx, qAssetStats, id).Scan(&count, &size)
	return count, size, err
}

func (s *Store) CreateRepository(ctx context.Context, r store.Repository) error {
	return s.change(ctx, domainChange(r.DomainOwner, r.DomainName), func(tx *writeTx) error {
		did, err := domainID(ctx, tx, r.DomainOwner, r.DomainName)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO repositories
			(domain_id, name, description, upstreams, external_connections, created_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			did, r.Name, r.Description, store.JSONText(r.Upstreams), store.JSONText(r.ExternalConnections), timeVal(r.CreatedAt))
		return inserted(res, err, repoName(r.DomainOwner, r.DomainName, r.Name))
	})
}

const repoSelect = `SELECT d.owner, d.name, r.name, r.description, r.upstreams, r.external_connections, r.created_at
	FROM repositories r JOIN domains d ON d.id = r.domain_id`

func scanRepo(sc scanner) (store.Repository, error) {
	var r store.Repository
	var up, ext string
	var created sql.NullInt64
	err := sc.Scan(&r.DomainOwner, &r.DomainName, &r.Name, &r.Description, &up, &ext, &created)
	if err != nil {
		return r, err
	}
	r.CreatedAt = timeOf(created)
	if r.Upstreams, err = store.ListOf(up); err != nil {
		return r, err
	}
	r.ExternalConnections, err = store.ListOf(ext)
	return r, err
}

func (s *Store) GetRepository(ctx context.Context, owner, domain, name string) (store.Repository, error) {
	r, err := scanRepo(s.r.QueryRowContext(ctx, repoSelect+` WHERE d.owner = ? AND d.name = ? AND r.name = ?`, owner, domain, name))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("%s: %w", repoName(owner, domain, name), store.ErrNotFound)
	}
	return r, err
}

func (s *Store) UpdateRepository(ctx context.Context, r store.Repository) error {
	return s.change(ctx, domainChange(r.DomainOwner, r.DomainName), func(tx *writeTx) error {
		res, err := tx.ExecContext(ctx, `UPDATE repositories SET description = ?, upstreams = ?, external_connections = ?
			WHERE name = ? AND domain_id = (SELECT id FROM domains WHERE owner = ? AND name = ?)`,
			r.Description, store.JSONText(r.Upstreams), store.JSONText(r.ExternalConnections), r.Name, r.DomainOwner, r.DomainName)
		return affected(res, err, repoName(r.DomainOwner, r.DomainName, r.Name), store.ErrNotFound)
	})
}

func (s *Store) ListRepositories(ctx context.Context, owner, domain, prefix string, page store.Page) ([]store.Repository, string, error) {
	q := listQuery{limit: page.Limit}
	if owner != "" {
		q.where("d.owner = ?", owner)
	}
	if domain != "" {
		q.where("d.name = ?", domain)
	}
	if err := q.after(page.After, nil, "r.name", "d.owner", "d.name"); err != nil {
		return nil, "", err
	}
	q.prefix("r.name", prefix)
	return list(ctx, s.r, q, repoSelect, `r.name, d.owner, d.name`, scanRepo,
		func(r store.Repository) []string { return []string{r.Name, r.DomainOwner, r.DomainName} })
}

func (s *Store) DeleteRepository(ctx context.Context, owner, domain, name string) ([]string, error) {
	var orphans []string
	err := s.change(ctx, domainChange(owner, domain), func(tx *writeTx) error {
		rid, err := repoID(ctx, tx, owner, domain, name)
		if err != nil {
			return err
		}
		// Computed before the cascade, as "referenced here and by no other
		// repository of the domain", which is the same set afterwards.
		rows, err := tx.QueryContext(ctx, qOrphans, rid)
		if err != nil {
			return err
		}
		orphans, err = collect(rows, func(sc scanner) (string, error) {
			var sum string
			return sum, sc.Scan(&sum)
		})
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM repositories WHERE id = ?`, rid)
		return err
	})
	if err != nil {
		return nil, err
	}
	return orphans, nil
}

const (
	qAssetStats = `SELECT count(*), coalesce(sum(size), 0)
		FROM (SELECT max(size) AS size FROM assets WHERE domain_id = ? GROUP BY sha256)`
	// qOrphans: blobs referenced by repository ?1 and by no other repository
	// of its domain.
	qOrphans = `SELECT DISTINCT a.sha256
		FROM packages p
		JOIN package_versions v ON v.package_id = p.id
		JOIN assets a ON a.version_id = v.id
		WHERE p.repository_id = ?1 AND NOT EXISTS (
			SELECT 1 FROM assets b
			JOIN package_versions bv ON bv.id = b.version_id
			JOIN packages bp ON bp.id = bv.package_id
			WHERE b.domain_id = a.domain_id AND b.sha256 = a.sha256 AND bp.repository_id <> ?1)
		ORDER BY a.sha256`
)

func repoName(owner, domain, name string) string {
	return "repository " + owner + "/" + domain + "/" + name
}

func repoID(ctx context.Context, q querier, owner, domain, name string) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `SELECT r.id FROM repositories r JOIN domains d ON d.id = r.domain_id
		WHERE d.owner = ? AND d.name = ? AND r.name = ?`, owner, domain, name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("%s: %w", repoName(owner, domain, name), store.ErrNotFound)
	}
	return id, err
}
