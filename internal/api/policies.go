package api

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
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

// ---------------------------------------------------------------- tags

// maxTags is CodeArtifact's quota of tags per resource.
const maxTags = 50

type tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// taggable resolves a resourceArn to a domain, repository or package group
// of this wharf that exists.
func (a *API) taggable(ctx context.Context, arn string) error {
	r, err := policy.ParseARN(arn)
	if err != nil {
		return registry.Invalid("resourceArn: %v", err)
	}
	if r.Type == "package" {
		return registry.Invalid("resourceArn %s: packages cannot be tagged; tag a domain, repository or package group", arn)
	}
	if r.Account != a.cfg.AccountID || r.Region != a.cfg.Region {
		return registry.NotFound("", arn, "%s not found: this wharf holds the resources of account %s in region %s", arn, a.cfg.AccountID, a.cfg.Region)
	}
	switch r.Type {
	case "domain":
		_, err = a.reg.GetDomain(ctx, r.Account, r.Domain)
	case "repository":
		_, err = a.reg.GetRepository(ctx, r.Account, r.Domain, r.Repository)
	case "package-group":
		if _, err = a.reg.GetDomain(ctx, r.Account, r.Domain); err == nil {
			pattern, uerr := url.PathUnescape(r.Rest) // package-group ARNs escape * ~ $
			if uerr != nil {
				return registry.Invalid("resourceArn %s: the package group pattern is not properly escaped", arn)
			}
			_, err = a.reg.Store().GetPackageGroup(ctx, r.Account, r.Domain, pattern)
			if errors.Is(err, store.ErrNotFound) {
				err = registry.NotFound("", arn, "package group %s not found in domain %s", r.Rest, r.Domain)
			}
		}
	}
	return err
}

// parseTags reads a TagList member, refusing what AWS refuses.
func parseTags(list []any) (map[string]string, error) {
	tags := map[string]string{}
	for _, e := range list {
		m, _ := e.(map[string]any)
		k, _ := m["key"].(string)
		v, _ := m["value"].(string)
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return nil, registry.Invalid("tag key %q: keys starting with aws: are reserved", k)
		}
		if _, dup := tags[k]; dup {
			return nil, registry.Invalid("tag key %q appears twice in the request", k)
		}
		tags[k] = v
	}
	if len(tags) > maxTags {
		return nil, &apiError{Code: "ServiceQuotaExceededException", Status: http.StatusPaymentRequired,
			Message: fmt.Sprintf("%d tags given; a resource has at most %d", len(tags), maxTags)}
	}
	return tags, nil
}

// addTags stores tags on arn within the per-resource quota.
func (a *API) addTags(ctx context.Context, arn string, tags map[string]string) error {
	if len(tags) == 0 {
		return nil
	}
	cur, err := a.reg.Store().GetTags(ctx, arn)
	if err != nil {
		return err
	}
	n := len(cur)
	for k := range tags {
		if _, ok := cur[k]; !ok {
			n++
		}
	}
	if n > maxTags {
		return &apiError{Code: "ServiceQuotaExceededException", Status: http.StatusPaymentRequired, ResourceID: arn,
			Message: fmt.Sprintf("%s would have %d tags; a resource has at most %d: remove some with untag-resource first", arn, n, maxTags)}
	}
	return a.reg.Store().SetTags(ctx, arn, tags, nil)
}

func (a *API) tagResource(ctx context.Context, c *call) (any, error) {
	arn := c.in.String("resourceArn")
	tags, err := parseTags(c.in.List("tags"))
	if err != nil {
		return nil, err
	}
	if err := a.taggable(ctx, arn); err != nil {
		return nil, err
	}
	if err := a.addTags(ctx, arn, tags); err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

func (a *API) untagResource(ctx context.Context, c *call) (any, error) {
	arn := c.in.String("resourceArn")
	if err := a.taggable(ctx, arn); err != nil {
		return nil, err
	}
	var keys []string
	for _, k := range c.in.List("tagKeys") {
		if s, ok := k.(string); ok {
			keys = append(keys, s)
		}
	}
	if err := a.reg.Store().SetTags(ctx, arn, nil, keys); err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

func (a *API) listTagsForResource(ctx context.Context, c *call) (any, error) {
	arn := c.in.String("resourceArn")
	if err := a.taggable(ctx, arn); err != nil {
		return nil, err
	}
	tags, err := a.reg.Store().GetTags(ctx, arn)
	if err != nil {
		return nil, err
	}
	out := make([]tag, 0, len(tags))
	for k, v := range tags {
		out = append(out, tag{Key: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return map[string]any{"tags": out}, nil
}

// forget removes the policy and tags of a deleted domain or repository, so
// a namesake created later does not inherit them. Failures are logged: the
// deletion itself has happened.
func (a *API) forget(ctx context.Context, arn string) {
	st := a.reg.Store()
	if _, err := st.DeletePolicy(ctx, policy.Key(arn), ""); err != nil && !errors.Is(err, store.ErrNotFound) {
		a.cfg.Log.Error("deleting the permissions policy of a deleted resource", "resource", arn, "err", err)
	}
	tags, err := st.GetTags(ctx, arn)
	if err == nil && len(tags) > 0 {
		keys := make([]string, 0, len(tags))
		for k := range tags {
			keys = append(keys, k)
		}
		err = st.SetTags(ctx, arn, nil, keys)
	}
	if err != nil {
		a.cfg.Log.Error("deleting the tags of a deleted resource", "resource", arn, "err", err)
	}
}
