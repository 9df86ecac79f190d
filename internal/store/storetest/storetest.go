// Package storetest is the conformance suite every store.Store must pass.
// A behaviour it does not pin down is a bug in the suite, not a freedom.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wharfhq/wharf/internal/store"
)

// Run runs the suite. newStore returns an empty store and arranges for it to
// be closed; the suite never shares one between subtests.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Settings", testSettings},
		{"Domains", testDomains},
		{"ListDomains", testListDomains},
		{"Repositories", testRepositories},
		{"ListRepositories", testListRepositories},
		{"Packages", testPackages},
		{"ListPackages", testListPackages},
		{"AddAsset", testAddAsset},
		{"AddAssetSameNameConcurrently", testAddAssetRace},
		{"ConcurrentWriters", testConcurrentWriters},
		{"ParentsNotFound", testParentsNotFound},
		{"DeleteRepository", testDeleteRepository},
		{"DomainAssetStats", testDomainAssetStats},
		{"RoundTrip", testRoundTrip},
		{"RoundTripEmpty", testRoundTripEmpty},
		{"UpstreamPages", testUpstreamPages},
		{"PruneUpstreamPages", testPruneUpstreamPages},
		{"VersionLifecycle", testVersionLifecycle},
		{"PackageGroups", testPackageGroups},
		{"PoliciesTagsKeys", testPoliciesTagsKeys},
		{"Lock", testLock},
		{"BlobReferenced", testBlobReferenced},
		{"Changes", testChanges},
		{"ChangesConcurrent", testChangesConcurrent},
		{"Revocations", testRevocations},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

var ctx = context.Background()

const (
	owner1 = "111111111111"
	owner2 = "222222222222"
)

// base has nanoseconds and a non-UTC zone, so a backend that drops
// precision below microseconds or returns local times is caught.
var base = time.Date(2026, 11, 3, 10, 20, 30, 123456789, time.FixedZone("UTC+5:30", 5*3600+1800))

func at(i int) time.Time { return base.Add(time.Duration(i) * time.Hour) }

func sha(s string) string { return fmt.Sprintf("%064x", []byte(s)) }

func domain(t *testing.T, s store.Store, owner, name string) store.Domain {
	t.Helper()
	d := store.Domain{Owner: owner, Name: name, EncryptionKey: "arn:aws:kms:us-east-1:" + owner + ":key/" + name, CreatedAt: at(0)}
	must(t, s.CreateDomain(ctx, d))
	return d
}

func repo(t *testing.T, s store.Store, d store.Domain, name string) store.Repository {
	t.Helper()
	r := store.Repository{DomainOwner: d.Owner, DomainName: d.Name, Name: name, Description: "repo " + name, CreatedAt: at(1)}
	must(t, s.CreateRepository(ctx, r))
	return r
}

func pkgKey(r store.Repository, format, namespace, name string) store.PackageKey {
	return store.PackageKey{DomainOwner: r.DomainOwner, DomainName: r.DomainName, Repository: r.Name, Format: format, Namespace: namespace, Name: name}
}

func newPackage(k store.PackageKey) store.Package {
	return store.Package{PackageKey: k, DisplayName: strings.ToUpper(k.Name), OriginPublish: "ALLOW", OriginUpstream: "BLOCK", CreatedAt: at(2)}
}

func newVersion(k store.PackageKey, version string) store.PackageVersion {
	return store.PackageVersion{
		VersionKey: store.VersionKey{PackageKey: k, Version: version}, DisplayVersion: "v" + version,
		Status: "Published", Revision: "rev-" + version, OriginType: "INTERNAL", OriginRepository: k.Repository,
		Summary: "summary of " + k.Name, Licenses: []string{"MIT"}, Attributes: map[string]string{"requires_python": ">=3.9"},
		PublishedAt: at(3), UpdatedAt: at(3),
	}
}

func newAsset(vk store.VersionKey, name, sum string, size int64) store.Asset {
	return store.Asset{VersionKey: vk, Name: name, Size: size, SHA256: sum, SHA512: "512-" + sum, SHA1: "sha1-" + name, MD5: "md5-" + name, CreatedAt: at(4)}
}

// add records an asset, creating its package and version with defaults.
func add(t *testing.T, s store.Store, k store.PackageKey, version, name, sum string, size int64) store.Asset {
	t.Helper()
	v := newVersion(k, version)
	a := newAsset(v.VersionKey, name, sum, size)
	got, err := s.AddAsset(ctx, newPackage(k), v, a)
	must(t, err)
	same(t, "AddAsset", got, a)
	return a
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error %v, want %v", what, err, target)
	}
}

// same compares records field by field after truncating times to the
// microsecond (the precision every backend keeps). Times that got returns
// must be in UTC.
func same(t *testing.T, what string, got, want any) {
	t.Helper()
	g, w := reflect.ValueOf(&got).Elem(), reflect.ValueOf(&want).Elem()
	g, w = copyValue(g), copyValue(w)
	if bad := normTimes(g, true); bad != "" {
		t.Errorf("%s: time %s is not in UTC", what, bad)
	}
	normTimes(w, false)
	if !reflect.DeepEqual(g.Interface(), w.Interface()) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, g.Interface(), w.Interface())
	}
}

var timeType = reflect.TypeFor[time.Time]()

// copyValue deep-copies the structs and slices of structs that hold times,
// so normalizing never touches the caller's values.
func copyValue(v reflect.Value) reflect.Value {
	if v.Kind() == reflect.Interface {
		v = v.Elem()
	}
	c := reflect.New(v.Type()).Elem()
	switch v.Kind() {
	case reflect.Slice:
		if v.IsNil() {
			return c
		}
		c.Set(reflect.MakeSlice(v.Type(), v.Len(), v.Len()))
		for i := range v.Len() {
			c.Index(i).Set(copyValue(v.Index(i)))
		}
	default:
		c.Set(v)
	}
	return c
}

// normTimes truncates every time in v to the microsecond in UTC; with
// checkUTC it reports the first non-zero time that was not in UTC.
func normTimes(v reflect.Value, checkUTC bool) (bad string) {
	switch {
	case v.Type() == timeType:
		tm := v.Interface().(time.Time)
		if checkUTC && !tm.IsZero() && tm.Location() != time.UTC {
			bad = tm.String()
		}
		if !tm.IsZero() {
			v.Set(reflect.ValueOf(tm.Truncate(time.Microsecond).UTC()))
		}
	case v.Kind() == reflect.Struct:
		for i := range v.NumField() {
			bad = cmpOr(bad, normTimes(v.Field(i), checkUTC))
		}
	case v.Kind() == reflect.Slice:
		for i := range v.Len() {
			bad = cmpOr(bad, normTimes(v.Index(i), checkUTC))
		}
	}
	return bad
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// pages collects every page of a listing and checks the page contract.
func pages[T any](t *testing.T, limit int, list func(store.Page) ([]T, string, error)) []T {
	t.Helper()
	var all []T
	after := ""
	for i := 0; ; i++ {
		items, next, err := list(store.Page{After: after, Limit: limit})
		if err != nil {
			t.Fatalf("page %d (limit %d): %v", i, limit, err)
		}
		if len(items) > limit {
			t.Fatalf("page %d: %d items, limit %d", i, len(items), limit)
		}
		all = append(all, items...)
		if next == "" {
			return all
		}
		if len(items) == 0 || i > 10000 {
			t.Fatalf("page %d: cursor %q with no items", i, next)
		}
		after = next
	}
}

func testSettings(t *testing.T, s store.Store) {
	_, err := s.GetSetting(ctx, "account-id")
	wantErr(t, "GetSetting missing", err, store.ErrNotFound)

	// Replicas starting at once: exactly one value wins and everyone sees it.
	got := make([]string, 32)
	errs := make([]error, len(got))
	var wg sync.WaitGroup
	for i := range got {
		wg.Go(func() { got[i], errs[i] = s.PutSettingIfAbsent(ctx, "account-id", fmt.Sprintf("value-%d", i)) })
	}
	wg.Wait()
	for i := range got {
		must(t, errs[i])
		if got[i] != got[0] || !strings.HasPrefix(got[0], "value-") {
			t.Fatalf("PutSettingIfAbsent %d returned %q, another %q", i, got[i], got[0])
		}
	}
	if v, err := s.GetSetting(ctx, "account-id"); err != nil || v != got[0] {
		t.Fatalf("GetSetting = %q, %v; want %q", v, err, got[0])
	}
	if v, err := s.PutSettingIfAbsent(ctx, "account-id", "later"); err != nil || v != got[0] {
		t.Fatalf("later PutSettingIfAbsent = %q, %v; want %q", v, err, got[0])
	}
	long := strings.Repeat("k€y\n", 1000)
	if v, err := s.PutSettingIfAbsent(ctx, "signing-key", long); err != nil || v != long {
		t.Fatalf("PutSettingIfAbsent other name = %.20q, %v", v, err)
	}
}

func testDomains(t *testing.T, s store.Store) {
	d := domain(t, s, owner1, "alpha")
	dup := d
	dup.EncryptionKey = "other"
	wantErr(t, "CreateDomain duplicate", s.CreateDomain(ctx, dup), store.ErrExists)
	domain(t, s, owner2, "alpha") // same name, other account

	got, err := s.GetDomain(ctx, owner1, "alpha")
	must(t, err)
	same(t, "GetDomain", got, d)
	_, err = s.GetDomain(ctx, owner1, "beta")
	wantErr(t, "GetDomain missing", err, store.ErrNotFound)
	_, err = s.GetDomain(ctx, "333333333333", "alpha")
	wantErr(t, "GetDomain other owner", err, store.ErrNotFound)

	n, err := s.CountRepositories(ctx, owner1, "alpha")
	if err != nil || n != 0 {
		t.Fatalf("CountRepositories = %d, %v", n, err)
	}
	r := repo(t, s, d, "one")
	repo(t, s, d, "two")
	if n, err := s.CountRepositories(ctx, owner1, "alpha"); err != nil || n != 2 {
		t.Fatalf("CountRepositories = %d, %v; want 2", n, err)
	}
	if n, err := s.CountRepositories(ctx, owner2, "alpha"); err != nil || n != 0 {
		t.Fatalf("CountRepositories other owner = %d, %v; want 0", n, err)
	}

	wantErr(t, "DeleteDomain with repositories", s.DeleteDomain(ctx, owner1, "alpha"), store.ErrNotEmpty)
	_, err = s.GetDomain(ctx, owner1, "alpha")
	must(t, err)
	for _, name := range []string{r.Name, "two"} {
		_, err := s.DeleteRepository(ctx, owner1, "alpha", name)
		must(t, err)
	}
	must(t, s.DeleteDomain(ctx, owner1, "alpha"))
	_, err = s.GetDomain(ctx, owner1, "alpha")
	wantErr(t, "GetDomain deleted", err, store.ErrNotFound)
	wantErr(t, "DeleteDomain again", s.DeleteDomain(ctx, owner1, "alpha"), store.ErrNotFound)
	if _, err := s.GetDomain(ctx, owner2, "alpha"); err != nil {
		t.Fatalf("other owner's domain: %v", err)
	}
	// The name is free again.
	domain(t, s, owner1, "alpha")
}

func testListDomains(t *testing.T, s store.Store) {
	var want []store.Domain
	for _, name := range []string{"m", "a", "z", "ab", "A", "a-b"} {
		for _, owner := range []string{owner2, owner1} {
			want = append(want, domain(t, s, owner, name))
		}
	}
	slices.SortFunc(want, func(a, b store.Domain) int {
		return cmpKeys([]string{a.Name, a.Owner}, []string{b.Name, b.Owner})
	})
	for _, limit := range []int{1, 2, 5, 12, 100} {
		got := pages(t, limit, func(p store.Page) ([]store.Domain, string, error) { return s.ListDomains(ctx, p) })
		same(t, fmt.Sprintf("ListDomains limit %d", limit), got, want)
	}
	_, _, err := s.ListDomains(ctx, store.Page{After: "not a cursor!", Limit: 10})
	wantErr(t, "ListDomains bad cursor", err, store.ErrBadCursor)
	if _, _, err := s.ListDomains(ctx, store.Page{Limit: 0}); err == nil {
		t.Error("ListDomains with limit 0 succeeded")
	}
}

func cmpKeys(a, b []string) int {
	for i := range a {
		if c := strings.Compare(a[i], b[i]); c != 0 {
			return c
		}
	}
	return 0
}

func testRepositories(t *testing.T, s store.Store) {
	domain(t, s, owner1, "dom")
	d2 := domain(t, s, owner1, "dom2")
	r := store.Repository{
		DomainOwner: owner1, DomainName: "dom", Name: "team", Description: "the team's repo",
		Upstreams: []string{"zeta", "alpha", "mid"}, ExternalConnections: []string{"public:pypi"}, CreatedAt: at(1),
	}
	wantErr(t, "CreateRepository in missing domain",
		s.CreateRepository(ctx, store.Repository{DomainOwner: owner2, DomainName: "dom", Name: "team"}), store.ErrNotFound)
	must(t, s.CreateRepository(ctx, r))
	dup := r
	dup.Description = "other"
	wantErr(t, "CreateRepository duplicate", s.CreateRepository(ctx, dup), store.ErrExists)
	got, err := s.GetRepository(ctx, owner1, "dom", "team")
	must(t, err)
	same(t, "GetRepository", got, r)
	repo(t, s, d2, "team") // same name, other domain
	_, err = s.GetRepository(ctx, owner1, "dom", "nope")
	wantErr(t, "GetRepository missing", err, store.ErrNotFound)
	_, err = s.GetRepository(ctx, owner2, "dom", "team")
	wantErr(t, "GetRepository other owner", err, store.ErrNotFound)

	u := r
	u.Description = "new description"
	u.Upstreams = []string{"mid", "zeta"}
	u.ExternalConnections = nil
	u.CreatedAt = at(99) // not replaced by UpdateRepository
	must(t, s.UpdateRepository(ctx, u))
	got, err = s.GetRepository(ctx, owner1, "dom", "team")
	must(t, err)
	u.CreatedAt = r.CreatedAt
	same(t, "GetRepository after update", got, u)
	other, err := s.GetRepository(ctx, owner1, "dom2", "team")
	must(t, err)
	same(t, "other domain's repository after update", other, store.Repository{
		DomainOwner: owner1, DomainName: "dom2", Name: "team", Description: "repo team", CreatedAt: at(1)})

	missing := u
	missing.Name = "nope"
	wantErr(t, "UpdateRepository missing", s.UpdateRepository(ctx, missing), store.ErrNotFound)
	_, err = s.DeleteRepository(ctx, owner1, "dom", "nope")
	wantErr(t, "DeleteRepository missing", err, store.ErrNotFound)
}

func testListRepositories(t *testing.T, s store.Store) {
	d1 := domain(t, s, owner1, "d1")
	d2 := domain(t, s, owner1, "d2")
	d3 := domain(t, s, owner2, "d1")
	var all []store.Repository
	for d, names := range map[*store.Domain][]string{
		&d1: {"app", "apple", "ap", "b", "App", "app-dev", "z", "aq", "apq"}, // "aq", "apq": just past prefixes "ap", "app"
		&d2: {"app", "b", "apps", "c"},
		&d3: {"app", "ap", "x", "apple"},
	} {
		for _, n := range names {
			all = append(all, repo(t, s, *d, n))
		}
	}
	slices.SortFunc(all, func(a, b store.Repository) int {
		return cmpKeys([]string{a.Name, a.DomainOwner, a.DomainName}, []string{b.Name, b.DomainOwner, b.DomainName})
	})
	for _, c := range []struct{ owner, domain, prefix string }{
		{"", "", ""},
		{owner1, "d1", ""},
		{owner1, "", ""},
		{"", "d1", ""},
		{"", "", "app"},
		{"", "", "ap"},
		{"", "", "App"},
		{owner1, "d1", "app"},
		{owner2, "", "ap"},
		{"", "", "apple"},
		{"", "", "zz"},
		{owner1, "d9", ""},
	} {
		var want []store.Repository
		for _, r := range all {
			if (c.owner == "" || r.DomainOwner == c.owner) && (c.domain == "" || r.DomainName == c.domain) &&
				strings.HasPrefix(r.Name, c.prefix) {
				want = append(want, r)
			}
		}
		for _, limit := range []int{1, 2, 3, 7, 100} {
			got := pages(t, limit, func(p store.Page) ([]store.Repository, string, error) {
				return s.ListRepositories(ctx, c.owner, c.domain, c.prefix, p)
			})
			same(t, fmt.Sprintf("ListRepositories %+v limit %d", c, limit), got, want)
		}
	}
	_, _, err := s.ListRepositories(ctx, "", "", "", store.Page{After: store.EncodeCursor("too", "short"), Limit: 10})
	wantErr(t, "ListRepositories bad cursor", err, store.ErrBadCursor)
	if _, _, err := s.ListRepositories(ctx, "", "", "", store.Page{Limit: 0}); err == nil {
		t.Error("ListRepositories with limit 0 succeeded")
	}
}

func testPackages(t *testing.T, s store.Store) {
	r := repo(t, s, domain(t, s, owner1, "dom"), "team")
	k := pkgKey(r, "npm", "types", "node")
	add(t, s, k, "1.0.0", "node-1.0.0.tgz", sha("node"), 10)
	got, err := s.GetPackage(ctx, k)
	must(t, err)
	same(t, "GetPackage", got, newPackage(k))

	must(t, s.PutPackageOrigin(ctx, k, "BLOCK", "ALLOW"))
	want := newPackage(k)
	want.OriginPublish, want.OriginUpstream = "BLOCK", "ALLOW"
	got, err = s.GetPackage(ctx, k)
	must(t, err)
	same(t, "GetPackage after PutPackageOrigin", got, want)

	for _, m := range []store.PackageKey{
		pkgKey(r, "npm", "", "node"), pkgKey(r, "pypi", "types", "node"), pkgKey(r, "npm", "types", "Node"),
		pkgKey(store.Repository{DomainOwner: owner1, DomainName: "dom", Name: "other"}, "npm", "types", "node"),
	} {
		_, err := s.GetPackage(ctx, m)
		wantErr(t, fmt.Sprintf("GetPackage %+v", m), err, store.ErrNotFound)
		wantErr(t, fmt.Sprintf("PutPackageOrigin %+v", m), s.PutPackageOrigin(ctx, m, "ALLOW", "ALLOW"), store.ErrNotFound)
	}
}

func testListPackages(t *testing.T, s store.Store) {
	d := domain(t, s, owner1, "dom")
	r, other := repo(t, s, d, "team"), repo(t, s, d, "other")
	var all []store.Package
	for _, k := range [][3]string{
		{"pypi", "", "requests"}, {"pypi", "", "req"}, {"pypi", "", "numpy"}, {"pypi", "", "r"}, {"pypi", "", "rf"}, {"pypi", "", "rer"},
		{"npm", "", "react"}, {"npm", "", "node"}, {"npm", "types", "node"}, {"npm", "types", "react"},
		{"npm", "babel", "core"}, {"npm", "babel", "re"}, {"generic", "ns", "requests"}, {"generic", "a/b", "tool"},
		{"maven", "org.example", "req-lib"},
	} {
		pk := pkgKey(r, k[0], k[1], k[2])
		add(t, s, pk, "1.0", k[2]+".bin", sha(k[0]+k[1]+k[2]), 1)
		all = append(all, newPackage(pk))
	}
	add(t, s, pkgKey(other, "pypi", "", "elsewhere"), "1.0", "e.bin", sha("e"), 1)
	slices.SortFunc(all, func(a, b store.Package) int {
		return cmpKeys([]string{a.Format, a.Namespace, a.Name}, []string{b.Format, b.Namespace, b.Name})
	})
	ns := func(s string) *string { return &s }
	for _, f := range []store.PackageFilter{
		{},
		{Format: "npm"},
		{Namespace: ns("")},
		{Namespace: ns("types")},
		{Format: "npm", Namespace: ns("babel")},
		{NamePrefix: "re"},
		{Format: "pypi", NamePrefix: "req"},
		{Format: "npm", Namespace: ns(""), NamePrefix: "r"},
		{Format: "cargo"},
		{NamePrefix: "zzz"},
	} {
		var want []store.Package
		for _, p := range all {
			if (f.Format == "" || p.Format == f.Format) && (f.Namespace == nil || p.Namespace == *f.Namespace) &&
				strings.HasPrefix(p.Name, f.NamePrefix) {
				want = append(want, p)
			}
		}
		for _, limit := range []int{1, 2, 3, 100} {
			got := pages(t, limit, func(p store.Page) ([]store.Package, string, error) {
				return s.ListPackages(ctx, owner1, "dom", "team", f, p)
			})
			same(t, fmt.Sprintf("ListPackages %+v (ns %v) limit %d", f, f.Namespace != nil, limit), got, want)
		}
	}
	_, _, err := s.ListPackages(ctx, owner1, "dom", "nope", store.PackageFilter{}, store.Page{Limit: 10})
	wantErr(t, "ListPackages missing repository", err, store.ErrNotFound)
	_, _, err = s.ListPackages(ctx, owner1, "dom", "team", store.PackageFilter{}, store.Page{After: "%%%", Limit: 10})
	wantErr(t, "ListPackages bad cursor", err, store.ErrBadCursor)
	if _, _, err := s.ListPackages(ctx, owner1, "dom", "team", store.PackageFilter{}, store.Page{Limit: -1}); err == nil {
		t.Error("ListPackages with limit -1 succeeded")
	}
}

func testAddAsset(t *testing.T, s store.Store) {
	r := repo(t, s, domain(t, s, owner1, "dom"), "team")
	k := pkgKey(r, "pypi", "", "wharf-demo")
	pkg := newPackage(k)
	v1 := newVersion(k, "1.0")
	a1 := newAsset(v1.VersionKey, "wharf_demo-1.0.tar.gz", sha("sdist"), 1234)
	got, err := s.AddAsset(ctx, pkg, v1, a1)
	must(t, err)
	same(t, "AddAsset", got, a1)
	gp, err := s.GetPackage(ctx, k)
	must(t, err)
	same(t, "GetPackage created by AddAsset", gp, pkg)
	gv, err := s.GetVersion(ctx, v1.VersionKey)
	must(t, err)
	same(t, "GetVersion created by AddAsset", gv, v1)

	// A second file: package and version are kept, except the version's
	// revision and update time.
	pkg2 := pkg
	pkg2.DisplayName, pkg2.OriginPublish = "Other", "BLOCK"
	v1b := v1
	v1b.DisplayVersion, v1b.Status, v1b.Summary, v1b.Licenses = "1.0.0", "Unlisted", "changed", []string{"GPL"}
	v1b.Revision, v1b.UpdatedAt, v1b.PublishedAt = "rev-2", at(10), at(9)
	a2 := newAsset(v1.VersionKey, "wharf_demo-1.0-py3-none-any.whl", sha("wheel"), 999)
	got, err = s.AddAsset(ctx, pkg2, v1b, a2)
	must(t, err)
	same(t, "AddAsset second", got, a2)
	gp, err = s.GetPackage(ctx, k)
	must(t, err)
	same(t, "package after second asset", gp, pkg)
	wantV := v1
	wantV.Revision, wantV.UpdatedAt = "rev-2", at(10)
	gv, err = s.GetVersion(ctx, v1.VersionKey)
	must(t, err)
	same(t, "version after second asset", gv, wantV)

	// Same name again: nothing changes, the existing asset comes back.
	v1c := v1
	v1c.Revision, v1c.UpdatedAt = "rev-3", at(11)
	conflict := newAsset(v1.VersionKey, a1.Name, sha("different bytes"), 5)
	got, err = s.AddAsset(ctx, pkg, v1c, conflict)
	wantErr(t, "AddAsset same name", err, store.ErrExists)
	same(t, "asset returned with ErrExists", got, a1)
	gv, err = s.GetVersion(ctx, v1.VersionKey)
	must(t, err)
	same(t, "version after rejected asset", gv, wantV)
	ga, err := s.GetAsset(ctx, v1.VersionKey, a1.Name)
	must(t, err)
	same(t, "GetAsset after rejected asset", ga, a1)

	assets, err := s.ListAssets(ctx, v1.VersionKey)
	must(t, err)
	same(t, "ListAssets ordered by name", assets, []store.Asset{a2, a1})

	v2 := newVersion(k, "0.9")
	a3 := newAsset(v2.VersionKey, "wharf_demo-0.9.tar.gz", sha("old"), 7)
	_, err = s.AddAsset(ctx, pkg, v2, a3)
	must(t, err)
	versions, err := s.ListVersions(ctx, k)
	must(t, err)
	slices.SortFunc(versions, func(a, b store.PackageVersion) int { return strings.Compare(a.Version, b.Version) })
	same(t, "ListVersions", versions, []store.PackageVersion{v2, wantV})
	all, err := s.ListPackageAssets(ctx, k)
	must(t, err)
	same(t, "ListPackageAssets ordered by (version, name)", all, []store.Asset{a3, a2, a1})
	files, err := s.ListPackageFiles(ctx, k)
	must(t, err)
	same(t, "ListPackageFiles ordered by (version, name)", files, []store.PackageFile{
		{Asset: a3, Status: v2.Status}, {Asset: a2, Status: wantV.Status}, {Asset: a1, Status: wantV.Status}})

	// Same asset name in another version or package is no conflict.
	add(t, s, k, "2.0", a1.Name, sha("sdist"), 1234)
	add(t, s, pkgKey(r, "pypi", "", "other"), "1.0", a1.Name, sha("sdist"), 1234)

	bad := a3
	bad.Version = "1.0"
	if _, err := s.AddAsset(ctx, pkg, v2, bad); err == nil || errors.Is(err, store.ErrExists) {
		t.Errorf("AddAsset with mismatched keys: %v, want an error", err)
	}
	mk := pkgKey(store.Repository{DomainOwner: owner1, DomainName: "dom", Name: "nope"}, "pypi", "", "x")
	mv := newVersion(mk, "1")
	_, err = s.AddAsset(ctx, newPackage(mk), mv, newAsset(mv.VersionKey, "x", sha("x"), 1))
	wantErr(t, "AddAsset into missing repository", err, store.ErrNotFound)
}

func testAddAssetRace(t *testing.T, s store.Store) {
	r := repo(t, s, domain(t, s, owner1, "dom"), "team")
	k := pkgKey(r, "pypi", "", "racy")
	v := newVersion(k, "1.0")
	got := make([]store.Asset, 10)
	errs := make([]error, len(got))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range got {
		wg.Go(func() {
			<-start
			got[i], errs[i] = s.AddAsset(ctx, newPackage(k), v, newAsset(v.VersionKey, "racy-1.0.tar.gz", sha(fmt.Sprint(i)), int64(i)))
		})
	}
	close(start)
	wg.Wait()
	stored, err := s.GetAsset(ctx, v.VersionKey, "racy-1.0.tar.gz")
	must(t, err)
	winners := 0
	for i, err := range errs {
		switch {
		case err == nil:
			winners++
		case errors.Is(err, store.ErrExists):
		default:
			t.Errorf("AddAsset %d: %v", i, err)
		}
		same(t, fmt.Sprintf("AddAsset %d result", i), got[i], stored)
	}
	if winners != 1 {
		t.Fatalf("%d AddAsset calls succeeded, want exactly 1", winners)
	}
}

// testConcurrentWriters: concurrent writes all succeed (no "database is
// locked"), creating shared packages and versions exactly once, while reads
// go on.
func testConcurrentWriters(t *testing.T, s store.Store) {
	r := repo(t, s, domain(t, s, owner1, "dom"), "team")
	const writers, each = 20, 5
	var wg sync.WaitGroup
	errs := make(chan error, writers*each+writers)
	stop := make(chan struct{})
	for i := range writers {
		wg.Go(func() {
			for j := range each {
				k := pkgKey(r, "pypi", "", fmt.Sprintf("p%d", (i+j)%3))
				v := newVersion(k, fmt.Sprintf("1.%d", (i*each+j)%4))
				_, err := s.AddAsset(ctx, newPackage(k), v, newAsset(v.VersionKey, fmt.Sprintf("f-%d-%d", i, j), sha(fmt.Sprint(i, j)), 1))
				if err != nil {
					errs <- err
				}
			}
		})
	}
	var readers sync.WaitGroup
	for range 4 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, _, err := s.ListPackages(ctx, owner1, "dom", "team", store.PackageFilter{}, store.Page{Limit: 10}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	total := 0
	for p := range 3 {
		k := pkgKey(r, "pypi", "", fmt.Sprintf("p%d", p))
		assets, err := s.ListPackageAssets(ctx, k)
		must(t, err)
		total += len(assets)
		versions, err := s.ListVersions(ctx, k)
		must(t, err)
		if len(versions) != 4 {
			t.Errorf("%s has %d versions, want 4", k.Name, len(versions))
		}
	}
	if total != writers*each {
		t.Fatalf("%d assets stored, want %d", total, writers*each)
	}
}

// testParentsNotFound: reads addressed through a missing parent fail with
// ErrNotFound rather than returning an empty result.
func testParentsNotFound(t *testing.T, s store.Store) {
	r := repo(t, s, domain(t, s, owner1, "dom"), "team")
	k := pkgKey(r, "pypi", "", "there")
	add(t, s, k, "1.0", "there-1.0.tar.gz", sha("t"), 1)
	missingPkg := pkgKey(r, "pypi", "", "absent")
	missingVer := store.VersionKey{PackageKey: k, Version: "2.0"}

	_, err := s.GetVersion(ctx, missingVer)
	wantErr(t, "GetVersion missing version", err, store.ErrNotFound)
	_, err = s.GetVersion(ctx, store.VersionKey{PackageKey: missingPkg, Version: "1.0"})
	wantErr(t, "GetVersion missing package", err, store.ErrNotFound)
	_, err = s.GetAsset(ctx, store.VersionKey{PackageKey: k, Version: "1.0"}, "absent.tar.gz")
	wantErr(t, "GetAsset missing asset", err, store.ErrNotFound)
	_, err = s.GetAsset(ctx, missingVer, "there-1.0.tar.gz")
	wantErr(t, "GetAsset missing version", err, store.ErrNotFound)
	_, err = s.ListAssets(ctx, missingVer)
	wantErr(t, "ListAssets missing version", err, store.ErrNotFound)
	_, err = s.ListVersions(ctx, missingPkg)
	wantErr(t, "ListVersions missing package", err, store.ErrNotFound)
	_, err = s.ListPackageAssets(ctx, missingPkg)
	wantErr(t, "ListPackageAssets missing package", err, store.ErrNotFound)
	_, err = s.ListPackageFiles(ctx, missingPkg)
	wantErr(t, "ListPackageFiles missing package", err, store.ErrNotFound)
	_, err = s.CountRepositories(ctx, owner1, "absent")
	wantErr(t, "CountRepositories missing domain", err, store.ErrNotFound)
	_, _, err = s.DomainAssetStats(ctx, owner1, "absent")
	wantErr(t, "DomainAssetStats missing domain", err, store.ErrNotFound)
	// Filters, not addresses: an empty result.
	if got, next, err := s.ListRepositories(ctx, owner2, "absent", "", store.Page{Limit: 5}); err != nil || len(got) != 0 || next != "" {
		t.Errorf("ListRepositories in missing domain = %v, %q, %v", got, next, err)
	}
}

func stats(t *testing.T, s store.Store, owner, domain string, count, size int64) {
	t.Helper()
	c, sz, err := s.DomainAssetStats(ctx, owner, domain)
	if err != nil || c != count || sz != size {
		t.Errorf("DomainAssetStats(%s/%s) = %d, %d, %v; want %d, %d", owner, domain, c, sz, err, count, size)
	}
}

func testDeleteRepository(t *testing.T, s store.Store) {
	d1, d2 := domain(t, s, owner1, "d1"), domain(t, s, owner2, "d1")
	a, b, c := repo(t, s, d1, "a"), repo(t, s, d1, "b"), repo(t, s, d2, "c")
	shared, u, v := sha("shared"), sha("u"), sha("v")
	ax, ay := pkgKey(a, "pypi", "", "x"), pkgKey(a, "npm", "", "y")
	add(t, s, ax, "1.0", "x-1.0.tar.gz", shared, 100)
	add(t, s, ax, "1.0", "x-1.0.whl", u, 20)
	add(t, s, ax, "2.0", "x-2.0.whl", u, 20) // same blob twice in one repository
	add(t, s, ay, "1.0.0", "y.tgz", v, 3)
	add(t, s, pkgKey(b, "pypi", "", "x"), "1.0", "x-1.0.tar.gz", shared, 100)
	add(t, s, pkgKey(c, "pypi", "", "x"), "1.0", "x-1.0.tar.gz", shared, 100) // other domain
	add(t, s, pkgKey(c, "pypi", "", "x"), "1.0", "x-1.0.whl", u, 20)
	stats(t, s, owner1, "d1", 3, 123)

	orphans, err := s.DeleteRepository(ctx, owner1, "d1", "a")
	must(t, err)
	slices.Sort(orphans)
	if want := []string{u, v}; !slices.Equal(orphans, want) {
		// shared is still used by b; c is another domain's and does not count.
		t.Errorf("orphans after deleting a = %v, want %v", orphans, want)
	}
	_, err = s.GetRepository(ctx, owner1, "d1", "a")
	wantErr(t, "GetRepository deleted", err, store.ErrNotFound)
	_, err = s.GetPackage(ctx, ax)
	wantErr(t, "GetPackage of deleted repository", err, store.ErrNotFound)
	_, err = s.GetAsset(ctx, store.VersionKey{PackageKey: ax, Version: "1.0"}, "x-1.0.tar.gz")
	wantErr(t, "GetAsset of deleted repository", err, store.ErrNotFound)
	stats(t, s, owner1, "d1", 1, 100)
	stats(t, s, owner2, "d1", 2, 120)

	// A new repository of the same name starts empty.
	repo(t, s, d1, "a")
	if got, _, err := s.ListPackages(ctx, owner1, "d1", "a", store.PackageFilter{}, store.Page{Limit: 10}); err != nil || len(got) != 0 {
		t.Errorf("recreated repository lists %v, %v", got, err)
	}
	if orphans, err := s.DeleteRepository(ctx, owner1, "d1", "a"); err != nil || len(orphans) != 0 {
		t.Errorf("deleting an empty repository = %v, %v", orphans, err)
	}

	orphans, err = s.DeleteRepository(ctx, owner1, "d1", "b")
	must(t, err)
	if want := []string{shared}; !slices.Equal(orphans, want) {
		t.Errorf("orphans after deleting b = %v, want %v", orphans, want)
	}
	stats(t, s, owner1, "d1", 0, 0)
	stats(t, s, owner2, "d1", 2, 120)
	if n, err := s.CountRepositories(ctx, owner1, "d1"); err != nil || n != 0 {
		t.Errorf("CountRepositories = %d, %v", n, err)
	}
	must(t, s.DeleteDomain(ctx, owner1, "d1"))
	_, err = s.DeleteRepository(ctx, owner1, "d1", "b")
	wantErr(t, "DeleteRepository again", err, store.ErrNotFound)
}

func testDomainAssetStats(t *testing.T, s store.Store) {
	d1, d2 := domain(t, s, owner1, "d1"), domain(t, s, owner1, "d2")
	stats(t, s, owner1, "d1", 0, 0)
	a, b := repo(t, s, d1, "a"), repo(t, s, d1, "b")
	big := int64(5) << 32 // beyond 32 bits
	add(t, s, pkgKey(a, "generic", "ns", "big"), "1", "big.iso", sha("big"), big)
	add(t, s, pkgKey(a, "pypi", "", "x"), "1", "x.whl", sha("x"), 7)
	add(t, s, pkgKey(a, "pypi", "", "x"), "2", "x2.whl", sha("x"), 7)
	add(t, s, pkgKey(b, "pypi", "", "x"), "1", "x.whl", sha("x"), 7)
	add(t, s, pkgKey(repo(t, s, d2, "a"), "pypi", "", "z"), "1", "z.whl", sha("z"), 11)
	stats(t, s, owner1, "d1", 2, big+7)
	stats(t, s, owner1, "d2", 1, 11)
	got, err := s.GetAsset(ctx, store.VersionKey{PackageKey: pkgKey(a, "generic", "ns", "big"), Version: "1"}, "big.iso")
	if err != nil || got.Size != big {
		t.Errorf("GetAsset big = %d, %v", got.Size, err)
	}
}

// testRoundTrip: every field of every record comes back exactly, through
// Get and List alike.
func testRoundTrip(t *testing.T, s store.Store) {
	weird := "Ünïcödé \"quoted\" 'single' \\ back\nnew line\ttab %_ like *?[glob] 🚢"
	d := store.Domain{Owner: owner1, Name: "round-trip", EncryptionKey: weird, CreatedAt: base}
	must(t, s.CreateDomain(ctx, d))
	r := store.Repository{
		DomainOwner: d.Owner, DomainName: d.Name, Name: "repo.name_1-x", Description: weird,
		Upstreams: []string{"z", "a", "m", weird}, ExternalConnections: []string{"public:pypi", "public:npmjs"},
		CreatedAt: base.Add(time.Nanosecond),
	}
	must(t, s.CreateRepository(ctx, r))
	k := pkgKey(r, "npm", "@scope", "pkg-name.js")
	p := store.Package{PackageKey: k, DisplayName: "Pkg-Name.JS " + weird, OriginPublish: "BLOCK", OriginUpstream: "ALLOW",
		CreatedAt: base.Add(time.Microsecond)}
	v := store.PackageVersion{
		VersionKey: store.VersionKey{PackageKey: k, Version: "1.2.3-beta.4+build.5"}, DisplayVersion: "v1.2.3-Beta.4+build.5",
		Status: "Unlisted", Revision: "Zm9vYmFy/+=", OriginType: "EXTERNAL", OriginRepository: "upstream-repo",
		OriginExternalConnection: "public:npmjs", Summary: weird, HomePage: "https://example.com/?q=1&r=2#frag",
		SourceCodeRepository: "git+ssh://git@example.com/x.git", Licenses: []string{"MIT", "Apache-2.0", weird},
		Attributes:  map[string]string{"requires_python": ">=3.9,<4", "": "empty key", "empty": "", "multi.line": weird, "dist-tags": `{"latest":"1.2.3"}`},
		PublishedAt: base.Add(-100 * 365 * 24 * time.Hour), UpdatedAt: base.Add(time.Second + 999*time.Nanosecond),
	}
	a := store.Asset{
		VersionKey: v.VersionKey, Name: "pkg-name.js-1.2.3-beta.4.tgz", Size: 1<<40 + 3,
		SHA256: sha("a"), SHA512: strings.Repeat("ab", 64), SHA1: strings.Repeat("cd", 20), MD5: strings.Repeat("ef", 16),
		Attributes: map[string]string{"yanked": "true", "core_metadata_sha256": sha("m"), weird: weird},
		CreatedAt:  base.Add(2 * time.Hour),
	}
	_, err := s.AddAsset(ctx, p, v, a)
	must(t, err)
	checkAll(t, s, d, r, p, v, a)
}

// testRoundTripEmpty: zero times, empty strings and empty (even non-nil)
// lists and maps come back as zero values and nil.
func testRoundTripEmpty(t *testing.T, s store.Store) {
	d := store.Domain{Owner: owner1, Name: "e"}
	must(t, s.CreateDomain(ctx, d))
	r := store.Repository{DomainOwner: owner1, DomainName: "e", Name: "r", Upstreams: []string{}, ExternalConnections: []string{}}
	must(t, s.CreateRepository(ctx, r))
	k := pkgKey(r, "generic", "", "p")
	p := store.Package{PackageKey: k}
	v := store.PackageVersion{VersionKey: store.VersionKey{PackageKey: k, Version: ""}, Licenses: []string{}, Attributes: map[string]string{}}
	a := store.Asset{VersionKey: v.VersionKey, Name: "", Attributes: map[string]string{}}
	_, err := s.AddAsset(ctx, p, v, a)
	must(t, err)
	r.Upstreams, r.ExternalConnections = nil, nil
	v.Licenses, v.Attributes, a.Attributes = nil, nil, nil
	checkAll(t, s, d, r, p, v, a)
}

func checkAll(t *testing.T, s store.Store, d store.Domain, r store.Repository, p store.Package, v store.PackageVersion, a store.Asset) {
	t.Helper()
	gd, err := s.GetDomain(ctx, d.Owner, d.Name)
	must(t, err)
	same(t, "GetDomain", gd, d)
	ld, _, err := s.ListDomains(ctx, store.Page{Limit: 10})
	must(t, err)
	same(t, "ListDomains", ld, []store.Domain{d})

	gr, err := s.GetRepository(ctx, r.DomainOwner, r.DomainName, r.Name)
	must(t, err)
	same(t, "GetRepository", gr, r)
	lr, _, err := s.ListRepositories(ctx, r.DomainOwner, r.DomainName, r.Name, store.Page{Limit: 10})
	must(t, err)
	same(t, "ListRepositories", lr, []store.Repository{r})

	gp, err := s.GetPackage(ctx, p.PackageKey)
	must(t, err)
	same(t, "GetPackage", gp, p)
	ns := p.Namespace
	lp, _, err := s.ListPackages(ctx, r.DomainOwner, r.DomainName, r.Name,
		store.PackageFilter{Format: p.Format, Namespace: &ns, NamePrefix: p.Name}, store.Page{Limit: 10})
	must(t, err)
	same(t, "ListPackages", lp, []store.Package{p})

	gv, err := s.GetVersion(ctx, v.VersionKey)
	must(t, err)
	same(t, "GetVersion", gv, v)
	lv, err := s.ListVersions(ctx, p.PackageKey)
	must(t, err)
	same(t, "ListVersions", lv, []store.PackageVersion{v})

	ga, err := s.GetAsset(ctx, a.VersionKey, a.Name)
	must(t, err)
	same(t, "GetAsset", ga, a)
	la, err := s.ListAssets(ctx, a.VersionKey)
	must(t, err)
	same(t, "ListAssets", la, []store.Asset{a})
	lpa, err := s.ListPackageAssets(ctx, p.PackageKey)
	must(t, err)
	same(t, "ListPackageAssets", lpa, []store.Asset{a})
	lpf, err := s.ListPackageFiles(ctx, p.PackageKey)
	must(t, err)
	same(t, "ListPackageFiles", lpf, []store.PackageFile{{Asset: a, Status: v.Status}})
}

func testUpstreamPages(t *testing.T, s store.Store) {
	_, err := s.GetUpstreamPage(ctx, "http://up/simple/a/")
	wantErr(t, "missing page", err, store.ErrNotFound)
	first := store.UpstreamPage{Key: "http://up/simple/a/", Body: []byte(`{"v":1}`), FetchedAt: at(1)}
	must(t, s.PutUpstreamPage(ctx, first))
	got, err := s.GetUpstreamPage(ctx, first.Key)
	must(t, err)
	same(t, "stored page", got, first)
	// A refresh replaces body and time; other keys are untouched.
	second := store.UpstreamPage{Key: first.Key, Body: []byte{0, 1, 2}, FetchedAt: at(2)}
	must(t, s.PutUpstreamPage(ctx, second))
	must(t, s.PutUpstreamPage(ctx, store.UpstreamPage{Key: "http://up/simple/b/", Body: []byte("b"), FetchedAt: at(3)}))
	got, err = s.GetUpstreamPage(ctx, first.Key)
	must(t, err)
	same(t, "refreshed page", got, second)
}

// testPruneUpstreamPages: pruning deletes pages fetched before Before,
// "not found" answers (empty bodies) fetched before EmptyBefore, then the
// oldest pages beyond Keep, and reports how many it deleted.
func testPruneUpstreamPages(t *testing.T, s store.Store) {
	put := func(key, body string, i int) {
		must(t, s.PutUpstreamPage(ctx, store.UpstreamPage{Key: key, Body: []byte(body), FetchedAt: at(i)}))
	}
	put("old", "page", 1)
	put("old-miss", "", 2)
	put("recent-miss", "", 5)
	put("a", "page", 6)
	put("b", "page", 7)
	put("c", "page", 8)
	n, err := s.PruneUpstreamPages(ctx, store.UpstreamPrune{Before: at(2), EmptyBefore: at(4), Keep: 3})
	must(t, err)
	if n != 3 {
		t.Errorf("PruneUpstreamPages deleted %d pages, want 3 (old, old-miss, recent-miss beyond Keep)", n)
	}
	for _, k := range []string{"old", "old-miss", "recent-miss"} {
		_, err := s.GetUpstreamPage(ctx, k)
		wantErr(t, "pruned page "+k, err, store.ErrNotFound)
	}
	for _, k := range []string{"a", "b", "c"} {
		if _, err := s.GetUpstreamPage(ctx, k); err != nil {
			t.Errorf("page %s must survive: %v", k, err)
		}
	}
	// Nothing to do is not an error; Keep 0 means no count bound.
	n, err = s.PruneUpstreamPages(ctx, store.UpstreamPrune{Before: at(0), EmptyBefore: at(0)})
	must(t, err)
	if n != 0 {
		t.Errorf("an empty prune deleted %d pages", n)
	}
	n, err = s.PruneUpstreamPages(ctx, store.UpstreamPrune{Before: at(0), EmptyBefore: at(0), Keep: 1})
	must(t, err)
	if _, err := s.GetUpstreamPage(ctx, "c"); n != 2 || err != nil {
		t.Errorf("Keep 1 deleted %d pages (want 2) and left the newest: %v", n, err)
	}
}
