package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/wharfhq/wharf/internal/store"
)

func groupName(owner, domain, pattern string) string {
	return fmt.Sprintf("package group %s in domain %s/%s", pattern, owner, domain)
}

const groupCols = `g.pattern, g.description, g.contact_info, g.restrictions, g.created_at`

func scanGroup(owner, domain string) func(scanner) (store.PackageGroup, error) {
	return func(sc scanner) (store.PackageGroup, error) {
		g := store.PackageGroup{DomainOwner: owner, DomainName: domain}
		var restrictions string
		var created *int64
		if err := sc.Scan(&g.Pattern, &g.Description, &g.ContactInfo, &restrictions, &created); err != nil {
			return g, err
		}
		g.CreatedAt = timeOf(created)
		var err error
		if g.Restrictions, err = store.RestrictionsOf(restrictions); err != nil {
			return g, fmt.Errorf("%s: %w", g.Pattern, err)
		}
		return g, nil
	}
}

func (s *Store) CreatePackageGroup(ctx context.Context, g store.PackageGroup) error {
	what := groupName(g.DomainOwner, g.DomainName, g.Pattern)
	err := s.change(ctx, domainChange(g.DomainOwner, g.DomainName), func(tx pgx.Tx) error {
		did, err := domainID(ctx, tx, g.DomainOwner, g.DomainName)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO package_groups (domain_id, pattern, description, contact_info, restrictions, created_at)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
			did, g.Pattern, g.Description, g.ContactInfo, store.RestrictionsText(g.Restrictions), timeVal(g.CreatedAt))
		return affected(tag, err, what, store.ErrExists)
	})
	if sqlState(err) == "23503" { // the domain was deleted after the lookup
		return fmt.Errorf("%s: domain: %w", what, store.ErrNotFound)
	}
	return err
}

// groupWhere addresses a domain's groups as $1, $2.
const groupWhere = ` FROM package_groups g JOIN domains d ON d.id = g.domain_id WHERE d.owner = $1 AND d.name = $2`

func (s *Store) GetPackageGroup(ctx context.Context, owner, domain, pattern string) (store.PackageGroup, error) {
	g, err := scanGroup(owner, domain)(s.db.QueryRow(ctx, `SELECT `+groupCols+groupWhere+` AND g.pattern = $3`, owner, domain, pattern))
	return g, notFound(err, groupName(owner, domain, pattern))
}

func (s *Store) UpdatePackageGroup(ctx context.Context, g store.PackageGroup) error {
	return s.change(ctx, domainChange(g.DomainOwner, g.DomainName), func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE package_groups SET description = $4, contact_info = $5, restrictions = $6
			WHERE id = (SELECT g.id`+groupWhere+` AND g.pattern = $3)`,
			g.DomainOwner, g.DomainName, g.Pattern, g.Description, g.ContactInfo, store.RestrictionsText(g.Restrictions))
		return affected(tag, err, groupName(g.DomainOwner, g.DomainName, g.Pattern), store.ErrNotFound)
	})
}

func (s *Store) DeletePackageGroup(ctx context.Context, owner, domain, pattern string) error {
	return s.change(ctx, domainChange(owner, domain), func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM package_groups WHERE id = (SELECT g.id`+groupWhere+` AND g.pattern = $3)`, owner, domain, pattern)
		return affected(tag, err, groupName(owner, domain, pattern), store.ErrNotFound)
	})
}

func (s *Store) ListPackageGroups(ctx context.Context, owner, domain string, page store.Page) ([]store.PackageGroup, string, error) {
	did, err := domainID(ctx, s.db, owner, domain)
	if err != nil {
		return nil, "", err
	}
	q := listQuery{limit: page.Limit}
	q.where("g.domain_id = ?", did)
	if err := q.after(page.After, nil, "g.pattern"); err != nil {
		return nil, "", err
	}
	return list(ctx, s.db, q, `SELECT `+groupCols+` FROM package_groups g`, `g.pattern`, scanGroup(owner, domain),
		func(g store.PackageGroup) []string { return []string{g.Pattern} })
}
