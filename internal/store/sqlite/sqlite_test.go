package sqlite

import (
	"cmp"
	"context"
	"fmt"
	"path/filepath"
	"runtime"
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
	for _, page := range []store.Page{{Limit: 1000}, {After: store.EncodeCursor("/pypi/"), Limit: 1000}} {
		q, err := groupsQuery("111111111111", "d", page)
		if err != nil {
			t.Fatal(err)
		}
		query, args := q.sql(groupSelect, groupOrder)
		checkPlan(t, s, fmt.Sprintf("ListPackageGroups %+v", page), query, args...)
	}
	pk := []any{"111111111111", "d", "r", "pypi", "", "requests"}
	for name, c := range map[string]struct {
		query string
		args  []any
	}{
		"pkgID":             {qPkgID, pk},
		"GetPackage":        {pkgSelect + pkgWhere, pk},
		"GetVersion":        {qGetVersion, append(pk, "1.0")},
		"ListVersions":      {qListVersions, pk},
		"versionID":         {qVersionID, append(pk, "1.0")},
		"GetAsset":          {qGetAsset, append(pk, "1.0", "a.whl")},
		"ListAssets":        {qListAssets, []any{1}},
		"ListPackageAssets": {qListPackageAssets, pk},
		"ListPackageFiles":  {qListPackageFiles, pk},
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

// TestKeptStatementsReleaseTheWAL: kept statements are reset after each use,
// so after reads through them (found and not found, rows and single rows) a
// checkpoint can copy the whole WAL back and truncate it. A statement left
// mid-result would keep its read transaction, and the checkpoint would wait
// out busy_timeout and report busy.
func TestKeptStatementsReleaseTheWAL(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	const owner = "111111111111"
	if err := s.CreateDomain(ctx, store.Domain{Owner: owner, Name: "d"}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateRepository(ctx, store.Repository{DomainOwner: owner, DomainName: "d", Name: "r"}); err != nil {
		t.Fatal(err)
	}
	k := store.PackageKey{DomainOwner: owner, DomainName: "d", Repository: "r", Format: "pypi", Name: "p"}
	for i := range 3 {
		v := store.PackageVersion{VersionKey: store.VersionKey{PackageKey: k, Version: fmt.Sprint(i)}}
		if _, err := s.AddAsset(ctx, store.Package{PackageKey: k}, v, store.Asset{VersionKey: v.VersionKey, Name: fmt.Sprint("f", i), SHA256: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	missing := k
	missing.Name = "absent"
	for range 2 * max(4, runtime.GOMAXPROCS(0)) { // reach every reader connection
		s.GetRepository(ctx, owner, "d", "r")
		s.GetPackage(ctx, k)
		s.GetPackage(ctx, missing)
		s.ListVersions(ctx, k)
		s.ListPackageAssets(ctx, missing)
		s.ListPackageGroups(ctx, owner, "d", store.Page{Limit: 1}) // one row of more
		s.ListPackages(ctx, owner, "d", "r", store.PackageFilter{}, store.Page{Limit: 1})
	}
	if len(s.r.stmts) == 0 || len(s.w.stmts) == 0 {
		t.Fatalf("%d read and %d write statements kept, want some of each", len(s.r.stmts), len(s.w.stmts))
	}
	if err := s.PutUpstreamPage(ctx, store.UpstreamPage{Key: "k"}); err != nil {
		t.Fatal(err)
	}
	var busy, log, done int
	if err := s.w.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &log, &done); err != nil {
		t.Fatal(err)
	}
	if busy != 0 || log != 0 {
		t.Fatalf("wal_checkpoint(TRUNCATE): busy %d, %d frames left; a kept statement holds a read transaction", busy, log)
	}
}

// TestStatementCacheBound: past maxStmts texts, queries still run, unprepared.
func TestStatementCacheBound(t *testing.T) {
	s := open(t)
	for i := range maxStmts + 10 {
		var n int
		if err := s.r.QueryRowContext(context.Background(), fmt.Sprintf("SELECT %d", i)).Scan(&n); err != nil || n != i {
			t.Fatalf("SELECT %d: %d, %v", i, n, err)
		}
	}
	if len(s.r.stmts) > maxStmts {
		t.Fatalf("%d statements kept, bound %d", len(s.r.stmts), maxStmts)
	}
}
