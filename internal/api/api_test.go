package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/wharfhq/wharf/internal/auth"
	"github.com/wharfhq/wharf/internal/format/pypi"
	"github.com/wharfhq/wharf/internal/registry"
	"github.com/wharfhq/wharf/internal/sigv4"
	"github.com/wharfhq/wharf/internal/testenv/embedded"
)

const (
	account = "123456789012"
	keyID   = "AKIDEXAMPLE"
	secret  = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
)

type client struct {
	t   *testing.T
	url string
}

// newAPI serves the control plane over a real SQLite file and blob
// directory; requests are signed with the AWS SDK's own SigV4 signer.
func newAPI(t *testing.T) *client {
	t.Helper()
	st, bl, _ := embedded.Storage(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := registry.New(st, bl, log, pypi.Format{})
	kid, key, _ := auth.GenerateKey()
	ring, err := auth.NewKeyring(kid, map[string][]byte{kid: key})
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(reg, Config{
		AccountID: account, Region: "us-east-1", PublicURL: "http://wharf.example:8080/", Tokens: ring, Log: log,
		Verifier: &sigv4.Verifier{Service: "codeartifact", Lookup: func(id string) (sigv4.Credentials, bool) {
			return sigv4.Credentials{AccessKeyID: keyID, Secret: secret, Principal: "arn:aws:iam::" + account + ":root"}, id == keyID
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	return &client{t: t, url: srv.URL}
}

// call signs and sends one request; it returns the status, the AWS error
// type header and the decoded JSON body.
func (c *client) call(method, path string, body any) (int, string, map[string]any) {
	c.t.Helper()
	var payload []byte
	if body != nil {
		payload, _ = json.Marshal(body)
	}
	req, _ := http.NewRequest(method, c.url+path, bytes.NewReader(payload))
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256(payload)
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret},
		req, hex.EncodeToString(sum[:]), "codeartifact", "us-west-2", time.Now())
	if err != nil {
		c.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"), out
}

func (c *client) ok(method, path string, body any) map[string]any {
	c.t.Helper()
	code, typ, out := c.call(method, path, body)
	if code != 200 {
		c.t.Fatalf("%s %s: %d %s %v", method, path, code, typ, out)
	}
	return out
}

func (c *client) fails(method, path string, body any, wantStatus int, wantType, wantMsg string) {
	c.t.Helper()
	code, typ, out := c.call(method, path, body)
	msg, _ := out["message"].(string)
	if code != wantStatus || typ != wantType || !strings.Contains(msg, wantMsg) {
		c.t.Fatalf("%s %s: got %d %s %q, want %d %s containing %q", method, path, code, typ, msg, wantStatus, wantType, wantMsg)
	}
}

func TestDomainLifecycle(t *testing.T) {
	c := newAPI(t)
	d := c.ok("POST", "/v1/domain?domain=my-domain", nil)["domain"].(map[string]any)
	if d["arn"] != "arn:aws:codeartifact:us-east-1:123456789012:domain/my-domain" || d["owner"] != account || d["status"] != "Active" {
		t.Fatalf("domain: %v", d)
	}
	if _, ok := d["createdTime"].(float64); !ok {
		t.Fatalf("createdTime must be epoch seconds: %v", d["createdTime"])
	}
	c.fails("POST", "/v1/domain?domain=my-domain", nil, 409, "ConflictException", "already exists")
	c.fails("POST", "/v1/domain?domain=My_Domain", nil, 400, "ValidationException", "regular expression pattern")
	c.fails("POST", "/v1/domain", nil, 400, "ValidationException", "Value null at 'domain'")
	c.fails("GET", "/v1/domain?domain=nope", nil, 404, "ResourceNotFoundException", "nope")
	c.fails("GET", "/v1/domain?domain=my-domain&domain-owner=999999999999", nil, 404, "ResourceNotFoundException", "999999999999")

	c.ok("POST", "/v1/repository?domain=my-domain&repository=base", map[string]any{"description": "base repo"})
	r := c.ok("POST", "/v1/repository?domain=my-domain&repository=team", map[string]any{
		"upstreams": []map[string]string{{"repositoryName": "base"}},
	})["repository"].(map[string]any)
	if r["arn"] != "arn:aws:codeartifact:us-east-1:123456789012:repository/my-domain/team" ||
		r["upstreams"].([]any)[0].(map[string]any)["repositoryName"] != "base" {
		t.Fatalf("repository: %v", r)
	}
	c.fails("PUT", "/v1/repository?domain=my-domain&repository=base", map[string]any{
		"upstreams": []map[string]string{{"repositoryName": "team"}},
	}, 400, "ValidationException", "cycle")
	c.fails("POST", "/v1/repository?domain=my-domain&repository=x", map[string]any{"upstreams": "base"}, 400, "ValidationException", "must be a list")
	c.fails("POST", "/v1/repository?domain=my-domain&repository=x", "not an object", 400, "ValidationException", "JSON object")

	desc := c.ok("GET", "/v1/domain?domain=my-domain", nil)["domain"].(map[string]any)
	if desc["repositoryCount"].(float64) != 2 {
		t.Fatalf("repositoryCount: %v", desc)
	}
	c.fails("DELETE", "/v1/domain?domain=my-domain", nil, 409, "ConflictException", "still has 2 repositories")

	ep := c.ok("GET", "/v1/repository/endpoint?domain=my-domain&repository=team&format=pypi", nil)
	if ep["repositoryEndpoint"] != "http://wharf.example:8080/my-domain-123456789012/pypi/team/" {
		t.Fatalf("endpoint: %v", ep)
	}
	c.fails("GET", "/v1/repository/endpoint?domain=my-domain&repository=team&format=rubygems", nil, 400, "ValidationException", "enum value set")

	c.fails("DELETE", "/v1/repository?domain=my-domain&repository=base", nil, 409, "ConflictException", "upstream of repository team")
	c.ok("DELETE", "/v1/repository?domain=my-domain&repository=team", nil)
	c.ok("DELETE", "/v1/repository?domain=my-domain&repository=base", nil)
	gone := c.ok("DELETE", "/v1/domain?domain=my-domain", nil)["domain"].(map[string]any)
	if gone["status"] != "Deleted" {
		t.Fatalf("deleted domain: %v", gone)
	}
}

func TestPagination(t *testing.T) {
	c := newAPI(t)
	c.ok("POST", "/v1/domain?domain=d1", nil)
	c.ok("POST", "/v1/domain?domain=d2", nil)
	want := []string{"a-repo", "b-repo", "c-repo", "d-repo", "e-repo"}
	for i, n := range want {
		c.ok("POST", "/v1/repository?domain=d"+string(rune('1'+i%2))+"&repository="+n, nil)
	}
	var got []string
	next := ""
	for pages := 0; ; pages++ {
		path := "/v1/repositories?max-results=2"
		if next != "" {
			path += "&next-token=" + next
		}
		out := c.ok("POST", path, nil)
		for _, r := range out["repositories"].([]any) {
			got = append(got, r.(map[string]any)["name"].(string))
		}
		n, _ := out["nextToken"].(string)
		if n == "" {
			break
		}
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		next = n
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("pages: %v", got)
	}
	c.fails("POST", "/v1/repositories?max-results=0", nil, 400, "ValidationException", "greater than or equal to 1")
	c.fails("POST", "/v1/repositories?next-token=garbage", nil, 400, "ValidationException", "nextToken")

	doms := c.ok("POST", "/v1/domains", map[string]any{"maxResults": 1})
	if len(doms["domains"].([]any)) != 1 || doms["nextToken"] == nil {
		t.Fatalf("list-domains page: %v", doms)
	}
}

func TestAuthorizationToken(t *testing.T) {
	c := newAPI(t)
	c.ok("POST", "/v1/domain?domain=dom", nil)
	out := c.ok("POST", "/v1/authorization-token?domain=dom&duration=900", nil)
	tok, _ := out["authorizationToken"].(string)
	exp, _ := out["expiration"].(float64)
	if tok == "" || strings.Trim(tok, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != "" {
		t.Fatalf("token must need no escaping anywhere: %q", tok)
	}
	if d := time.Until(time.Unix(int64(exp), 0)); d < 14*time.Minute || d > 16*time.Minute {
		t.Fatalf("expiration %v from now, want 15m", d)
	}
	out = c.ok("POST", "/v1/authorization-token?domain=dom", nil)
	if d := time.Until(time.Unix(int64(out["expiration"].(float64)), 0)); d < 11*time.Hour || d > 13*time.Hour {
		t.Fatalf("default expiration %v, want 12h", d)
	}
	c.fails("POST", "/v1/authorization-token?domain=dom&duration=60", nil, 400, "ValidationException", "900 and 43200")
	c.fails("POST", "/v1/authorization-token?domain=dom&duration=43201", nil, 400, "ValidationException", "less than or equal to 43200")
	c.fails("POST", "/v1/authorization-token?domain=other", nil, 404, "ResourceNotFoundException", "other")
}

func TestSignatureRequired(t *testing.T) {
	c := newAPI(t)
	resp, err := http.Post(c.url+"/v1/domains", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 || resp.Header.Get("x-amzn-ErrorType") != "MissingAuthenticationTokenException" {
		t.Fatalf("unsigned request: %d %s", resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"))
	}
}

func TestEveryModelOperationIsRouted(t *testing.T) {
	c := newAPI(t)
	a, _ := New(nil, Config{Verifier: &sigv4.Verifier{}, Log: slog.Default()})
	implemented := map[string]bool{}
	for _, n := range a.Implemented() {
		implemented[n] = true
	}
	for name, op := range a.svc.Operations {
		if implemented[name] {
			continue
		}
		// Unimplemented operations answer in AWS's error shape, never 404.
		c.fails(op.Method, strings.ReplaceAll(op.Path, "{", "x"), nil, 501, "NotImplementedException", name)
	}
	if len(a.svc.Operations) != 48 {
		t.Fatalf("model has %d operations, want 48", len(a.svc.Operations))
	}
}
