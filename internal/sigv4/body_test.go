package sigv4

import (
	"context"
	"errors"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// publishRequest is PublishPackageVersion as the Go SDK signs it: the
// header carries the caller's assetSHA256, the signature covers payloadHash
// (the hash the SDK computed, or UNSIGNED-PAYLOAD when streaming).
func publishRequest(t *testing.T, body io.Reader, header, payloadHash string) *http.Request {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://wharf.test/v1/package/version/publish?domain=d&repository=r&format=generic&namespace=n&package=p&version=1&asset=a.bin", body)
	req.Header.Set("X-Amz-Content-SHA256", header)
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret}, req, payloadHash, "codeartifact", "us-east-1", now); err != nil {
		t.Fatal(err)
	}
	req.Host = "wharf.test"
	return req
}

// unreadable fails the test if the verifier reads a body it must not read
// before the signature is known good.
type unreadable struct{ t *testing.T }

func (u unreadable) Read([]byte) (int, error) {
	u.t.Error("the body was read before the signature was checked")
	return 0, io.ErrUnexpectedEOF
}

func TestStatedHashVerifiedBeforeBody(t *testing.T) {
	v := testVerifier()
	content := "asset bytes"
	req := publishRequest(t, unreadable{t}, sha(content), sha(content))
	if _, err := v.Verify(req); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	// The same for a forged one: refused without reading.
	req = publishRequest(t, unreadable{t}, sha(content), sha(content))
	_ = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: akid, SecretAccessKey: "not-it"}, req, sha(content), "codeartifact", "us-east-1", now)
	if _, err := v.Verify(req); err == nil || err.(*Error).Code != "InvalidSignatureException" {
		t.Fatalf("forged: %v", err)
	}
}

func TestUnsignedPayloadOnlyWhereStreamed(t *testing.T) {
	v := testVerifier()
	content := "asset bytes"
	// The Go SDK's streaming mode: signature over UNSIGNED-PAYLOAD, header signed.
	if _, err := v.Verify(publishRequest(t, strings.NewReader(content), sha(content), unsignedPayload)); err == nil ||
		err.(*Error).Code != "InvalidSignatureException" {
		t.Fatalf("Verify accepted a signature over UNSIGNED-PAYLOAD: %v", err)
	}
	req := publishRequest(t, strings.NewReader(content), sha(content), unsignedPayload)
	if _, err := v.VerifyStreamed(req); err != nil {
		t.Fatalf("VerifyStreamed refused the Go SDK's streaming mode: %v", err)
	}
	if b, err := io.ReadAll(req.Body); err != nil || string(b) != content {
		t.Fatalf("body %q, %v", b, err)
	}
	// ... and the body is still checked against the signed header.
	req = publishRequest(t, strings.NewReader("other bytes"), sha(content), unsignedPayload)
	if _, err := v.VerifyStreamed(req); err != nil {
		t.Fatal(err)
	}
	var bm *BodyMismatchError
	if _, err := io.ReadAll(req.Body); !errors.As(err, &bm) || bm.Stated != sha(content) || bm.Actual != sha("other bytes") {
		t.Fatalf("read err = %v", err)
	}
	// A header of UNSIGNED-PAYLOAD on any other operation is refused.
	jsonReq := goSigned(t, "http://wharf.test", "PUT", "/v1/domain/permissions/policy", `{"policyDocument":"{}"}`, now, nil, "codeartifact", akid, secret)
	jsonReq.Header.Set("X-Amz-Content-SHA256", unsignedPayload)
	jsonReq.Host = "wharf.test"
	if _, err := v.Verify(jsonReq); err == nil || !strings.Contains(err.Error(), "UNSIGNED-PAYLOAD") {
		t.Fatalf("err = %v", err)
	}
}

// TestWrongAssetHashIsNotAForgery: the Go SDK signs the hash of the body it
// sends while the header carries the caller's (wrong) assetSHA256.
func TestWrongAssetHashIsNotAForgery(t *testing.T) {
	v := testVerifier()
	content, wrong := "asset bytes", sha("something else")
	creds, err := v.VerifyStreamed(publishRequest(t, strings.NewReader(content), wrong, sha(content)))
	var bm *BodyMismatchError
	if !errors.As(err, &bm) || !errors.Is(err, ErrBodyMismatch) || bm.Stated != wrong || bm.Actual != sha(content) || creds.Principal != "root" {
		t.Fatalf("creds %+v, err %v", creds, err)
	}
	// With another secret it is a forgery still.
	bad := publishRequest(t, strings.NewReader(content), wrong, sha(content))
	_ = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: akid, SecretAccessKey: "not-it"}, bad, sha(content), "codeartifact", "us-east-1", now)
	if _, err := v.VerifyStreamed(bad); err == nil || err.(*Error).Code != "InvalidSignatureException" {
		t.Fatalf("forged: %v", err)
	}
	// Outside PublishPackageVersion nothing is read to find out.
	if _, err := v.Verify(publishRequest(t, unreadable{t}, wrong, sha(content))); err == nil || err.(*Error).Code != "InvalidSignatureException" {
		t.Fatalf("Verify: %v", err)
	}
}

// TestSwappedCredentialsNotEchoed: with AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY swapped, the "key id" is a secret.
func TestSwappedCredentialsNotEchoed(t *testing.T) {
	v := testVerifier()
	// A secret with '/' breaks the Credential's form; one without reaches the lookup.
	for _, sec := range []string{secret, "wJalrXUtnFEMI+K7MDENGxbPxRfiCYEXAMPLEKEY"} {
		req := goSigned(t, "http://wharf.test", "GET", "/v1/domains", "", now, nil, "codeartifact", sec, akid)
		req.Host = "wharf.test"
		_, err := v.Verify(req)
		if err == nil {
			t.Fatal("verified")
		}
		if msg := err.Error(); strings.Contains(msg, sec) || strings.Contains(msg, sec[:10]) {
			t.Fatalf("message quotes the secret: %s", msg)
		}
		if !strings.Contains(sec, "/") && !strings.Contains(err.Error(), "swapped") {
			t.Fatalf("message: %v", err)
		}
	}
	// A key id that looks like one is quoted, so a typo can be spotted.
	req := goSigned(t, "http://wharf.test", "GET", "/v1/domains", "", now, nil, "codeartifact", "AKIAUNKNOWN000000000", secret)
	req.Host = "wharf.test"
	if _, err := v.Verify(req); err == nil || !strings.Contains(err.Error(), `"AKIAUNKNOWN000000000"`) {
		t.Fatalf("err = %v", err)
	}
}

// stalled is a body that sends some bytes and then nothing until released.
type stalled struct {
	sent    int
	prefix  int
	release chan struct{}
}

func (s *stalled) Read(p []byte) (int, error) {
	if s.sent < s.prefix {
		n := min(len(p), s.prefix-s.sent)
		for i := range p[:n] {
			p[i] = 'x'
		}
		s.sent += n
		return n, nil
	}
	<-s.release
	return 0, io.ErrUnexpectedEOF // the connection was cut
}

// TestUnverifiedBodiesShareABudget: bodies that must be read before their
// signature can be checked hold memory from a shared budget; past it, a
// request is refused instead of buffered, and the budget comes back.
func TestUnverifiedBodiesShareABudget(t *testing.T) {
	v := testVerifier()
	v.MaxUnverified = 16 << 10
	body := &stalled{prefix: 8 << 10, release: make(chan struct{})}
	held := goSigned(t, "http://wharf.test", "POST", "/v1/domain?domain=foo", strings.Repeat("x", 20<<10), now, nil, "codeartifact", akid, secret)
	held.Host, held.Body = "wharf.test", io.NopCloser(body)
	done := make(chan error)
	go func() { _, err := v.Verify(held); done <- err }()
	for v.Unverified() <= v.MaxUnverified-4<<10 {
		select {
		case err := <-done:
			t.Fatalf("the stalled request returned: %v", err)
		default:
		}
		runtime.Gosched()
	}
	small := func() *http.Request {
		r := goSigned(t, "http://wharf.test", "POST", "/v1/domain?domain=bar", `{"a":1}`, now, nil, "codeartifact", akid, secret)
		r.Host = "wharf.test"
		return r
	}
	if _, err := v.Verify(small()); err == nil || err.(*Error).Code != "ThrottlingException" || err.(*Error).Status != http.StatusTooManyRequests {
		t.Fatalf("over budget: %v", err)
	}
	close(body.release)
	if err := <-done; err == nil {
		t.Fatal("the cut request verified")
	}
	if n := v.Unverified(); n != 0 {
		t.Fatalf("%d bytes still counted after the request ended", n)
	}
	if _, err := v.Verify(small()); err != nil {
		t.Fatalf("after the budget came back: %v", err)
	}
	if n := v.Unverified(); n != 0 {
		t.Fatalf("%d bytes still counted after verification", n)
	}
}
