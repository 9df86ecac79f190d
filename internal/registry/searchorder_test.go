package registry

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/wharfhq/wharf/internal/testenv/embedded"
	"github.com/wharfhq/wharf/internal/upstream"
)

func newTestRegistry(t *testing.T) *Registry {
	t.Helper()
	st, bl, _ := embedded.Storage(t)
	return New(st, bl, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

func order(t *testing.T, r *Registry, repo string) string {
	t.Helper()
	srcs, err := r.searchOrder(context.Background(), RepoRef{Owner: "111122223333", Domain: "dom", Repository: repo})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range srcs {
		names = append(names, s.String())
	}
	return strings.Join(names, ", ")
}

// TestSearchOrder pins CODEARTIFACT.md's example: R has upstreams A, B; A
// has C, D; D has E. Order: R, A, C, D, E, B.
func TestSearchOrder(t *testing.T) {
	ctx := context.Background()
	r := newTestRegistry(t)
	const o = "111122223333"
	r.CreateDomain(ctx, o, "dom", "")
	for _, c := range []struct {
		name      string
		upstreams []string
	}{{"E", nil}, {"C", nil}, {"B", nil}, {"D", []string{"E"}}, {"A", []string{"C", "D"}}, {"R", []string{"A", "B"}}} {
		if _, err := r.CreateRepository(ctx, o, "dom", c.name, "", c.upstreams); err != nil {
			t.Fatal(err)
		}
	}
	if got := order(t, r, "R"); got != "R, A, C, D, E, B" {
		t.Fatalf("search order %q", got)
	}
	// A repository reachable twice is searched once; an external
	// connection comes after its repository's upstreams. (The order read
	// above is remembered: the writes must make the registry read it again.)
	if _, err := r.UpdateRepository(ctx, o, "dom", "B", nil, []string{"E"}, true); err != nil {
		t.Fatal(err)
	}
	if _, err := r.AssociateExternalConnection(ctx, o, "dom", "A", "public:pypi"); err != nil {
		t.Fatal(err)
	}
	if got := order(t, r, "R"); got != "R, A, C, D, E, A (public:pypi), B" {
		t.Fatalf("search order %q", got)
	}
}

func TestSearchOrderStopsAt25(t *testing.T) {
	ctx := context.Background()
	r := newTestRegistry(t)
	const o = "111122223333"
	r.CreateDomain(ctx, o, "dom", "")
	// A chain of 30 repositories: r00 -> r01 -> ... -> r29.
	for i := 29; i >= 0; i-- {
		var ups []string
		if i < 29 {
			ups = []string{fmt.Sprintf("r%02d", i+1)}
		}
		if _, err := r.CreateRepository(ctx, o, "dom", fmt.Sprintf("r%02d", i), "", ups); err != nil {
			t.Fatal(err)
		}
	}
	got := strings.Split(order(t, r, "r00"), ", ")
	if len(got) != MaxSearched || got[24] != "r24" {
		t.Fatalf("searched %d repositories (%v), want the first %d", len(got), got, MaxSearched)
	}
}

func TestExternalConnectionRules(t *testing.T) {
	ctx := context.Background()
	r := newTestRegistry(t)
	const o = "111122223333"
	r.CreateDomain(ctx, o, "dom", "")
	r.CreateRepository(ctx, o, "dom", "store", "", nil)
	if _, err := r.AssociateExternalConnection(ctx, o, "dom", "store", "public:nope"); !IsKind(err, KindValidation) || !strings.Contains(err.Error(), "public:pypi") {
		t.Fatalf("unknown connection: %v", err)
	}
	if _, err := r.AssociateExternalConnection(ctx, o, "dom", "store", "public:pypi"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.AssociateExternalConnection(ctx, o, "dom", "store", "public:npmjs"); !IsKind(err, KindConflict) || !strings.Contains(err.Error(), "only one") {
		t.Fatalf("second connection: %v", err)
	}
	if _, err := r.DisassociateExternalConnection(ctx, o, "dom", "store", "public:npmjs"); !IsKind(err, KindNotFound) {
		t.Fatalf("disassociating a connection the repository lacks: %v", err)
	}
	repo, err := r.DisassociateExternalConnection(ctx, o, "dom", "store", "public:pypi")
	if err != nil || len(repo.ExternalConnections) != 0 {
		t.Fatalf("disassociate: %+v %v", repo, err)
	}
	if err := r.UseUpstreams(nil, map[string]upstream.Connection{"public:typo": upstream.MustParseConnection("http://x/")}); err == nil {
		t.Fatal("an unknown connection name in the configuration must be refused at start-up")
	}
}
