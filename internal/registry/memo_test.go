package registry

import (
	"errors"
	"testing"

	"github.com/wharfhq/wharf/internal/store"
)

func TestGenMemoFollowsItsGeneration(t *testing.T) {
	g := &generations{}
	m := newGenMemo[string, int](g.all.Load, nil)
	loads := 0
	load := func(v int, err error) func() (int, error) {
		return func() (int, error) { loads++; return v, err }
	}
	if v, _ := m.get("a", load(1, nil)); v != 1 || loads != 1 {
		t.Fatalf("first read: %d after %d loads", v, loads)
	}
	if v, _ := m.get("a", load(2, nil)); v != 1 || loads != 1 {
		t.Fatalf("unchanged generation must not read again: %d after %d loads", v, loads)
	}
	g.bumpAll()
	if v, _ := m.get("a", load(3, nil)); v != 3 || loads != 2 {
		t.Fatalf("after a write: %d after %d loads, want the new value", v, loads)
	}

	// Failures are not remembered (by default): the next request retries.
	boom := errors.New("store down")
	if _, err := m.get("b", load(0, boom)); err != boom {
		t.Fatal(err)
	}
	if v, err := m.get("b", load(5, nil)); err != nil || v != 5 {
		t.Fatalf("after a failure: %d, %v", v, err)
	}

	// Another replica's write, read from the change feed, counts as well.
	g.apply(0, 1, []store.Change{{Seq: 1, Kind: store.ChangeDomain}})
	if v, _ := m.get("a", load(4, nil)); v != 4 {
		t.Fatalf("after another replica's write: got %d, want a fresh read", v)
	}
}

// apply moves exactly the counters of the changes it reads, once each, and
// everything when the feed has a gap (pruned, or more than one batch).
func TestApplyChanges(t *testing.T) {
	g := &generations{}
	pkg := func(name string) store.PackageKey {
		return store.PackageKey{DomainOwner: "111122223333", DomainName: "d", Repository: "r", Format: "pypi", Name: name}
	}
	gen := func(name string) uint64 {
		k := pkg(name)
		return g.all.Load() + g.counter(viewKey{k.DomainOwner, k.DomainName, k.Format, k.Namespace, k.Name}).Load()
	}
	a0, b0, p0, r0 := gen("a"), gen("b"), g.policies.Load(), g.revocations.Load()
	g.apply(0, 2, []store.Change{{Seq: 1, Kind: store.ChangePackage, Package: pkg("a")}, {Seq: 2, Kind: store.ChangeRevocation}})
	if gen("a") == a0 || gen("b") != b0 || g.policies.Load() != p0 || g.revocations.Load() == r0 {
		t.Fatal("changes to a and to revocations: wrong counters moved")
	}
	a1 := gen("a")
	// A second Sync that read the same changes concurrently applies nothing.
	g.apply(0, 2, []store.Change{{Seq: 1, Kind: store.ChangePackage, Package: pkg("a")}, {Seq: 2, Kind: store.ChangeRevocation}})
	if gen("a") != a1 {
		t.Fatal("the same change applied twice")
	}
	// A gap: 3 numbers, 1 change.
	b1, p1 := gen("b"), g.policies.Load()
	g.apply(2, 5, []store.Change{{Seq: 3, Kind: store.ChangePackage, Package: pkg("a")}})
	if gen("b") == b1 || g.policies.Load() == p1 {
		t.Fatal("a gap in the feed must invalidate everything")
	}
	if g.seen != 5 {
		t.Fatalf("seen = %d, want 5", g.seen)
	}
	// Two reads from 5 end out of order: the one that saw less changes
	// nothing (it is not a store gone back in time).
	all := g.all.Load()
	g.apply(5, 7, []store.Change{{Seq: 6, Kind: store.ChangePackage, Package: pkg("a")}, {Seq: 7, Kind: store.ChangePackage, Package: pkg("a")}})
	b2 := gen("b")
	g.apply(5, 6, []store.Change{{Seq: 6, Kind: store.ChangePackage, Package: pkg("a")}})
	if gen("b") != b2 || g.all.Load() != all || g.seen != 7 {
		t.Fatal("a read that ended after a newer one invalidated everything")
	}
	// A store restored from an older backup: everything.
	g.apply(7, 3, nil)
	if gen("b") == b2 {
		t.Fatal("a feed that went back in time must invalidate everything")
	}
	if g.seen != 3 {
		t.Fatalf("after a restore, seen = %d: the restored store's next changes would be skipped", g.seen)
	}
}
