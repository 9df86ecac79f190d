package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/wharfhq/wharf/internal/store"
	"github.com/wharfhq/wharf/internal/store/storetest"
	"github.com/wharfhq/wharf/internal/testenv/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var ctx = context.Background()

func open(t *testing.T, dsn string) *Store {
	t.Helper()
	s, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, pgtest.NewDatabase(t)) })
}

// TestReplicas: two Stores on one database, as two replicas would be,
// migrate at the same moment and then race to add the same file.
func TestReplicas(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	var stores [4]*Store
	var wg sync.WaitGroup
	errs := make([]error, len(stores))
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = Open(ctx, dsn) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
		t.Cleanup(func() { stores[i].Close() })
	}
	var versions int
	if err := stores[0].db.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&versions); err != nil || versions != len(migrations) {
		t.Fatalf("%d migrations recorded (%v), want %d", versions, err, len(migrations))
	}

	const owner = "111111111111"
	if err := stores[0].CreateDomain(ctx, store.Domain{Owner: owner, Name: "d"}); err != nil {
		t.Fatal(err)
	}
	if err := stores[1].CreateRepository(ctx, store.Repository{DomainOwner: owner, DomainName: "d", Name: "r"}); err != nil {
		t.Fatal(err)
	}
	for round := range 5 {
		k := store.PackageKey{DomainOwner: owner, DomainName: "d", Repository: "r", Format: "pypi", Name: fmt.Sprint("p", round)}
		v := store.PackageVersion{VersionKey: store.VersionKey{PackageKey: k, Version: "1.0"}, Revision: "r"}
		const racers = 16
		got := make([]store.Asset, racers)
		errs := make([]error, racers)
		start := make(chan struct{})
		for i := range racers {
			wg.Go(func() {
				<-start
				a := store.Asset{VersionKey: v.VersionKey, Name: "p-1.0.tar.gz", SHA256: fmt.Sprintf("%064d", i), Size: int64(i)}
				got[i], errs[i] = stores[i%len(stores)].AddAsset(ctx, store.Package{PackageKey: k}, v, a)
			})
		}
		close(start)
		wg.Wait()
		stored, err := stores[3].GetAsset(ctx, v.VersionKey, "p-1.0.tar.gz")
		if err != nil {
			t.Fatal(err)
		}
		winners := 0
		for i, err := range errs {
			switch {
			case err == nil:
				winners++
			case !errors.Is(err, store.ErrExists):
				t.Errorf("round %d, AddAsset %d: %v", round, i, err)
			}
			if got[i].SHA256 != stored.SHA256 {
				t.Errorf("round %d, AddAsset %d returned %s, stored is %s", round, i, got[i].SHA256, stored.SHA256)
			}
		}
		if winners != 1 {
			t.Fatalf("round %d: %d winners, want 1", round, winners)
		}
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	s := open(t, dsn)
	if _, err := s.db.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, 0)`, len(migrations)+1); err != nil {
		t.Fatal(err)
	}
	if s2, err := Open(ctx, dsn); err == nil || !strings.Contains(err.Error(), "newer") {
		if s2 != nil {
			s2.Close()
		}
		t.Fatalf("Open of a newer schema: %v", err)
	}
	// Reopening an up-to-date schema applies nothing and keeps the data.
	if err := s.CreateDomain(ctx, store.Domain{Owner: "111111111111", Name: "d"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec(ctx, `DELETE FROM schema_migrations WHERE version > $1`, len(migrations)); err != nil {
		t.Fatal(err)
	}
	s2 := open(t, dsn)
	if _, err := s2.GetDomain(ctx, "111111111111", "d"); err != nil {
		t.Fatal(err)
	}
}

// TestCollation: whatever the database's locale, keys sort as bytes (as
// in SQLite and Go), which the cursors rely on.
func TestCollation(t *testing.T) {
	s := open(t, pgtest.NewDatabase(t))
	names := []string{"b", "B", "a-b", "ab", "a_b", "é", "z", "Z"}
	for _, n := range names {
		if err := s.CreateDomain(ctx, store.Domain{Owner: "111111111111", Name: n}); err != nil {
			t.Fatal(err)
		}
	}
	got, _, err := s.ListDomains(ctx, store.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, d := range got {
		order = append(order, d.Name)
	}
	if want := "B Z a-b a_b ab b z é"; strings.Join(order, " ") != want {
		t.Fatalf("order %q, want %q", strings.Join(order, " "), want)
	}
}

// TestQueryPlans: the hot paths are index lookups on a database of
// realistic shape (a repository with 10,000 packages, each with versions
// and files, among a thousand repositories), analyzed like a live one.
// The lookups by id address a small repository and domain: deleting the
// big one may rightly scan. Most of the big repository's names start with
// "req", the prefix the listings filter by: for a prefix that matches
// almost nothing, scanning a repository that is most of the table is
// rightly cheaper than walking its index range.
func TestQueryPlans(t *testing.T) {
	s := open(t, pgtest.NewDatabase(t))
	if _, err := s.db.Exec(ctx, `
		INSERT INTO domains (owner, name, encryption_key) SELECT '111111111111', 'd' || i, '' FROM generate_series(0, 99) i;
		INSERT INTO repositories (domain_id, name, description, upstreams, external_connections)
			SELECT d.id, 'r' || i, '', '[]', '[]' FROM domains d, generate_series(0, 9) i;
		UPDATE domains SET name = 'd' WHERE name = 'd0';
		UPDATE repositories SET name = 'r' WHERE name = 'r0';
		INSERT INTO packages (repository_id, format, namespace, name, display_name, origin_publish, origin_upstream)
			SELECT r.id, 'pypi', '', 'p' || i, '', '', '' FROM repositories r, generate_series(0, 4) i;
		INSERT INTO packages (repository_id, format, namespace, name, display_name, origin_publish, origin_upstream)
			SELECT r.id, f, '', 'req' || i, '', '', '' FROM repositories r JOIN domains d ON d.id = r.domain_id,
				generate_series(0, 4999) i, unnest(array['pypi', 'npm']) f WHERE d.name = 'd' AND r.name = 'r';
		INSERT INTO package_versions (package_id, version, display_version, status, revision, origin_type, origin_repository,
				origin_external_connection, summary, home_page, source_code_repository, licenses, attributes)
			SELECT p.id, '1.' || i, '', '', '', '', '', '', '', '', '', '[]', '{}' FROM packages p, generate_series(0, 1) i;
		INSERT INTO assets (version_id, domain_id, name, size, sha256, sha512, sha1, md5, attributes)
			SELECT v.id, r.domain_id, 'f', 1, md5(v.id::text), '', '', '', '{}'
			FROM package_versions v JOIN packages p ON p.id = v.package_id JOIN repositories r ON r.id = p.repository_id;
		ANALYZE`); err != nil {
		t.Fatal(err)
	}
	var small, smallDomain int64
	if err := s.db.QueryRow(ctx, `SELECT r.id, r.domain_id FROM repositories r JOIN domains d ON d.id = r.domain_id
		WHERE d.name = 'd7' AND r.name = 'r3'`).Scan(&small, &smallDomain); err != nil {
		t.Fatal(err)
	}
	check := func(name, query string, args ...any) {
		t.Helper()
		rows, err := s.db.Query(ctx, "EXPLAIN "+query, args...)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		text := strings.Join(plan, "\n  ")
		t.Logf("%s:\n  %s", name, text)
		// A sort is fine over one package's rows, but ListPackages' keyset
		// order must come from the index: a page, not the repository.
		if strings.Contains(text, "Seq Scan on") && !strings.Contains(text, "Seq Scan on domains") ||
			strings.HasPrefix(name, "ListPackages") && strings.Contains(text, "Sort") {
			t.Errorf("%s is not an index lookup:\n  %s", name, text)
		}
	}
	ns := ""
	for _, f := range []store.PackageFilter{{}, {Format: "pypi", Namespace: &ns}, {Format: "npm"}, {Format: "pypi", Namespace: &ns, NamePrefix: "req"}, {NamePrefix: "req"}} {
		after := store.EncodeCursor(cmp.Or(f.Format, "pypi"), "", "requests")
		for _, page := range []store.Page{{Limit: 100}, {After: after, Limit: 100}} {
			q, err := packagesQuery(1, f, page)
			if err != nil {
				t.Fatal(err)
			}
			query, args := q.sql(pkgSelect, pkgOrder)
			check(fmt.Sprintf("ListPackages %+v %+v", f, page), query, args...)
		}
	}
	pk := []any{"111111111111", "d", "r", "pypi", "", "requests"}
	for name, c := range map[string]struct {
		query string
		args  []any
	}{
		"repoID":            {qRepoID, pk[:3]},
		"pkgID":             {qPkgID, pk},
		"GetPackage":        {pkgSelect + pkgWhere, pk},
		"GetVersion":        {qGetVersion, append(pk, "1.0")},
		"ListVersions":      {qListVersions, []any{1}},
		"versionID":         {qVersionID, append(pk, "1.0")},
		"GetAsset":          {qGetAsset, append(pk, "1.0", "a.whl")},
		"ListAssets":        {qListAssets, []any{1}},
		"ListPackageAssets": {qListPackageAssets, []any{1}},
		"ListPackageFiles":  {qListPackageFiles, pk},
		"DomainAssetStats":  {qAssetStats, []any{smallDomain}},
		"orphans":           {qOrphans, []any{small}},
		"orphansOfVersion":  {fmt.Sprintf(qOrphansOf, `SELECT id FROM assets WHERE version_id = $1`), []any{1}},
	} {
		check(name, c.query, c.args...)
	}
}

func TestIsUnavailable(t *testing.T) {
	// A port nobody listens on: connection refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, err = Open(ctx, "postgres://wharf@"+addr+"/wharf?connect_timeout=5")
	if err == nil || !IsUnavailable(err) {
		t.Fatalf("Open on a closed port: %v; IsUnavailable = false", err)
	}

	// A backend terminated by an administrator (57P01), as in a restart.
	s := open(t, pgtest.NewDatabase(t))
	conn, err := s.db.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	var pid int
	if err := conn.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec(ctx, `SELECT pg_terminate_backend($1)`, pid); err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(ctx, `SELECT 1`)
	if err == nil || !IsUnavailable(err) {
		t.Fatalf("query on a terminated backend: %v; IsUnavailable = false", err)
	}
	// The pool recovers by itself.
	if _, err := s.GetSetting(ctx, "x"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after the termination: %v", err)
	}

	for _, err := range []error{store.ErrNotFound, store.ErrExists, context.Canceled, errors.New("syntax")} {
		if IsUnavailable(err) {
			t.Errorf("IsUnavailable(%v) = true", err)
		}
	}
}

// TestServerRestart: while PostgreSQL is down, errors say so (the server
// answers 503), and the store recovers by itself when it is back.
func TestServerRestart(t *testing.T) {
	srv := pgtest.NewServer(t)
	s := open(t, srv.NewDatabase(t))
	if _, err := s.PutSettingIfAbsent(ctx, "k", "v"); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	_, err := s.GetSetting(ctx, "k")
	if !IsUnavailable(err) {
		t.Fatalf("GetSetting while PostgreSQL is down: %v; IsUnavailable = false", err)
	}
	t.Logf("GetSetting while down: %v", err)
	err = s.CreateDomain(ctx, store.Domain{Owner: "111111111111", Name: "d"})
	t.Logf("CreateDomain while down: %v", err)
	if !IsUnavailable(err) {
		t.Fatalf("CreateDomain while PostgreSQL is down: %v; IsUnavailable = false", err)
	}
	srv.Start(t)
	if v, err := s.GetSetting(ctx, "k"); err != nil || v != "v" {
		t.Fatalf("GetSetting after the restart = %q, %v", v, err)
	}
}
