package registry_test

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/wharfhq/wharf/internal/format/pypi"
	"github.com/wharfhq/wharf/internal/registry"
	"github.com/wharfhq/wharf/internal/store"
	"github.com/wharfhq/wharf/internal/testenv/embedded"
)

// Each write that can change a view moves the generation of the views it
// can change, and only those; reads move nothing.
func TestViewGeneration(t *testing.T) {
	ctx := t.Context()
	r := newRegistry(t)
	if _, err := r.CreateDomain(ctx, owner, "dom", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := r.CreateRepository(ctx, owner, "dom", "repo", "", nil); err != nil {
		t.Fatal(err)
	}
	ref := registry.RepoRef{Owner: owner, Domain: "dom", Repository: "repo"}
	gen := func(name string) uint64 { return r.ViewGeneration(ref, "pypi", "", name) }
	a0, b0 := gen("a"), gen("b")
	publish(t, r, "repo", "a", "1.0")
	if gen("a") == a0 {
		t.Fatal("publishing a did not move a's generation")
	}
	if gen("b") != b0 {
		t.Fatal("publishing a moved b's generation")
	}
	a1 := gen("a")
	if _, err := r.PackageView(ctx, ref, "pypi", "", "a"); err != nil {
		t.Fatal(err)
	}
	if gen("a") != a1 {
		t.Fatal("a read moved the generation")
	}
	// Another repository of the domain may be an upstream: it counts too.
	if _, err := r.CreateRepository(ctx, owner, "dom", "other", "", nil); err != nil {
		t.Fatal(err)
	}
	a2, b2 := gen("a"), gen("b")
	if a2 == a1 {
		t.Fatal("creating a repository did not move the generations")
	}
	publish(t, r, "other", "a", "2.0")
	if gen("a") == a2 || gen("b") != b2 {
		t.Fatal("publishing in another repository of the domain: wrong generations")
	}
	a3 := gen("a")
	if _, err := r.UpdateVersionsStatus(ctx, ref, "pypi", "", "a", registry.Selection{Versions: []string{"1.0"}}, registry.StatusUnlisted); err != nil {
		t.Fatal(err)
	}
	if gen("a") == a3 {
		t.Fatal("a status change did not move the generation")
	}
	a4 := gen("a")
	if _, err := r.UpdateRepository(ctx, owner, "dom", "repo", nil, []string{"other"}, true); err != nil {
		t.Fatal(err)
	}
	if gen("a") == a4 || gen("b") == b2 {
		t.Fatal("changing upstreams did not move every generation")
	}
}

// The policy reader answers from memory, and a put or delete through the
// registry's store shows at once.
func TestPolicyReaderSeesWrites(t *testing.T) {
	ctx := t.Context()
	r := newRegistry(t)
	pr := r.PolicyReader()
	const arn = "arn:aws:codeartifact::111122223333:domain/dom"
	if _, err := pr.GetPolicy(ctx, arn); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("no policy yet: %v", err)
	}
	g0 := pr.Generation()
	if err := r.Store().PutPolicy(ctx, store.Policy{ResourceARN: arn, Document: "{}", Revision: "r1"}, ""); err != nil {
		t.Fatal(err)
	}
	if pr.Generation() == g0 {
		t.Fatal("PutPolicy did not move the generation")
	}
	if p, err := pr.GetPolicy(ctx, arn); err != nil || p.Revision != "r1" {
		t.Fatalf("after put: %+v %v", p, err)
	}
	if err := r.Store().PutPolicy(ctx, store.Policy{ResourceARN: arn, Document: "{ }", Revision: "r2"}, "r1"); err != nil {
		t.Fatal(err)
	}
	if p, err := pr.GetPolicy(ctx, arn); err != nil || p.Revision != "r2" {
		t.Fatalf("after second put: %+v %v", p, err)
	}
	if _, err := r.Store().DeletePolicy(ctx, arn, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := pr.GetPolicy(ctx, arn); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
}

func publish(t *testing.T, r *registry.Registry, repo, name, version string) {
	t.Helper()
	fn, data := wheel(t, name, version, "")
	if _, err := publishWheel(t.Context(), r, repo, name, version, data, fn); err != nil {
		t.Fatal(err)
	}
}

// Two registries on one store stand for two replicas: B's generations move
// for A's writes only through the change feed, and every Sync that starts
// after A's write returned sees it, however many run at once (they share
// feed reads).
func TestSyncSeesOtherReplicasWrites(t *testing.T) {
	ctx := t.Context()
	st, bl, _ := embedded.Storage(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a := registry.New(st, bl, log, pypi.Format{})
	b := registry.New(st, bl, log, pypi.Format{})
	if err := b.ShareStore(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := a.CreateDomain(ctx, owner, "dom", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := a.CreateRepository(ctx, owner, "dom", "repo", "", nil); err != nil {
		t.Fatal(err)
	}
	ref := registry.RepoRef{Owner: owner, Domain: "dom", Repository: "repo"}
	gen := func(name string) uint64 { return b.ViewGeneration(ref, "pypi", "", name) }
	if err := b.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	for round := range 30 {
		before, other := gen("hot"), gen("cold")
		publish(t, a, "repo", "hot", fmt.Sprintf("1.%d", round))
		if gen("hot") != before {
			t.Fatal("B's generation moved without a Sync: the test no longer tells replicas apart")
		}
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := b.Sync(ctx); err != nil {
					t.Error(err)
				}
				if gen("hot") == before {
					t.Errorf("round %d: a Sync after A's publish left B's generation unchanged", round)
				}
			}()
		}
		wg.Wait()
		if gen("cold") != other {
			t.Fatalf("round %d: A's publish of hot moved cold's generation on B", round)
		}
	}
	reads, applied := b.SyncStats()
	t.Logf("30 rounds of 8 concurrent Syncs: %d feed reads, %d changes applied", reads, applied)
}
