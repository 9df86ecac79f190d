package registry

import (
	"context"
	"errors"
	"slices"

	"github.com/wharfhq/wharf/internal/store"
)

func isErr(err, target error) bool { return errors.Is(err, target) }

// DomainInfo is a domain with the figures DescribeDomain reports.
type DomainInfo struct {
	store.Domain
	RepositoryCount int
	AssetSizeBytes  int64
}

func (r *Registry) CreateDomain(ctx context.Context, owner, name, encryptionKey string) (DomainInfo, error) {
	d := store.Domain{Owner: owner, Name: name, EncryptionKey: encryptionKey, CreatedAt: r.now().UTC()}
	if err := r.store.CreateDomain(ctx, d); err != nil {
		if isErr(err, store.ErrExists) {
			return DomainInfo{}, Conflict("domain", name, "domain %s already exists in account %s; pick another name or use the existing domain", name, owner)
		}
		return DomainInfo{}, err
	}
	// Every domain has the root package group, holding its default origin
	// restrictions (ALLOW); groupTree recreates it if this write is lost.
	if err := r.store.CreatePackageGroup(ctx, rootGroup(owner, name, d.CreatedAt)); err != nil && !isErr(err, store.ErrExists) {
		return DomainInfo{}, err
	}
	return DomainInfo{Domain: d}, nil
}

func (r *Registry) GetDomain(ctx context.Context, owner, name string) (store.Domain, error) {
	d, err := r.store.GetDomain(ctx, owner, name)
	if isErr(err, store.ErrNotFound) {
		return d, NotFound("domain", name, "domain %s (owner %s) not found; list domains with `aws codeartifact list-domains`", name, owner)
	}
	return d, err
}

func (r *Registry) DescribeDomain(ctx context.Context, owner, name string) (DomainInfo, error) {
	d, err := r.GetDomain(ctx, owner, name)
	if err != nil {
		return DomainInfo{}, err
	}
	n, err := r.store.CountRepositories(ctx, owner, name)
	if err != nil {
		return DomainInfo{}, err
	}
	_, size, err := r.store.DomainAssetStats(ctx, owner, name)
	if err != nil {
		return DomainInfo{}, err
	}
	return DomainInfo{Domain: d, RepositoryCount: n, AssetSizeBytes: size}, nil
}

func (r *Registry) ListDomains(ctx context.Context, page store.Page) ([]store.Domain, string, error) {
	return r.store.ListDomains(ctx, page)
}

// DeleteDomain refuses while repositories remain, as AWS does.
func (r *Registry) DeleteDomain(ctx context.Context, owner, name string) (DomainInfo, error) {
	info, err := r.DescribeDomain(ctx, owner, name)
	if err != nil {
		return info, err
	}
	err = r.store.DeleteDomain(ctx, owner, name)
	if isErr(err, store.ErrNotEmpty) {
		return info, Conflict("domain", name, "domain %s still has %d repositories; delete them first (aws codeartifact list-repositories-in-domain --domain %s, then delete-repository)", name, info.RepositoryCount, name)
	}
	return info, translate(err, "domain", name)
}

// MaxUpstreams is CodeArtifact's limit of direct upstream repositories.
const MaxUpstreams = 10

func (r *Registry) CreateRepository(ctx context.Context, owner, domain, name, description string, upstreams []string) (store.Repository, error) {
	if _, err := r.GetDomain(ctx, owner, domain); err != nil {
		return store.Repository{}, err
	}
	if err := r.checkUpstreams(ctx, owner, domain, name, upstreams); err != nil {
		return store.Repository{}, err
	}
	repo := store.Repository{
		DomainOwner: owner, DomainName: domain, Name: name, Description: description,
		Upstreams: upstreams, CreatedAt: r.now().UTC(),
	}
	if err := r.store.CreateRepository(ctx, repo); err != nil {
		if isErr(err, store.ErrExists) {
			return repo, Conflict("repository", name, "repository %s already exists in domain %s", name, domain)
		}
		return repo, err
	}
	return repo, nil
}

func (r *Registry) GetRepository(ctx context.Context, owner, domain, name string) (store.Repository, error) {
	repo, err := r.store.GetRepository(ctx, owner, domain, name)
	if isErr(err, store.ErrNotFound) {
		if _, derr := r.GetDomain(ctx, owner, domain); derr != nil {
			return repo, derr
		}
		return repo, NotFound("repository", name, "repository %s not found in domain %s; list them with `aws codeartifact list-repositories-in-domain --domain %s`", name, domain, domain)
	}
	return repo, err
}

// repository is GetRepository for the paths every request takes (package
// addresses, resolutions): remembered while no repository or domain
// changes. The control plane reads through GetRepository, exactly.
func (r *Registry) repository(ctx context.Context, ref RepoRef) (store.Repository, error) {
	return r.repos.get(repoKey{ref.Owner, ref.Domain, ref.Repository}, func() (store.Repository, error) {
		return r.GetRepository(ctx, ref.Owner, ref.Domain, ref.Repository)
	})
}

// UpdateRepository changes the description and/or the upstream list (nil
// leaves a field unchanged).
func (r *Registry) UpdateRepository(ctx context.Context, owner, domain, name string, description *string, upstreams []string, setUpstreams bool) (store.Repository, error) {
	repo, err := r.GetRepository(ctx, owner, domain, name)
	if err != nil {
		return repo, err
	}
	if description != nil {
		repo.Description = *description
	}
	if setUpstreams {
		if err := r.checkUpstreams(ctx, owner, domain, name, upstreams); err != nil {
			return repo, err
		}
		repo.Upstreams = upstreams
	}
	return repo, translate(r.store.UpdateRepository(ctx, repo), "repository", name)
}

// checkUpstreams enforces the upstream rules: at most 10, each once, each an
// existing repository of the same domain, and no cycle back to repo.
func (r *Registry) checkUpstreams(ctx context.Context, owner, domain, repo string, upstreams []string) error {
	if len(upstreams) > MaxUpstreams {
		return Invalid("a repository can have at most %d upstream repositories; %d were given", MaxUpstreams, len(upstreams))
	}
	for i, u := range upstreams {
		if slices.Contains(upstreams[:i], u) {
			return Invalid("upstream repository %s is listed twice", u)
		}
		if u == repo {
			return Invalid("repository %s cannot be its own upstream", repo)
		}
		if _, err := r.GetRepository(ctx, owner, domain, u); err != nil {
			if IsKind(err, KindNotFound) {
				return Invalid("upstream repository %s does not exist in domain %s; create it first", u, domain)
			}
			return err
		}
	}
	// A cycle exists if repo is reachable from one of its new upstreams.
	for _, u := range upstreams {
		if path, err := r.pathTo(ctx, owner, domain, u, repo, map[string]bool{}); err != nil {
			return err
		} else if path != nil {
			return Invalid("adding upstream %s would create a cycle: %s", u, formatCycle(repo, path))
		}
	}
	return nil
}

// pathTo returns the chain of upstream links from `from` to `target`, or nil.
func (r *Registry) pathTo(ctx context.Context, owner, domain, from, target string, seen map[string]bool) ([]string, error) {
	if from == target {
		return []string{from}, nil
	}
	if seen[from] {
		return nil, nil
	}
	seen[from] = true
	repo, err := r.store.GetRepository(ctx, owner, domain, from)
	if err != nil {
		if isErr(err, store.ErrNotFound) {
			return nil, nil
		}
		return nil, err
	}
	for _, u := range repo.Upstreams {
		p, err := r.pathTo(ctx, owner, domain, u, target, seen)
		if err != nil || p != nil {
			return append([]string{from}, p...), err
		}
	}
	return nil, nil
}

func formatCycle(repo string, path []string) string {
	s := repo
	for _, p := range path {
		s += " -> " + p
	}
	return s
}

// ListRepositories lists repositories of one domain (domain != "") or of
// all domains of the account.
func (r *Registry) ListRepositories(ctx context.Context, owner, domain, prefix string, page store.Page) ([]store.Repository, string, error) {
	if domain != "" {
		if _, err := r.GetDomain(ctx, owner, domain); err != nil {
			return nil, "", err
		}
	}
	return r.store.ListRepositories(ctx, owner, domain, prefix, page)
}

// DeleteRepository deletes a repository with its packages. It refuses while
// another repository lists it as an upstream, so no chain breaks silently.
func (r *Registry) DeleteRepository(ctx context.Context, owner, domain, name string) (store.Repository, error) {
	repo, err := r.GetRepository(ctx, owner, domain, name)
	if err != nil {
		return repo, err
	}
	if down, err := r.downstreamOf(ctx, owner, domain, name); err != nil {
		return repo, err
	} else if down != "" {
		return repo, Conflict("repository", name, "repository %s is an upstream of repository %s; remove it from %s's upstreams first (aws codeartifact update-repository --domain %s --repository %s --upstreams ...)", name, down, down, domain, down)
	}
	orphans, err := r.store.DeleteRepository(ctx, owner, domain, name)
	if err != nil {
		return repo, translate(err, "repository", name)
	}
	r.removeBlobs(ctx, owner, domain, orphans)
	return repo, nil
}

func (r *Registry) downstreamOf(ctx context.Context, owner, domain, name string) (string, error) {
	after := ""
	for {
		repos, next, err := r.store.ListRepositories(ctx, owner, domain, "", store.Page{After: after, Limit: 500})
		if err != nil {
			return "", err
		}
		for _, repo := range repos {
			if slices.Contains(repo.Upstreams, name) {
				return repo.Name, nil
			}
		}
		if next == "" {
			return "", nil
		}
		after = next
	}
}
