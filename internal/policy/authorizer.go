package policy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/wharfhq/wharf/internal/store"
)

// ARNs of the resources CodeArtifact authorizes on.
func DomainARN(region, owner, domain string) string {
	return fmt.Sprintf("arn:aws:codeartifact:%s:%s:domain/%s", region, owner, domain)
}

func RepositoryARN(region, owner, domain, repo string) string {
	return fmt.Sprintf("arn:aws:codeartifact:%s:%s:repository/%s/%s", region, owner, domain, repo)
}

// PackageARN: pypi and other formats without namespaces have an empty
// namespace segment (".../pypi//requests").
func PackageARN(region, owner, domain, repo, format, namespace, name string) string {
	return fmt.Sprintf("arn:aws:codeartifact:%s:%s:package/%s/%s/%s/%s/%s", region, owner, domain, repo, format, namespace, name)
}

// Resource is a parsed CodeArtifact ARN.
type Resource struct {
	Region, Account string
	Type            string // domain, repository, package, package-group
	Domain          string
	Repository      string // repository and package ARNs
	Rest            string // after the domain (package-group) or repository (package)
}

// ParseARN parses a CodeArtifact resource ARN.
func ParseARN(arn string) (Resource, error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] != "aws" || parts[2] != "codeartifact" || !accountPattern.MatchString(parts[4]) {
		return Resource{}, fmt.Errorf("%q is not a CodeArtifact ARN (arn:aws:codeartifact:REGION:ACCOUNT:domain/DOMAIN, .../repository/DOMAIN/REPOSITORY or .../package-group/DOMAIN/PATTERN)", arn)
	}
	r := Resource{Region: parts[3], Account: parts[4]}
	typ, path, _ := strings.Cut(parts[5], "/")
	r.Type = typ
	switch typ {
	case "domain":
		r.Domain = path
		if path == "" || strings.Contains(path, "/") {
			return r, fmt.Errorf("domain ARN %q must end in domain/DOMAIN", arn)
		}
	case "repository", "package":
		segs := strings.SplitN(path, "/", 3)
		if len(segs) < 2 || segs[0] == "" || segs[1] == "" || (typ == "repository" && len(segs) != 2) || (typ == "package" && len(segs) != 3) {
			return r, fmt.Errorf("%s ARN %q is malformed", typ, arn)
		}
		r.Domain, r.Repository = segs[0], segs[1]
		if len(segs) == 3 {
			r.Rest = segs[2]
		}
	case "package-group":
		d, rest, ok := strings.Cut(path, "/")
		if !ok || d == "" {
			return r, fmt.Errorf("package group ARN %q must be package-group/DOMAIN/PATTERN", arn)
		}
		r.Domain, r.Rest = d, "/"+rest
	default:
		return r, fmt.Errorf("%q: CodeArtifact ARNs name a domain, repository, package or package-group, not %q", arn, typ)
	}
	return r, nil
}

// Key is how the store keys policies and tags by ARN: without the region,
// so that relabelling the server's region (WHARF_REGION) can never make a
// Deny silently disappear.
func Key(arn string) string {
	if strings.Count(arn, ":") < 5 {
		return arn
	}
	return withoutRegion(arn)
}

// PolicyStore is the part of store.Store the authorizer reads.
type PolicyStore interface {
	GetPolicy(ctx context.Context, resourceARN string) (store.Policy, error)
}

// Authorizer answers Requests with the resource policies in the store and
// the principals' identity profiles.
type Authorizer struct {
	Store PolicyStore

	mu     sync.Mutex
	parsed map[string]*Document // by document text: revisions change rarely
}

// policyActions are the actions the root may always perform, whatever a
// resource policy says, so that no Deny can lock the administrator out of
// repairing it (as S3 lets the root user delete any bucket policy).
var policyActions = map[string]bool{
	"codeartifact:getdomainpermissionspolicy": true, "codeartifact:putdomainpermissionspolicy": true, "codeartifact:deletedomainpermissionspolicy": true,
	"codeartifact:getrepositorypermissionspolicy": true, "codeartifact:putrepositorypermissionspolicy": true, "codeartifact:deleterepositorypermissionspolicy": true,
}

// Authorize decides req. The policies consulted are the domain's for any
// resource in a domain, plus the repository's for a repository or package;
// their statements' Resource elements then select what they cover.
func (a *Authorizer) Authorize(ctx context.Context, req Request) (Decision, error) {
	if IsRoot(req.Principal) && policyActions[strings.ToLower(req.Action)] {
		return Decision{Allowed: true, Reason: "the account root, which may always manage permission policies"}, nil
	}
	docs, err := a.policiesFor(ctx, req.Resource)
	if err != nil {
		return Decision{}, err
	}
	return Evaluate(req, Identity(req.Principal), docs), nil
}

// policiesFor loads the resource policies that govern resource: its
// domain's, and its repository's for a repository or package.
func (a *Authorizer) policiesFor(ctx context.Context, resource string) ([]Named, error) {
	var arns []string
	if resource != "*" {
		r, err := ParseARN(resource)
		if err != nil {
			return nil, err
		}
		arns = append(arns, DomainARN(r.Region, r.Account, r.Domain))
		if r.Repository != "" {
			arns = append(arns, RepositoryARN(r.Region, r.Account, r.Domain, r.Repository))
		}
	}
	var docs []Named
	for _, arn := range arns {
		p, err := a.Store.GetPolicy(ctx, Key(arn))
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		d, err := a.parse(p.Document)
		if err != nil {
			// Validated when it was put; fail closed if it no longer parses.
			return nil, fmt.Errorf("the permissions policy of %s (revision %s) cannot be evaluated: %w", arn, p.Revision, err)
		}
		kind := "domain"
		if strings.Contains(arn, ":repository/") {
			kind = "repository"
		}
		docs = append(docs, Named{Name: fmt.Sprintf("the %s policy of %s", kind, arn), Doc: d})
	}
	return docs, nil
}

func (a *Authorizer) parse(doc string) (*Document, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if d, ok := a.parsed[doc]; ok {
		return d, nil
	}
	d, err := ParseResource(doc)
	if err != nil {
		return nil, err
	}
	if a.parsed == nil || len(a.parsed) > 1000 {
		a.parsed = map[string]*Document{}
	}
	a.parsed[doc] = d
	return d, nil
}

// Denial is the AWS-style sentence for a refused request.
func Denial(req Request, d Decision) string {
	who := req.Principal
	if who == "" {
		who = "an unknown principal"
	}
	return fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s %s", who, req.Action, req.Resource, d.Reason)
}
