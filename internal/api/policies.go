package api

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/wharfhq/wharf/internal/api/model"
	"github.com/wharfhq/wharf/internal/policy"
	"github.com/wharfhq/wharf/internal/registry"
	"github.com/wharfhq/wharf/internal/store"
)

// policyOps: domain and repository permission policies, and tags.
func (a *API) policyOps() map[string]opFunc {
	return map[string]opFunc{
		"PutDomainPermissionsPolicy":        a.putPolicy(false),
		"GetDomainPermissionsPolicy":        a.getPolicy(false),
		"DeleteDomainPermissionsPolicy":     a.deletePolicy(false),
		"PutRepositoryPermissionsPolicy":    a.putPolicy(true),
		"GetRepositoryPermissionsPolicy":    a.getPolicy(true),
		"DeleteRepositoryPermissionsPolicy": a.deletePolicy(true),
		"TagResource":                       a.tagResource,
		"UntagResource":                     a.untagResource,
		"ListTagsForResource":               a.listTagsForResource,
	}
}

// ---------------------------------------------------------------- authorization

// authorize checks that the caller may perform op on the resource the
// request addresses: codeartifact:<op> on a domain, repository, package or
// package-group ARN (or "*" for account-wide listings).
func (a *API) authorize(ctx context.Context, op string, in model.Input, principal string) error {
	resource := a.resourceOf(op, in)
	if resource != "*" {
		r, err := policy.ParseARN(resource)
		if err != nil {
			return registry.Invalid("resourceArn: %v", err)
		}
		if r.Account != a.cfg.AccountID {
			return nil // another account's resources do not exist here: the operation answers ResourceNotFoundException
		}
	}
	if err := a.check(ctx, principal, "codeartifact:"+op, resource); err != nil {
		return err
	}
	if op == "CopyPackageVersions" { // reading the source is part of copying from it
		owner := a.ownerOf(in)
		return a.check(ctx, principal, "codeartifact:ReadFromRepository",
			policy.RepositoryARN(a.cfg.Region, owner, in.String("domain"), in.String("sourceRepository")))
	}
	return nil
}

func (a *API) check(ctx context.Context, principal, action, resource string) error {
	req := policy.Request{Principal: principal, Action: action, Resource: resource}
	d, err := a.cfg.Authz.Authorize(ctx, req)
	if err != nil {
		return err
	}
	if !d.Allowed {
		a.cfg.Log.Warn("control plane request denied", "principal", principal, "action", action, "resource", resource, "reason", d.Reason)
		return &apiError{Code: "AccessDeniedException", Status: http.StatusForbidden, Message: policy.Denial(req, d)}
	}
	return nil
}

// ownerOf is domainOwner, else this wharf's account (a foreign owner fails
// later, in the operation, with ResourceNotFoundException).
func (a *API) ownerOf(in model.Input) string {
	if o := in.String("domainOwner"); o != "" {
		return o
	}
	return a.cfg.AccountID
}

func (a *API) resourceOf(op string, in model.Input) string {
	if in.Has("resourceArn") {
		return in.String("resourceArn")
	}
	owner, domain := a.ownerOf(in), in.String("domain")
	repo := in.String("repository")
	if op == "CopyPackageVersions" {
		repo = in.String("destinationRepository")
	}
	switch {
	case domain == "":
		return "*"
	case repo != "" && in.String("package") != "" && op != "CopyPackageVersions":
		format, ns, name := in.String("format"), in.String("namespace"), in.String("package")
		if n1, n2, err := a.reg.NormalizePackage(format, ns, name); err == nil {
			ns, name = n1, n2
		}
		return policy.PackageARN(a.cfg.Region, owner, domain, repo, format, ns, name)
	case repo != "":
		return policy.RepositoryARN(a.cfg.Region, owner, domain, repo)
	case in.String("packageGroup") != "":
		return a.groupARN(domain, in.String("packageGroup"))
	}
	return policy.DomainARN(a.cfg.Region, owner, domain)
}

// PublishCheck is the data plane's codeartifact:PublishPackageVersion check
// for principal on a package (see registry.WithPublishCheck).
func (a *API) PublishCheck(principal string) registry.PublishCheck {
	return func(ctx context.Context, k store.PackageKey) error {
		req := policy.Request{Principal: principal, Action: "codeartifact:PublishPackageVersion",
			Resource: policy.PackageARN(a.cfg.Region, k.DomainOwner, k.DomainName, k.Repository, k.Format, k.Namespace, k.Name)}
		d, err := a.cfg.Authz.Authorize(ctx, req)
		if err != nil {
			return err
		}
		if !d.Allowed {
			a.cfg.Log.Warn("data plane publish denied", "principal", principal, "resource", req.Resource, "reason", d.Reason)
			return registry.Forbidden("%s. Publishing needs codeartifact:PublishPackageVersion on the package: use a token of a key with publish permissions, or ask the administrator to change the permissions policy", policy.Denial(req, d))
		}
		return nil
	}
}

// ---------------------------------------------------------------- policies

type resourcePolicy struct {
	ResourceARN string `json:"resourceArn"`
	Revision    string `json:"revision"`
	Document    string `json:"document"`
}

// policyTarget resolves and checks the domain or repository a policy
// operation addresses and returns its ARN and a name for messages.
func (a *API) policyTarget(ctx context.Context, c *call, repo bool) (arn, what string, err error) {
	owner, err := a.owner(c)
	if err != nil {
		return "", "", err
	}
	domain := c.in.String("domain")
	if repo {
		r := c.in.String("repository")
		if _, err := a.reg.GetRepository(ctx, owner, domain, r); err != nil {
			return "", "", err
		}
		return policy.RepositoryARN(a.cfg.Region, owner, domain, r), fmt.Sprintf("repository %s in domain %s", r, domain), nil
	}
	if _, err := a.reg.GetDomain(ctx, owner, domain); err != nil {
		return "", "", err
	}
	return policy.DomainARN(a.cfg.Region, owner, domain), "domain " + domain, nil
}

func (a *API) putPolicy(repo bool) opFunc {
	return func(ctx context.Context, c *call) (any, error) {
		arn, what, err := a.policyTarget(ctx, c, repo)
		if err != nil {
			return nil, err
		}
		doc := c.in.String("policyDocument")
		if _, err := policy.ParseResource(doc); err != nil {
			return nil, registry.Invalid("%v", err)
		}
		p := store.Policy{ResourceARN: policy.Key(arn), Document: doc, Revision: newPolicyRevision()}
		ifRev := c.in.String("policyRevision")
		if err := a.reg.Store().PutPolicy(ctx, p, ifRev); err != nil {
			return nil, policyStoreError(err, arn, what, ifRev)
		}
		a.cfg.Log.Info("permissions policy set", "resource", arn, "revision", p.Revision, "by", c.caller.Principal)
		return map[string]any{"policy": resourcePolicy{ResourceARN: arn, Revision: p.Revision, Document: doc}}, nil
	}
}

func (a *API) getPolicy(repo bool) opFunc {
	return func(ctx context.Context, c *call) (any, error) {
		arn, what, err := a.policyTarget(ctx, c, repo)
		if err != nil {
			return nil, err
		}
		p, err := a.reg.Store().GetPolicy(ctx, policy.Key(arn))
		if err != nil {
			return nil, policyStoreError(err, arn, what, "")
		}
		return map[string]any{"policy": resourcePolicy{ResourceARN: arn, Revision: p.Revision, Document: p.Document}}, nil
	}
}

func (a *API) deletePolicy(repo bool) opFunc {
	return func(ctx context.Context, c *call) (any, error) {
		arn, what, err := a.policyTarget(ctx, c, repo)
		if err != nil {
			return nil, err
		}
		ifRev := c.in.String("policyRevision")
		p, err := a.reg.Store().DeletePolicy(ctx, policy.Key(arn), ifRev)
		if err != nil {
			return nil, policyStoreError(err, arn, what, ifRev)
		}
		a.cfg.Log.Info("permissions policy deleted", "resource", arn, "revision", p.Revision, "by", c.caller.Principal)
		return map[string]any{"policy": resourcePolicy{ResourceARN: arn, Revision: p.Revision, Document: p.Document}}, nil
	}
}

func policyStoreError(err error, arn, what, ifRev string) error {
	typ := "domain" // ResourceType has no value for policies: name their resource
	if strings.Contains(arn, ":repository/") {
		typ = "repository"
	}
	switch {
	case errors.Is(err, store.ErrRevisionMismatch):
		return registry.Conflict(typ, arn, "the permissions policy of %s is no longer at revision %s: someone changed it since you read it; get it again, reapply your change and pass the new policyRevision", what, ifRev)
	case errors.Is(err, store.ErrNotFound) && ifRev != "":
		return registry.Conflict(typ, arn, "%s has no permissions policy, so policyRevision %s cannot match; omit policyRevision to create one", what, ifRev)
	case errors.Is(err, store.ErrNotFound):
		return registry.NotFound(typ, arn, "%s has no permissions policy", what)
	}
	return err
}

func newPolicyRevision() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err))
	}
	return base64.StdEncoding.EncodeToString(b)
}

// forget removes the policy and tags of a deleted domain or repository, so
// a namesake created later does not inherit them. Failures are logged: the
// deletion itself has happened.
func (a *API) forget(ctx context.Context, arn string) {
	st := a.reg.Store()
	if _, err := st.DeletePolicy(ctx, policy.Key(arn), ""); err != nil && !errors.Is(err, store.ErrNotFound) {
		a.cfg.Log.Error("deleting the permissions policy of a deleted resource", "resource", arn, "err", err)
	}
	key, err := a.tagKey(ctx, arn)
	var tags map[string]string
	if err == nil {
		tags, err = st.GetTags(ctx, key)
	}
	if err == nil && len(tags) > 0 {
		err = st.SetTags(ctx, key, nil, keysOf(tags))
	}
	if err != nil {
		a.cfg.Log.Error("deleting the tags of a deleted resource", "resource", arn, "err", err)
	}
}
