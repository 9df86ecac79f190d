package registry_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wharfhq/wharf/internal/registry"
	"github.com/wharfhq/wharf/internal/upstream"
)

func TestGroupPatternParse(t *testing.T) {
	for _, c := range []struct {
		in, canonical, err string
	}{
		{in: "/*", canonical: "/*"},
		{in: "/npm/*", canonical: "/npm/*"},
		{in: "/maven/com.anycompany~", canonical: "/maven/com.anycompany~"},
		{in: "/npm/space/*", canonical: "/npm/space/*"},
		{in: "/npm/space/anycompany-ui~", canonical: "/npm/space/anycompany-ui~"},
		{in: "/maven/org.apache.logging.log4j/log4j-core$", canonical: "/maven/org.apache.logging.log4j/log4j-core$"},
		{in: "/pypi//requests$", canonical: "/pypi//requests$"},
		{in: "/npm//react$", canonical: "/npm//react$"},
		{in: "/npm//*", canonical: "/npm//*"},
		// Percent-encoding: decoded, then re-encoded only where needed.
		{in: "/npm//%72eact$", canonical: "/npm//react$"},
		{in: "/generic/team/a%2Ab$", canonical: "/generic/team/a%2Ab$"},
		{in: "/generic/team/a%2ab~", canonical: "/generic/team/a%2Ab~"},
		{in: "/generic/t%7eam/*", canonical: "/generic/t%7Eam/*"},

		{in: "npm/*", err: "must start with '/'"},
		{in: "/npm", err: "/npm/*"},
		{in: "/Pypi/*", err: "not a package format"},
		{in: "/nope/*", err: "not a package format"},
		{in: "/npm/space", err: "/npm/space/*"},
		{in: "/npm/space$", err: "/npm/space/*"},
		{in: "/npm/space/ui", err: "must end with $"},
		{in: "/npm/a/b/c$", err: "%2F"},
		{in: "/npm/~", err: "empty"},
		{in: "/npm/space/~", err: "empty"},
		{in: "/npm/sp*ce/*", err: "only suffixes"},
		{in: "/npm/space/a$b$", err: "only suffixes"},
		{in: "/npm/space/a%zz$", err: "percent-encoding"},
		{in: "/npm/space/a%20b$", err: "whitespace"},
		{in: "/npm/space/a%23b$", err: "'#'"},
		{in: "/pypi/ns/*", err: "no namespace"},
		{in: "/pypi/ns~", err: "no namespace"},
		{in: "/maven//log4j$", err: "always have a namespace"},
		{in: "/generic//file~", err: "always have a namespace"},
	} {
		p, err := registry.ParseGroupPattern(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: want an error mentioning %q, got %v", c.in, c.err, err)
			}
			continue
		}
		if err != nil || p.String() != c.canonical {
			t.Errorf("%s: got %q, %v; want %q", c.in, p.String(), err, c.canonical)
		}
	}
}

func TestGroupPatternMatch(t *testing.T) {
	const no, weak, strong = 0, 1, 2
	for _, c := range []struct {
		pattern, format, ns, name string
		want                      int
	}{
		{"/*", "pypi", "", "anything", strong},
		{"/npm/*", "npm", "space", "ui", strong},
		{"/npm/*", "pypi", "", "ui", no},
		{"/npm/space/*", "npm", "space", "ui", strong},
		{"/npm/space/*", "npm", "spaces", "ui", no},
		{"/npm//*", "npm", "", "react", strong},
		{"/npm//*", "npm", "space", "react", no},
		{"/npm//react$", "npm", "", "react", strong},
		{"/npm//react$", "npm", "", "react-dom", no},
		{"/npm//react$", "npm", "", "React", weak},
		// "~" matches a word prefix: the prefix must end on a word boundary.
		{"/npm/space/anycompany-ui~", "npm", "space", "anycompany-ui", strong},
		{"/npm/space/anycompany-ui~", "npm", "space", "anycompany-ui-components", strong},
		{"/npm/space/anycompany-ui~", "npm", "space", "anycompany-ui.core", strong},
		{"/npm/space/anycompany-ui~", "npm", "space", "anycompany-uicomponents", no},
		{"/npm/space/anycompany-~", "npm", "space", "anycompany-uicomponents", strong},
		{"/npm/space/anycompany-ui~", "npm", "space", "AnyCompany-UI-kit", weak},
		{"/maven/com.anycompany~", "maven", "com.anycompany", "x", strong},
		{"/maven/com.anycompany~", "maven", "com.anycompany.tools", "x", strong},
		{"/maven/com.anycompany~", "maven", "com.anycompanyx", "x", no},
		{"/maven/com.anycompany~", "maven", "org.anycompany", "x", no},
		{"/pypi//req~", "pypi", "", "requests", no},
		{"/pypi//requests~", "pypi", "", "requests-oauthlib", strong},
		{"/generic/team/a%2Ab$", "generic", "team", "a*b", strong},
	} {
		p, err := registry.ParseGroupPattern(c.pattern)
		if err != nil {
			t.Fatalf("%s: %v", c.pattern, err)
		}
		ok, s := p.Match(c.format, c.ns, c.name)
		got := no
		if ok && s {
			got = strong
		} else if ok {
			got = weak
		}
		if got != c.want {
			t.Errorf("%s vs /%s/%s/%s: got %d, want %d (0 no match, 1 weak, 2 strong)", c.pattern, c.format, c.ns, c.name, got, c.want)
		}
	}
}

func groupDomain(t *testing.T, patterns ...string) (*registry.Registry, context.Context) {
	t.Helper()
	ctx := context.Background()
	r := newRegistry(t)
	if _, err := r.CreateDomain(ctx, owner, "dom", ""); err != nil {
		t.Fatal(err)
	}
	for _, p := range patterns {
		if _, err := r.CreatePackageGroup(ctx, owner, "dom", p, "", ""); err != nil {
			t.Fatalf("creating %s: %v", p, err)
		}
	}
	return r, ctx
}

func TestGroupHierarchy(t *testing.T) {
	r, ctx := groupDomain(t, "/npm/*", "/npm/space/*", "/npm/space/ui~", "/npm/space/ui-kit$",
		"/maven/com.acme~", "/maven/com.acme.tools~", "/maven/com.acme.tools/cli$", "/pypi//requests$")

	// The root exists with every domain, allows everything and has no parent.
	root, err := r.DescribePackageGroup(ctx, owner, "dom", "/*")
	if err != nil || root.Parent != "" || root.Restrictions[registry.RestrictPublish].EffectiveMode != registry.Allow {
		t.Fatalf("root group: %+v %v", root, err)
	}
	for child, parent := range map[string]string{
		"/npm/*": "/*", "/npm/space/*": "/npm/*", "/npm/space/ui~": "/npm/space/*", "/npm/space/ui-kit$": "/npm/space/ui~",
		"/maven/com.acme~": "/*", "/maven/com.acme.tools~": "/maven/com.acme~", "/maven/com.acme.tools/cli$": "/maven/com.acme.tools~",
		"/pypi//requests$": "/*",
	} {
		g, err := r.DescribePackageGroup(ctx, owner, "dom", child)
		if err != nil || g.Parent != parent {
			t.Errorf("parent of %s: got %q (%v), want %s", child, g.Parent, err, parent)
		}
	}

	// A package belongs to its most specific matching group.
	for _, c := range []struct{ format, ns, name, group string }{
		{"npm", "", "react", "/npm/*"},
		{"npm", "space", "amplify", "/npm/space/*"},
		{"npm", "space", "ui-core", "/npm/space/ui~"},
		{"npm", "space", "ui-kit", "/npm/space/ui-kit$"},
		{"maven", "com.acme.tools", "cli", "/maven/com.acme.tools/cli$"},
		{"maven", "com.acme.tools", "gui", "/maven/com.acme.tools~"},
		{"maven", "com.acme", "core", "/maven/com.acme~"},
		{"pypi", "", "Requests", "/pypi//requests$"}, // normalized before matching
		{"pypi", "", "urllib3", "/*"},
	} {
		g, strong, err := r.GetAssociatedPackageGroup(ctx, owner, "dom", c.format, c.ns, c.name)
		if err != nil || g.Pattern != c.group || !strong {
			t.Errorf("/%s/%s/%s: associated with %s (strong %v, %v), want %s", c.format, c.ns, c.name, g.Pattern, strong, err, c.group)
		}
	}

	subs, err := r.ListSubPackageGroups(ctx, owner, "dom", "/npm/space/*")
	if err != nil || len(subs) != 1 || subs[0].Pattern != "/npm/space/ui~" {
		t.Fatalf("sub-groups of /npm/space/*: %+v %v", subs, err)
	}
	// Deleting a group re-parents its children; the root stays.
	if _, err := r.DeletePackageGroup(ctx, owner, "dom", "/npm/space/ui~"); err != nil {
		t.Fatal(err)
	}
	if g, _ := r.DescribePackageGroup(ctx, owner, "dom", "/npm/space/ui-kit$"); g.Parent != "/npm/space/*" {
		t.Fatalf("after deleting its parent, /npm/space/ui-kit$ has parent %q", g.Parent)
	}
	_, err = r.DeletePackageGroup(ctx, owner, "dom", "/*")
	mustKind(t, err, registry.KindValidation, "cannot be deleted")

	_, err = r.CreatePackageGroup(ctx, owner, "dom", "/npm//%2A/../x$", "", "")
	mustKind(t, err, registry.KindValidation, "too many")
	_, err = r.CreatePackageGroup(ctx, owner, "dom", "/npm/%73pace/*", "", "")
	mustKind(t, err, registry.KindConflict, "/npm/space/* already exists")
	_, err = r.CreatePackageGroup(ctx, owner, "dom", "/pypi//Foo_Bar$", "", "")
	mustKind(t, err, registry.KindValidation, "/pypi//foo-bar$")
	_, err = r.CreatePackageGroup(ctx, owner, "dom", "/pypi//Foo_~", "", "")
	mustKind(t, err, registry.KindValidation, "/pypi//foo-~")
	_, err = r.DescribePackageGroup(ctx, owner, "dom", "/npm/other/*")
	mustKind(t, err, registry.KindNotFound, "list-package-groups")
	_, err = r.CreatePackageGroup(ctx, owner, "nodomain", "/npm/*", "", "")
	mustKind(t, err, registry.KindNotFound, "nodomain")
}

func TestGroupRestrictionInheritance(t *testing.T) {
	r, ctx := groupDomain(t, "/pypi/*", "/pypi//internal~", "/pypi//internal-core$")
	r.CreateRepository(ctx, owner, "dom", "ci", "", nil)
	set := func(pattern string, modes map[string]string, add ...registry.AllowedRepository) {
		t.Helper()
		if _, _, err := r.UpdatePackageGroupOriginConfiguration(ctx, owner, "dom", pattern, modes, add, nil); err != nil {
			t.Fatal(err)
		}
	}
	type want struct{ mode, effective, from string }
	check := func(pattern, typ string, w want) {
		t.Helper()
		g, err := r.DescribePackageGroup(ctx, owner, "dom", pattern)
		if err != nil {
			t.Fatal(err)
		}
		got := g.Restrictions[typ]
		if got.Mode != w.mode || got.EffectiveMode != w.effective || got.InheritedFrom != w.from {
			t.Errorf("%s %s: got %+v, want %+v", pattern, typ, got, w)
		}
	}
	// New groups inherit everything; the root's ALLOW reaches the leaves.
	check("/pypi//internal-core$", registry.RestrictPublish, want{registry.Inherit, registry.Allow, "/*"})

	set("/pypi/*", map[string]string{registry.RestrictExternalUpstream: registry.Block})
	set("/pypi//internal~", map[string]string{registry.RestrictPublish: registry.AllowSpecificRepositories},
		registry.AllowedRepository{Repository: "ci", Type: registry.RestrictPublish})
	for _, c := range []struct {
		pattern, typ string
		w            want
	}{
		{"/pypi/*", registry.RestrictExternalUpstream, want{registry.Block, registry.Block, ""}},
		{"/pypi//internal~", registry.RestrictExternalUpstream, want{registry.Inherit, registry.Block, "/pypi/*"}},
		{"/pypi//internal-core$", registry.RestrictExternalUpstream, want{registry.Inherit, registry.Block, "/pypi/*"}},
		{"/pypi//internal-core$", registry.RestrictPublish, want{registry.Inherit, registry.AllowSpecificRepositories, "/pypi//internal~"}},
		{"/pypi//internal-core$", registry.RestrictInternalUpstream, want{registry.Inherit, registry.Allow, "/*"}},
		{"/*", registry.RestrictExternalUpstream, want{registry.Allow, registry.Allow, ""}},
	} {
		check(c.pattern, c.typ, c.w)
	}
	// The nearest explicit setting wins over one further up.
	set("/pypi//internal-core$", map[string]string{registry.RestrictExternalUpstream: registry.Allow})
	check("/pypi//internal-core$", registry.RestrictExternalUpstream, want{registry.Allow, registry.Allow, ""})

	// Refusals a person can act on.
	_, _, err := r.UpdatePackageGroupOriginConfiguration(ctx, owner, "dom", "/*", map[string]string{registry.RestrictPublish: registry.Inherit}, nil, nil)
	mustKind(t, err, registry.KindValidation, "no parent")
	_, _, err = r.UpdatePackageGroupOriginConfiguration(ctx, owner, "dom", "/pypi/*", map[string]string{"PUBLISHING": registry.Block}, nil, nil)
	mustKind(t, err, registry.KindValidation, "EXTERNAL_UPSTREAM, INTERNAL_UPSTREAM or PUBLISH")
	_, _, err = r.UpdatePackageGroupOriginConfiguration(ctx, owner, "dom", "/pypi/*", map[string]string{registry.RestrictPublish: "DENY"}, nil, nil)
	mustKind(t, err, registry.KindValidation, "ALLOW_SPECIFIC_REPOSITORIES")
	_, _, err = r.UpdatePackageGroupOriginConfiguration(ctx, owner, "dom", "/pypi/*", nil,
		[]registry.AllowedRepository{{Repository: "ghost", Type: registry.RestrictPublish}}, nil)
	mustKind(t, err, registry.KindNotFound, "ghost")

	// Allowed lists report what changed and can be listed.
	_, upd, err := r.UpdatePackageGroupOriginConfiguration(ctx, owner, "dom", "/pypi//internal~", nil,
		[]registry.AllowedRepository{{Repository: "ci", Type: registry.RestrictPublish}}, // already there
		[]registry.AllowedRepository{{Repository: "ci", Type: registry.RestrictPublish}})
	if err != nil || fmt.Sprint(upd) != "map[PUBLISH:map[REMOVED:[ci]]]" {
		t.Fatalf("updates: %v %v", upd, err)
	}
	repos, err := r.ListAllowedRepositoriesForGroup(ctx, owner, "dom", "/pypi//internal~", registry.RestrictPublish)
	if err != nil || len(repos) != 0 {
		t.Fatalf("allowed list after removal: %v %v", repos, err)
	}
}

func TestGroupsRestrictPublish(t *testing.T) {
	r, ctx := groupDomain(t, "/pypi//secret~")
	r.CreateRepository(ctx, owner, "dom", "repo", "", nil)
	r.CreateRepository(ctx, owner, "dom", "release", "", nil)
	fn, data := wheel(t, "secret-tool", "1.0", "")

	_, _, err := r.UpdatePackageGroupOriginConfiguration(ctx, owner, "dom", "/pypi//secret~", map[string]string{registry.RestrictPublish: registry.Block}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = publishWheel(ctx, r, "repo", "secret-tool", "1.0", data, fn)
	mustKind(t, err, registry.KindForbidden, "package group /pypi//secret~ blocks publishing")
	mustKind(t, err, registry.KindForbidden, "update-package-group-origin-configuration --domain dom --domain-owner "+owner+" --package-group '/pypi//secret~' --restrictions PUBLISH=ALLOW")
	// Other packages are not in the group.
	ofn, odata := wheel(t, "public-tool", "1.0", "")
	if _, err := publishWheel(ctx, r, "repo", "public-tool", "1.0", odata, ofn); err != nil {
		t.Fatal(err)
	}

	// ALLOW_SPECIFIC_REPOSITORIES admits the listed repositories only.
	_, _, err = r.UpdatePackageGroupOriginConfiguration(ctx, owner, "dom", "/pypi//secret~", map[string]string{registry.RestrictPublish: registry.AllowSpecificRepositories},
		[]registry.AllowedRepository{{Repository: "release", Type: registry.RestrictPublish}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = publishWheel(ctx, r, "repo", "secret-tool", "1.0", data, fn)
	mustKind(t, err, registry.KindForbidden, "--add-allowed-repositories originRestrictionType=PUBLISH,repositoryName=repo")
	if _, err := publishWheel(ctx, r, "release", "secret-tool", "1.0", data, fn); err != nil {
		t.Fatalf("publishing to an allowed repository: %v", err)
	}

	// A group that allows does not lift the package's own publish=BLOCK.
	ref := registry.RepoRef{Owner: owner, Domain: "dom", Repository: "release"}
	if _, err := r.PutOriginConfiguration(ctx, ref, "pypi", "", "secret-tool", registry.Block, registry.Allow); err != nil {
		t.Fatal(err)
	}
	fn2, data2 := wheel(t, "secret-tool", "2.0", "")
	_, err = publishWheel(ctx, r, "release", "secret-tool", "2.0", data2, fn2)
	mustKind(t, err, registry.KindForbidden, "put-package-origin-configuration")
}

// TestGroupsRestrictUpstreams: INTERNAL_UPSTREAM applies to the requesting
// repository, EXTERNAL_UPSTREAM to the repository holding the connection;
// the package's own upstream=BLOCK keeps applying on top.
func TestGroupsRestrictUpstreams(t *testing.T) {
	index := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		name := strings.Trim(strings.TrimPrefix(req.URL.Path, "/simple/"), "/")
		fmt.Fprintf(w, `<html><body><a href="/packages/%[1]s-9.0-py3-none-any.whl#sha256=%[2]s">%[1]s-9.0-py3-none-any.whl</a></body></html>`,
			strings.ReplaceAll(name, "-", "_"), strings.Repeat("a", 64))
	}))
	defer index.Close()
	r, ctx := groupDomain(t, "/pypi//lib$")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := r.UseUpstreams(upstream.New(upstream.Config{}, r.Store(), log), map[string]upstream.Connection{"public:pypi": upstream.MustParseConnection(index.URL + "/simple/")}); err != nil {
		t.Fatal(err)
	}
	r.CreateRepository(ctx, owner, "dom", "store", "", nil)
	r.AssociateExternalConnection(ctx, owner, "dom", "store", "public:pypi")
	r.CreateRepository(ctx, owner, "dom", "team", "", nil)
	r.CreateRepository(ctx, owner, "dom", "app", "", []string{"team", "store"})
	fn, data := wheel(t, "lib", "1.0", "")
	if _, err := publishWheel(ctx, r, "team", "lib", "1.0", data, fn); err != nil {
		t.Fatal(err)
	}
	// team's lib is internal (upstream=BLOCK), which would hide the public
	// one; let it merge so both kinds of source are visible.
	if _, err := r.PutOriginConfiguration(ctx, registry.RepoRef{Owner: owner, Domain: "dom", Repository: "team"}, "pypi", "", "lib", registry.Allow, registry.Allow); err != nil {
		t.Fatal(err)
	}
	restrict := func(modes map[string]string, add ...registry.AllowedRepository) {
		t.Helper()
		if _, _, err := r.UpdatePackageGroupOriginConfiguration(ctx, owner, "dom", "/pypi//lib$", modes, add, nil); err != nil {
			t.Fatal(err)
		}
	}
	versions := func(repo string) string {
		t.Helper()
		v, err := r.PackageView(ctx, registry.RepoRef{Owner: owner, Domain: "dom", Repository: repo}, "pypi", "", "lib")
		if err != nil {
			return err.Error()
		}
		var out []string
		for _, f := range v.Files {
			out = append(out, f.Asset.Version+"@"+f.Source)
		}
		return strings.Join(out, " ")
	}
	expect := func(repo, want string) {
		t.Helper()
		// A refusal is checked by its wording, a view by its exact files.
		if got := versions(repo); !strings.Contains(got, want) || !strings.Contains(want, "blocks ") && got != want {
			t.Errorf("%s sees %q, want %q", repo, got, want)
		}
	}
	expect("app", "1.0@team 9.0@store (public:pypi)")
	expect("store", "9.0@store (public:pypi)")

	restrict(map[string]string{registry.RestrictExternalUpstream: registry.Block})
	expect("app", "1.0@team")
	expect("store", "package group /pypi//lib$ blocks ingesting from external connections into repository store")

	restrict(map[string]string{registry.RestrictExternalUpstream: registry.AllowSpecificRepositories},
		registry.AllowedRepository{Repository: "store", Type: registry.RestrictExternalUpstream})
	expect("app", "1.0@team 9.0@store (public:pypi)")

	// INTERNAL_UPSTREAM stops app from taking anything through its
	// upstreams, the public version held by store included.
	restrict(map[string]string{registry.RestrictInternalUpstream: registry.Block})
	expect("app", "blocks retaining from upstream repositories into repository app")
	expect("team", "1.0@team")
	expect("store", "9.0@store (public:pypi)")
	restrict(map[string]string{registry.RestrictInternalUpstream: registry.AllowSpecificRepositories},
		registry.AllowedRepository{Repository: "app", Type: registry.RestrictInternalUpstream})
	expect("app", "1.0@team 9.0@store (public:pypi)")

	// The package's own origin controls still apply: team's upstream=BLOCK
	// ends the walk there, whatever the group allows.
	if _, err := r.PutOriginConfiguration(ctx, registry.RepoRef{Owner: owner, Domain: "dom", Repository: "team"}, "pypi", "", "lib", registry.Allow, registry.Block); err != nil {
		t.Fatal(err)
	}
	expect("app", "1.0@team")
}

func TestGroupAssociatedPackages(t *testing.T) {
	r, ctx := groupDomain(t, "/pypi/*", "/pypi//web~")
	r.CreateRepository(ctx, owner, "dom", "a", "", nil)
	r.CreateRepository(ctx, owner, "dom", "b", "", nil)
	for _, p := range []struct{ repo, name string }{{"a", "web-core"}, {"b", "web-core"}, {"b", "web"}, {"a", "cli"}, {"b", "webby"}} {
		fn, data := wheel(t, p.name, "1.0", "")
		if _, err := publishWheel(ctx, r, p.repo, p.name, "1.0", data, fn); err != nil {
			t.Fatal(err)
		}
	}
	names := func(pattern string, preview bool) string {
		t.Helper()
		ps, err := r.ListAssociatedPackages(ctx, owner, "dom", pattern, preview)
		if err != nil {
			return err.Error()
		}
		var out []string
		for _, p := range ps {
			out = append(out, p.Name)
		}
		return strings.Join(out, " ")
	}
	for _, c := range []struct {
		pattern string
		preview bool
		want    string
	}{
		{"/pypi//web~", false, "web web-core"},
		{"/pypi/*", false, "cli webby"}, // the rest belongs to the more specific group
		{"/*", false, ""},
		{"/pypi//web-core$", true, "web-core"}, // would move out of /pypi//web~
		{"/pypi//web-core$", false, "not found"},
	} {
		if got := names(c.pattern, c.preview); !strings.Contains(got, c.want) || c.want == "" && got != "" {
			t.Errorf("%s (preview %v): %q, want %q", c.pattern, c.preview, got, c.want)
		}
	}
}
