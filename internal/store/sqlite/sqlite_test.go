package sqlite

import (
	"cmp"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wharfhq/wharf/internal/store"
	"github.com/wharfhq/wharf/internal/store/storetest"
)

func open(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "wharf.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
}

// TestQueryPlans: the hot paths are index lookups whatever the table sizes
// (a project page with 100,000 packages x 10 files must not scan).
func TestQueryPlans(t *testing.T) {
	s := open(t)
	ns := ""
	for _, f := range []store.PackageFilter{{}, {Format: "pypi", Namespace: &ns}, {Format: "npm"}, {Format: "pypi", Namespace: &ns, NamePrefix: "req"}, {NamePrefix: "req"}} {
		after := store.EncodeCursor(cmp.Or(f.Format, "pypi"), "", "requests")
		for _, page := range []store.Page{{Limit: 100}, {After: after, Limit: 100}} {
			q, err := packagesQuery(1, f, page)
			if err != nil {
				t.Fatal(err)
			}
			query, args := q.sql(pkgSelect, pkgOrder)
			checkPlan(t, s, fmt.Sprintf("ListPackages %+v %+v", f, page), query, args...)
		}
	}
	pk := []any{"111111111111", "d", "r", "pypi", "", "requests"}
	for name, c := range map[string]struct {
		query string
		args  []any
	}{
		"pkgID":             {qPkgID, pk},
		"GetPackage":        {pkgSelect + pkgWhere, pk},
		"GetVersion":        {qGetVersion, append(pk, "1.0")},
		"ListVersions":      {qListVersions, []any{1}},
		"versionID":         {qVersionID, append(pk, "1.0")},
		"GetAsset":          {qGetAsset, append(pk, "1.0", "a.whl")},
		"ListAssets":        {qListAssets, []any{1}},
		"ListPackageAssets": {qListPackageAssets, []any{1}},
		"DomainAssetStats":  {qAssetStats, []any{1}},
		"orphans":           {qOrphans, []any{1}},
	} {
		checkPlan(t, s, name, c.query, c.args...)
	}
}

func checkPlan(t *testing.T, s *Store, name, query string, args ...any) {
	t.Helper()
	rows, err := s.r.Query("EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	t.Logf("%s:\n  %s", name, strings.Join(plan, "\n  "))
	for _, step := range plan {
		// A sort over a page is fine only for ListPackages' keyset order,
		// which the unique index already provides.
		scan := strings.HasPrefix(step, "SCAN ") && !strings.HasPrefix(step, "SCAN (subquery")
		if scan || (strings.HasPrefix(name, "ListPackages") && strings.Contains(step, "TEMP B-TREE")) {
			t.Errorf("%s is not an index lookup:\n  %s", name, strings.Join(plan, "\n  "))
			return
		}
	}
}

func TestReopenKeepsDataAndSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wharf.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// SQLite keeps nanoseconds, more than the suite asks for.
	created := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
	if err := s.CreateDomain(ctx, store.Domain{Owner: "111111111111", Name: "d", CreatedAt: created}); err != nil {
		t.Fatal(err)
	}
	var mode string
	if err := s.r.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
	}
	s.Close()

	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	d, err := s.GetDomain(ctx, "111111111111", "d")
	if err != nil || !d.CreatedAt.Equal(created) || d.CreatedAt.Nanosecond() != 123456789 {
		t.Fatalf("after reopen: %+v, %v", d, err)
	}
	var versions int
	s.r.QueryRow("SELECT count(*) FROM schema_migrations").Scan(&versions)
	if versions != len(migrations) {
		t.Fatalf("%d migrations recorded, want %d", versions, len(migrations))
	}
	// A database migrated by a newer wharf is refused, not misread.
	if _, err := s.w.Exec("INSERT INTO schema_migrations (version, applied_at) VALUES (?, 0)", len(migrations)+1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err := Open(path); err == nil || !strings.Contains(err.Error(), "newer") {
		if s != nil {
			s.Close()
		}
		t.Fatalf("Open of a newer schema: %v", err)
	}
}

// TestTwoHandlesOneFile: two Stores on one file (as two processes would be)
// write concurrently; busy_timeout, not luck, keeps them from failing.
func TestTwoHandlesOneFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wharf.db")
	ctx := context.Background()
	var stores [2]*Store
	for i := range stores {
		s, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		stores[i] = s
	}
	if err := stores[0].CreateDomain(ctx, store.Domain{Owner: "111111111111", Name: "d"}); err != nil {
		t.Fatal(err)
	}
	if err := stores[0].CreateRepository(ctx, store.Repository{DomainOwner: "111111111111", DomainName: "d", Name: "r"}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 20*10)
	for i := range 20 {
		wg.Go(func() {
			s := stores[i%2]
			for j := range 10 {
				k := store.PackageKey{DomainOwner: "111111111111", DomainName: "d", Repository: "r", Format: "pypi", Name: fmt.Sprint("p", j%3)}
				v := store.PackageVersion{VersionKey: store.VersionKey{PackageKey: k, Version: "1"}}
				a := store.Asset{VersionKey: v.VersionKey, Name: fmt.Sprint(i, "-", j), SHA256: fmt.Sprint(i)}
				if _, err := s.AddAsset(ctx, store.Package{PackageKey: k}, v, a); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	n, _, err := stores[1].DomainAssetStats(ctx, "111111111111", "d")
	if err != nil || n != 20 {
		t.Fatalf("DomainAssetStats = %d, %v; want 20", n, err)
	}
}
