package api

import (
	"context"
	"strings"

	"github.com/wharfhq/wharf/internal/policy"
	"github.com/wharfhq/wharf/internal/registry"
)

// groupOps: package groups.
func (a *API) groupOps() map[string]opFunc {
	return map[string]opFunc{
		"CreatePackageGroup":                    a.createPackageGroup,
		"DescribePackageGroup":                  a.describePackageGroup,
		"UpdatePackageGroup":                    a.updatePackageGroup,
		"DeletePackageGroup":                    a.deletePackageGroup,
		"ListPackageGroups":                     a.listPackageGroups,
		"ListSubPackageGroups":                  a.listSubPackageGroups,
		"UpdatePackageGroupOriginConfiguration": a.updatePackageGroupOriginConfiguration,
		"ListAllowedRepositoriesForGroup":       a.listAllowedRepositoriesForGroup,
		"GetAssociatedPackageGroup":             a.getAssociatedPackageGroup,
		"ListAssociatedPackages":                a.listAssociatedPackages,
	}
}

// groupRef is PackageGroupReference.
type groupRef struct {
	ARN     string `json:"arn"`
	Pattern string `json:"pattern"`
}

// groupRestriction is PackageGroupOriginRestriction.
type groupRestriction struct {
	Mode              string    `json:"mode"`
	EffectiveMode     string    `json:"effectiveMode"`
	InheritedFrom     *groupRef `json:"inheritedFrom,omitempty"`
	RepositoriesCount int64     `json:"repositoriesCount"`
}

type groupOriginConfiguration struct {
	Restrictions map[string]groupRestriction `json:"restrictions"`
}

// groupDescription is PackageGroupDescription (and PackageGroupSummary,
// which has the same members).
type groupDescription struct {
	ARN                 string                   `json:"arn"`
	Pattern             string                   `json:"pattern"`
	DomainName          string                   `json:"domainName"`
	DomainOwner         string                   `json:"domainOwner"`
	CreatedTime         epoch                    `json:"createdTime"`
	ContactInfo         string                   `json:"contactInfo,omitempty"`
	Description         string                   `json:"description,omitempty"`
	OriginConfiguration groupOriginConfiguration `json:"originConfiguration"`
	Parent              *groupRef                `json:"parent,omitempty"`
}

// groupARN names a group: package-group/DOMAIN followed by its pattern,
// with the suffix characters percent-encoded so that an ARN never holds the
// wildcard characters of IAM policies (* and ~ would read as patterns there).
func (a *API) groupARN(domain, pattern string) string {
	return a.arn("package-group/" + domain + strings.NewReplacer("*", "%2A", "~", "%7E", "$", "%24").Replace(pattern))
}

func (a *API) groupRef(domain, pattern string) *groupRef {
	if pattern == "" {
		return nil
	}
	return &groupRef{ARN: a.groupARN(domain, pattern), Pattern: pattern}
}

func (a *API) groupDescription(g registry.PackageGroupInfo) groupDescription {
	d := groupDescription{
		ARN: a.groupARN(g.DomainName, g.Pattern), Pattern: g.Pattern, DomainName: g.DomainName, DomainOwner: g.DomainOwner,
		CreatedTime: epoch(g.CreatedAt), ContactInfo: g.ContactInfo, Description: g.Description,
		OriginConfiguration: groupOriginConfiguration{Restrictions: map[string]groupRestriction{}},
		Parent:              a.groupRef(g.DomainName, g.Parent),
	}
	for typ, r := range g.Restrictions {
		d.OriginConfiguration.Restrictions[typ] = groupRestriction{
			Mode: r.Mode, EffectiveMode: r.EffectiveMode, InheritedFrom: a.groupRef(g.DomainName, r.InheritedFrom),
			RepositoriesCount: int64(len(r.Repositories)),
		}
	}
	return d
}

func (a *API) groupDescriptions(gs []registry.PackageGroupInfo) []groupDescription {
	out := make([]groupDescription, 0, len(gs))
	for _, g := range gs {
		out = append(out, a.groupDescription(g))
	}
	return out
}

func (a *API) createPackageGroup(ctx context.Context, c *call) (any, error) {
	owner, err := a.owner(c)
	if err != nil {
		return nil, err
	}
	domain := c.in.String("domain")
	g, err := a.reg.CreatePackageGroup(ctx, owner, domain, c.in.String("packageGroup"), c.in.String("contactInfo"), c.in.String("description"))
	if err != nil {
		return nil, err
	}
	if tags := tagMap(c.in.List("tags")); len(tags) > 0 {
		if err := a.reg.Store().SetTags(ctx, policy.Key(a.groupARN(domain, g.Pattern)), tags, nil); err != nil {
			return nil, err
		}
	}
	a.cfg.Log.Info("package group created", "domain", domain, "pattern", g.Pattern, "by", c.caller.Principal)
	return map[string]any{"packageGroup": a.groupDescription(g)}, nil
}

// tagMap reads the model's TagList (key and value are required members,
// checked by the binder).
func tagMap(list []any) map[string]string {
	out := map[string]string{}
	for _, t := range list {
		m, _ := t.(map[string]any)
		k, _ := m["key"].(string)
		v, _ := m["value"].(string)
		out[k] = v
	}
	return out
}

func (a *API) describePackageGroup(ctx context.Context, c *call) (any, error) {
	owner, err := a.owner(c)
	if err != nil {
		return nil, err
	}
	g, err := a.reg.DescribePackageGroup(ctx, owner, c.in.String("domain"), c.in.String("packageGroup"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"packageGroup": a.groupDescription(g)}, nil
}

func (a *API) updatePackageGroup(ctx context.Context, c *call) (any, error) {
	owner, err := a.owner(c)
	if err != nil {
		return nil, err
	}
	g, err := a.reg.UpdatePackageGroup(ctx, owner, c.in.String("domain"), c.in.String("packageGroup"), c.in.OptString("contactInfo"), c.in.OptString("description"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"packageGroup": a.groupDescription(g)}, nil
}

func (a *API) deletePackageGroup(ctx context.Context, c *call) (any, error) {
	owner, err := a.owner(c)
	if err != nil {
		return nil, err
	}
	domain := c.in.String("domain")
	g, err := a.reg.DeletePackageGroup(ctx, owner, domain, c.in.String("packageGroup"))
	if err != nil {
		return nil, err
	}
	a.cfg.Log.Info("package group deleted", "domain", domain, "pattern", g.Pattern, "by", c.caller.Principal)
	return map[string]any{"packageGroup": a.groupDescription(g)}, nil
}

func (a *API) listPackageGroups(ctx context.Context, c *call) (any, error) {
	return a.groupPage(ctx, c, a.reg.ListPackageGroups, c.in.String("prefix"))
}

func (a *API) listSubPackageGroups(ctx context.Context, c *call) (any, error) {
	return a.groupPage(ctx, c, a.reg.ListSubPackageGroups, c.in.String("packageGroup"))
}

// groupPage answers a listing of package groups, one page at a time.
func (a *API) groupPage(ctx context.Context, c *call, list func(ctx context.Context, owner, domain, arg string) ([]registry.PackageGroupInfo, error), arg string) (any, error) {
	owner, err := a.owner(c)
	if err != nil {
		return nil, err
	}
	gs, err := list(ctx, owner, c.in.String("domain"), arg)
	if err != nil {
		return nil, err
	}
	page, next, err := paginate(a.groupDescriptions(gs), c.in.String("nextToken"), pageSize(c))
	if err != nil {
		return nil, err
	}
	return map[string]any{"packageGroups": page, "nextToken": nonEmpty(next)}, nil
}

func (a *API) updatePackageGroupOriginConfiguration(ctx context.Context, c *call) (any, error) {
	owner, err := a.owner(c)
	if err != nil {
		return nil, err
	}
	modes := map[string]string{}
	if rs, ok := c.in["restrictions"].(map[string]any); ok {
		for typ, m := range rs {
			modes[typ], _ = m.(string)
		}
	}
	allowed := func(member string) []registry.AllowedRepository {
		var out []registry.AllowedRepository
		for _, item := range c.in.List(member) {
			m, _ := item.(map[string]any)
			name, _ := m["repositoryName"].(string)
			typ, _ := m["originRestrictionType"].(string)
			out = append(out, registry.AllowedRepository{Repository: name, Type: typ})
		}
		return out
	}
	domain := c.in.String("domain")
	g, updates, err := a.reg.UpdatePackageGroupOriginConfiguration(ctx, owner, domain, c.in.String("packageGroup"),
		modes, allowed("addAllowedRepositories"), allowed("removeAllowedRepositories"))
	if err != nil {
		return nil, err
	}
	a.cfg.Log.Info("package group origin configuration updated", "domain", domain, "pattern", g.Pattern, "by", c.caller.Principal)
	return map[string]any{"packageGroup": a.groupDescription(g), "allowedRepositoryUpdates": updates}, nil
}

func (a *API) listAllowedRepositoriesForGroup(ctx context.Context, c *call) (any, error) {
	owner, err := a.owner(c)
	if err != nil {
		return nil, err
	}
	repos, err := a.reg.ListAllowedRepositoriesForGroup(ctx, owner, c.in.String("domain"), c.in.String("packageGroup"), c.in.String("originRestrictionType"))
	if err != nil {
		return nil, err
	}
	page, next, err := paginate(repos, c.in.String("nextToken"), pageSize(c))
	if err != nil {
		return nil, err
	}
	return map[string]any{"allowedRepositories": page, "nextToken": nonEmpty(next)}, nil
}

func associationType(strong bool) string {
	if strong {
		return "STRONG"
	}
	return "WEAK"
}

func (a *API) getAssociatedPackageGroup(ctx context.Context, c *call) (any, error) {
	owner, err := a.owner(c)
	if err != nil {
		return nil, err
	}
	g, strong, err := a.reg.GetAssociatedPackageGroup(ctx, owner, c.in.String("domain"), c.in.String("format"), c.in.String("namespace"), c.in.String("package"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"packageGroup": a.groupDescription(g), "associationType": associationType(strong)}, nil
}

// associatedPackage is AssociatedPackage.
type associatedPackage struct {
	Format          string `json:"format"`
	Namespace       string `json:"namespace,omitempty"`
	Package         string `json:"package"`
	AssociationType string `json:"associationType"`
}

func (a *API) listAssociatedPackages(ctx context.Context, c *call) (any, error) {
	owner, err := a.owner(c)
	if err != nil {
		return nil, err
	}
	preview, _ := c.in["preview"].(bool)
	pkgs, err := a.reg.ListAssociatedPackages(ctx, owner, c.in.String("domain"), c.in.String("packageGroup"), preview)
	if err != nil {
		return nil, err
	}
	out := make([]associatedPackage, 0, len(pkgs))
	for _, p := range pkgs {
		out = append(out, associatedPackage{Format: p.Format, Namespace: p.Namespace, Package: p.Name, AssociationType: associationType(p.Strong)})
	}
	page, next, err := paginate(out, c.in.String("nextToken"), pageSize(c))
	if err != nil {
		return nil, err
	}
	return map[string]any{"packages": page, "nextToken": nonEmpty(next)}, nil
}
