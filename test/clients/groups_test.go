package clients

import (
	"strings"
	"testing"
)

// TestPackageGroups drives every package group operation through boto3
// (which parses each response with the real model, so a wrong shape fails)
// and the aws CLI, then checks that the groups' origin restrictions are
// enforced: a PUBLISH block refuses a twine-style upload naming the group,
// and an EXTERNAL_UPSTREAM block keeps a public package out.
func TestPackageGroups(t *testing.T) {
	t.Parallel()
	pub := newStaticIndex(t)
	publicLib := makeWheel(t, "public-lib", "1.0", "")
	pub.publish("public-lib", nil, publicLib)
	pub.publish("other-lib", nil, makeWheel(t, "other-lib", "1.0", ""))
	srv := startServer(t, serverConfig{Env: map[string]string{
		"WHARF_EXTERNAL_CONNECTIONS": "public:pypi=" + pub.srv.URL + "/simple/",
	}})
	c := newClientEnv(t, srv)
	const domain = "groups-domain"
	c.createDomainAndRepo(domain, "internal")
	c.awsText("create-repository", "--domain", domain, "--repository", "pypi-store", "--query", "repository.name")
	c.awsText("associate-external-connection", "--domain", domain, "--repository", "pypi-store", "--external-connection", "public:pypi", "--query", "repository.name")
	c.awsText("create-repository", "--domain", domain, "--repository", "app", "--upstreams", "repositoryName=pypi-store", "--query", "repository.name")

	tok := c.token(domain)
	auth := basic("aws", tok)
	mustStatus(t, upload(t, srv.Endpoint(domain, "internal"), makeWheel(t, "internal-secret-core", "1.0", ""), auth), 200)
	mustStatus(t, upload(t, srv.Endpoint(domain, "internal"), makeWheel(t, "internal-tools", "1.0", ""), auth), 200)

	t.Run("operations-through-boto3", func(t *testing.T) {
		c.with(t).boto3(strings.ReplaceAll(`
from botocore.exceptions import ClientError
D = "DOMAIN"
ARN = "arn:aws:codeartifact:us-east-1:123456789012:package-group/" + D

def fails(code, fn, **kw):
    try:
        fn(domain=D, **kw)
    except ClientError as e:
        assert e.response["Error"]["Code"] == code, (code, e.response)
        return e.response["Error"]["Message"]
    raise AssertionError("%s did not fail with %s" % (fn.__name__, code))

# The root group comes with the domain and allows everything.
root = ca.describe_package_group(domain=D, packageGroup="/*")["packageGroup"]
assert root["arn"] == ARN + "/%2A", root["arn"]
assert "parent" not in root, root
for typ in ("PUBLISH", "EXTERNAL_UPSTREAM", "INTERNAL_UPSTREAM"):
    r = root["originConfiguration"]["restrictions"][typ]
    assert r["mode"] == "ALLOW" and r["effectiveMode"] == "ALLOW" and r["repositoriesCount"] == 0, r

g = ca.create_package_group(domain=D, packageGroup="/pypi/*", contactInfo="platform@example.com",
    description="all Python", tags=[{"key": "team", "value": "platform"}])["packageGroup"]
assert g["pattern"] == "/pypi/*" and g["arn"] == ARN + "/pypi/%2A" and g["domainName"] == D and g["domainOwner"] == "123456789012", g
assert g["parent"] == {"arn": ARN + "/%2A", "pattern": "/*"}, g["parent"]
assert g["contactInfo"] == "platform@example.com" and g["description"] == "all Python", g
assert g["createdTime"].year >= 2024, g["createdTime"]
pub = g["originConfiguration"]["restrictions"]["PUBLISH"]
assert pub["mode"] == "INHERIT" and pub["effectiveMode"] == "ALLOW" and pub["inheritedFrom"]["pattern"] == "/*", pub

# Percent-encoded spellings name the same group (the canonical pattern).
g = ca.create_package_group(domain=D, packageGroup="/pypi//internal%2Dsecret~")["packageGroup"]
assert g["pattern"] == "/pypi//internal-secret~" and g["parent"]["pattern"] == "/pypi/*", g
ca.create_package_group(domain=D, packageGroup="/pypi//internal-secret-core$")
ca.create_package_group(domain=D, packageGroup="/npm/acme/*")
fails("ConflictException", ca.create_package_group, packageGroup="/pypi/*")
msg = fails("ValidationException", ca.create_package_group, packageGroup="/pypi/acme/*")
assert "no namespace" in msg, msg
fails("ValidationException", ca.create_package_group, packageGroup="pypi/*")
fails("ResourceNotFoundException", ca.describe_package_group, packageGroup="/npm/nobody/*")

g = ca.update_package_group(domain=D, packageGroup="/pypi/*", description="every Python package")["packageGroup"]
assert g["description"] == "every Python package" and g["contactInfo"] == "platform@example.com", g

groups = ca.list_package_groups(domain=D)["packageGroups"]
assert [x["pattern"] for x in groups] == ["/*", "/npm/acme/*", "/pypi/*", "/pypi//internal-secret-core$", "/pypi//internal-secret~"], groups
seen = []
for page in ca.get_paginator("list_package_groups").paginate(domain=D, prefix="/pypi", PaginationConfig={"PageSize": 1}):
    seen += [x["pattern"] for x in page["packageGroups"]]
assert seen == ["/pypi/*", "/pypi//internal-secret-core$", "/pypi//internal-secret~"], seen
subs = ca.list_sub_package_groups(domain=D, packageGroup="/pypi/*")["packageGroups"]
assert [x["pattern"] for x in subs] == ["/pypi//internal-secret~"], subs

u = ca.update_package_group_origin_configuration(domain=D, packageGroup="/pypi//internal-secret~",
    restrictions={"PUBLISH": "ALLOW_SPECIFIC_REPOSITORIES", "EXTERNAL_UPSTREAM": "BLOCK"},
    addAllowedRepositories=[{"repositoryName": "internal", "originRestrictionType": "PUBLISH"},
                            {"repositoryName": "app", "originRestrictionType": "PUBLISH"}])
assert u["allowedRepositoryUpdates"] == {"PUBLISH": {"ADDED": ["internal", "app"]}}, u["allowedRepositoryUpdates"]
rs = u["packageGroup"]["originConfiguration"]["restrictions"]
assert rs["PUBLISH"]["mode"] == "ALLOW_SPECIFIC_REPOSITORIES" and rs["PUBLISH"]["repositoriesCount"] == 2, rs
assert rs["EXTERNAL_UPSTREAM"] == {"mode": "BLOCK", "effectiveMode": "BLOCK", "repositoriesCount": 0}, rs
u = ca.update_package_group_origin_configuration(domain=D, packageGroup="/pypi//internal-secret~",
    removeAllowedRepositories=[{"repositoryName": "app", "originRestrictionType": "PUBLISH"}])
assert u["allowedRepositoryUpdates"] == {"PUBLISH": {"REMOVED": ["app"]}}, u
allowed = ca.list_allowed_repositories_for_group(domain=D, packageGroup="/pypi//internal-secret~", originRestrictionType="PUBLISH")
assert allowed["allowedRepositories"] == ["internal"], allowed
msg = fails("ValidationException", ca.update_package_group_origin_configuration, packageGroup="/*", restrictions={"PUBLISH": "INHERIT"})
assert "no parent" in msg, msg

# The child inherits from its nearest explicit ancestor.
leaf = ca.describe_package_group(domain=D, packageGroup="/pypi//internal-secret-core$")["packageGroup"]
ext = leaf["originConfiguration"]["restrictions"]["EXTERNAL_UPSTREAM"]
assert ext["mode"] == "INHERIT" and ext["effectiveMode"] == "BLOCK", ext
assert ext["inheritedFrom"] == {"arn": ARN + "/pypi//internal-secret%7E", "pattern": "/pypi//internal-secret~"}, ext

a = ca.get_associated_package_group(domain=D, format="pypi", package="Internal_Secret.Core")
assert a["packageGroup"]["pattern"] == "/pypi//internal-secret-core$" and a["associationType"] == "STRONG", a
a = ca.get_associated_package_group(domain=D, format="npm", namespace="acme", package="never-published")
assert a["packageGroup"]["pattern"] == "/npm/acme/*", a

pk = ca.list_associated_packages(domain=D, packageGroup="/pypi/*")["packages"]
assert pk == [{"format": "pypi", "package": "internal-tools", "associationType": "STRONG"}], pk
pk = ca.list_associated_packages(domain=D, packageGroup="/pypi//internal~", preview=True)["packages"]
assert [p["package"] for p in pk] == ["internal-tools"], pk
fails("ResourceNotFoundException", ca.list_associated_packages, packageGroup="/pypi//internal~")

d = ca.delete_package_group(domain=D, packageGroup="/npm/acme/*")["packageGroup"]
assert d["pattern"] == "/npm/acme/*", d
fails("ResourceNotFoundException", ca.describe_package_group, packageGroup="/npm/acme/*")
fails("ValidationException", ca.delete_package_group, packageGroup="/*")
print("ok")
`, "DOMAIN", domain))
	})

	t.Run("cli", func(t *testing.T) {
		c := c.with(t)
		if got := c.awsText("create-package-group", "--domain", domain, "--package-group", "/npm/*", "--query", "packageGroup.parent.pattern"); got != "/*" {
			t.Errorf("create-package-group: parent %q", got)
		}
		if got := c.awsText("list-sub-package-groups", "--domain", domain, "--package-group", "/*", "--query", "packageGroups[].pattern"); got != "/npm/*\t/pypi/*" {
			t.Errorf("list-sub-package-groups: %q", got)
		}
		if got := c.awsText("get-associated-package-group", "--domain", domain, "--format", "npm", "--package", "left-pad", "--query", "[packageGroup.pattern, associationType]"); got != "/npm/*\tSTRONG" {
			t.Errorf("get-associated-package-group: %q", got)
		}
		c.awsFails(nil, "ValidationException", "create-package-group", "--domain", domain, "--package-group", "/maven//log4j$")
		c.awsText("delete-package-group", "--domain", domain, "--package-group", "/npm/*", "--query", "packageGroup.pattern")
	})

	t.Run("publish-blocked-by-group", func(t *testing.T) {
		c := c.with(t)
		// internal is on the PUBLISH allowed list of /pypi//internal-secret~; app is not.
		mustStatus(t, upload(t, srv.Endpoint(domain, "internal"), makeWheel(t, "internal-secret-core", "2.0", ""), auth), 200)
		r := upload(t, srv.Endpoint(domain, "app"), makeWheel(t, "internal-secret-core", "3.0", ""), auth)
		mustStatus(t, r, 403)
		for _, want := range []string{"package group /pypi//internal-secret~", "--add-allowed-repositories originRestrictionType=PUBLISH,repositoryName=app"} {
			if !strings.Contains(string(r.Body), want) {
				t.Errorf("the refusal should mention %q:\n%s", want, r)
			}
		}
		c.awsText("update-package-group-origin-configuration", "--domain", domain, "--package-group", "/pypi//internal-secret~",
			"--restrictions", "PUBLISH=BLOCK", "--query", "packageGroup.pattern")
		r = upload(t, srv.Endpoint(domain, "internal"), makeWheel(t, "internal-secret-core", "4.0", ""), auth)
		mustStatus(t, r, 403)
		// The package's own group inherits the block from /pypi//internal-secret~.
		for _, want := range []string{"package group /pypi//internal-secret-core$ blocks publishing", "inherited from package group /pypi//internal-secret~",
			"update-package-group-origin-configuration", "PUBLISH=ALLOW"} {
			if !strings.Contains(string(r.Body), want) {
				t.Errorf("the refusal should mention %q:\n%s", want, r)
			}
		}
	})

	t.Run("external-upstream-blocked-by-group", func(t *testing.T) {
		c := c.with(t)
		c.awsText("create-package-group", "--domain", domain, "--package-group", "/pypi//public-lib$", "--query", "packageGroup.pattern")
		c.awsText("update-package-group-origin-configuration", "--domain", domain, "--package-group", "/pypi//public-lib$",
			"--restrictions", "EXTERNAL_UPSTREAM=BLOCK", "--query", "packageGroup.pattern")
		appURL := srv.Endpoint(domain, "app")
		page := fetch(t, "GET", appURL+"simple/public-lib/", nil, auth, acceptJSON)
		mustStatus(t, page, 404)
		if !strings.Contains(string(page.Body), "package group /pypi//public-lib$ blocks ingesting from external connections into repository pypi-store") {
			t.Errorf("the 404 should say which group blocks the package:\n%s", page)
		}
		if n := pub.count("/simple/public-lib/"); n != 0 {
			t.Errorf("a blocked package was still looked up upstream %d times", n)
		}
		file := fetch(t, "GET", appURL+"simple/public-lib/1.0/"+publicLib.Filename, nil, auth)
		mustStatus(t, file, 404)
		// Packages outside the group still come through the connection.
		mustStatus(t, fetch(t, "GET", appURL+"simple/other-lib/", nil, auth, acceptJSON), 200)

		// Allowing the repository holding the connection lets it in.
		c.awsText("update-package-group-origin-configuration", "--domain", domain, "--package-group", "/pypi//public-lib$",
			"--restrictions", "EXTERNAL_UPSTREAM=ALLOW_SPECIFIC_REPOSITORIES",
			"--add-allowed-repositories", "originRestrictionType=EXTERNAL_UPSTREAM,repositoryName=pypi-store", "--query", "packageGroup.pattern")
		if got := c.awsText("list-allowed-repositories-for-group", "--domain", domain, "--package-group", "/pypi//public-lib$",
			"--origin-restriction-type", "EXTERNAL_UPSTREAM", "--query", "allowedRepositories"); got != "pypi-store" {
			t.Errorf("list-allowed-repositories-for-group: %q", got)
		}
		mustStatus(t, fetch(t, "GET", appURL+"simple/public-lib/", nil, auth, acceptJSON), 200)
		file = fetch(t, "GET", appURL+"simple/public-lib/1.0/"+publicLib.Filename, nil, auth)
		mustStatus(t, file, 200)
		if sha256hex(file.Body) != sha256hex(publicLib.Data) {
			t.Error("the public file came back with other bytes")
		}
		if got := c.awsText("list-associated-packages", "--domain", domain, "--package-group", "/pypi//public-lib$", "--query", "packages[].package"); got != "public-lib" {
			t.Errorf("list-associated-packages after ingestion: %q", got)
		}
	})
}
