package api

import (
	"context"

	"github.com/wharfhq/wharf/internal/registry"
	"github.com/wharfhq/wharf/internal/store"
)

type domainDescription struct {
	Name            string `json:"name"`
	Owner           string `json:"owner"`
	ARN             string `json:"arn"`
	Status          string `json:"status"`
	CreatedTime     epoch  `json:"createdTime"`
	EncryptionKey   string `json:"encryptionKey,omitempty"`
	RepositoryCount int    `json:"repositoryCount"`
	AssetSizeBytes  int64  `json:"assetSizeBytes"`
}

type domainSummary struct {
	Name          string `json:"name"`
	Owner         string `json:"owner"`
	ARN           string `json:"arn"`
	Status        string `json:"status"`
	CreatedTime   epoch  `json:"createdTime"`
	EncryptionKey string `json:"encryptionKey,omitempty"`
}

func (a *API) domainDescription(d registry.DomainInfo) domainDescription {
	return domainDescription{
		Name: d.Name, Owner: d.Owner, ARN: a.arn("domain/" + d.Name), Status: "Active",
		CreatedTime: epoch(d.CreatedAt), EncryptionKey: d.EncryptionKey,
		RepositoryCount: d.RepositoryCount, AssetSizeBytes: d.AssetSizeBytes,
	}
}

func (a *API) createDomain(ctx context.Context, c *call) (any, error) {
	tags, err := parseTags(c.in.List("tags"))
	if err != nil {
		return nil, err
	}
	d, err := a.reg.CreateDomain(ctx, a.cfg.AccountID, c.in.String("domain"), c.in.String("encryptionKey"))
	if err != nil {
		return nil, err
	}
	if err := a.addTags(ctx, a.arn("domain/"+d.Name), tags); err != nil {
		return nil, err
	}
	a.cfg.Log.Info("domain created", "domain", d.Name, "owner", d.Owner, "by", c.caller.Principal)
	return map[string]any{"domain": a.domainDescription(d)}, nil
}

func (a *API) describeDomain(ctx context.Context, c *call) (any, error) {
	owner, err := a.owner(c)
	if err != nil {
		return nil, err
	}
	d, err := a.reg.DescribeDomain(ctx, owner, c.in.String("domain"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"domain": a.domainDescription(d)}, nil
}

func (a *API) listDomains(ctx context.Context, c *call) (any, error) {
	ds, next, err := a.reg.ListDomains(ctx, store.Page{After: c.in.String("nextToken"), Limit: pageSize(c)})
	if err != nil {
		return nil, err
	}
	out := make([]domainSummary, 0, len(ds))
	for _, d := range ds {
		out = append(out, domainSummary{Name: d.Name, Owner: d.Owner, ARN: a.arn("domain/" + d.Name), Status: "Active",
			CreatedTime: epoch(d.CreatedAt), EncryptionKey: d.EncryptionKey})
	}
	return map[string]any{"domains": out, "nextToken": nonEmpty(next)}, nil
}

func (a *API) deleteDomain(ctx context.Context, c *call) (any, error) {
	owner, err := a.owner(c)
	if err != nil {
		return nil, err
	}
	d, err := a.reg.DeleteDomain(ctx, owner, c.in.String("domain"))
	if err != nil {
		return nil, err
	}
	a.forget(ctx, a.arn("domain/"+d.Name))
	a.cfg.Log.Info("domain deleted", "domain", d.Name, "owner", d.Owner, "by", c.caller.Principal)
	desc := a.domainDescription(d)
	desc.Status = "Deleted"
	return map[string]any{"domain": desc}, nil
}
