package policy

import (
	"context"
	"strings"
	"testing"
)

// TestPolicyRegionIndependent: a Deny written with the ARN as the server
// printed it under one WHARF_REGION still applies after a relabel, and to
// requests whose ARN a client built in its own region.
func TestPolicyRegionIndependent(t *testing.T) {
	for _, resource := range []string{
		repoARN, // as describe-repository printed it (us-east-1)
		"arn:aws:codeartifact:us-east-1:" + acct + ":repository/acme/*",
		"arn:aws:codeartifact:us-*:" + acct + ":repository/acme/main",
		"arn:aws:codeartifact:us-east-1:" + acct + ":*",
	} {
		deny := `{"Statement":{"Sid":"NoReads","Effect":"Deny","Principal":"*","Action":"codeartifact:ReadFromRepository","Resource":"` + resource + `"}}`
		for _, region := range []string{"us-east-1", "eu-west-1", "ap-southeast-2"} {
			az := &Authorizer{Store: fakeStore{Key(repoARN): deny}}
			req := Request{Principal: reader, Action: "codeartifact:ReadFromRepository",
				Resource: RepositoryARN(region, acct, "acme", "main")}
			d, err := az.Authorize(context.Background(), req)
			if err != nil || d.Allowed || !d.ExplicitDeny || !strings.Contains(d.Reason, "NoReads") {
				t.Errorf("Resource %s, server region %s: %+v %v", resource, region, d, err)
			}
		}
	}
	// The region is ignored, nothing else: another repository is not denied.
	deny := `{"Statement":{"Effect":"Deny","Principal":"*","Action":"*","Resource":"` + repoARN + `"}}`
	az := &Authorizer{Store: fakeStore{Key(repoARN): deny}}
	d, err := az.Authorize(context.Background(), Request{Principal: reader, Action: "codeartifact:ReadFromRepository",
		Resource: RepositoryARN("eu-west-1", acct, "acme", "other")})
	if err != nil || !d.Allowed {
		t.Errorf("another repository: %+v %v", d, err)
	}
}
