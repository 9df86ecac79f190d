package policy

import (
	"context"
	"strings"
	"testing"

	"github.com/wharfhq/wharf/internal/store"
)

const (
	acct     = "123456789012"
	other    = "210987654321"
	root     = "arn:aws:iam::" + acct + ":root"
	admin    = "arn:aws:iam::" + acct + ":user/admin/boss"
	reader   = "arn:aws:iam::" + acct + ":user/read/ci"
	pub      = "arn:aws:iam::" + acct + ":user/publish/release"
	bare     = "arn:aws:iam::" + acct + ":user/guest"
	stranger = "arn:aws:iam::" + other + ":user/read/ci"
	domARN   = "arn:aws:codeartifact:us-east-1:" + acct + ":domain/acme"
	repoARN  = "arn:aws:codeartifact:us-east-1:" + acct + ":repository/acme/main"
	pkgARN   = "arn:aws:codeartifact:us-east-1:" + acct + ":package/acme/main/pypi//requests"
	otherPkg = "arn:aws:codeartifact:us-east-1:" + acct + ":package/acme/main/pypi//flask"
)

func TestPolicyMatch(t *testing.T) {
	for _, c := range []struct {
		p, s string
		fold bool
		want bool
	}{
		{"*", "", false, true},
		{"*", "anything/at:all", false, true},
		{"codeartifact:*", "codeartifact:ReadFromRepository", true, true},
		{"codeartifact:Get*", "codeartifact:GetAuthorizationToken", true, true},
		{"codeartifact:get*", "codeartifact:GetAuthorizationToken", true, true},
		{"codeartifact:get*", "codeartifact:GetAuthorizationToken", false, false},
		{"codeartifact:Get*", "codeartifact:ListDomains", true, false},
		{"codeartifact:?etDomain*", "codeartifact:GetDomainPermissionsPolicy", true, true},
		{"a?c", "abc", false, true},
		{"a?c", "ac", false, false},
		{"a*b*c", "aXXbYYc", false, true},
		{"a*b*c", "aXXbYY", false, false},
		{"*b", "*xb", false, true},
		{"arn:aws:codeartifact:*:*:package/acme/main/pypi//*", pkgARN, false, true},
		{"arn:aws:codeartifact:*:*:package/acme/other/*", pkgARN, false, false},
		{"arn:aws:codeartifact:us-east-1:" + acct + ":repository/acme/*", repoARN, false, true},
		{"arn:aws:codeartifact:us-east-1:" + acct + ":repository/ACME/*", repoARN, false, false},
		{"", "", false, true},
		{"", "x", false, false},
		{"**", "x", false, true},
		{strings.Repeat("*a", 30) + "b", strings.Repeat("a", 60), false, false}, // no exponential blow-up
	} {
		if got := Match(c.p, c.s, c.fold); got != c.want {
			t.Errorf("Match(%q, %q, %v) = %v, want %v", c.p, c.s, c.fold, got, c.want)
		}
	}
}

func mustParse(t *testing.T, doc string) *Document {
	t.Helper()
	d, err := ParseResource(doc)
	if err != nil {
		t.Fatalf("ParseResource(%s): %v", doc, err)
	}
	return d
}

func TestPolicyEvaluate(t *testing.T) {
	denyCIRepo := `{"Version":"2012-10-17","Statement":{"Sid":"NoCI","Effect":"Deny","Principal":{"AWS":"` + reader + `"},"Action":"codeartifact:*","Resource":"*"}}`
	allowGuestRead := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["` + bare + `"]},"Action":["codeartifact:ReadFromRepository","codeartifact:GetAuthorizationToken"],"Resource":"*"}]}`
	denyPublishRequests := `{"Statement":[{"Sid":"Frozen","Effect":"Deny","Principal":"*","Action":"codeartifact:PublishPackageVersion","Resource":"arn:aws:codeartifact:*:*:package/acme/main/pypi//requests"}]}`
	allowAccountAll := `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"` + acct + `"},"Action":"codeartifact:*","Resource":"*"}]}`
	allowAccountRootARN := `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:root"},"Action":"codeartifact:PublishPackageVersion","Resource":"*"}]}`
	denyNotRead := `{"Statement":[{"Sid":"OnlyRead","Effect":"Deny","Principal":"*","NotAction":["codeartifact:ReadFromRepository","codeartifact:Get*"],"Resource":"*"}]}`
	denyNotResource := `{"Statement":[{"Sid":"OnlyFlask","Effect":"Deny","Principal":{"AWS":"` + pub + `"},"Action":"codeartifact:PublishPackageVersion","NotResource":"arn:aws:codeartifact:*:*:package/*/*/pypi//flask"}]}`
	allowOtherAcct := `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"` + other + `"},"Action":"*","Resource":"*"}]}`
	denyRootEverything := `{"Statement":[{"Sid":"Lockdown","Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}]}`
	allowStar := `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"codeartifact:ReadFromRepository","Resource":"` + repoARN + `"}]}`

	for _, c := range []struct {
		name      string
		principal string
		action    string
		resource  string
		docs      []string
		allowed   bool
		reason    string // substring of the reason
	}{
		{"root without policies", root, "codeartifact:DeleteDomain", domARN, nil, true, "root"},
		{"root lists domains", root, "codeartifact:ListDomains", "*", nil, true, "root"},
		{"admin may do anything", admin, "codeartifact:DeleteRepository", repoARN, nil, true, "identity"},
		{"reader reads", reader, "codeartifact:ReadFromRepository", repoARN, nil, true, "identity"},
		{"reader gets a token", reader, "codeartifact:GetAuthorizationToken", domARN, nil, true, "identity"},
		{"reader describes", reader, "codeartifact:DescribeRepository", repoARN, nil, true, "identity"},
		{"reader lists", reader, "codeartifact:ListPackages", repoARN, nil, true, "identity"},
		{"reader may not publish", reader, "codeartifact:PublishPackageVersion", pkgARN, nil, false, "no identity-based policy or resource-based policy allows the codeartifact:PublishPackageVersion action"},
		{"reader may not delete", reader, "codeartifact:DeleteRepository", repoARN, nil, false, "no identity-based"},
		{"reader may not put a policy", reader, "codeartifact:PutRepositoryPermissionsPolicy", repoARN, nil, false, "no identity-based"},
		{"publisher publishes", pub, "codeartifact:PublishPackageVersion", pkgARN, nil, true, "identity"},
		{"publisher may not dispose", pub, "codeartifact:DisposePackageVersions", pkgARN, nil, false, "no identity-based"},
		{"action case does not matter", pub, "CODEARTIFACT:publishpackageversion", pkgARN, nil, true, "identity"},
		{"bare user has nothing", bare, "codeartifact:ReadFromRepository", repoARN, nil, false, "no identity-based"},
		{"bare user granted by repo policy", bare, "codeartifact:ReadFromRepository", repoARN, []string{allowGuestRead}, true, "statement #1"},
		{"grant is limited to its actions", bare, "codeartifact:PublishPackageVersion", pkgARN, []string{allowGuestRead}, false, "no identity-based"},
		{"grant names one principal", "arn:aws:iam::" + acct + ":user/other", "codeartifact:ReadFromRepository", repoARN, []string{allowGuestRead}, false, "no identity-based"},
		{"explicit deny beats identity", reader, "codeartifact:ReadFromRepository", repoARN, []string{denyCIRepo}, false, `explicit deny in a resource-based policy: statement "NoCI"`},
		{"deny names the policy", reader, "codeartifact:ReadFromRepository", repoARN, []string{denyCIRepo}, false, "policy #0"},
		{"deny of another principal does not apply", pub, "codeartifact:ReadFromRepository", repoARN, []string{denyCIRepo}, true, "identity"},
		{"deny beats an allow in another policy", reader, "codeartifact:ReadFromRepository", repoARN, []string{allowStar, denyCIRepo}, false, "NoCI"},
		{"deny beats root", root, "codeartifact:ReadFromRepository", repoARN, []string{denyRootEverything}, false, "Lockdown"},
		{"deny on a package ARN", pub, "codeartifact:PublishPackageVersion", pkgARN, []string{denyPublishRequests}, false, "Frozen"},
		{"deny on a package ARN spares others", pub, "codeartifact:PublishPackageVersion", otherPkg, []string{denyPublishRequests}, true, "identity"},
		{"deny on a package ARN spares reads", pub, "codeartifact:ReadFromRepository", repoARN, []string{denyPublishRequests}, true, "identity"},
		{"account id principal covers users", bare, "codeartifact:DeleteRepository", repoARN, []string{allowAccountAll}, true, "statement #1"},
		{"account root ARN principal covers users", reader, "codeartifact:PublishPackageVersion", pkgARN, []string{allowAccountRootARN}, true, "statement #1"},
		{"other account's grant does not cover us", bare, "codeartifact:ReadFromRepository", repoARN, []string{allowOtherAcct}, false, "no identity-based"},
		{"other account's principal needs both", stranger, "codeartifact:ReadFromRepository", repoARN, []string{allowOtherAcct}, true, "identity-based policy and statement #1"},
		{"other account's identity alone is not enough", stranger, "codeartifact:ReadFromRepository", repoARN, nil, false, "no identity-based"},
		{"other account's resource grant alone is not enough", "arn:aws:iam::" + other + ":user/x", "codeartifact:ReadFromRepository", repoARN, []string{allowOtherAcct}, false, "no identity-based"},
		{"NotAction deny catches the rest", admin, "codeartifact:DeleteRepository", repoARN, []string{denyNotRead}, false, "OnlyRead"},
		{"NotAction deny spares the listed", admin, "codeartifact:GetRepositoryEndpoint", repoARN, []string{denyNotRead}, true, "identity"},
		{"NotResource deny", pub, "codeartifact:PublishPackageVersion", pkgARN, []string{denyNotResource}, false, "OnlyFlask"},
		{"NotResource deny spares the listed", pub, "codeartifact:PublishPackageVersion", otherPkg, []string{denyNotResource}, true, "identity"},
		{"star principal grant", "", "codeartifact:ReadFromRepository", repoARN, []string{allowStar}, true, "statement #1"},
		{"star principal grant is per resource", bare, "codeartifact:ReadFromRepository", "arn:aws:codeartifact:us-east-1:" + acct + ":repository/acme/other", []string{allowStar}, false, "no identity-based"},
		{"unknown principal has nothing", "", "codeartifact:ReadFromRepository", repoARN, nil, false, "no identity-based"},
		{"sts action for reader", reader, "sts:GetServiceBearerToken", "*", nil, true, "identity"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var named []Named
			for i, d := range c.docs {
				named = append(named, Named{Name: "policy #" + string(rune('0'+i)), Doc: mustParse(t, d)})
			}
			got := Evaluate(Request{Principal: c.principal, Action: c.action, Resource: c.resource}, Identity(c.principal), named)
			if got.Allowed != c.allowed || !strings.Contains(got.Reason, c.reason) {
				t.Errorf("got allowed=%v reason=%q; want allowed=%v and a reason containing %q", got.Allowed, got.Reason, c.allowed, c.reason)
			}
			if !got.Allowed && !got.ExplicitDeny && !strings.Contains(got.Reason, c.action) {
				t.Errorf("an implicit denial must name the action: %q", got.Reason)
			}
		})
	}
}

func TestPolicyParseErrors(t *testing.T) {
	for _, c := range []struct{ doc, want string }{
		{``, "not a JSON object"},
		{`[]`, "not a JSON object"},
		{`{"Statement":[]} {}`, "after the JSON object"},
		{`{"Version":"2012-10-17"}`, "no Statement"},
		{`{"Version":"2020-01-01","Statement":[]}`, "Version must be"},
		{`{"version":"2012-10-17","Statement":[]}`, `unknown top-level element "version"`},
		{`{"Statement":[]}`, "Statement is empty"},
		{`{"Statement":"x"}`, "Statement must be an object or a list"},
		{`{"Statement":[1]}`, "statement #1 is not a JSON object"},
		{`{"Statement":{"Effect":"allow","Principal":"*","Action":"*","Resource":"*"}}`, `Effect must be "Allow" or "Deny"`},
		{`{"Statement":{"Effect":"Allow","Principal":"*","Resource":"*"}}`, "has neither Action nor NotAction"},
		{`{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","NotAction":"*","Resource":"*"}}`, "has both Action and NotAction"},
		{`{"Statement":{"Effect":"Allow","Principal":"*","Action":"*"}}`, "has neither Resource nor NotResource"},
		{`{"Statement":{"Effect":"Allow","Principal":"*","Action":[],"Resource":"*"}}`, "must not be an empty list"},
		{`{"Statement":{"Effect":"Allow","Principal":"*","Action":[1],"Resource":"*"}}`, "must be a string or a list of strings"},
		{`{"Statement":{"Effect":"Allow","Principal":"*","Action":"ReadFromRepository","Resource":"*"}}`, `not of the form "service:Action"`},
		{`{"Statement":{"Effect":"Allow","Principal":"*","Action":"codeartifact:ReadFromRepo","Resource":"*"}}`, "is not a CodeArtifact action"},
		{`{"Statement":{"Effect":"Allow","Principal":"*","Action":"codeartifact:*","Resource":"repository/acme"}}`, `neither "*" nor an ARN`},
		{`{"Statement":{"Effect":"Allow","Principal":"*","Action":"codeartifact:*","Resource":"arn:aws:codeartifact:*:*:repository/${aws:username}"}}`, "policy variable"},
		{`{"Statement":{"Effect":"Allow","Action":"codeartifact:*","Resource":"*"}}`, "has no Principal"},
		{`{"Statement":{"Effect":"Allow","Principal":"someone","Action":"*","Resource":"*"}}`, `Principal must be "*" or an object`},
		{`{"Statement":{"Effect":"Allow","Principal":{"Service":"codebuild.amazonaws.com"},"Action":"*","Resource":"*"}}`, `principal type "Service" is not supported`},
		{`{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123:root"},"Action":"*","Resource":"*"}}`, "is not \"*\", a 12-digit account id"},
		{`{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/*"},"Action":"*","Resource":"*"}}`, "wildcards are not allowed in principals"},
		{`{"Statement":{"Effect":"Allow","NotPrincipal":{"AWS":"123456789012"},"Action":"*","Resource":"*"}}`, "NotPrincipal is not supported"},
		{`{"Statement":{"Sid":"A","Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-1"}}}}`, `statement "A": unsupported condition`},
		{`{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","effect":"Deny"}}`, `unknown element "effect"`},
		{`{"Statement":[{"Sid":"A","Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},{"Sid":"A","Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}]}`, `two statements have the Sid "A"`},
		{`{"Statement":{"Sid":"has space","Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}}`, "Sid must be a string of letters and digits"},
	} {
		_, err := ParseResource(c.doc)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseResource(%s) = %v, want an error containing %q", c.doc, err, c.want)
		}
	}
}

func TestPolicyParseAccepts(t *testing.T) {
	for _, doc := range []string{
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"codeartifact:ReadFromRepository","Resource":"*"}}`,
		`{"Version":"2008-10-17","Id":"x","Statement":[{"Sid":"","Effect":"Deny","Principal":{"AWS":"*"},"NotAction":"codeartifact:Get*","NotResource":["arn:aws:codeartifact:us-east-1:123456789012:repository/a/b"]}]}`,
		`{"Statement":[{"Effect":"Allow","Principal":{"AWS":["123456789012","arn:aws:iam::123456789012:root","arn:aws:iam::123456789012:user/read/ci","arn:aws:iam::123456789012:role/path/to/Deployer"]},"Action":["codeartifact:readfromrepository","sts:GetServiceBearerToken"],"Resource":"*"}]}`,
	} {
		if _, err := ParseResource(doc); err != nil {
			t.Errorf("ParseResource(%s): %v", doc, err)
		}
	}
	if _, err := ParseIdentity(`{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}}`); err == nil {
		t.Error("an identity policy with a Principal must be refused")
	}
}

func TestPolicyUsers(t *testing.T) {
	for _, c := range []struct{ name, profile, want string }{
		{"ci", "read", "arn:aws:iam::" + acct + ":user/read/ci"},
		{"rel", "publish", "arn:aws:iam::" + acct + ":user/publish/rel"},
		{"boss", "admin", "arn:aws:iam::" + acct + ":user/admin/boss"},
		{"guest", "none", "arn:aws:iam::" + acct + ":user/guest"},
	} {
		arn, err := UserARN(acct, c.name, c.profile)
		if err != nil || arn != c.want {
			t.Fatalf("UserARN(%s, %s) = %s, %v; want %s", c.name, c.profile, arn, err, c.want)
		}
		name, profile, ok := User(arn)
		if !ok || name != c.name || profile != c.profile {
			t.Errorf("User(%s) = %s, %s, %v", arn, name, profile, ok)
		}
	}
	if _, err := UserARN(acct, "ci", "write"); err == nil || !strings.Contains(err.Error(), "admin, publish, read, none") {
		t.Errorf("unknown profile: %v", err)
	}
	if _, err := UserARN(acct, "a/b", "read"); err == nil {
		t.Error("a slash in a user name must be refused")
	}
	if _, _, ok := User(root); ok {
		t.Error("root is not a user")
	}
	if _, p, _ := User("arn:aws:iam::" + acct + ":user/team/read/x"); p != "none" {
		t.Errorf("only the exact profile paths grant anything, got %s", p)
	}
	if Identity(root) != nil || Identity(bare) != nil || Identity("") != nil || Identity(reader) == nil {
		t.Error("Identity: root and profile-less users have no identity policy; read users do")
	}
}

func TestPolicyParseARN(t *testing.T) {
	for _, c := range []struct {
		arn                   string
		typ, domain, repo, rs string
		bad                   bool
	}{
		{arn: domARN, typ: "domain", domain: "acme"},
		{arn: repoARN, typ: "repository", domain: "acme", repo: "main"},
		{arn: pkgARN, typ: "package", domain: "acme", repo: "main", rs: "pypi//requests"},
		{arn: "arn:aws:codeartifact:us-east-1:" + acct + ":package-group/acme/pypi//req*", typ: "package-group", domain: "acme", rs: "/pypi//req*"},
		{arn: "arn:aws:codeartifact:us-east-1:" + acct + ":repository/acme", bad: true},
		{arn: "arn:aws:codeartifact:us-east-1:" + acct + ":domain/", bad: true},
		{arn: "arn:aws:codeartifact:us-east-1:" + acct + ":bucket/x", bad: true},
		{arn: "arn:aws:s3:::bucket", bad: true},
		{arn: "nonsense", bad: true},
	} {
		r, err := ParseARN(c.arn)
		if c.bad != (err != nil) || (!c.bad && (r.Type != c.typ || r.Domain != c.domain || r.Repository != c.repo || r.Rest != c.rs)) {
			t.Errorf("ParseARN(%s) = %+v, %v", c.arn, r, err)
		}
	}
	if Key(repoARN) != "arn:aws:codeartifact::"+acct+":repository/acme/main" {
		t.Errorf("Key(%s) = %s", repoARN, Key(repoARN))
	}
}

type fakeStore map[string]string

func (f fakeStore) GetPolicy(_ context.Context, arn string) (store.Policy, error) {
	if d, ok := f[arn]; ok {
		return store.Policy{ResourceARN: arn, Document: d, Revision: "r1"}, nil
	}
	return store.Policy{}, store.ErrNotFound
}

func TestPolicyAuthorizer(t *testing.T) {
	denyAll := `{"Statement":{"Sid":"Lockdown","Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}}`
	denyPub := `{"Statement":{"Sid":"NoPublish","Effect":"Deny","Principal":"*","Action":"codeartifact:PublishPackageVersion","Resource":"*"}}`
	az := &Authorizer{Store: fakeStore{Key(domARN): denyPub, Key(repoARN): denyAll}}
	ctx := context.Background()
	for _, c := range []struct {
		principal, action, resource string
		allowed                     bool
		reason                      string
	}{
		{pub, "codeartifact:ReadFromRepository", repoARN, false, `"Lockdown" of the repository policy of ` + repoARN},
		{pub, "codeartifact:PublishPackageVersion", "arn:aws:codeartifact:us-east-1:" + acct + ":package/acme/side/pypi//x", false, `"NoPublish" of the domain policy of ` + domARN},
		{pub, "codeartifact:ReadFromRepository", "arn:aws:codeartifact:us-east-1:" + acct + ":repository/acme/side", true, "identity"},
		{root, "codeartifact:DescribeRepository", repoARN, false, "Lockdown"},
		{root, "codeartifact:DeleteRepositoryPermissionsPolicy", repoARN, true, "always manage permission policies"},
		{admin, "codeartifact:DeleteRepositoryPermissionsPolicy", repoARN, false, "Lockdown"},
		{reader, "codeartifact:ListDomains", "*", true, "identity"},
		{pub, "codeartifact:DescribeDomain", "arn:aws:codeartifact:us-east-1:" + acct + ":domain/other", true, "identity"},
	} {
		d, err := az.Authorize(ctx, Request{Principal: c.principal, Action: c.action, Resource: c.resource})
		if err != nil || d.Allowed != c.allowed || !strings.Contains(d.Reason, c.reason) {
			t.Errorf("%s %s %s: got %+v, %v; want allowed=%v reason containing %q", c.principal, c.action, c.resource, d, err, c.allowed, c.reason)
		}
	}
	msg := Denial(Request{Principal: reader, Action: "codeartifact:PublishPackageVersion", Resource: pkgARN}, Decision{Reason: "because nothing"})
	if msg != "User: "+reader+" is not authorized to perform: codeartifact:PublishPackageVersion on resource: "+pkgARN+" because nothing" {
		t.Errorf("Denial: %s", msg)
	}
}

func FuzzPolicyParse(f *testing.F) {
	for _, seed := range []string{
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"codeartifact:ReadFromRepository","Resource":"*"}}`,
		`{"Statement":[{"Sid":"A","Effect":"Deny","Principal":{"AWS":["123456789012"]},"NotAction":["codeartifact:Get*"],"NotResource":"arn:aws:codeartifact:*:*:repository/a/*"}]}`,
		`{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/read/ci"},"Action":"*","Resource":"*","Condition":{}}]}`,
		`{"Statement":null}`, `{}`, `null`, `[`, `{"Statement":[{}]}`,
	} {
		f.Add(seed, "codeartifact:ReadFromRepository", repoARN)
	}
	f.Fuzz(func(t *testing.T, doc, action, resource string) {
		d, err := ParseResource(doc)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if len(d.Statements) == 0 {
			t.Fatal("a parsed document has statements")
		}
		for _, s := range d.Statements {
			if (s.Effect != Allow && s.Effect != Deny) || len(s.Actions) == 0 || len(s.Resources) == 0 || len(s.Principals) == 0 {
				t.Fatalf("incomplete statement %+v", s)
			}
		}
		// Evaluating never panics, and a Deny that matches always wins.
		req := Request{Principal: reader, Action: action, Resource: resource}
		dec := Evaluate(req, Identity(reader), []Named{{Name: "fuzz", Doc: d}})
		if dec.ExplicitDeny && dec.Allowed {
			t.Fatal("allowed with an explicit deny")
		}
	})
}
