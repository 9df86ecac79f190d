package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	akid   = "AKIAWHARFTESTKEY0001"
	secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

var now = time.Date(2026, 11, 27, 11, 20, 0, 0, time.UTC)

func lookup(id string) (Credentials, bool) {
	if id == akid {
		return Credentials{AccessKeyID: akid, Secret: secret, Principal: "root"}, true
	}
	return Credentials{}, false
}

func testVerifier() *Verifier {
	return &Verifier{Service: "codeartifact", Lookup: lookup, Now: func() time.Time { return now }}
}

// outcome is what the test server saw: the refusal, or the principal and a
// hash of the body the handler read after verification.
type outcome struct {
	Status             int
	Code, Message      string
	Principal, BodySHA string
	BodyErr            string
}

// serve runs v behind a real HTTP server, so requests arrive as net/http
// parses them off the wire (Host moved out of the header map, Content-Length
// kept, RequestURI as sent).
func serve(t *testing.T, v *Verifier) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		creds, err := v.Verify(r)
		if err != nil {
			e := err.(*Error)
			w.Header().Set("x-amzn-ErrorType", e.Code)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(e.Status)
			json.NewEncoder(w).Encode(map[string]string{"message": e.Message})
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			w.Header().Set("X-Body-Error", err.Error())
		}
		w.Header().Set("X-Principal", creds.Principal)
		w.Header().Set("X-Body-SHA256", hexSHA256(body))
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte("{}"))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func send(t *testing.T, req *http.Request) outcome {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ Message string }
	json.NewDecoder(resp.Body).Decode(&body)
	return outcome{Status: resp.StatusCode, Code: resp.Header.Get("x-amzn-ErrorType"), Message: body.Message,
		Principal: resp.Header.Get("X-Principal"), BodySHA: resp.Header.Get("X-Body-SHA256"), BodyErr: resp.Header.Get("X-Body-Error")}
}

func sha(s string) string { return hexSHA256([]byte(s)) }

// goSigned builds a request signed by aws-sdk-go-v2.
func goSigned(t *testing.T, base, method, target, body string, at time.Time, mutate func(*v4.SignerOptions), service, key, sec string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, base+target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body == "" {
		req.Body, req.ContentLength = http.NoBody, 0
	} else {
		req.Header.Set("Content-Type", "application/json")
	}
	signer := v4.NewSigner(func(o *v4.SignerOptions) {
		if mutate != nil {
			mutate(o)
		}
	})
	if err := signer.SignHTTP(context.Background(), aws.Credentials{AccessKeyID: key, SecretAccessKey: sec}, req, sha(body), service, "eu-west-1", at); err != nil {
		t.Fatal(err)
	}
	return req
}

func TestGoSDKSigned(t *testing.T) {
	srv := serve(t, testVerifier())
	big := strings.Repeat("x", 2<<20)
	cases := []struct {
		name                 string
		method, target, body string
		at                   time.Time
		service, key, secret string
		tamper               func(*http.Request)
		code, msgIn          string
	}{
		{name: "GET with query", method: "GET", target: "/v1/domain?domain=foo&domain-owner=123456789012"},
		{name: "POST with JSON body", method: "POST", target: "/v1/domain?domain=foo", body: `{"encryptionKey":"arn:aws:kms:x","tags":[{"key":"a","value":"b c"}]}`},
		{name: "DELETE", method: "DELETE", target: "/v1/domain?domain=foo&domain-owner=123456789012"},
		{name: "query needing encoding", method: "GET", target: "/v1/package?format=npm&namespace=my%20scope&package=%40types%2Fnode~x&z=%E2%82%AC&a=1&a=0"},
		{name: "path needing encoding", method: "GET", target: "/v1/a%2Fb/c%20d/%C3%A9"},
		{name: "no path", method: "GET", target: ""},
		{name: "clock within skew", method: "GET", target: "/v1/domains", at: now.Add(-4 * time.Minute)},
		{name: "body tampered", method: "POST", target: "/v1/domain?domain=foo", body: `{"a":1}`, code: "InvalidSignatureException", msgIn: "does not match",
			tamper: func(r *http.Request) { r.Body = io.NopCloser(strings.NewReader(`{"a":2}`)) }},
		{name: "query tampered", method: "GET", target: "/v1/domain?domain=foo", code: "InvalidSignatureException", msgIn: "GET\n/v1/domain\ndomain=bar\n",
			tamper: func(r *http.Request) { r.URL.RawQuery = "domain=bar" }},
		{name: "signed header changed", method: "POST", target: "/v1/domain?domain=foo", body: `{}`, code: "InvalidSignatureException",
			tamper: func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }},
		{name: "unsigned header added", method: "GET", target: "/v1/domains",
			tamper: func(r *http.Request) { r.Header.Set("X-Forwarded-For", "10.0.0.1") }},
		{name: "wrong secret", method: "GET", target: "/v1/domains", secret: "not-the-secret", code: "InvalidSignatureException",
			msgIn: "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method."},
		{name: "unknown key", method: "GET", target: "/v1/domains", key: "AKIAUNKNOWN000000000", code: "UnrecognizedClientException",
			msgIn: `The security token included in the request is invalid. The access key ID "AKIAUNKNOWN000000000" is not known`},
		{name: "skew past", method: "GET", target: "/v1/domains", at: time.Date(2026, 11, 27, 11, 0, 0, 0, time.UTC), code: "InvalidSignatureException",
			msgIn: "Signature expired: 20261127T110000Z is now earlier than 20261127T111500Z (20261127T112000Z - 5 min.)"},
		{name: "skew future", method: "GET", target: "/v1/domains", at: time.Date(2026, 11, 27, 11, 30, 0, 0, time.UTC), code: "InvalidSignatureException",
			msgIn: "Signature not yet current: 20261127T113000Z is still later than 20261127T112500Z (20261127T112000Z + 5 min.)"},
		{name: "wrong service", method: "GET", target: "/v1/domains", service: "s3", code: "InvalidSignatureException",
			msgIn: "Credential should be scoped to correct service: 'codeartifact'."},
		{name: "body over limit", method: "POST", target: "/v1/domain?domain=foo", body: big, code: "RequestEntityTooLargeException"},
		{name: "date scope mismatch", method: "GET", target: "/v1/domains", code: "InvalidSignatureException", msgIn: "Date in Credential scope does not match",
			tamper: func(r *http.Request) {
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/20261127/", "/20261126/", 1))
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			at, service, key, sec := tc.at, tc.service, tc.key, tc.secret
			if at.IsZero() {
				at = now
			}
			if service == "" {
				service = "codeartifact"
			}
			if key == "" {
				key = akid
			}
			if sec == "" {
				sec = secret
			}
			req := goSigned(t, srv.URL, tc.method, tc.target, tc.body, at, nil, service, key, sec)
			if tc.tamper != nil {
				tc.tamper(req)
			}
			got := send(t, req)
			if tc.code == "" {
				if got.Status != 200 || got.Principal != "root" || got.BodySHA != sha(tc.body) {
					t.Fatalf("got %+v", got)
				}
				return
			}
			if got.Code != tc.code || !strings.Contains(got.Message, tc.msgIn) {
				t.Fatalf("got %d %s %q, want %s containing %q", got.Status, got.Code, got.Message, tc.code, tc.msgIn)
			}
			if got.Status != 403 && got.Status != 413 {
				t.Errorf("status %d", got.Status)
			}
			if strings.Contains(got.Message, secret) || strings.Contains(got.Message, "Signature=") {
				t.Errorf("message leaks: %s", got.Message)
			}
		})
	}
}

// TestNoExpectedSignatureInMessage makes sure a mismatch never tells the
// caller the signature that would have been accepted.
func TestNoExpectedSignatureInMessage(t *testing.T) {
	v := testVerifier()
	good := goSigned(t, "http://127.0.0.1:1234", "GET", "/v1/domains", "", now, nil, "codeartifact", akid, secret)
	wrong := goSigned(t, "http://127.0.0.1:1234", "GET", "/v1/domains", "", now, nil, "codeartifact", akid, "other")
	sig := good.Header.Get("Authorization")
	sig = sig[strings.LastIndex(sig, "=")+1:]
	wrong.Host = "127.0.0.1:1234"
	_, err := v.Verify(wrong)
	if err == nil || strings.Contains(err.Error(), sig) || strings.Contains(err.Error(), secret) {
		t.Fatalf("err = %v", err)
	}
}

func TestUnsignedAndMalformed(t *testing.T) {
	srv := serve(t, testVerifier())
	auth := func(h string) *http.Request {
		req, _ := http.NewRequest("GET", srv.URL+"/v1/domains", nil)
		req.Header.Set("X-Amz-Date", "20261127T112000Z")
		if h != "" {
			req.Header.Set("Authorization", h)
		}
		return req
	}
	sig := strings.Repeat("ab", 32)
	cases := []struct {
		name, header, code, msgIn string
	}{
		{"missing header", "", "MissingAuthenticationTokenException", "Missing Authentication Token"},
		{"bare algorithm", "AWS4-HMAC-SHA256", "IncompleteSignatureException", "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter."},
		{"credential only", "AWS4-HMAC-SHA256 Credential=abc", "IncompleteSignatureException", "requires 'Signature'"},
		{"bad credential", "AWS4-HMAC-SHA256 Credential=" + akid + "/2026/eu-west-1/codeartifact/aws4_request, SignedHeaders=host, Signature=" + sig, "IncompleteSignatureException", "ACCESS_KEY_ID/YYYYMMDD/REGION/SERVICE/aws4_request"},
		{"host not signed", "AWS4-HMAC-SHA256 Credential=" + akid + "/20261127/eu-west-1/codeartifact/aws4_request, SignedHeaders=x-amz-date, Signature=" + sig, "IncompleteSignatureException", "'Host' or ':authority' must be a 'SignedHeader'"},
		{"upper-case signed header", "AWS4-HMAC-SHA256 Credential=" + akid + "/20261127/eu-west-1/codeartifact/aws4_request, SignedHeaders=Host;x-amz-date, Signature=" + sig, "IncompleteSignatureException", "lower-case"},
		{"short signature", "AWS4-HMAC-SHA256 Credential=" + akid + "/20261127/eu-west-1/codeartifact/aws4_request, SignedHeaders=host, Signature=abc", "IncompleteSignatureException", "64"},
		{"duplicate parameter", "AWS4-HMAC-SHA256 Credential=a, Credential=b", "IncompleteSignatureException", "malformed"},
		{"bearer token", "Bearer wharf1.abc.def", "IncompleteSignatureException", "package endpoints"},
		{"sigv2", "AWS AKID:c2lnbmF0dXJl", "IncompleteSignatureException", "unsupported signature algorithm AWS"},
		{"valid form, wrong signature", "AWS4-HMAC-SHA256 Credential=" + akid + "/20261127/eu-west-1/codeartifact/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + sig, "InvalidSignatureException", "The Canonical String for this request should have been"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := send(t, auth(tc.header))
			if got.Status != 403 || got.Code != tc.code || !strings.Contains(got.Message, tc.msgIn) {
				t.Fatalf("got %d %s %q, want %s containing %q", got.Status, got.Code, got.Message, tc.code, tc.msgIn)
			}
			if strings.Contains(got.Message, "wharf1.abc") || strings.Contains(got.Message, "c2lnbmF0dXJl") {
				t.Errorf("message echoes the credential: %s", got.Message)
			}
		})
	}
	t.Run("no date", func(t *testing.T) {
		req := auth("AWS4-HMAC-SHA256 Credential=" + akid + "/20261127/eu-west-1/codeartifact/aws4_request, SignedHeaders=host, Signature=" + sig)
		req.Header.Del("X-Amz-Date")
		if got := send(t, req); got.Code != "IncompleteSignatureException" || !strings.Contains(got.Message, "'X-Amz-Date' or a 'Date' header") {
			t.Fatalf("got %+v", got)
		}
	})
}

// TestStatedPayloadHash covers PublishPackageVersion: the asset's SHA-256
// travels in x-amz-content-sha256 and the body may be far larger than
// MaxBody, so it is checked while the handler streams it.
func TestStatedPayloadHash(t *testing.T) {
	v := testVerifier()
	v.MaxBody = 1024
	srv := serve(t, v)
	asset := strings.Repeat("wheel bytes ", 10000)
	signed := func(body, stated string) *http.Request {
		req, _ := http.NewRequest("POST", srv.URL+"/v1/package/version/publish?domain=d&repository=r&format=generic&namespace=n&package=p&version=1&asset=a.bin", strings.NewReader(body))
		req.Header.Set("X-Amz-Content-SHA256", stated)
		if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret}, req, stated, "codeartifact", "us-east-1", now); err != nil {
			t.Fatal(err)
		}
		return req
	}
	if got := send(t, signed(asset, sha(asset))); got.Status != 200 || got.BodySHA != sha(asset) || got.BodyErr != "" {
		t.Fatalf("large stated body: %+v", got)
	}
	req := signed(asset, sha(asset))
	req.Body = io.NopCloser(strings.NewReader(strings.Replace(asset, "wheel", "whee!", 1)))
	if got := send(t, req); !strings.HasPrefix(got.BodyErr, ErrBodyMismatch.Error()) || !strings.Contains(got.BodyErr, sha(asset)) {
		t.Fatalf("tampered large body read without error: %+v", got)
	}
	if got := send(t, signed("{}", sha("{}"))); got.Status != 200 {
		t.Fatalf("small stated body: %+v", got)
	}
	// A small body is no longer buffered before the signature is checked:
	// it is checked as it is read, like a large one.
	req = signed("{}", sha("{}"))
	req.Body, req.ContentLength = io.NopCloser(strings.NewReader("[]")), 2
	if got := send(t, req); !strings.HasPrefix(got.BodyErr, ErrBodyMismatch.Error()) {
		t.Fatalf("tampered small body: %+v", got)
	}
}

func TestPresigned(t *testing.T) {
	srv := serve(t, testVerifier())
	presign := func(at time.Time, expires string) *http.Request {
		req, _ := http.NewRequest("GET", srv.URL+"/v1/domain?domain=foo&X-Amz-Expires="+expires, nil)
		u, _, err := v4.NewSigner().PresignHTTP(context.Background(), aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret}, req, sha(""), "codeartifact", "eu-west-1", at)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := http.NewRequest("GET", u, nil)
		return out
	}
	if got := send(t, presign(now.Add(-10*time.Minute), "900")); got.Status != 200 {
		t.Fatalf("presigned: %+v", got)
	}
	if got := send(t, presign(now.Add(-20*time.Minute), "900")); got.Code != "AccessDeniedException" || !strings.Contains(got.Message, "Request has expired") {
		t.Fatalf("expired presigned: %+v", got)
	}
	req := presign(now, "900")
	req.URL.RawQuery = strings.Replace(req.URL.RawQuery, "domain=foo", "domain=bar", 1)
	if got := send(t, req); got.Code != "InvalidSignatureException" {
		t.Fatalf("tampered presigned: %+v", got)
	}
}

func python(t *testing.T, script string, stdin any) []byte {
	t.Helper()
	if testing.Short() {
		t.Skip("python3 is slow to start; skipped in -short mode")
	}
	if err := exec.Command("python3", "-c", "import botocore").Run(); err != nil {
		t.Fatal("python3 with botocore is required (scripts/test.sh installs the clients)")
	}
	in, _ := json.Marshal(stdin)
	cmd := exec.Command("python3", "-c", script)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v\n%s", err, stderr.String())
	}
	return out
}

// botocoreSign signs requests with botocore's own SigV4Auth/SigV4QueryAuth at
// a fixed time and returns the URL and headers they would be sent with.
const botocoreSign = `
import sys, json, datetime
import botocore.auth
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
spec = json.load(sys.stdin)
t = datetime.datetime.strptime(spec['time'], '%Y%m%dT%H%M%SZ')
botocore.auth.get_current_datetime = lambda *a, **k: t
out = []
for c in spec['requests']:
    creds = Credentials(c['key'], c['secret'], c.get('token') or None)
    req = AWSRequest(method=c['method'], url=c['url'], data=c['body'].encode(), headers=c.get('headers') or {})
    if c.get('presign'):
        SigV4QueryAuth(creds, 'codeartifact', c['region'], expires=c['presign']).add_auth(req)
    else:
        SigV4Auth(creds, 'codeartifact', c['region']).add_auth(req)
    out.append({'url': req.url, 'headers': [[k, v] for k, v in req.headers.items()]})
json.dump(out, sys.stdout)
`

func TestBotocoreSigned(t *testing.T) {
	srv := serve(t, testVerifier())
	const base = "http://127.0.0.1:1234"
	type spec struct {
		Method  string            `json:"method"`
		URL     string            `json:"url"`
		Body    string            `json:"body"`
		Headers map[string]string `json:"headers,omitempty"`
		Key     string            `json:"key"`
		Secret  string            `json:"secret"`
		Token   string            `json:"token,omitempty"`
		Region  string            `json:"region"`
		Presign int               `json:"presign,omitempty"`
	}
	jsonType := map[string]string{"Content-Type": "application/json"}
	cases := []struct {
		name string
		spec
		code string
	}{
		{name: "GET with query", spec: spec{Method: "GET", URL: base + "/v1/domain?domain=foo&domain-owner=123456789012"}},
		{name: "POST with JSON body", spec: spec{Method: "POST", URL: base + "/v1/domain?domain=foo", Body: `{"encryptionKey": "k"}`, Headers: jsonType}},
		{name: "DELETE", spec: spec{Method: "DELETE", URL: base + "/v1/domain?domain=foo&domain-owner=123456789012"}},
		{name: "encoded query, unsorted", spec: spec{Method: "GET", URL: base + "/v1/package?package=%40types%2Fnode&namespace=my%20scope&format=npm&x=~&e=%E2%82%AC&flag"}},
		{name: "encoded path (double-encoded in canonical URI)", spec: spec{Method: "GET", URL: base + "/v1/a%2Fb/c%20d/%C3%A9~"}},
		{name: "dot and empty segments", spec: spec{Method: "GET", URL: base + "/v1//a/./b/../c/"}},
		{name: "Date header instead of X-Amz-Date", spec: spec{Method: "GET", URL: base + "/v1/domains", Headers: map[string]string{"Date": "x"}}},
		{name: "session token", spec: spec{Method: "GET", URL: base + "/v1/domains", Token: "FwoGZXIvYXdzEXAMPLE"}},
		{name: "whitespace in header values", spec: spec{Method: "GET", URL: base + "/v1/domains", Headers: map[string]string{"X-Custom": "  a   b\tc  "}}},
		{name: "stated payload hash", spec: spec{Method: "POST", URL: base + "/v1/package/version/publish?domain=d&repository=r&format=generic&namespace=n&package=p&version=1&asset=a.bin", Body: "asset bytes", Headers: map[string]string{"x-amz-content-sha256": sha("asset bytes")}}},
		{name: "presigned", spec: spec{Method: "GET", URL: base + "/v1/domain?domain=foo", Presign: 300}},
		{name: "wrong secret", spec: spec{Method: "GET", URL: base + "/v1/domains", Secret: "nope"}, code: "InvalidSignatureException"},
		{name: "unknown key", spec: spec{Method: "GET", URL: base + "/v1/domains", Key: "AKIANOBODY0000000000"}, code: "UnrecognizedClientException"},
	}
	var specs []spec
	for _, tc := range cases {
		s := tc.spec
		if s.Key == "" {
			s.Key = akid
		}
		if s.Secret == "" {
			s.Secret = secret
		}
		s.Region = "ap-southeast-2"
		specs = append(specs, s)
	}
	var signed []struct {
		URL     string      `json:"url"`
		Headers [][2]string `json:"headers"`
	}
	out := python(t, botocoreSign, map[string]any{"time": now.Format(amzDateFormat), "requests": specs})
	if err := json.Unmarshal(out, &signed); err != nil || len(signed) != len(cases) {
		t.Fatalf("python output %q: %v", out, err)
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.Method, srv.URL+strings.TrimPrefix(signed[i].URL, base), strings.NewReader(tc.Body))
			if err != nil {
				t.Fatal(err)
			}
			req.Host = "127.0.0.1:1234" // what botocore signed
			for _, h := range signed[i].Headers {
				req.Header.Add(h[0], h[1])
			}
			got := send(t, req)
			if tc.code == "" && (got.Status != 200 || got.BodySHA != sha(tc.Body)) {
				t.Fatalf("got %+v\nrequest %s %s %v", got, tc.Method, signed[i].URL, req.Header)
			}
			if tc.code != "" && got.Code != tc.code {
				t.Fatalf("got %+v, want %s", got, tc.code)
			}
		})
	}
}

// TestBoto3Client drives the real boto3 CodeArtifact client (and so botocore's
// serializer and signer together, with the real clock) against the verifier.
func TestBoto3Client(t *testing.T) {
	v := &Verifier{Service: "codeartifact", Lookup: lookup}
	srv := serve(t, v)
	const script = `
import sys, json, hashlib, boto3
from botocore.exceptions import ClientError
spec = json.load(sys.stdin)
c = boto3.client('codeartifact', endpoint_url=spec['url'], region_name='us-west-2',
    aws_access_key_id=spec['key'], aws_secret_access_key=spec['secret'])
asset = b'\x00wheel' * 300000
calls = [
    ('ListDomains', lambda: c.list_domains()),
    ('DescribeDomain', lambda: c.describe_domain(domain='my-domain', domainOwner='123456789012')),
    ('CreateDomain', lambda: c.create_domain(domain='my-domain', tags=[{'key': 'team', 'value': 'a b/c'}])),
    ('DeleteDomain', lambda: c.delete_domain(domain='my-domain')),
    ('ListPackageVersions', lambda: c.list_package_versions(domain='dd', repository='rr', format='npm', namespace='types', package='node', sortBy='PUBLISHED_TIME')),
    ('PublishPackageVersion', lambda: c.publish_package_version(domain='dd', repository='rr', format='generic', namespace='ns', package='pkg',
        packageVersion='1.0+local', assetName='a b.bin', assetContent=asset, assetSHA256=hashlib.sha256(asset).hexdigest())),
]
out = {}
for name, f in calls:
    try:
        f()
        out[name] = 'ok'
    except ClientError as e:
        out[name] = e.response['Error']['Code'] + ': ' + e.response['Error']['Message']
json.dump(out, sys.stdout)
`
	out := python(t, script, map[string]string{"url": srv.URL, "key": akid, "secret": secret})
	var got map[string]string
	if err := json.Unmarshal(out, &got); err != nil || len(got) != 6 {
		t.Fatalf("python output %q: %v", out, err)
	}
	for op, res := range got {
		if res != "ok" {
			t.Errorf("%s: %s", op, res)
		}
	}
}

// TestAWSCLI runs the real aws CLI, as a user would.
func TestAWSCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("the aws CLI is slow to start; skipped in -short mode")
	}
	if _, err := exec.LookPath("aws"); err != nil {
		t.Fatal("the aws CLI is required (scripts/test.sh installs the clients)")
	}
	srv := serve(t, &Verifier{Lookup: lookup})
	run := func(key string) (string, error) {
		cmd := exec.Command("aws", "codeartifact", "list-domains", "--endpoint-url", srv.URL, "--region", "us-east-1")
		env := []string{"AWS_ACCESS_KEY_ID=" + key, "AWS_SECRET_ACCESS_KEY=" + secret, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_MAX_ATTEMPTS=1"}
		for _, kv := range cmd.Environ() {
			if !strings.HasPrefix(kv, "AWS_") {
				env = append(env, kv)
			}
		}
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run(akid); err != nil {
		t.Fatalf("aws codeartifact list-domains: %v\n%s", err, out)
	}
	out, err := run("AKIAWRONGKEY00000000")
	if err == nil || !strings.Contains(out, "UnrecognizedClientException") || !strings.Contains(out, "AKIAWRONGKEY00000000") {
		t.Fatalf("unknown key: %v\n%s", err, out)
	}
}

func TestCanonicalHelpers(t *testing.T) {
	for in, want := range map[string]string{
		"/": "/", "/v1//a/./b/../c/": "/v1/a/c/", "/a/..": "/", "/../x": "/x", "/a/b": "/a/b",
	} {
		if got := removeDotSegments(in); got != want {
			t.Errorf("removeDotSegments(%q) = %q, want %q", in, got, want)
		}
	}
	if got := canonicalQuery("b=2&a=2&a=1&c&d=%7e%2a+x", false); got != "a=1&a=2&b=2&c=&d=~%2A%20x" {
		t.Errorf("canonicalQuery = %q", got)
	}
	if got := canonicalQuery("X-Amz-Signature=ab&X-Amz-Date=1", true); got != "X-Amz-Date=1" {
		t.Errorf("presigned canonicalQuery = %q", got)
	}
	if got := escape("/a b/%2F~é", true); got != "/a%20b/%252F~%C3%A9" {
		t.Errorf("escape = %q", got)
	}
}

func FuzzParseAuthorization(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKID/20261127/us-east-1/codeartifact/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + strings.Repeat("0a", 32))
	f.Add("AWS4-HMAC-SHA256 Credential=AKID/20261127/us-east-1/codeartifact/aws4_request,SignedHeaders=host,Signature=" + strings.Repeat("f", 64))
	f.Add("AWS4-HMAC-SHA256 Credential=a, Credential=b")
	f.Add("AWS4-HMAC-SHA256 ,,, =")
	f.Add("Bearer x")
	f.Add("")
	f.Fuzz(func(t *testing.T, h string) {
		a, e := parseAuthorization(h)
		if e != nil {
			if e.Code == "" || e.Status != 403 || e.Message == "" {
				t.Fatalf("bad error %+v", e)
			}
			return
		}
		// What parsed must survive being written out the canonical way.
		again, e := parseAuthorization("AWS4-HMAC-SHA256 Credential=" + strings.Join([]string{a.AccessKeyID, a.Date, a.Region, a.Service, "aws4_request"}, "/") +
			", SignedHeaders=" + strings.Join(a.SignedHeaders, ";") + ", Signature=" + a.Signature)
		if e != nil || again.AccessKeyID != a.AccessKeyID || again.Signature != a.Signature || strings.Join(again.SignedHeaders, ";") != strings.Join(a.SignedHeaders, ";") {
			t.Fatalf("%q parsed to %+v, which reparses to %+v, %v", h, a, again, e)
		}
		if _, err := hex.DecodeString(a.Signature); err != nil || len(a.Signature) != 2*sha256.Size {
			t.Fatalf("accepted signature %q", a.Signature)
		}
	})
}
