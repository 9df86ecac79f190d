package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/wharfhq/wharf/internal/store"
)

func testVersionLifecycle(t *testing.T, s store.Store) {
	d := domain(t, s, owner1, "d1")
	a, b := repo(t, s, d, "a"), repo(t, s, d, "b")
	ax := pkgKey(a, "pypi", "", "x")
	shared, own := sha("shared"), sha("own")
	add(t, s, ax, "1.0", "x-1.0.whl", shared, 10)
	add(t, s, ax, "1.0", "x-1.0.tar.gz", own, 5)
	add(t, s, ax, "2.0", "x-2.0.whl", sha("two"), 7)
	add(t, s, pkgKey(b, "pypi", "", "x"), "1.0", "x-1.0.whl", shared, 10)
	v1 := store.VersionKey{PackageKey: ax, Version: "1.0"}

	// Compare-and-set on the revision.
	_, err := s.SetVersionStatus(ctx, v1, "Archived", "rev-2", "stale", at(5))
	wantErr(t, "SetVersionStatus with a stale revision", err, store.ErrRevisionMismatch)
	got, err := s.SetVersionStatus(ctx, v1, "Archived", "rev-2", "rev-1.0", at(5))
	must(t, err)
	want := newVersion(ax, "1.0")
	want.Status, want.Revision, want.UpdatedAt = "Archived", "rev-2", at(5)
	same(t, "SetVersionStatus result", got, want)
	stored, err := s.GetVersion(ctx, v1)
	must(t, err)
	same(t, "SetVersionStatus stored", stored, want)
	_, err = s.SetVersionStatus(ctx, store.VersionKey{PackageKey: ax, Version: "9"}, "Archived", "r", "", at(5))
	wantErr(t, "SetVersionStatus of a missing version", err, store.ErrNotFound)

	// Dispose: assets gone, version kept as Disposed; only blobs nobody else
	// in the domain uses are orphans.
	orphans, err := s.DisposeVersion(ctx, v1, "rev-3", at(6))
	must(t, err)
	if !slices.Equal(orphans, []string{own}) {
		t.Errorf("DisposeVersion orphans = %v, want [%s]", orphans, own)
	}
	if assets, err := s.ListAssets(ctx, v1); err != nil || len(assets) != 0 {
		t.Errorf("assets after dispose: %v %v", assets, err)
	}
	stored, err = s.GetVersion(ctx, v1)
	must(t, err)
	if stored.Status != "Disposed" || stored.Revision != "rev-3" {
		t.Errorf("disposed version: %+v", stored)
	}

	// DeleteVersion removes it entirely; the package stays.
	orphans, err = s.DeleteVersion(ctx, store.VersionKey{PackageKey: ax, Version: "2.0"})
	must(t, err)
	if !slices.Equal(orphans, []string{sha("two")}) {
		t.Errorf("DeleteVersion orphans = %v", orphans)
	}
	_, err = s.GetVersion(ctx, store.VersionKey{PackageKey: ax, Version: "2.0"})
	wantErr(t, "GetVersion after delete", err, store.ErrNotFound)
	_, err = s.DeleteVersion(ctx, store.VersionKey{PackageKey: ax, Version: "2.0"})
	wantErr(t, "DeleteVersion twice", err, store.ErrNotFound)
	if _, err := s.GetPackage(ctx, ax); err != nil {
		t.Errorf("the package must survive its versions: %v", err)
	}
	// A package with nothing to list is empty, not missing.
	if assets, err := s.ListPackageAssets(ctx, ax); err != nil || len(assets) != 0 {
		t.Errorf("ListPackageAssets with only a disposed version: %v %v", assets, err)
	}
	// ... but its version still hides the same version upstream.
	if files, err := s.ListPackageFiles(ctx, ax); err != nil || len(files) != 1 ||
		files[0].Version != "1.0" || files[0].Name != "" || files[0].Status != "Disposed" {
		t.Errorf("ListPackageFiles with only a disposed version: %+v %v", files, err)
	}
	_, err = s.DeleteVersion(ctx, v1)
	must(t, err)
	if versions, err := s.ListVersions(ctx, ax); err != nil || len(versions) != 0 {
		t.Errorf("ListVersions with no version left: %v %v", versions, err)
	}

	// DeletePackage in b: shared is now unreferenced in the domain.
	orphans, err = s.DeletePackage(ctx, pkgKey(b, "pypi", "", "x"))
	must(t, err)
	if !slices.Equal(orphans, []string{shared}) {
		t.Errorf("DeletePackage orphans = %v, want [%s]", orphans, shared)
	}
	_, err = s.GetPackage(ctx, pkgKey(b, "pypi", "", "x"))
	wantErr(t, "GetPackage after delete", err, store.ErrNotFound)
	_, err = s.DeletePackage(ctx, pkgKey(b, "pypi", "", "x"))
	wantErr(t, "DeletePackage twice", err, store.ErrNotFound)
}

func testPackageGroups(t *testing.T, s store.Store) {
	d := domain(t, s, owner1, "d1")
	domain(t, s, owner1, "d2")
	g := store.PackageGroup{DomainOwner: d.Owner, DomainName: d.Name, Pattern: "/pypi//requests$", Description: "d", ContactInfo: "c",
		Restrictions: map[string]store.GroupRestriction{"PUBLISH": {Mode: "BLOCK"}, "EXTERNAL_UPSTREAM": {Mode: "ALLOW_SPECIFIC_REPOSITORIES", Repositories: []string{"r1", "r2"}}},
		CreatedAt:    at(1)}
	must(t, s.CreatePackageGroup(ctx, g))
	wantErr(t, "CreatePackageGroup twice", s.CreatePackageGroup(ctx, g), store.ErrExists)
	wantErr(t, "CreatePackageGroup without domain", s.CreatePackageGroup(ctx, store.PackageGroup{DomainOwner: owner1, DomainName: "nope", Pattern: "/*"}), store.ErrNotFound)
	got, err := s.GetPackageGroup(ctx, owner1, "d1", g.Pattern)
	must(t, err)
	same(t, "GetPackageGroup", got, g)
	_, err = s.GetPackageGroup(ctx, owner1, "d2", g.Pattern)
	wantErr(t, "GetPackageGroup in another domain", err, store.ErrNotFound)

	g.Description, g.Restrictions = "new", nil
	must(t, s.UpdatePackageGroup(ctx, g))
	got, err = s.GetPackageGroup(ctx, owner1, "d1", g.Pattern)
	must(t, err)
	same(t, "updated group", got, g)

	var patterns []string
	for _, p := range []string{"/*", "/npm/*", "/npm/scope/*", "/pypi/*", "/maven/org.x/*"} {
		patterns = append(patterns, p)
		must(t, s.CreatePackageGroup(ctx, store.PackageGroup{DomainOwner: owner1, DomainName: "d1", Pattern: p, CreatedAt: at(2)}))
	}
	patterns = append(patterns, g.Pattern)
	slices.Sort(patterns)
	for _, limit := range []int{1, 2, 4, 100} {
		all := pages(t, limit, func(p store.Page) ([]store.PackageGroup, string, error) {
			return s.ListPackageGroups(ctx, owner1, "d1", p)
		})
		var names []string
		for _, x := range all {
			names = append(names, x.Pattern)
		}
		if !slices.Equal(names, patterns) {
			t.Errorf("ListPackageGroups limit %d = %v, want %v", limit, names, patterns)
		}
	}
	must(t, s.DeletePackageGroup(ctx, owner1, "d1", "/npm/*"))
	wantErr(t, "DeletePackageGroup twice", s.DeletePackageGroup(ctx, owner1, "d1", "/npm/*"), store.ErrNotFound)
	wantErr(t, "UpdatePackageGroup missing", s.UpdatePackageGroup(ctx, store.PackageGroup{DomainOwner: owner1, DomainName: "d1", Pattern: "/npm/*"}), store.ErrNotFound)

	_, _, err = s.ListPackageGroups(ctx, owner1, "absent", store.Page{Limit: 10})
	wantErr(t, "ListPackageGroups missing domain", err, store.ErrNotFound)

	// Groups go with their domain.
	must(t, s.DeleteDomain(ctx, owner1, "d1"))
	domain(t, s, owner1, "d1")
	if got, _, err := s.ListPackageGroups(ctx, owner1, "d1", store.Page{Limit: 10}); err != nil || len(got) != 0 {
		t.Errorf("groups of a recreated domain: %v %v", got, err)
	}
}

func testPoliciesTagsKeys(t *testing.T, s store.Store) {
	const arn = "arn:aws:codeartifact:us-east-1:111111111111:repository/d1/a"
	_, err := s.GetPolicy(ctx, arn)
	wantErr(t, "GetPolicy missing", err, store.ErrNotFound)
	wantErr(t, "PutPolicy with a revision when none exists", s.PutPolicy(ctx, store.Policy{ResourceARN: arn, Document: "{}", Revision: "r1"}, "r0"), store.ErrNotFound)
	p := store.Policy{ResourceARN: arn, Document: `{"Version":"2012-10-17"}`, Revision: "r1"}
	must(t, s.PutPolicy(ctx, p, ""))
	got, err := s.GetPolicy(ctx, arn)
	must(t, err)
	same(t, "GetPolicy", got, p)
	wantErr(t, "PutPolicy stale", s.PutPolicy(ctx, store.Policy{ResourceARN: arn, Document: "{}", Revision: "r2"}, "r0"), store.ErrRevisionMismatch)
	p2 := store.Policy{ResourceARN: arn, Document: "{}", Revision: "r2"}
	must(t, s.PutPolicy(ctx, p2, "r1"))
	_, err = s.DeletePolicy(ctx, arn, "r1")
	wantErr(t, "DeletePolicy stale", err, store.ErrRevisionMismatch)
	old, err := s.DeletePolicy(ctx, arn, "r2")
	must(t, err)
	same(t, "DeletePolicy result", old, p2)
	_, err = s.DeletePolicy(ctx, arn, "")
	wantErr(t, "DeletePolicy missing", err, store.ErrNotFound)

	if tags, err := s.GetTags(ctx, arn); err != nil || tags != nil {
		t.Errorf("no tags: %v %v", tags, err)
	}
	must(t, s.SetTags(ctx, arn, map[string]string{"team": "a", "env": "prod"}, nil))
	must(t, s.SetTags(ctx, arn, map[string]string{"team": "b"}, []string{"env", "absent"}))
	tags, err := s.GetTags(ctx, arn)
	must(t, err)
	same(t, "tags", tags, map[string]string{"team": "b"})

	k := store.AccessKey{AccessKeyID: "AKIAB", Secret: "sealed", Principal: "arn:aws:iam::111111111111:user/ci", CreatedAt: at(1)}
	must(t, s.CreateAccessKey(ctx, k))
	wantErr(t, "CreateAccessKey twice", s.CreateAccessKey(ctx, k), store.ErrExists)
	must(t, s.CreateAccessKey(ctx, store.AccessKey{AccessKeyID: "AKIAA", Secret: "s", Principal: "p", CreatedAt: at(2)}))
	gotKey, err := s.GetAccessKey(ctx, "AKIAB")
	must(t, err)
	same(t, "GetAccessKey", gotKey, k)
	keys, err := s.ListAccessKeys(ctx)
	must(t, err)
	if len(keys) != 2 || keys[0].AccessKeyID != "AKIAA" || keys[1].AccessKeyID != "AKIAB" {
		t.Errorf("ListAccessKeys = %+v", keys)
	}
	// Deactivated and reactivated (IAM's update-access-key).
	must(t, s.SetAccessKeyInactive(ctx, "AKIAB", true))
	gotKey, err = s.GetAccessKey(ctx, "AKIAB")
	must(t, err)
	k.Inactive = true
	same(t, "GetAccessKey after deactivation", gotKey, k)
	must(t, s.SetAccessKeyInactive(ctx, "AKIAB", false))
	gotKey, err = s.GetAccessKey(ctx, "AKIAB")
	must(t, err)
	if gotKey.Inactive {
		t.Error("reactivated key still inactive")
	}
	wantErr(t, "SetAccessKeyInactive of a missing key", s.SetAccessKeyInactive(ctx, "AKIAZ", true), store.ErrNotFound)
	must(t, s.DeleteAccessKey(ctx, "AKIAB"))
	wantErr(t, "DeleteAccessKey twice", s.DeleteAccessKey(ctx, "AKIAB"), store.ErrNotFound)
	_, err = s.GetAccessKey(ctx, "AKIAB")
	wantErr(t, "GetAccessKey deleted", err, store.ErrNotFound)
}

func testLock(t *testing.T, s store.Store) {
	unlock, err := s.Lock(ctx, "fetch:a")
	must(t, err)
	// Another key is independent.
	other, err := s.Lock(ctx, "fetch:b")
	must(t, err)
	other()
	// The same key waits for the holder.
	got := make(chan struct{})
	go func() {
		u, err := s.Lock(ctx, "fetch:a")
		if err == nil {
			u()
		}
		close(got)
	}()
	select {
	case <-got:
		t.Fatal("a second Lock of a held key did not wait")
	case <-time.After(200 * time.Millisecond):
	}
	unlock()
	select {
	case <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("Lock did not return after the holder unlocked")
	}
	// A waiter gives up when its context ends.
	unlock, err = s.Lock(ctx, "fetch:a")
	must(t, err)
	defer unlock()
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := s.Lock(short, "fetch:a"); err == nil {
		t.Fatal("Lock returned while the key was held")
	}
}

func testBlobReferenced(t *testing.T, s store.Store) {
	d := domain(t, s, owner1, "d1")
	domain(t, s, owner1, "d2")
	a := repo(t, s, d, "a")
	content, sidecar := sha("content"), sha("sidecar")
	k := pkgKey(a, "pypi", "", "x")
	v := newVersion(k, "1.0")
	as := newAsset(v.VersionKey, "x-1.0.whl", content, 10)
	as.Attributes = map[string]string{"wharf.sidecar.metadata": sidecar}
	_, err := s.AddAsset(ctx, newPackage(k), v, as)
	must(t, err)
	for _, c := range []struct {
		domain, sha string
		want        bool
	}{{"d1", content, true}, {"d1", sidecar, true}, {"d1", sha("other"), false}, {"d2", content, false}, {"nope", content, false}} {
		got, err := s.BlobReferenced(ctx, owner1, c.domain, c.sha)
		must(t, err)
		if got != c.want {
			t.Errorf("BlobReferenced(%s, %s) = %v, want %v", c.domain, c.sha[:8], got, c.want)
		}
	}
}
