package sqlite

import (
	"context"
	"database/sql"
	"fmt"

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
		var created sql.NullInt64
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
	return s.change(ctx, domainChange(g.DomainOwner, g.DomainName), func(tx *writeTx) error {
		did, err := domainID(ctx, tx, g.DomainOwner, g.DomainName)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO package_groups (domain_id, pattern, description, contact_info, restrictions, created_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			did, g.Pattern, g.Description, g.ContactInfo, store.RestrictionsText(g.Restrictions), timeVal(g.CreatedAt))
		return inserted(res, err, groupName(g.DomainOwner, g.DomainName, g.Pattern))
	})
}

const groupWhere = ` FROM package_groups g JOIN domains d ON d.id = g.domain_id WHERE d.owner = ? AND d.name = ?`

func (s *Store) GetPackageGroup(ctx context.Context, owner, domain, pattern string) (store.PackageGroup, error) {
	g, err := scanGroup(owner, domain)(s.r.QueryRowContext(ctx, `SELECT `+groupCols+groupWhere+` AND g.pattern = ?`, owner, domain, pattern))
	return g, notFound(err, groupName(owner, domain, pattern))
}

func (s *Store) UpdatePackageGroup(ctx context.Context, g store.PackageGroup) error {
	return s.change(ctx, domainChange(g.DomainOwner, g.DomainName), func(tx *writeTx) error {
		res, err := tx.ExecContext(ctx, `UPDATE package_groups SET description = ?, contact_info = ?, restrictions = ?
			WHERE id = (SELECT g.id`+groupWhere+` AND g.pattern = ?)`,
			g.Description, g.ContactInfo, store.RestrictionsText(g.Restrictions), g.DomainOwner, g.DomainName, g.Pattern)
		return affected(res, err, groupName(g.DomainOwner, g.DomainName, g.Pattern), store.ErrNotFound)
	})
}

func (s *Store) DeletePackageGroup(ctx context.Context, owner, domain, pattern string) error {
	return s.change(ctx, domainChange(owner, domain), func(tx *writeTx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM package_groups WHERE id = (SELECT g.id`+groupWhere+` AND g.pattern = ?)`, owner, domain, pattern)
		return affected(res, err, groupName(owner, domain, pattern), store.ErrNotFound)
	})
}

func (s *Store) ListPackageGroups(ctx context.Context, owner, domain string, page store.Page) ([]store.PackageGroup, string, error) {
	q, err := groupsQuery(owner, domain, page)
	if err != nil {
		return nil, "", err
	}
	gs, next, err := list(ctx, s.r, q, groupSelect, groupOrder, scanGroup(owner, domain),
		func(g store.PackageGroup) []string { return []string{g.Pattern} })
	if err == nil && len(gs) == 0 {
		// An empty page, or no such domain.
		if _, err := domainID(ctx, s.r, owner, domain); err != nil {
			return nil, "", err
		}
	}
	return gs, next, err
}

const (
	groupSelect = `SELECT ` + groupCols + ` FROM package_groups g`
	groupOrder  = `g.pattern`
)

// groupsQuery selects a domain's groups with its id in a subquery, not a
// query of its own (as listOfPackage does for a package's rows).
func groupsQuery(owner, domain string, page store.Page) (listQuery, error) {
	q := listQuery{limit: page.Limit}
	q.where("g.domain_id = (SELECT id FROM domains WHERE owner = ? AND name = ?)", owner, domain)
	err := q.after(page.After, nil, "g.pattern")
	return q, err
}
