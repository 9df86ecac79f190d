package api

import (
	"context"
	"fmt"

	"github.com/wharfhq/wharf/internal/registry"
	"github.com/wharfhq/wharf/internal/store"
)

type upstreamInfo struct {
	RepositoryName string `json:"repositoryName"`
}

type externalConnectionInfo struct {
	ExternalConnectionName string `json:"externalConnectionName"`
	PackageFormat          string `json:"packageFormat,omitempty"`
	Status                 string `json:"status"`
}

type repositoryDescription struct {
	Name                 string                   `json:"name"`
	AdministratorAccount string                   `json:"administratorAccount"`
	DomainName           string                   `json:"domainName"`
	DomainOwner          string                   `json:"domainOwner"`
	ARN                  string                   `json:"arn"`
	Description          string                   `json:"description,omitempty"`
	Upstreams            []upstreamInfo           `json:"upstreams"`
	ExternalConnections  []externalConnectionInfo `json:"externalConnections"`
	CreatedTime          epoch                    `json:"createdTime"`
}

type repositorySummary struct {
	Name                 string `json:"name"`
	AdministratorAccount string `json:"administratorAccount"`
	DomainName           string `json:"domainName"`
	DomainOwner          string `json:"domainOwner"`
	ARN                  string `json:"arn"`
	Description          string `json:"description,omitempty"`
	CreatedTime          epoch  `json:"createdTime"`
}

func (a *API) repositoryDescription(r store.Repository) repositoryDescription {
	d := repositoryDescription{
		Name: r.Name, AdministratorAccount: r.DomainOwner, DomainName: r.DomainName, DomainOwner: r.DomainOwner,
		ARN: a.arn(fmt.Sprintf("repository/%s/%s", r.DomainName, r.Name)), Description: r.Description,
		Upstreams: []upstreamInfo{}, ExternalConnections: []externalConnectionInfo{}, CreatedTime: epoch(r.CreatedAt),
	}
	for _, u := range r.Upstreams {
		d.Upstreams = append(d.Upstreams, upstreamInfo{RepositoryName: u})
	}
	for _, x := range r.ExternalConnections {
		d.ExternalConnections = append(d.ExternalConnections, externalConnectionInfo{
			ExternalConnectionName: x, PackageFormat: registry.ExternalConnections[x].Format, Status: "Available"})
	}
	return d
}

// upstreamNames reads the UpstreamRepositoryList member.
func upstreamNames(list []any) []string {
	names := make([]string, 0, len(list))
	for _, u := range list {
		if m, ok := u.(map[string]any); ok {
			if n, ok := m["repositoryName"].(string); ok {
				names = append(names, n)
			}
		}
	}
	return names
}

func (a *API) createRepository(ctx context.Context, c *call) (any, error) {
	owner, err := a.owner(c)
	if err != nil {
		return nil, err
	}
	tags, err := parseTags(c.in.List("tags"))
	if err != nil {
		return nil, err
	}
	r, err := a.reg.CreateRepository(ctx, owner, c.in.String("domain"), c.in.String("repository"),
		c.in.String("description"), upstreamNames(c.in.List("upstreams")))
	if err != nil {
		return nil, err
	}
	if err := a.addTags(ctx, a.repositoryDescription(r).ARN, tags); err != nil {
		return nil, err
	}
	a.cfg.Log.Info("repository created", "domain", r.DomainName, "repository", r.Name, "by", c.caller.Principal)
	a.warnConfusion(ctx, r)
	return map[string]any{"repository": a.repositoryDescription(r)}, nil
}

func (a *API) describeRepository(ctx context.Context, c *call) (any, error) {
	owner, err := a.owner(c)
	if err != nil {
		return nil, err
	}
	r, err := a.reg.GetRepository(ctx, owner, c.in.String("domain"), c.in.String("repository"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"repository": a.repositoryDescription(r)}, nil
}

func (a *API) updateRepository(ctx context.Context, c *call) (any, error) {
	owner, err := a.owner(c)
	if err != nil {
		return nil, err
	}
	r, err := a.reg.UpdateRepository(ctx, owner, c.in.String("domain"), c.in.String("repository"),
		c.in.OptString("description"), upstreamNames(c.in.List("upstreams")), c.in.Has("upstreams"))
	if err != nil {
		return nil, err
	}
	if c.in.Has("upstreams") {
		a.warnConfusion(ctx, r)
	}
	return map[string]any{"repository": a.repositoryDescription(r)}, nil
}

func (a *API) listRepositories(ctx context.Context, c *call) (any, error) {
	return a.listRepos(ctx, c, a.cfg.AccountID, "")
}

func (a *API) listRepositoriesInDomain(ctx context.Context, c *call) (any, error) {
	owner, err := a.owner(c)
	if err != nil {
		return nil, err
	}
	return a.listRepos(ctx, c, owner, c.in.String("domain"))
}

func (a *API) listRepos(ctx context.Context, c *call, owner, domain string) (any, error) {
	if admin := c.in.String("administratorAccount"); admin != "" && admin != a.cfg.AccountID {
		return map[string]any{"repositories": []repositorySummary{}}, nil
	}
	repos, next, err := a.reg.ListRepositories(ctx, owner, domain, c.in.String("repositoryPrefix"),
		store.Page{After: c.in.String("nextToken"), Limit: pageSize(c)})
	if err != nil {
		return nil, err
	}
	out := make([]repositorySummary, 0, len(repos))
	for _, r := range repos {
		out = append(out, repositorySummary{
			Name: r.Name, AdministratorAccount: r.DomainOwner, DomainName: r.DomainName, DomainOwner: r.DomainOwner,
			ARN: a.arn(fmt.Sprintf("repository/%s/%s", r.DomainName, r.Name)), Description: r.Description, CreatedTime: epoch(r.CreatedAt),
		})
	}
	return map[string]any{"repositories": out, "nextToken": nonEmpty(next)}, nil
}

func (a *API) deleteRepository(ctx context.Context, c *call) (any, error) {
	owner, err := a.owner(c)
	if err != nil {
		return nil, err
	}
	r, err := a.reg.DeleteRepository(ctx, owner, c.in.String("domain"), c.in.String("repository"))
	if err != nil {
		return nil, err
	}
	a.forget(ctx, a.repositoryDescription(r).ARN)
	a.cfg.Log.Info("repository deleted", "domain", r.DomainName, "repository", r.Name, "by", c.caller.Principal)
	return map[string]any{"repository": a.repositoryDescription(r)}, nil
}

func (a *API) associateExternalConnection(ctx context.Context, c *call) (any, error) {
	return a.changeConnection(ctx, c, a.reg.AssociateExternalConnection, "external connection associated")
}

func (a *API) disassociateExternalConnection(ctx context.Context, c *call) (any, error) {
	return a.changeConnection(ctx, c, a.reg.DisassociateExternalConnection, "external connection disassociated")
}

// changeConnection applies an (dis)association and answers with the
// repository as it now is.
func (a *API) changeConnection(ctx context.Context, c *call, change func(ctx context.Context, owner, domain, repo, connection string) (store.Repository, error), logMsg string) (any, error) {
	owner, err := a.owner(c)
	if err != nil {
		return nil, err
	}
	connection := c.in.String("externalConnection")
	r, err := change(ctx, owner, c.in.String("domain"), c.in.String("repository"), connection)
	if err != nil {
		return nil, err
	}
	a.cfg.Log.Info(logMsg, "repository", r.Name, "connection", connection, "by", c.caller.Principal)
	if len(r.ExternalConnections) > 0 { // associated: may now be searched before an internal repository
		a.warnConfusion(ctx, r)
	}
	return map[string]any{"repository": a.repositoryDescription(r)}, nil
}

// warnConfusion logs a warning for every repository whose search order,
// after a change to r, puts an external connection before a repository of
// packages published in the domain (registry.ConfusionRisks). The change
// stands either way: CodeArtifact's semantics are kept.
func (a *API) warnConfusion(ctx context.Context, r store.Repository) {
	risks, err := a.reg.ConfusionRisksAround(ctx, r.DomainOwner, r.DomainName, r.Name)
	if err != nil {
		a.cfg.Log.Warn("could not check search orders for dependency confusion", "domain", r.DomainName, "repository", r.Name, "err", err)
		return
	}
	for _, risk := range risks {
		a.cfg.Log.Warn("dependency confusion possible: "+risk.String(), "domain", r.DomainName, "repository", risk.Repository,
			"connection", risk.Connection, "via", risk.Via, "holder", risk.Holder)
	}
}

// servedFormats are the formats with a data plane in this build.
var servedFormats = map[string]bool{"pypi": true, "generic": true}

func (a *API) getRepositoryEndpoint(ctx context.Context, c *call) (any, error) {
	owner, err := a.owner(c)
	if err != nil {
		return nil, err
	}
	domain, repo, format := c.in.String("domain"), c.in.String("repository"), c.in.String("format")
	if _, err := a.reg.GetRepository(ctx, owner, domain, repo); err != nil {
		return nil, err
	}
	if !servedFormats[format] {
		return nil, registry.Invalid("wharf does not serve the %s format yet; supported: pypi, generic", format)
	}
	return map[string]any{"repositoryEndpoint": RepositoryEndpoint(a.cfg.PublicURL, owner, domain, format, repo)}, nil
}

// RepositoryEndpoint is the URL clients use for one repository and format.
// It mirrors CodeArtifact's {domain}-{owner} host label as a path segment.
func RepositoryEndpoint(publicURL, owner, domain, format, repo string) string {
	return fmt.Sprintf("%s/%s-%s/%s/%s/", trimSlash(publicURL), domain, owner, format, repo)
}
