package clients

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPackageReadAPIs drives the package read operations and
// UpdateRepository through the real aws CLI.
func TestPackageReadAPIs(t *testing.T) {
	srv := startServer(t, serverConfig{})
	c := newClientEnv(t, srv)
	const domain = "reads"
	c.createDomainAndRepo(domain, "main")
	c.awsText("create-repository", "--domain", domain, "--repository", "base", "--query", "repository.name")
	auth := basic("aws", c.token(domain))
	whl := wheelRequiring(t, "Read.Me", "1.0", `requests[socks]>=2.0; python_version < "4"`, "other-lib")
	mustStatus(t, upload(t, srv.Endpoint(domain, "main"), whl, auth), 200)

	var desc struct {
		PackageVersion struct {
			Format, PackageName, DisplayName, Version, Summary, Status, Revision string
			Origin                                                               struct {
				OriginType       string `json:"originType"`
				DomainEntryPoint map[string]string
			}
		}
	}
	c.awsJSON(&desc, "describe-package-version", "--domain", domain, "--repository", "main", "--format", "pypi",
		"--package", "read-me", "--package-version", "1.0")
	pv := desc.PackageVersion
	if pv.Format != "pypi" || pv.PackageName != "read-me" || pv.DisplayName != "Read.Me" || pv.Summary != "test" ||
		pv.Status != "Published" || pv.Revision == "" || pv.Origin.OriginType != "INTERNAL" || pv.Origin.DomainEntryPoint["repositoryName"] != "main" {
		t.Fatalf("describe-package-version: %+v", pv)
	}

	out := filepath.Join(c.Work, "asset.whl")
	var asset struct {
		AssetName, PackageVersion, PackageVersionRevision string
	}
	c.awsJSON(&asset, "get-package-version-asset", "--domain", domain, "--repository", "main", "--format", "pypi",
		"--package", "read-me", "--package-version", "1.0", "--asset", whl.Filename, out)
	got, err := os.ReadFile(out)
	if err != nil || !bytes.Equal(got, whl.Data) {
		t.Fatalf("get-package-version-asset wrote other bytes (%v)", err)
	}
	if asset.AssetName != whl.Filename || asset.PackageVersion != "1.0" || asset.PackageVersionRevision != pv.Revision {
		t.Fatalf("get-package-version-asset headers: %+v", asset)
	}

	var deps struct {
		Dependencies []map[string]string
	}
	c.awsJSON(&deps, "list-package-version-dependencies", "--domain", domain, "--repository", "main", "--format", "pypi",
		"--package", "read-me", "--package-version", "1.0")
	if len(deps.Dependencies) != 2 || deps.Dependencies[0]["package"] != "requests" ||
		deps.Dependencies[0]["versionRequirement"] != `[socks]>=2.0; python_version < "4"` || deps.Dependencies[1]["package"] != "other-lib" {
		t.Fatalf("dependencies must keep extras and markers: %+v", deps)
	}

	var upd struct {
		Repository struct {
			Description string
			Upstreams   []map[string]string
		}
	}
	c.awsJSON(&upd, "update-repository", "--domain", domain, "--repository", "main", "--description", "now with upstreams",
		"--upstreams", "repositoryName=base")
	if upd.Repository.Description != "now with upstreams" || len(upd.Repository.Upstreams) != 1 || upd.Repository.Upstreams[0]["repositoryName"] != "base" {
		t.Fatalf("update-repository: %+v", upd)
	}
	r := c.awsFails(nil, "ValidationException", "update-repository", "--domain", domain, "--repository", "base", "--upstreams", "repositoryName=main")
	if !strings.Contains(r.Output(), "cycle") {
		t.Fatalf("a cycle must be named:\n%s", r)
	}
}
