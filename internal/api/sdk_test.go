package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codeartifact"
	"github.com/aws/aws-sdk-go-v2/service/codeartifact/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/wharfhq/wharf/internal/auth"
	"github.com/wharfhq/wharf/internal/blob"
	"github.com/wharfhq/wharf/internal/format/generic"
	"github.com/wharfhq/wharf/internal/format/pypi"
	"github.com/wharfhq/wharf/internal/registry"
	"github.com/wharfhq/wharf/internal/sigv4"
	"github.com/wharfhq/wharf/internal/store"
	"github.com/wharfhq/wharf/internal/testenv/embedded"
)

// sdkAPI serves the control plane (real SQLite, real blobs, the real
// verifier) and returns the Go SDK's CodeArtifact client for it, signing in
// region, which need not be the server's.
func sdkAPI(t *testing.T, region string) *codeartifact.Client {
	c, _ := sdkAPIWithRaw(t, region)
	return c
}

// sdkAPIWithRaw also returns a raw client of the same server.
func sdkAPIWithRaw(t *testing.T, region string) (*codeartifact.Client, *client) {
	t.Helper()
	st, bl, _ := embedded.Storage(t)
	return serveOver(t, st, bl, "us-east-1", region)
}

// serveOver serves the control plane over the given storage, labelled
// serverRegion (WHARF_REGION), for clients signing in clientRegion.
func serveOver(t *testing.T, st store.Store, bl blob.Store, serverRegion, clientRegion string) (*codeartifact.Client, *client) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := registry.New(st, bl, log, pypi.Format{}, generic.Format{})
	kid, key, _ := auth.GenerateKey()
	ring, err := auth.NewKeyring(kid, map[string][]byte{kid: key})
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(reg, Config{
		AccountID: account, Region: serverRegion, PublicURL: "http://wharf.example:8080/", Tokens: ring, Log: log,
		Verifier: &sigv4.Verifier{Service: "codeartifact", Lookup: func(id string) (sigv4.Credentials, bool) {
			return sigv4.Credentials{AccessKeyID: keyID, Secret: secret, Principal: "arn:aws:iam::" + account + ":root"}, id == keyID
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	return codeartifact.New(codeartifact.Options{
		BaseEndpoint: aws.String(srv.URL), Region: clientRegion,
		Credentials:      credentials.NewStaticCredentialsProvider(keyID, secret, ""),
		RetryMaxAttempts: 1,
	}), &client{t: t, url: srv.URL}
}

func hexSum(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// unseekable hides a reader's Seek, as a pipe or a socket would.
type unseekable struct{ io.Reader }

func setupRepo(t *testing.T, c *codeartifact.Client) {
	t.Helper()
	ctx := context.Background()
	if _, err := c.CreateDomain(ctx, &codeartifact.CreateDomainInput{Domain: aws.String("dom")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateRepository(ctx, &codeartifact.CreateRepositoryInput{Domain: aws.String("dom"), Repository: aws.String("repo")}); err != nil {
		t.Fatal(err)
	}
}

// TestPublishAssetHashGoSDK drives the Go SDK's PublishPackageVersion with
// right and wrong assetSHA256, small and large, signed over the body's hash
// (the default) and over UNSIGNED-PAYLOAD (the SDK's documented way to
// stream a body it cannot seek).
func TestPublishAssetHashGoSDK(t *testing.T) {
	c := sdkAPI(t, "us-east-2")
	setupRepo(t, c)
	ctx := context.Background()
	small := []byte("a small asset")
	large := bytes.Repeat([]byte("a large asset "), 200_000) // > 1 MiB
	version := 0
	publish := func(content []byte, stated string, streaming bool) error {
		version++
		in := &codeartifact.PublishPackageVersionInput{
			Domain: aws.String("dom"), Repository: aws.String("repo"), Format: types.PackageFormatGeneric,
			Namespace: aws.String("ns"), Package: aws.String("p"), PackageVersion: aws.String(strings.Repeat("1.", version) + "0"),
			AssetName: aws.String("asset.bin"), AssetSHA256: aws.String(stated),
		}
		var opts []func(*codeartifact.Options)
		if streaming {
			in.AssetContent = unseekable{bytes.NewReader(content)}
			opts = append(opts, func(o *codeartifact.Options) {
				o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)
			})
		} else {
			in.AssetContent = bytes.NewReader(content)
		}
		out, err := c.PublishPackageVersion(ctx, in, opts...)
		if err == nil && out.Asset.Hashes["SHA-256"] != hexSum(content) {
			t.Errorf("stored hash %v", out.Asset.Hashes)
		}
		return err
	}
	for _, streaming := range []bool{false, true} {
		for _, content := range [][]byte{small, large} {
			if err := publish(content, hexSum(content), streaming); err != nil {
				t.Fatalf("streaming=%v size=%d, right hash: %v", streaming, len(content), err)
			}
			wrong := hexSum([]byte("another file"))
			err := publish(content, wrong, streaming)
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationException" ||
				!strings.Contains(ae.ErrorMessage(), wrong) || !strings.Contains(ae.ErrorMessage(), hexSum(content)) {
				t.Fatalf("streaming=%v size=%d, wrong hash: %v", streaming, len(content), err)
			}
			if !strings.Contains(err.Error(), "RequestID: ") || strings.Contains(err.Error(), "RequestID: ,") {
				t.Errorf("no request id in the SDK's error: %v", err)
			}
		}
	}
}

// TestUnsignedPayloadRefusedOnJSONOperations: a captured request whose body
// is not signed could be replayed with another body.
func TestUnsignedPayloadRefusedOnJSONOperations(t *testing.T) {
	c := sdkAPI(t, "us-east-1")
	setupRepo(t, c)
	unsigned := func(o *codeartifact.Options) {
		o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware, func(s *middleware.Stack) error {
			return v4.AddContentSHA256HeaderMiddleware(s)
		})
	}
	_, err := c.PutDomainPermissionsPolicy(context.Background(), &codeartifact.PutDomainPermissionsPolicyInput{
		Domain:         aws.String("dom"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"codeartifact:*","Resource":"*"}]}`),
	}, unsigned)
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidSignatureException" || !strings.Contains(ae.ErrorMessage(), "UNSIGNED-PAYLOAD") {
		t.Fatalf("err = %v", err)
	}
}

// TestNonASCIIAssetName: X-AssetName reaches the SDK intact, as an RFC 2047
// encoded-word when the name is not ASCII (raw UTF-8 arrives garbled in
// botocore and the JavaScript SDK).
func TestNonASCIIAssetName(t *testing.T) {
	c := sdkAPI(t, "us-east-1")
	setupRepo(t, c)
	ctx := context.Background()
	for i, name := range []string{"plain-name.bin", "données-été.bin", "模型.bin"} {
		version := fmt.Sprintf("%d.0", i+1)
		_, err := c.PublishPackageVersion(ctx, &codeartifact.PublishPackageVersionInput{
			Domain: aws.String("dom"), Repository: aws.String("repo"), Format: types.PackageFormatGeneric,
			Namespace: aws.String("ns"), Package: aws.String("p"), PackageVersion: aws.String(version),
			AssetName: aws.String(name), AssetSHA256: aws.String(hexSum([]byte("x"))), AssetContent: strings.NewReader("x"),
		})
		if err != nil {
			t.Fatal(err)
		}
		out, err := c.GetPackageVersionAsset(ctx, &codeartifact.GetPackageVersionAssetInput{
			Domain: aws.String("dom"), Repository: aws.String("repo"), Format: types.PackageFormatGeneric,
			Namespace: aws.String("ns"), Package: aws.String("p"), PackageVersion: aws.String(version), Asset: aws.String(name),
		})
		if err != nil {
			t.Fatal(err)
		}
		out.Asset.Close()
		got := aws.ToString(out.AssetName)
		for _, r := range got {
			if r >= 0x7f {
				t.Fatalf("%q: the header is not ASCII: %q", name, got)
			}
		}
		decoded, err := new(mime.WordDecoder).DecodeHeader(got)
		if err != nil || decoded != name {
			t.Fatalf("%q: X-AssetName %q decodes to %q, %v", name, got, decoded, err)
		}
	}
}

// TestJSONBodyCheckedAgainstStatedHash: a JSON body is no longer read
// before the signature is checked when its hash is stated; it is checked as
// it is bound, and a body altered on the way is still a signature failure.
func TestJSONBodyCheckedAgainstStatedHash(t *testing.T) {
	_, c := sdkAPIWithRaw(t, "us-east-1")
	send := func(body, sent string) (int, string) {
		req, _ := http.NewRequest("POST", c.url+"/v1/domain?domain=stated", strings.NewReader(sent))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Amz-Content-SHA256", hexSum([]byte(body)))
		if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret},
			req, hexSum([]byte(body)), "codeartifact", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("x-amzn-ErrorType")
	}
	if code, typ := send(`{"tags":[{"key":"a","value":"b"}]}`, `{"tags":[{"key":"a","value":"B"}]}`); code != 403 || typ != "InvalidSignatureException" {
		t.Fatalf("altered body: %d %s", code, typ)
	}
	if code, typ := send(`{"tags":[{"key":"a","value":"b"}]}`, `{"tags":[{"key":"a","value":"b"}]}`); code != 200 {
		t.Fatalf("intact body: %d %s", code, typ)
	}
}
