package registry

import (
	"context"
	"fmt"
	"strings"

	"github.com/wharfhq/wharf/internal/store"
)

// Dependency confusion through the search order.
//
// Like CodeArtifact, a resolution merges versions from every source in the
// search order (searchOrder), first source first. When an external
// connection comes before a repository whose packages were published inside
// the domain (app -> [store (public:pypi), internal]), a public package of
// the same name is merged with the internal one, and its higher version
// wins. Wharf keeps those semantics; ConfusionRisks finds such orders so that
// `wharf doctor` and the control plane's log can warn about them.

// ConfusionRisk is one external connection searched before a repository
// that holds packages published inside the domain.
type ConfusionRisk struct {
	Repository string   // the repository whose search order this is
	Connection string   // e.g. public:pypi
	Via        string   // the repository that has the connection
	Holder     string   // the repository searched after the connection
	Packages   []string // the first names exposed (at most confusionNames)
	More       bool     // more names than Packages are exposed
}

// confusionNames is how many names a risk lists; confusionScan bounds the
// packages read per repository, so the check stays cheap on big repositories.
const (
	confusionNames = 3
	confusionScan  = 200
)

func (c ConfusionRisk) String() string {
	names := strings.Join(c.Packages, ", ")
	if c.More {
		names += ", ..."
	}
	return fmt.Sprintf("in repository %s's search order, external connection %s (via repository %s) is searched before repository %s, "+
		"which holds packages published in the domain (%s): a public package of the same name would be merged with them, and its higher versions preferred. "+
		"List %s before %s in the upstreams, or block external upstreams for these names with a package group",
		c.Repository, c.Connection, c.Via, c.Holder, names, c.Holder, c.Via)
}

// ConfusionRisks walks ref's search order and reports every external
// connection that comes before a repository holding packages (of the
// connection's format) with versions published inside the domain, unless a
// package group keeps the connection away from them or an earlier
// repository's package stops the search (upstream=BLOCK). Read-only.
func (r *Registry) ConfusionRisks(ctx context.Context, ref RepoRef) ([]ConfusionRisk, error) {
	order, err := r.searchOrder(ctx, ref)
	if err != nil {
		return nil, err
	}
	var risks []ConfusionRisk
	for i, conn := range order {
		if conn.connection == "" {
			continue
		}
		format := ExternalConnections[conn.connection].Format
		for _, later := range order[i+1:] {
			if later.connection != "" {
				continue
			}
			names, more, err := r.exposedPackages(ctx, ref, order[:i], conn, later.repo, format)
			if err != nil {
				return nil, err
			}
			if len(names) > 0 {
				risks = append(risks, ConfusionRisk{Repository: ref.Repository, Connection: conn.connection,
					Via: conn.repo.Name, Holder: later.repo.Name, Packages: names, More: more})
			}
		}
	}
	return risks, nil
}

// exposedPackages lists the first packages of holder (in format) that have
// a version published inside the domain and that a public package reached
// through conn would be merged with.
func (r *Registry) exposedPackages(ctx context.Context, ref RepoRef, before []source, conn source, holder store.Repository, format string) ([]string, bool, error) {
	var names []string
	page := store.Page{Limit: 100}
	for scanned := 0; scanned < confusionScan; {
		pkgs, next, err := r.store.ListPackages(ctx, holder.DomainOwner, holder.DomainName, holder.Name, store.PackageFilter{Format: format}, page)
		if err != nil {
			return nil, false, err
		}
		for _, p := range pkgs {
			scanned++
			exposed, err := r.exposed(ctx, ref, before, conn, p)
			if err != nil {
				return nil, false, err
			}
			if !exposed {
				continue
			}
			if len(names) == confusionNames {
				return names, true, nil
			}
			names = append(names, p.DisplayName)
		}
		if next == "" {
			break
		}
		page.After = next
	}
	return names, false, nil
}

// exposed: p has a version published inside the domain, the package's group
// lets conn serve it to ref, and no repository searched before conn stops
// the search for it.
func (r *Registry) exposed(ctx context.Context, ref RepoRef, before []source, conn source, p store.Package) (bool, error) {
	gate, err := r.upstreamGate(ctx, ref, p.PackageKey)
	if err != nil {
		return false, err
	}
	if !gate.allows(conn) {
		return false, nil
	}
	for _, src := range before {
		if src.connection != "" {
			continue
		}
		k := p.PackageKey
		k.Repository = src.repo.Name
		q, err := r.store.GetPackage(ctx, k)
		if isErr(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return false, err
		}
		if q.OriginUpstream == Block {
			return false, nil
		}
	}
	versions, err := r.store.ListVersions(ctx, p.PackageKey)
	if err != nil {
		return false, err
	}
	for _, v := range versions {
		if v.OriginType == "INTERNAL" {
			return true, nil
		}
	}
	return false, nil
}

// ConfusionRisksAround reports the risks of every repository of the domain
// whose search order includes repo: what a change to repo (its upstreams,
// its connection, its creation) may have created. At most MaxSearched ×
// 4 repositories are checked.
func (r *Registry) ConfusionRisksAround(ctx context.Context, owner, domain, repo string) ([]ConfusionRisk, error) {
	var risks []ConfusionRisk
	page := store.Page{Limit: 100}
	for checked := 0; checked < 4*MaxSearched; {
		repos, next, err := r.store.ListRepositories(ctx, owner, domain, "", page)
		if err != nil {
			return nil, err
		}
		for _, rp := range repos {
			checked++
			ref := RepoRef{Owner: owner, Domain: domain, Repository: rp.Name}
			order, err := r.searchOrder(ctx, ref)
			if err != nil {
				return nil, err
			}
			if !searches(order, repo) {
				continue
			}
			rs, err := r.ConfusionRisks(ctx, ref)
			if err != nil {
				return nil, err
			}
			risks = append(risks, rs...)
		}
		if next == "" {
			break
		}
		page.After = next
	}
	return risks, nil
}

func searches(order []source, repo string) bool {
	for _, s := range order {
		if s.repo.Name == repo {
			return true
		}
	}
	return false
}
