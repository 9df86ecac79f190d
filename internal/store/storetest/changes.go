package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/wharfhq/wharf/internal/store"
)

// testChanges pins the change feed: each write that can change a cached
// view records exactly one change of the right kind, in order, and a failed
// write records none.
func testChanges(t *testing.T, s store.Store) {
	latest, changes, err := s.Changes(ctx, 0, 100)
	must(t, err)
	if latest != 0 || len(changes) != 0 {
		t.Fatalf("empty store: Changes(0) = %d, %v; want 0 and none", latest, changes)
	}
	seen := uint64(0)
	// expect runs write and checks that it recorded want (nil: nothing).
	expect := func(what string, want *store.Change, write func() error) {
		t.Helper()
		werr := write()
		got, changes, err := s.Changes(ctx, seen, 100)
		must(t, err)
		if want == nil {
			if got != seen || len(changes) != 0 {
				t.Errorf("%s (err %v) recorded %v (latest %d), want nothing", what, werr, changes, got)
			}
			return
		}
		must(t, werr)
		if got != seen+1 || len(changes) != 1 {
			t.Fatalf("%s: Changes(%d) = %d, %v; want exactly one change numbered %d", what, seen, got, changes, seen+1)
		}
		w := *want
		w.Seq = seen + 1
		if changes[0] != w {
			t.Errorf("%s recorded %+v, want %+v", what, changes[0], w)
		}
		seen = got
	}
	d := store.Domain{Owner: owner1, Name: "d", CreatedAt: at(0)}
	dom := &store.Change{Kind: store.ChangeDomain, Package: store.PackageKey{DomainOwner: owner1, DomainName: "d"}}
	expect("CreateDomain", dom, func() error { return s.CreateDomain(ctx, d) })
	expect("CreateDomain again", nil, func() error { return s.CreateDomain(ctx, d) })
	r := store.Repository{DomainOwner: owner1, DomainName: "d", Name: "r", CreatedAt: at(1)}
	expect("CreateRepository", dom, func() error { return s.CreateRepository(ctx, r) })
	r.Description = "changed"
	expect("UpdateRepository", dom, func() error { return s.UpdateRepository(ctx, r) })
	k := pkgKey(r, "pypi", "", "flask")
	pkg := &store.Change{Kind: store.ChangePackage, Package: k}
	v := newVersion(k, "1.0")
	a := newAsset(v.VersionKey, "flask-1.0.tar.gz", sha("flask"), 10)
	expect("AddAsset", pkg, func() error { _, err := s.AddAsset(ctx, newPackage(k), v, a); return err })
	expect("AddAsset of an existing asset", nil, func() error { _, err := s.AddAsset(ctx, newPackage(k), v, a); return err })
	expect("PutPackageOrigin", pkg, func() error { return s.PutPackageOrigin(ctx, k, "BLOCK", "ALLOW") })
	expect("SetVersionStatus", pkg, func() error {
		_, err := s.SetVersionStatus(ctx, v.VersionKey, "Unlisted", "rev-2", "", at(5))
		return err
	})
	expect("SetVersionStatus with a stale revision", nil, func() error {
		_, err := s.SetVersionStatus(ctx, v.VersionKey, "Published", "rev-3", "stale", at(5))
		return err
	})
	expect("DisposeVersion", pkg, func() error { _, err := s.DisposeVersion(ctx, v.VersionKey, "rev-4", at(6)); return err })
	expect("DeleteVersion", pkg, func() error { _, err := s.DeleteVersion(ctx, v.VersionKey); return err })
	expect("DeletePackage", pkg, func() error { _, err := s.DeletePackage(ctx, k); return err })
	expect("DeletePackage of a missing package", nil, func() error { _, err := s.DeletePackage(ctx, k); return err })
	g := store.PackageGroup{DomainOwner: owner1, DomainName: "d", Pattern: "/pypi//flask$", CreatedAt: at(1)}
	expect("CreatePackageGroup", dom, func() error { return s.CreatePackageGroup(ctx, g) })
	g.Description = "changed"
	expect("UpdatePackageGroup", dom, func() error { return s.UpdatePackageGroup(ctx, g) })
	expect("DeletePackageGroup", dom, func() error { return s.DeletePackageGroup(ctx, owner1, "d", g.Pattern) })
	pol := &store.Change{Kind: store.ChangePolicy}
	p := store.Policy{ResourceARN: "arn:aws:codeartifact::" + owner1 + ":domain/d", Document: "{}", Revision: "r1"}
	expect("PutPolicy", pol, func() error { return s.PutPolicy(ctx, p, "") })
	expect("PutPolicy with a stale revision", nil, func() error { return s.PutPolicy(ctx, p, "stale") })
	expect("DeletePolicy", pol, func() error { _, err := s.DeletePolicy(ctx, p.ResourceARN, ""); return err })
	expect("CreateRevocation", &store.Change{Kind: store.ChangeRevocation}, func() error {
		return s.CreateRevocation(ctx, store.Revocation{Principal: "p", Before: at(1), Reason: "test"})
	})
	expect("SetTags", nil, func() error { return s.SetTags(ctx, p.ResourceARN, map[string]string{"a": "b"}, nil) })
	expect("PutUpstreamPage", nil, func() error {
		return s.PutUpstreamPage(ctx, store.UpstreamPage{Key: "k", Body: []byte("x"), FetchedAt: at(1)})
	})
	expect("DeleteRepository", dom, func() error { _, err := s.DeleteRepository(ctx, owner1, "d", "r"); return err })
	expect("DeleteDomain", dom, func() error { return s.DeleteDomain(ctx, owner1, "d") })

	// limit bounds the changes returned, not the latest number.
	latest, changes, err = s.Changes(ctx, 0, 3)
	must(t, err)
	if latest != seen || len(changes) != 3 || changes[0].Seq != 1 || changes[2].Seq != 3 {
		t.Errorf("Changes(0, 3) = %d, %d changes from %v; want %d and changes 1..3", latest, len(changes), changes, seen)
	}
}

// testChangesConcurrent: changes recorded by concurrent writers are
// numbered densely, so a reader that saw the latest number n has seen every
// change up to n (a gap would be a write it never learns of).
func testChangesConcurrent(t *testing.T, s store.Store) {
	d := domain(t, s, owner1, "d")
	r := repo(t, s, d, "r")
	start, _, err := s.Changes(ctx, 0, 1)
	must(t, err)
	const writers, each = 4, 10
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				k := pkgKey(r, "pypi", "", fmt.Sprintf("p%d", w))
				v := newVersion(k, fmt.Sprint(i))
				if _, err := s.AddAsset(ctx, newPackage(k), v, newAsset(v.VersionKey, fmt.Sprintf("p%d-%d.tar.gz", w, i), sha(fmt.Sprint(w, i)), 1)); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	latest, changes, err := s.Changes(ctx, start, 1000)
	must(t, err)
	if latest != start+writers*each || len(changes) != writers*each {
		t.Fatalf("after %d writes: latest %d (from %d), %d changes", writers*each, latest, start, len(changes))
	}
	for i, c := range changes {
		if c.Seq != start+uint64(i)+1 {
			t.Fatalf("change %d is numbered %d, want %d", i, c.Seq, start+uint64(i)+1)
		}
	}
}

// testRevocations pins the revocation list: what is recorded comes back,
// ordered by Before, and revocations whose Before is not after since are
// left out.
func testRevocations(t *testing.T, s store.Store) {
	got, err := s.ListRevocations(ctx, time.Time{})
	must(t, err)
	if len(got) != 0 {
		t.Fatalf("empty store: %v", got)
	}
	rs := []store.Revocation{
		{AccessKeyID: "AKIAEXAMPLE", Before: at(3), Reason: "access key deleted", CreatedAt: at(3)},
		{Principal: "arn:aws:iam::" + owner1 + ":user/ci", Before: at(1), Reason: "revoked", CreatedAt: at(2)},
		{Before: at(2), Reason: "everything"},
	}
	for _, r := range rs {
		must(t, s.CreateRevocation(ctx, r))
	}
	got, err = s.ListRevocations(ctx, time.Time{})
	must(t, err)
	same(t, "ListRevocations", got, []store.Revocation{rs[1], rs[2], rs[0]})
	got, err = s.ListRevocations(ctx, at(2))
	must(t, err)
	same(t, "ListRevocations since at(2)", got, []store.Revocation{rs[0]})
}
