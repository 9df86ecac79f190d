package api

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codeartifact"
	"github.com/aws/aws-sdk-go-v2/service/codeartifact/types"
	"github.com/aws/smithy-go"

	"github.com/wharfhq/wharf/internal/testenv/embedded"
)

// TestDenySurvivesRegionRelabel: a Deny whose Resource is the ARN as
// describe-repository printed it still applies after WHARF_REGION changes.
func TestDenySurvivesRegionRelabel(t *testing.T) {
	st, bl, _ := embedded.Storage(t)
	east, _ := serveOver(t, st, bl, "us-east-1", "us-east-1")
	setupRepo(t, east)
	ctx := context.Background()
	repo, err := east.DescribeRepository(ctx, &codeartifact.DescribeRepositoryInput{Domain: aws.String("dom"), Repository: aws.String("repo")})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(repo.Repository.Arn)
	_, err = east.PutRepositoryPermissionsPolicy(ctx, &codeartifact.PutRepositoryPermissionsPolicyInput{
		Domain: aws.String("dom"), Repository: aws.String("repo"),
		PolicyDocument: aws.String(`{"Statement":[{"Sid":"NoListing","Effect":"Deny","Principal":"*","Action":"codeartifact:ListPackages","Resource":"` + arn + `"}]}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	list := &codeartifact.ListPackagesInput{Domain: aws.String("dom"), Repository: aws.String("repo")}
	for _, server := range []string{"us-east-1", "eu-west-1"} {
		c, _ := serveOver(t, st, bl, server, "ap-southeast-2")
		_, err := c.ListPackages(ctx, list)
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" || !strings.Contains(ae.ErrorMessage(), "NoListing") {
			t.Errorf("WHARF_REGION=%s: %v", server, err)
		}
	}
}

// TestTagResourceInTheClientsRegion: the SDKs build ARNs from the client's
// region; the resource is the same whatever region its ARN names.
func TestTagResourceInTheClientsRegion(t *testing.T) {
	c, _ := sdkAPIWithRaw(t, "us-east-2")
	setupRepo(t, c)
	ctx := context.Background()
	clientARN := "arn:aws:codeartifact:us-east-2:" + account + ":repository/dom/repo"
	if _, err := c.TagResource(ctx, &codeartifact.TagResourceInput{ResourceArn: aws.String(clientARN),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("infra")}}}); err != nil {
		t.Fatal(err)
	}
	serverARN := "arn:aws:codeartifact:us-east-1:" + account + ":repository/dom/repo"
	out, err := c.ListTagsForResource(ctx, &codeartifact.ListTagsForResourceInput{ResourceArn: aws.String(serverARN)})
	if err != nil || len(out.Tags) != 1 || aws.ToString(out.Tags[0].Value) != "infra" {
		t.Fatalf("%+v %v", out, err)
	}
	// Another account is still not here.
	_, err = c.ListTagsForResource(ctx, &codeartifact.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:codeartifact:us-east-2:999999999999:repository/dom/repo")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ResourceNotFoundException" {
		t.Fatalf("another account: %v", err)
	}
}

// TestLegacyTagsMoved: tags stored before under the ARN in the server's
// region are found, and moved to the region-less key, on first use.
func TestLegacyTagsMoved(t *testing.T) {
	st, bl, _ := embedded.Storage(t)
	c, _ := serveOver(t, st, bl, "us-east-1", "eu-west-1")
	setupRepo(t, c)
	ctx := context.Background()
	legacy := "arn:aws:codeartifact:us-east-1:" + account + ":repository/dom/repo"
	if err := st.SetTags(ctx, legacy, map[string]string{"old": "1", "both": "old"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := st.SetTags(ctx, "arn:aws:codeartifact::"+account+":repository/dom/repo", map[string]string{"both": "new"}, nil); err != nil {
		t.Fatal(err)
	}
	out, err := c.ListTagsForResource(ctx, &codeartifact.ListTagsForResourceInput{
		ResourceArn: aws.String("arn:aws:codeartifact:eu-west-1:" + account + ":repository/dom/repo")})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, tg := range out.Tags {
		got[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	if len(got) != 2 || got["old"] != "1" || got["both"] != "new" {
		t.Fatalf("tags %v", got)
	}
	if left, err := st.GetTags(ctx, legacy); err != nil || len(left) != 0 {
		t.Fatalf("legacy key still holds %v, %v", left, err)
	}
}
