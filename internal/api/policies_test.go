package api

import (
	"io"
	"log/slog"
	"testing"

	"github.com/wharfhq/wharf/internal/api/model"
	"github.com/wharfhq/wharf/internal/format/pypi"
	"github.com/wharfhq/wharf/internal/policy"
	"github.com/wharfhq/wharf/internal/registry"
	"github.com/wharfhq/wharf/internal/testenv/embedded"
)

// Every operation is an action a policy can name, or PutPolicy would
// refuse the policy that mentions it.
func TestEveryOperationIsAPolicyAction(t *testing.T) {
	svc, err := model.Load()
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, a := range policy.Actions {
		known[a] = true
	}
	for name := range svc.Operations {
		if !known[name] {
			t.Errorf("operation %s is missing from policy.Actions", name)
		}
	}
}

func TestPolicyResourceOf(t *testing.T) {
	st, bl, _ := embedded.Storage(t)
	a := &API{cfg: Config{AccountID: account, Region: "eu-west-1"}, reg: registry.New(st, bl, slog.New(slog.NewTextHandler(io.Discard, nil)), pypi.Format{})}
	const pre = "arn:aws:codeartifact:eu-west-1:" + account + ":"
	for _, c := range []struct {
		op   string
		in   model.Input
		want string
	}{
		{"ListDomains", model.Input{}, "*"},
		{"ListRepositories", model.Input{"repositoryPrefix": "a"}, "*"},
		{"CreateDomain", model.Input{"domain": "d"}, pre + "domain/d"},
		{"GetAuthorizationToken", model.Input{"domain": "d", "domainOwner": account}, pre + "domain/d"},
		{"GetAuthorizationToken", model.Input{"domain": "d", "domainOwner": "999999999999"}, "arn:aws:codeartifact:eu-west-1:999999999999:domain/d"},
		{"CreateRepository", model.Input{"domain": "d", "repository": "r"}, pre + "repository/d/r"},
		{"ListPackages", model.Input{"domain": "d", "repository": "r", "format": "pypi"}, pre + "repository/d/r"},
		{"DescribePackage", model.Input{"domain": "d", "repository": "r", "format": "pypi", "package": "Foo_Bar"}, pre + "package/d/r/pypi//foo-bar"},
		{"PublishPackageVersion", model.Input{"domain": "d", "repository": "r", "format": "generic", "namespace": "ns", "package": "x"}, pre + "package/d/r/generic/ns/x"},
		{"CopyPackageVersions", model.Input{"domain": "d", "sourceRepository": "a", "destinationRepository": "b", "format": "pypi", "package": "x"}, pre + "repository/d/b"},
		{"GetAssociatedPackageGroup", model.Input{"domain": "d", "format": "pypi", "package": "x"}, pre + "domain/d"},
		{"DescribePackageGroup", model.Input{"domain": "d", "packageGroup": "/pypi//x$"}, pre + "package-group/d/pypi//x%24"},
		{"TagResource", model.Input{"resourceArn": pre + "repository/d/r"}, pre + "repository/d/r"},
	} {
		if got := a.resourceOf(c.op, c.in); got != c.want {
			t.Errorf("%s %v: %s, want %s", c.op, c.in, got, c.want)
		}
	}
}
