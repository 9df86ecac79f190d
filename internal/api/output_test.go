package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codeartifact"
	"github.com/aws/aws-sdk-go-v2/service/codeartifact/types"
)

// nulls lists the paths of null members in a decoded JSON document.
func nulls(path string, v any) []string {
	var out []string
	switch x := v.(type) {
	case nil:
		out = append(out, path)
	case map[string]any:
		for k, e := range x {
			out = append(out, nulls(path+"."+k, e)...)
		}
	case []any:
		for i, e := range x {
			out = append(out, nulls(fmt.Sprintf("%s[%d]", path, i), e)...)
		}
	}
	return out
}

// TestNoNullMembers: AWS omits a member that has no value; it never sends
// null (the aws CLI would print None).
func TestNoNullMembers(t *testing.T) {
	sdk, c := sdkAPIWithRaw(t, "us-east-1")
	setupRepo(t, sdk)
	// An unfinished version: no default display version, no summary, ...
	_, err := sdk.PublishPackageVersion(context.Background(), &codeartifact.PublishPackageVersionInput{
		Domain: aws.String("dom"), Repository: aws.String("repo"), Format: types.PackageFormatGeneric,
		Namespace: aws.String("ns"), Package: aws.String("p"), PackageVersion: aws.String("1.0"),
		AssetName: aws.String("a.bin"), AssetSHA256: aws.String(hexSum([]byte("x"))), AssetContent: strings.NewReader("x"),
		Unfinished: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, call := range []struct{ method, path string }{
		{"POST", "/v1/domains"},
		{"GET", "/v1/domain?domain=dom"},
		{"POST", "/v1/repositories"},
		{"POST", "/v1/domain/repositories?domain=dom"},
		{"GET", "/v1/repository?domain=dom&repository=repo"},
		{"POST", "/v1/packages?domain=dom&repository=repo"},
		{"GET", "/v1/package?domain=dom&repository=repo&format=generic&namespace=ns&package=p"},
		{"POST", "/v1/package/versions?domain=dom&repository=repo&format=generic&namespace=ns&package=p"},
		{"GET", "/v1/package/version?domain=dom&repository=repo&format=generic&namespace=ns&package=p&version=1.0"},
		{"POST", "/v1/package/version/assets?domain=dom&repository=repo&format=generic&namespace=ns&package=p&version=1.0"},
		{"POST", "/v1/package/version/dependencies?domain=dom&repository=repo&format=generic&namespace=ns&package=p&version=1.0"},
		{"POST", "/v1/package-groups?domain=dom"},
	} {
		code, typ, out := c.call(call.method, call.path, nil)
		if code != 200 {
			t.Fatalf("%s %s: %d %s %v", call.method, call.path, code, typ, out)
		}
		if n := nulls("", out); len(n) > 0 {
			t.Errorf("%s %s: null members %v in %v", call.method, call.path, n, out)
		}
	}
}

// TestEveryResponseHasARequestID, errors included: SDKs print it
// ("RequestID: ...") and the log lines of refusals carry it.
func TestEveryResponseHasARequestID(t *testing.T) {
	c := newAPI(t)
	seen := map[string]bool{}
	for _, path := range []string{"/v1/domains", "/v1/no-such-operation"} {
		for _, method := range []string{"GET", "POST"} {
			req, _ := http.NewRequest(method, c.url+path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			id := resp.Header.Get("x-amzn-RequestId")
			if len(id) != 36 || strings.Count(id, "-") != 4 || seen[id] {
				t.Errorf("%s %s (%d): request id %q", method, path, resp.StatusCode, id)
			}
			seen[id] = true
		}
	}
}

// TestDiskFullIsNotRetried: botocore retries a 500 four times; a full disk
// stays full, so it answers the model's non-retried quota error.
func TestDiskFullIsNotRetried(t *testing.T) {
	err := fmt.Errorf("blob: write temp file: %w", &fsError{syscall.ENOSPC})
	ae := toAPIError(err)
	if ae.Status != http.StatusPaymentRequired || ae.Code != "ServiceQuotaExceededException" || !strings.Contains(ae.Message, "disk is full") {
		t.Fatalf("%+v", ae)
	}
}

type fsError struct{ err error }

func (e *fsError) Error() string { return "write /data/blobs/tmp-1: " + e.err.Error() }
func (e *fsError) Unwrap() error { return e.err }
