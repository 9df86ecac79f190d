package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/wharfhq/wharf/internal/store"
)

func (s *Store) GetSetting(ctx context.Context, name string) (string, error) {
	var v string
	err := s.db.QueryRow(ctx, `SELECT value FROM settings WHERE name = $1`, name).Scan(&v)
	return v, notFound(err, fmt.Sprintf("setting %q", name))
}

func (s *Store) PutSettingIfAbsent(ctx context.Context, name, value string) (string, error) {
	// A conflicting insert waits for the first writer to commit, so the
	// SELECT that follows (a fresh snapshot) sees the winner's value.
	var stored string
	err := s.db.QueryRow(ctx, `INSERT INTO settings (name, value) VALUES ($1, $2)
		ON CONFLICT DO NOTHING RETURNING value`, name, value).Scan(&stored)
	if errors.Is(err, pgx.ErrNoRows) {
		err = s.db.QueryRow(ctx, `SELECT value FROM settings WHERE name = $1`, name).Scan(&stored)
	}
	return stored, err
}

func (s *Store) CreateDomain(ctx context.Context, d store.Domain) error {
	return s.change(ctx, domainChange(d.Owner, d.Name), func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO domains (owner, name, encryption_key, created_at)
			VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, d.Owner, d.Name, d.EncryptionKey, timeVal(d.CreatedAt))
		return affected(tag, err, "domain "+d.Owner+"/"+d.Name, store.ErrExists)
	})
}

const domainCols = `owner, name, encryption_key, created_at`

func scanDomain(sc scanner) (store.Domain, error) {
	var d store.Domain
	var created *int64
	err := sc.Scan(&d.Owner, &d.Name, &d.EncryptionKey, &created)
	d.CreatedAt = timeOf(created)
	return d, err
}

func (s *Store) GetDomain(ctx context.Context, owner, name string) (store.Domain, error) {
	d, err := scanDomain(s.db.QueryRow(ctx, `SELECT `+domainCols+` FROM domains WHERE owner = $1 AND name = $2`, owner, name))
	return d, notFound(err, "domain "+owner+"/"+name)
}

func (s *Store) ListDomains(ctx context.Context, page store.Page) ([]store.Domain, string, error) {
	q := listQuery{limit: page.Limit}
	if err := q.after(page.After, nil, "name", "owner"); err != nil {
		return nil, "", err
	}
	return list(ctx, s.db, q, `SELECT `+domainCols+` FROM domains`, `name, owner`, scanDomain,
		func(d store.Domain) []string { return []string{d.Name, d.Owner} })
}

// DeleteDomain is one statement: the RESTRICT foreign key, not a check
// that a concurrent CreateRepository could slip past, refuses a domain
// that still has repositories.
func (s *Store) DeleteDomain(ctx context.Context, owner, name string) error {
	err := s.change(ctx, domainChange(owner, name), func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM domains WHERE owner = $1 AND name = $2`, owner, name)
		return affected(tag, err, "domain "+owner+"/"+name, store.ErrNotFound)
	})
	if state := sqlState(err); state == "23503" || state == "23001" { // foreign_key_violation, restrict_violation
		return fmt.Errorf("domain %s/%s has repositories: %w", owner, name, store.ErrNotEmpty)
	}
	return err
}

func domainID(ctx context.Context, q querier, owner, name string) (int64, error) {
	var id int64
	err := q.QueryRow(ctx, `SELECT id FROM domains WHERE owner = $1 AND name = $2`, owner, name).Scan(&id)
	return id, notFound(err, "domain "+owner+"/"+name)
}

func (s *Store) CountRepositories(ctx context.Context, owner, domain string) (int, error) {
	id, err := domainID(ctx, s.db, owner, domain)
	if err != nil {
		return 0, err
	}
	var n int
	err = s.db.QueryRow(ctx, `SELECT count(*) FROM repositories WHERE domain_id = $1`, id).Scan(&n)
	return n, err
}

func (s *Store) DomainAssetStats(ctx context.Context, owner, domain string) (count, size int64, err error) {
	id, err := domainID(ctx, s.db, owner, domain)
	if err != nil {
		return 0, 0, err
	}
	err = s.db.QueryRow(ctx, qAssetStats, id).Scan(&count, &size)
	return count, size, err
}

func (s *Store) CreateRepository(ctx context.Context, r store.Repository) error {
	what := repoName(r.DomainOwner, r.DomainName, r.Name)
	err := s.change(ctx, domainChange(r.DomainOwner, r.DomainName), func(tx pgx.Tx) error {
		did, err := domainID(ctx, tx, r.DomainOwner, r.DomainName)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO repositories
			(domain_id, name, description, upstreams, external_connections, created_at)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
			did, r.Name, r.Description, store.JSONText(r.Upstreams), store.JSONText(r.ExternalConnections), timeVal(r.CreatedAt))
		return affected(tag, err, what, store.ErrExists)
	})
	if sqlState(err) == "23503" { // the domain was deleted after the lookup
		return fmt.Errorf("%s: domain: %w", what, store.ErrNotFound)
	}
	return err
}

const repoSelect = `SELECT d.owner, d.name, r.name, r.description, r.upstreams, r.external_connections, r.created_at
	FROM repositories r JOIN domains d ON d.id = r.domain_id`

func scanRepo(sc scanner) (store.Repository, error) {
	var r store.Repository
	var up, ext string
	var created *int64
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
	r, err := scanRepo(s.db.QueryRow(ctx, repoSelect+` WHERE d.owner = $1 AND d.name = $2 AND r.name = $3`, owner, domain, name))
	return r, notFound(err, repoName(owner, domain, name))
}

func (s *Store) UpdateRepository(ctx context.Context, r store.Repository) error {
	return s.change(ctx, domainChange(r.DomainOwner, r.DomainName), func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE repositories SET description = $1, upstreams = $2, external_connections = $3
			WHERE name = $4 AND domain_id = (SELECT id FROM domains WHERE owner = $5 AND name = $6)`,
			r.Description, store.JSONText(r.Upstreams), store.JSONText(r.ExternalConnections), r.Name, r.DomainOwner, r.DomainName)
		return affected(tag, err, repoName(r.DomainOwner, r.DomainName, r.Name), store.ErrNotFound)
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
	return list(ctx, s.db, q, repoSelect, `r.name, d.owner, d.name`, scanRepo,
		func(r store.Repository) []string { return []string{r.Name, r.DomainOwner, r.DomainName} })
}

func (s *Store) DeleteRepository(ctx context.Context, owner, domain, name string) ([]string, error) {
	var orphans []string
	err := s.change(ctx, domainChange(owner, domain), func(tx pgx.Tx) error {
		what := repoName(owner, domain, name)
		if err := lockDomain(ctx, tx, owner, domain, what); err != nil {
			return err
		}
		var rid int64
		if err := tx.QueryRow(ctx, qRepoID, owner, domain, name).Scan(&rid); err != nil {
			return notFound(err, what)
		}
		// Computed before the cascade, as "referenced here and by no other
		// repository of the domain", which is the same set afterwards.
		rows, err := tx.Query(ctx, qOrphans, rid)
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
		_, err = tx.Exec(ctx, `DELETE FROM repositories WHERE id = $1`, rid)
		return err
	})
	if err != nil {
		return nil, err
	}
	return orphans, nil
}

const (
	// Identical sha256 means identical bytes, so max(size) is just "the" size.
	qAssetStats = `SELECT count(*), coalesce(sum(size), 0)::bigint
		FROM (SELECT max(size) AS size FROM assets WHERE domain_id = $1 GROUP BY sha256) blobs`
	// qOrphans: blobs referenced by repository $1 and by no other repository
	// of its domain.
	qOrphans = `SELECT DISTINCT a.sha256
		FROM packages p
		JOIN package_versions v ON v.package_id = p.id
		JOIN assets a ON a.version_id = v.id
		WHERE p.repository_id = $1 AND NOT EXISTS (
			SELECT 1 FROM assets b
			JOIN package_versions bv ON bv.id = b.version_id
			JOIN packages bp ON bp.id = bv.package_id
			WHERE b.domain_id = a.domain_id AND b.sha256 = a.sha256 AND bp.repository_id <> $1)
		ORDER BY a.sha256`
)

func repoName(owner, domain, name string) string {
	return "repository " + owner + "/" + domain + "/" + name
}
