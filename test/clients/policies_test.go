package clients

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// Principals, permission policies and tags, driven through `wharf admin`,
// the aws CLI, boto3 and the data plane as a pip/twine client sees it.

type createdKey struct {
	AccessKey struct {
		UserName, Permissions, Arn, AccessKeyId, SecretAccessKey, Status string
	}
}

// adminCreateKey runs `wharf admin create-access-key` as the root.
func (c *clientEnv) adminCreateKey(name, perms string) createdKey {
	c.t.Helper()
	r := c.wharf(nil, "admin", "create-access-key", "--user-name", name, "--permissions", perms)
	var k createdKey
	if r.Code != 0 || json.Unmarshal([]byte(r.Stdout), &k) != nil || k.AccessKey.AccessKeyId == "" || len(k.AccessKey.SecretAccessKey) != 40 {
		c.t.Fatalf("wharf admin create-access-key:\n%s", r)
	}
	if r.Stderr != "" {
		c.t.Errorf("nothing but the key on stdout, nothing on stderr:\n%s", r)
	}
	return k
}

// as returns the environment overrides that make clients sign with k.
func (k createdKey) as() []string {
	return []string{"AWS_ACCESS_KEY_ID=" + k.AccessKey.AccessKeyId, "AWS_SECRET_ACCESS_KEY=" + k.AccessKey.SecretAccessKey}
}

// tokenAs mints a token with the aws CLI signed by another key.
func (c *clientEnv) tokenAs(k createdKey, domain string) string {
	c.t.Helper()
	r := c.aws(k.as(), "get-authorization-token", "--domain", domain, "--domain-owner", accountID,
		"--query", "authorizationToken", "--output", "text")
	tok := strings.TrimSpace(r.Stdout)
	if r.Code != 0 || tok == "" {
		c.t.Fatalf("get-authorization-token as %s:\n%s", k.AccessKey.Arn, r)
	}
	return tok
}

func TestAdminAccessKeys(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverConfig{})
	c := newClientEnv(t, srv)
	c.createDomainAndRepo("keys", "repo")

	ci := c.adminCreateKey("ci", "read")
	if want := "arn:aws:iam::" + accountID + ":user/read/ci"; ci.AccessKey.Arn != want || ci.AccessKey.Permissions != "read" || !strings.HasPrefix(ci.AccessKey.AccessKeyId, "AKIA") {
		t.Errorf("created key %+v, want principal %s", ci.AccessKey, want)
	}

	// The secret is stored sealed, not in the clear, and never logged.
	db := readFile(t, srv.DataDir+"/wharf.db")
	if strings.Contains(string(db), ci.AccessKey.SecretAccessKey) {
		t.Error("the secret access key is stored in the clear in wharf.db")
	}
	if strings.Contains(srv.log.Tail(1<<20), ci.AccessKey.SecretAccessKey) {
		t.Error("the server log shows the secret access key")
	}

	list := c.wharf(nil, "admin", "list-access-keys")
	if list.Code != 0 || !strings.Contains(list.Stdout, ci.AccessKey.AccessKeyId) || !strings.Contains(list.Stdout, "read") ||
		strings.Contains(list.Stdout, ci.AccessKey.SecretAccessKey) {
		t.Errorf("list-access-keys shows the key and its permissions, never its secret:\n%s", list)
	}

	// The new key signs aws CLI calls as its own principal.
	if r := c.aws(ci.as(), "list-domains", "--output", "json"); r.Code != 0 || !strings.Contains(r.Stdout, `"keys"`) {
		t.Errorf("list-domains with the read key:\n%s", r)
	}
	// Only the root administers keys.
	if r := c.wharf(ci.as(), "admin", "list-access-keys"); r.Code == 0 || !strings.Contains(r.Stderr, "AccessDeniedException") || !strings.Contains(r.Stderr, "account root") {
		t.Errorf("a read key must not list access keys:\n%s", r)
	}
	// A user name keeps its permissions.
	if r := c.wharf(nil, "admin", "create-access-key", "--user-name", "ci", "--permissions", "admin"); r.Code == 0 || !strings.Contains(r.Stderr, "already exists with permissions read") {
		t.Errorf("re-creating ci with other permissions:\n%s", r)
	}
	if r := c.wharf(nil, "admin", "create-access-key", "--user-name", "x", "--permissions", "write"); r.Code == 0 || !strings.Contains(r.Stderr, "read, publish, admin or none") && !strings.Contains(r.Stderr, "admin, publish, read, none") {
		t.Errorf("unknown permissions:\n%s", r)
	}

	// A wrong secret is a signature mismatch; an unknown key is unrecognized.
	wrong := []string{"AWS_ACCESS_KEY_ID=" + ci.AccessKey.AccessKeyId, "AWS_SECRET_ACCESS_KEY=" + strings.Repeat("x", 40)}
	c.awsFails(wrong, "InvalidSignatureException", "list-domains")
	if r := c.aws(wrong, "list-domains"); strings.Contains(r.Output(), ci.AccessKey.SecretAccessKey) {
		t.Errorf("a refusal shows the real secret:\n%s", r)
	}

	// Deleting the key revokes it, and survives a restart (the store keeps it).
	if r := c.wharf(nil, "admin", "delete-access-key", "--access-key-id", ci.AccessKey.AccessKeyId); r.Code != 0 {
		t.Fatalf("delete-access-key:\n%s", r)
	}
	c.awsFails(ci.as(), "UnrecognizedClientException", "list-domains")
	if r := c.wharf(nil, "admin", "delete-access-key", "--access-key-id", ci.AccessKey.AccessKeyId); r.Code == 0 || !strings.Contains(r.Stderr, "ResourceNotFoundException") {
		t.Errorf("deleting it twice:\n%s", r)
	}

	// Keys outlive restarts: the master key file in the data dir opens them.
	ops := c.adminCreateKey("ops", "admin")
	srv.Stop()
	srv2 := startServer(t, serverConfig{DataDir: srv.DataDir})
	c2 := newClientEnv(t, srv2)
	if r := c2.aws(ops.as(), "describe-domain", "--domain", "keys"); r.Code != 0 {
		t.Errorf("the admin key after a restart:\n%s", r)
	}
	// Under another master key the sealed secrets do not open: refused, not crashed.
	srv2.Stop()
	srv3 := startServer(t, serverConfig{DataDir: srv.DataDir, Env: map[string]string{"WHARF_MASTER_KEY": strings.Repeat("ab", 32)}})
	c3 := newClientEnv(t, srv3)
	c3.awsFails(ops.as(), "UnrecognizedClientException", "list-domains")
	if log := srv3.log.Tail(1 << 20); !strings.Contains(log, "do not decrypt under this master key") || !strings.Contains(log, "cannot be decrypted") {
		t.Errorf("the server log must say, at start and on use, why the key is refused:\n%s", srv3.log.Tail(4000))
	}
}

func TestPoliciesReadOnlyPrincipal(t *testing.T) {
	t.Parallel()
	const domain, repo = "ro", "main"
	srv := startServer(t, serverConfig{})
	c := newClientEnv(t, srv)
	c.createDomainAndRepo(domain, repo)
	endpoint := srv.Endpoint(domain, repo)
	mustStatus(t, upload(t, endpoint, makeWheel(t, "ro-pkg", "1.0", ""), basic("aws", c.token(domain))), 200)

	reader := c.adminCreateKey("reader", "read")
	tok := c.tokenAs(reader, domain)

	// pip-style reads work.
	page := fetch(t, "GET", endpoint+"simple/ro-pkg/", nil, basic("aws", tok), pipAccept)
	mustStatus(t, page, 200)
	if !strings.Contains(string(page.Body), "ro_pkg-1.0-py3-none-any.whl") {
		t.Errorf("the project page lists the wheel:\n%s", page)
	}
	// Uploading is refused with a 403 that names the missing permission,
	// before the body is read: on the repository's pypi packages.
	up := upload(t, endpoint, makeWheel(t, "ro-pkg", "2.0", ""), basic("aws", tok))
	mustStatus(t, up, 403)
	for _, want := range []string{"codeartifact:PublishPackageVersion", reader.AccessKey.Arn,
		"arn:aws:codeartifact:" + region + ":" + accountID + ":package/ro/main/pypi/*"} {
		if !strings.Contains(string(up.Body), want) {
			t.Errorf("the refusal must name %q:\n%s", want, up)
		}
	}
	// Nothing was stored.
	if p := fetch(t, "GET", endpoint+"simple/ro-pkg/", nil, basic("aws", tok), acceptJSON); strings.Contains(string(p.Body), "2.0") {
		t.Errorf("a refused upload left a version:\n%s", p)
	}
	// The control plane refuses writes with AWS's AccessDeniedException.
	r := c.awsFails(reader.as(), "AccessDeniedException", "delete-repository", "--domain", domain, "--repository", repo)
	for _, want := range []string{reader.AccessKey.Arn, "codeartifact:DeleteRepository", "repository/ro/main"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("AccessDeniedException must name %q:\n%s", want, r)
		}
	}
	// A publish key publishes.
	pub := c.adminCreateKey("release", "publish")
	mustStatus(t, upload(t, endpoint, makeWheel(t, "ro-pkg", "2.0", ""), basic("aws", c.tokenAs(pub, domain))), 200)
	// A key with no permissions of its own gets nothing, not even a token...
	guest := c.adminCreateKey("guest", "none")
	c.awsFails(guest.as(), "AccessDeniedException", "get-authorization-token", "--domain", domain)
	// ...until permissions policies grant it: a token from the domain, reads from the repository.
	c.boto3(fmt.Sprintf(`
guest = %q
ca.put_domain_permissions_policy(domain='ro', policyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": guest}, "Action": "codeartifact:GetAuthorizationToken", "Resource": "*"}]}))
ca.put_repository_permissions_policy(domain='ro', repository='main', policyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": guest}, "Action": "codeartifact:ReadFromRepository", "Resource": "*"}]}))
`, guest.AccessKey.Arn))
	gtok := c.tokenAs(guest, domain)
	mustStatus(t, fetch(t, "GET", endpoint+"simple/ro-pkg/", nil, basic("aws", gtok), pipAccept), 200)
	mustStatus(t, upload(t, endpoint, makeWheel(t, "ro-pkg", "3.0", ""), basic("aws", gtok)), 403)
}

func TestPoliciesBoto3(t *testing.T) {
	t.Parallel()
	const domain, repo = "pol", "main"
	srv := startServer(t, serverConfig{})
	c := newClientEnv(t, srv)
	c.createDomainAndRepo(domain, repo)
	c.must(nil, need(t, "aws"), "codeartifact", "create-repository", "--domain", domain, "--repository", "side",
		"--endpoint-url", srv.URL, "--region", region)
	endpoint := srv.Endpoint(domain, repo)
	mustStatus(t, upload(t, endpoint, makeWheel(t, "pol-pkg", "1.0", ""), basic("aws", c.token(domain))), 200)
	ops := c.adminCreateKey("ops", "admin")

	out := c.boto3(fmt.Sprintf(`
from botocore.exceptions import ClientError
ops_arn, ops_id, ops_secret = %q, %q, %q
ops = boto3.client('codeartifact', endpoint_url=ca.meta.endpoint_url, region_name=ca.meta.region_name,
                   aws_access_key_id=ops_id, aws_secret_access_key=ops_secret)
domain_arn = 'arn:aws:codeartifact:%s:%s:domain/pol'
repo_arn = 'arn:aws:codeartifact:%s:%s:repository/pol/main'

def code(fn, **kw):
    try:
        fn(**kw)
    except ClientError as e:
        return e.response['Error']['Code'], e.response['Error']['Message']
    raise AssertionError('%%s did not fail' %% fn.__name__)

# No policy yet.
assert code(ca.get_domain_permissions_policy, domain='pol')[0] == 'ResourceNotFoundException'
assert code(ca.get_repository_permissions_policy, domain='pol', repository='main')[0] == 'ResourceNotFoundException'
assert code(ca.delete_domain_permissions_policy, domain='pol')[0] == 'ResourceNotFoundException'

# Domain policy: put, get, compare-and-set, delete.
doc = json.dumps({"Version": "2012-10-17", "Statement": [{"Sid": "ReadAll", "Effect": "Allow", "Principal": {"AWS": "%s"},
       "Action": ["codeartifact:ReadFromRepository", "codeartifact:GetAuthorizationToken"], "Resource": "*"}]})
p1 = ca.put_domain_permissions_policy(domain='pol', policyDocument=doc)['policy']
assert p1['resourceArn'] == domain_arn and p1['document'] == doc and p1['revision'], p1
got = ca.get_domain_permissions_policy(domain='pol', domainOwner='%s')['policy']
assert got == p1, (got, p1)
p2 = ca.put_domain_permissions_policy(domain='pol', policyDocument=doc, policyRevision=p1['revision'])['policy']
assert p2['revision'] != p1['revision']
c, m = code(ca.put_domain_permissions_policy, domain='pol', policyDocument=doc, policyRevision=p1['revision'])
assert c == 'ConflictException' and p1['revision'] in m, (c, m)
c, m = code(ca.delete_domain_permissions_policy, domain='pol', policyRevision=p1['revision'])
assert c == 'ConflictException', (c, m)
deleted = ca.delete_domain_permissions_policy(domain='pol', policyRevision=p2['revision'])['policy']
assert deleted['revision'] == p2['revision'] and deleted['document'] == doc
assert code(ca.get_domain_permissions_policy, domain='pol')[0] == 'ResourceNotFoundException'

# Invalid documents are refused at put time with a precise message.
for bad, want in [
    ('not json', 'not a JSON object'),
    (json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}), 'no Principal'),
    (json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "codeartifact:ReadFromRepo", "Resource": "*"}]}), 'not a CodeArtifact action'),
    (json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1"}}}]}), 'unsupported condition'),
]:
    c, m = code(ca.put_repository_permissions_policy, domain='pol', repository='main', policyDocument=bad)
    assert c == 'ValidationException' and want in m, (bad, c, m)
assert code(ca.put_repository_permissions_policy, domain='pol', repository='nope', policyDocument=doc)[0] == 'ResourceNotFoundException'

# The admin key works until a repository policy denies it explicitly.
ops.describe_repository(domain='pol', repository='main')
deny = json.dumps({"Version": "2012-10-17", "Statement": [{"Sid": "NoOps", "Effect": "Deny", "Principal": {"AWS": ops_arn},
        "Action": "codeartifact:*", "Resource": "*"}]})
rp = ca.put_repository_permissions_policy(domain='pol', repository='main', policyDocument=deny)['policy']
assert rp['resourceArn'] == repo_arn, rp
c, m = code(ops.describe_repository, domain='pol', repository='main')
assert c == 'AccessDeniedException' and ops_arn in m and 'codeartifact:DescribeRepository' in m and repo_arn in m and 'NoOps' in m, m
c, m = code(ops.delete_repository_permissions_policy, domain='pol', repository='main')
assert c == 'AccessDeniedException', (c, m)
ops.describe_repository(domain='pol', repository='side')      # other repositories are not covered
token = ops.get_authorization_token(domain='pol')['authorizationToken']  # nor the domain
got = ca.get_repository_permissions_policy(domain='pol', repository='main')['policy']
assert got == rp
print(json.dumps({"token": token, "revision": rp['revision']}))
`, ops.AccessKey.Arn, ops.AccessKey.AccessKeyId, ops.AccessKey.SecretAccessKey,
		region, accountID, region, accountID, "arn:aws:iam::"+accountID+":user/read/ci", accountID))
	var res struct{ Token, Revision string }
	if err := json.Unmarshal([]byte(out.Stdout), &res); err != nil {
		t.Fatalf("boto3 output:\n%s", out)
	}

	// The deny reaches the data plane: the admin key's token cannot read.
	denied := fetch(t, "GET", endpoint+"simple/pol-pkg/", nil, basic("aws", res.Token), pipAccept)
	mustStatus(t, denied, 403)
	for _, want := range []string{"codeartifact:ReadFromRepository", ops.AccessKey.Arn, "NoOps"} {
		if !strings.Contains(string(denied.Body), want) {
			t.Errorf("the data plane refusal must name %q:\n%s", want, denied)
		}
	}
	mustStatus(t, upload(t, endpoint, makeWheel(t, "pol-pkg", "2.0", ""), basic("aws", res.Token)), 403)
	// The root token is not covered by that statement.
	mustStatus(t, fetch(t, "GET", endpoint+"simple/pol-pkg/", nil, basic("aws", c.token(domain)), pipAccept), 200)

	// Deleting the policy (with its revision, through the aws CLI) lifts the deny.
	var del struct{ Policy struct{ Revision string } }
	c.awsJSON(&del, "delete-repository-permissions-policy", "--domain", domain, "--repository", repo, "--policy-revision", res.Revision)
	if del.Policy.Revision != res.Revision {
		t.Errorf("deleted revision %q, want %q", del.Policy.Revision, res.Revision)
	}
	mustStatus(t, fetch(t, "GET", endpoint+"simple/pol-pkg/", nil, basic("aws", res.Token), pipAccept), 200)

	// A Deny for everyone cannot lock the root out of the policy itself.
	c.must(nil, need(t, "aws"), "codeartifact", "put-repository-permissions-policy", "--domain", domain, "--repository", repo,
		"--policy-document", `{"Version":"2012-10-17","Statement":[{"Sid":"Lockdown","Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}]}`,
		"--endpoint-url", srv.URL, "--region", region)
	c.awsFails(nil, "AccessDeniedException", "describe-repository", "--domain", domain, "--repository", repo)
	c.must(nil, need(t, "aws"), "codeartifact", "delete-repository-permissions-policy", "--domain", domain, "--repository", repo,
		"--endpoint-url", srv.URL, "--region", region)
	c.must(nil, need(t, "aws"), "codeartifact", "describe-repository", "--domain", domain, "--repository", repo,
		"--endpoint-url", srv.URL, "--region", region)
}

func TestTags(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverConfig{})
	c := newClientEnv(t, srv)
	domainARN := "arn:aws:codeartifact:" + region + ":" + accountID + ":domain/tagged"
	repoARN := "arn:aws:codeartifact:" + region + ":" + accountID + ":repository/tagged/main"
	c.must(nil, need(t, "aws"), "codeartifact", "create-domain", "--domain", "tagged", "--tags", "key=team,value=platform",
		"--endpoint-url", srv.URL, "--region", region)
	c.must(nil, need(t, "aws"), "codeartifact", "create-repository", "--domain", "tagged", "--repository", "main",
		"--tags", "key=env,value=prod", "key=cost,value=", "--endpoint-url", srv.URL, "--region", region)

	type tagList struct{ Tags []struct{ Key, Value string } }
	tags := func(arn string) string {
		var out tagList
		c.awsJSON(&out, "list-tags-for-resource", "--resource-arn", arn)
		var parts []string
		for _, t := range out.Tags {
			parts = append(parts, t.Key+"="+t.Value)
		}
		return strings.Join(parts, ",")
	}
	if got := tags(domainARN); got != "team=platform" {
		t.Errorf("domain tags %q", got)
	}
	if got := tags(repoARN); got != "cost=,env=prod" {
		t.Errorf("repository tags %q", got)
	}
	c.must(nil, need(t, "aws"), "codeartifact", "tag-resource", "--resource-arn", repoARN, "--tags", "key=env,value=staging", "key=owner,value=ci",
		"--endpoint-url", srv.URL, "--region", region)
	if got := tags(repoARN); got != "cost=,env=staging,owner=ci" {
		t.Errorf("after tag-resource: %q", got)
	}
	c.must(nil, need(t, "aws"), "codeartifact", "untag-resource", "--resource-arn", repoARN, "--tag-keys", "cost", "owner", "absent",
		"--endpoint-url", srv.URL, "--region", region)
	if got := tags(repoARN); got != "env=staging" {
		t.Errorf("after untag-resource: %q", got)
	}
	c.awsFails(nil, "ResourceNotFoundException", "list-tags-for-resource", "--resource-arn", repoARN+"x")
	c.awsFails(nil, "ValidationException", "tag-resource", "--resource-arn", "arn:aws:s3:::bucket", "--tags", "key=a,value=b")
	c.awsFails(nil, "ValidationException", "tag-resource", "--resource-arn", domainARN, "--tags", "key=aws:x,value=b")

	// A read key may list tags but not change them.
	reader := c.adminCreateKey("tagreader", "read")
	if r := c.aws(reader.as(), "list-tags-for-resource", "--resource-arn", domainARN); r.Code != 0 {
		t.Errorf("list-tags-for-resource with a read key:\n%s", r)
	}
	c.awsFails(reader.as(), "AccessDeniedException", "tag-resource", "--resource-arn", domainARN, "--tags", "key=a,value=b")

	// Deleting a resource forgets its tags: a namesake starts clean.
	c.must(nil, need(t, "aws"), "codeartifact", "delete-repository", "--domain", "tagged", "--repository", "main",
		"--endpoint-url", srv.URL, "--region", region)
	c.must(nil, need(t, "aws"), "codeartifact", "create-repository", "--domain", "tagged", "--repository", "main",
		"--endpoint-url", srv.URL, "--region", region)
	if got := tags(repoARN); got != "" {
		t.Errorf("a recreated repository inherited tags %q", got)
	}
}
