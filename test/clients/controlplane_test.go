package clients

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// TestControlPlaneErrors checks that the aws CLI shows the error codes the
// CodeArtifact model defines, so scripts and SDK error handling work.
func TestControlPlaneErrors(t *testing.T) {
	t.Parallel()
	const domain, repo = "errors-domain", "errors-repo"
	srv := startServer(t, serverConfig{})
	c := newClientEnv(t, srv)
	c.createDomainAndRepo(domain, repo)

	t.Run("delete-domain-with-repositories", func(t *testing.T) {
		c.with(t).awsFails(nil, "ConflictException", "delete-domain", "--domain", domain)
	})
	t.Run("create-existing-domain", func(t *testing.T) {
		c.with(t).awsFails(nil, "ConflictException", "create-domain", "--domain", domain)
	})
	t.Run("create-existing-repository", func(t *testing.T) {
		c.with(t).awsFails(nil, "ConflictException", "create-repository", "--domain", domain, "--repository", repo)
	})
	t.Run("describe-missing-repository", func(t *testing.T) {
		c.with(t).awsFails(nil, "ResourceNotFoundException", "describe-repository", "--domain", domain, "--repository", "nope")
	})
	t.Run("describe-missing-domain", func(t *testing.T) {
		c.with(t).awsFails(nil, "ResourceNotFoundException", "describe-domain", "--domain", "no-such-domain")
	})
	t.Run("invalid-domain-name", func(t *testing.T) {
		// botocore checks lengths but not patterns, so this reaches the server.
		c.with(t).awsFails(nil, "ValidationException", "create-domain", "--domain", "Bad_Domain")
	})
	t.Run("invalid-token-duration", func(t *testing.T) {
		// 0 or 900..43200 seconds.
		c.with(t).awsFails(nil, "ValidationException", "get-authorization-token", "--domain", domain, "--duration-seconds", "60")
	})
	t.Run("wrong-secret-key", func(t *testing.T) {
		r := c.with(t).awsFails([]string{"AWS_SECRET_ACCESS_KEY=" + strings.Repeat("x", 40)}, "InvalidSignatureException", "list-domains")
		if !strings.Contains(strings.ToLower(r.Stderr), "signature") {
			t.Errorf("the message should talk about the signature:\n%s", r)
		}
	})
	t.Run("unknown-access-key", func(t *testing.T) {
		c.with(t).awsFails([]string{"AWS_ACCESS_KEY_ID=AKIAUNKNOWNKEY000000"}, "UnrecognizedClientException", "list-domains")
	})
	t.Run("unsigned-request", func(t *testing.T) {
		r := fetch(t, "POST", srv.URL+"/v1/domains", strings.NewReader("{}"), "Content-Type: application/json")
		if (r.Status != 403 && r.Status != 401) || r.Header.Get("X-Amzn-Errortype") == "" || !json.Valid(r.Body) {
			t.Errorf("an unsigned control-plane call wants 401/403 with x-amzn-ErrorType and a JSON body:\n%s", r)
		}
	})
	t.Run("delete-repository-then-domain", func(t *testing.T) {
		c := c.with(t)
		c.awsText("delete-repository", "--domain", domain, "--repository", repo, "--query", "repository.name")
		if got := c.awsText("delete-domain", "--domain", domain, "--query", "domain.name"); got != domain {
			t.Errorf("delete-domain returned domain.name %q", got)
		}
		if got := c.awsText("list-domains", "--query", "length(domains)"); got != "0" {
			t.Errorf("after deleting the only domain, list-domains has %s", got)
		}
	})
}

// TestPagination walks list operations one item per page with boto3's
// paginators: every item must come back exactly once.
func TestPagination(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverConfig{})
	c := newClientEnv(t, srv)
	r := c.boto3(`
domains = ["pages-a", "pages-b", "pages-c"]
repos = ["r%d" % i for i in range(5)]
for d in domains:
    ca.create_domain(domain=d)
for name in repos:
    ca.create_repository(domain="pages-a", repository=name)
def walk(op, key, field, **kw):
    pages = []
    for page in ca.get_paginator(op).paginate(PaginationConfig={"PageSize": 1}, **kw):
        pages.append([item[field] for item in page[key]])
    return pages
print(json.dumps({
  "domains": walk("list_domains", "domains", "name"),
  "repositories": walk("list_repositories", "repositories", "name"),
  "in_domain": walk("list_repositories_in_domain", "repositories", "name", domain="pages-a"),
  "raw_first_page": ca.list_repositories(maxResults=1),
}, default=str))`)
	var out struct {
		Domains      [][]string `json:"domains"`
		Repositories [][]string `json:"repositories"`
		InDomain     [][]string `json:"in_domain"`
		RawFirstPage struct {
			Repositories []any  `json:"repositories"`
			NextToken    string `json:"nextToken"`
		} `json:"raw_first_page"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
		t.Fatalf("%v\n%s", err, r)
	}

	check := func(what string, pages [][]string, want []string) {
		var all []string
		for _, p := range pages {
			if len(p) > 1 {
				t.Errorf("%s: page of %d items with maxResults=1: %v", what, len(p), pages)
			}
			all = append(all, p...)
		}
		slices.Sort(all)
		if !slices.Equal(all, want) {
			t.Errorf("%s: paged through %v, want each of %v once", what, pages, want)
		}
	}
	check("list-domains", out.Domains, []string{"pages-a", "pages-b", "pages-c"})
	repos := []string{"r0", "r1", "r2", "r3", "r4"}
	check("list-repositories", out.Repositories, repos)
	check("list-repositories-in-domain", out.InDomain, repos)
	if len(out.RawFirstPage.Repositories) != 1 || out.RawFirstPage.NextToken == "" {
		t.Errorf("list-repositories maxResults=1 must return 1 item and a nextToken: %+v", out.RawFirstPage)
	}

	// The CLI's own pagination (it follows nextToken itself) sees them all too.
	got := c.awsText("list-repositories", "--page-size", "2", "--query", "repositories[].name")
	names := strings.Fields(got)
	slices.Sort(names)
	if !slices.Equal(names, repos) {
		t.Errorf("aws list-repositories --page-size 2 = %q", got)
	}
}
