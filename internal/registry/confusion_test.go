package registry_test

import (
	"strings"
	"testing"

	"github.com/wharfhq/wharf/internal/registry"
)

// TestConfusionRisks: app -> [store (public:pypi), internal] searches the
// public registry before internal, so a public corp-lib 99.0 would be
// merged with internal's corp-lib (CodeArtifact's semantics, kept). The
// order is reported; internal listed first, a package group keeping the
// connection away, or a package that stops the search before it, are not.
func TestConfusionRisks(t *testing.T) {
	r := newRegistry(t)
	ctx := t.Context()
	if _, err := r.CreateDomain(ctx, owner, "dom", ""); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		upstreams []string
	}{{"store", nil}, {"internal", nil}, {"app", []string{"store", "internal"}}} {
		if _, err := r.CreateRepository(ctx, owner, "dom", c.name, "", c.upstreams); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.AssociateExternalConnection(ctx, owner, "dom", "store", "public:pypi"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"corp-lib", "corp-auth", "corp-db", "corp-web"} {
		publish(t, r, "internal", name, "1.0")
	}
	app := registry.RepoRef{Owner: owner, Domain: "dom", Repository: "app"}
	risks := func(ref registry.RepoRef) string {
		t.Helper()
		rs, err := r.ConfusionRisks(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range rs {
			out = append(out, c.String())
		}
		return strings.Join(out, "\n")
	}
	got := risks(app)
	for _, want := range []string{"external connection public:pypi (via repository store) is searched before repository internal",
		"(corp-auth, corp-db, corp-lib, ...)", "List internal before store"} {
		if !strings.Contains(got, want) {
			t.Fatalf("risks of app:\n%s\nwant %q", got, want)
		}
	}
	// The same from the control plane's side: a change to store concerns app.
	around, err := r.ConfusionRisksAround(ctx, owner, "dom", "store")
	if err != nil || len(around) != 1 || around[0].Repository != "app" {
		t.Fatalf("around store: %v %v", around, err)
	}
	// Neither store nor internal, alone, has the problem.
	for _, repo := range []string{"store", "internal"} {
		if got := risks(registry.RepoRef{Owner: owner, Domain: "dom", Repository: repo}); got != "" {
			t.Fatalf("%s: %s", repo, got)
		}
	}

	// A package group that blocks external upstreams for corp-auth removes it.
	if _, err := r.CreatePackageGroup(ctx, owner, "dom", "/pypi//corp-auth$", "", ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.UpdatePackageGroupOriginConfiguration(ctx, owner, "dom", "/pypi//corp-auth$",
		map[string]string{registry.RestrictExternalUpstream: registry.Block}, nil, nil); err != nil {
		t.Fatal(err)
	}
	if got := risks(app); !strings.Contains(got, "(corp-db, corp-lib, corp-web)") {
		t.Fatalf("with corp-auth blocked: %s", got)
	}

	// internal before store: nothing to warn about.
	if _, err := r.UpdateRepository(ctx, owner, "dom", "app", nil, []string{"internal", "store"}, true); err != nil {
		t.Fatal(err)
	}
	if got := risks(app); got != "" {
		t.Fatalf("internal first: %s", got)
	}
}
