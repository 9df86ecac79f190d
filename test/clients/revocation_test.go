package clients

import (
	"strings"
	"testing"
	"time"
)

// Issue 11, item 7: a token is refused as soon as the access key that
// minted it is deleted or its tokens are revoked, whatever permissions it
// carried. The scenario of the report: an admin key's token keeps
// publishing after the key is deleted, the user re-created read-only and
// the signing key rotated.
func TestAccessKeyRevokesTokens(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverConfig{})
	c := newClientEnv(t, srv)
	const domain, repo = "revoke", "repo"
	c.createDomainAndRepo(domain, repo)
	endpoint := srv.Endpoint(domain, repo)
	twine := func(tok string, d dist) result {
		writeDist(t, c, d)
		return c.run([]string{"TWINE_REPOSITORY_URL=" + endpoint, "TWINE_USERNAME=aws", "TWINE_PASSWORD=" + tok},
			need(t, "twine"), "upload", "--verbose", "--disable-progress-bar", d.Filename)
	}

	admin := c.adminCreateKey("ci", "admin")
	leaked := c.tokenAs(admin, domain)
	if r := twine(leaked, makeWheel(t, "revoked-pkg", "1.0", "")); r.Code != 0 {
		t.Fatalf("twine with the admin key's token:\n%s", r)
	}
	mustStatus(t, fetch(t, "GET", endpoint+"simple/revoked-pkg/", nil, basic("aws", leaked)), 200) // remembered as allowed

	// The report's steps.
	if r := c.wharf(nil, "admin", "delete-access-key", "--access-key-id", admin.AccessKey.AccessKeyId); r.Code != 0 {
		t.Fatalf("delete-access-key:\n%s", r)
	}
	reader := c.adminCreateKey("ci", "read")
	if r := c.wharf(nil, "admin", "rotate-token-key"); r.Code != 0 {
		t.Fatalf("rotate-token-key:\n%s", r)
	}
	r := twine(leaked, makeWheel(t, "revoked-pkg", "2.0", ""))
	if r.Code == 0 || !strings.Contains(r.Output(), "401") || !strings.Contains(r.Output(), "revoked") {
		t.Fatalf("twine with the deleted key's token must be refused with 401 and say the token was revoked:\n%s", r)
	}
	got := fetch(t, "GET", endpoint+"simple/revoked-pkg/", nil, basic("aws", leaked))
	mustStatus(t, got, 401)
	if body := string(got.Body); !strings.Contains(body, "access key "+admin.AccessKey.AccessKeyId+" was deleted") || !strings.Contains(body, "Get a new token") {
		t.Errorf("the refusal must say why and what to do:\n%s", body)
	}
	// What `wharf doctor` asks says so too.
	if info := fetch(t, "GET", srv.URL+"/wharf/v1/token-info", nil, basic("aws", leaked)); info.Status != 401 || !strings.Contains(string(info.Body), "revoked") {
		t.Errorf("token-info for the revoked token:\n%s", info)
	}
	if strings.Contains(srv.log.Tail(1<<20), leaked) {
		t.Error("the server log shows the token")
	}

	// The re-created read-only user gets tokens that read and cannot publish.
	readTok := c.tokenAs(reader, domain)
	mustStatus(t, fetch(t, "GET", endpoint+"simple/revoked-pkg/", nil, basic("aws", readTok)), 200)
	mustStatus(t, upload(t, endpoint, makeWheel(t, "revoked-pkg", "3.0", ""), basic("aws", readTok)), 403)

	// Revoking by principal: that user's tokens issued until now stop
	// working; one minted afterwards works.
	if r := c.wharf(nil, "admin", "revoke-tokens", "--principal", reader.AccessKey.Arn); r.Code != 0 || !strings.Contains(r.Stdout, "revoked every token") {
		t.Fatalf("revoke-tokens --principal:\n%s", r)
	}
	mustStatus(t, fetch(t, "GET", endpoint+"simple/revoked-pkg/", nil, basic("aws", readTok)), 401)
	mustStatus(t, fetch(t, "GET", endpoint+"simple/revoked-pkg/", nil, basic("aws", c.tokenAs(reader, domain))), 200)

	// Revoking everything issued before a time, root's tokens included.
	rootTok := c.token(domain)
	mustStatus(t, fetch(t, "GET", endpoint+"simple/revoked-pkg/", nil, basic("aws", rootTok)), 200)
	if r := c.wharf(nil, "admin", "revoke-tokens", "--before", time.Now().UTC().Format(time.RFC3339Nano)); r.Code != 0 {
		t.Fatalf("revoke-tokens --before:\n%s", r)
	}
	mustStatus(t, fetch(t, "GET", endpoint+"simple/revoked-pkg/", nil, basic("aws", rootTok)), 401)
	mustStatus(t, fetch(t, "GET", endpoint+"simple/revoked-pkg/", nil, basic("aws", c.token(domain))), 200)

	list := c.wharf(nil, "admin", "list-token-revocations")
	if list.Code != 0 || !strings.Contains(list.Stdout, admin.AccessKey.AccessKeyId) || !strings.Contains(list.Stdout, reader.AccessKey.Arn) {
		t.Errorf("list-token-revocations:\n%s", list)
	}
	// Refusals a person can act on.
	if r := c.wharf(nil, "admin", "revoke-tokens"); r.Code == 0 || !strings.Contains(r.Stderr, "--access-key-id, --principal and/or --before") {
		t.Errorf("revoke-tokens without a selector:\n%s", r)
	}
	if r := c.wharf(nil, "admin", "revoke-tokens", "--before", "yesterday"); r.Code == 0 || !strings.Contains(r.Stderr, "RFC 3339") {
		t.Errorf("revoke-tokens --before yesterday:\n%s", r)
	}
	if r := c.wharf(reader.as(), "admin", "revoke-tokens", "--before", time.Now().UTC().Format(time.RFC3339)); r.Code == 0 || !strings.Contains(r.Stderr, "AccessDeniedException") {
		t.Errorf("only the root revokes:\n%s", r)
	}
}

// Deactivating an access key (IAM's update-access-key --status Inactive)
// refuses its signatures and revokes its tokens; reactivating restores the
// signatures, not the tokens.
func TestAccessKeyDeactivation(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverConfig{})
	c := newClientEnv(t, srv)
	const domain, repo = "deact", "repo"
	c.createDomainAndRepo(domain, repo)
	page := srv.Endpoint(domain, repo) + "simple/"
	k := c.adminCreateKey("ci", "publish")
	tok := c.tokenAs(k, domain)
	mustStatus(t, fetch(t, "GET", page, nil, basic("aws", tok)), 200)

	if r := c.wharf(nil, "admin", "update-access-key", "--access-key-id", k.AccessKey.AccessKeyId, "--status", "Inactive"); r.Code != 0 || !strings.Contains(r.Stdout, "Inactive") {
		t.Fatalf("update-access-key --status Inactive:\n%s", r)
	}
	if list := c.wharf(nil, "admin", "list-access-keys"); !strings.Contains(list.Stdout, "Inactive") {
		t.Errorf("list-access-keys must show the status:\n%s", list)
	}
	if r := fetch(t, "GET", page, nil, basic("aws", tok)); r.Status != 401 || !strings.Contains(string(r.Body), "deactivated") {
		t.Fatalf("the deactivated key's token:\n%s", r)
	}
	c.awsFails(k.as(), "UnrecognizedClientException", "get-authorization-token", "--domain", domain)

	if r := c.wharf(nil, "admin", "update-access-key", "--access-key-id", k.AccessKey.AccessKeyId, "--status", "Active"); r.Code != 0 {
		t.Fatalf("update-access-key --status Active:\n%s", r)
	}
	mustStatus(t, fetch(t, "GET", page, nil, basic("aws", tok)), 401) // revoked for good
	mustStatus(t, fetch(t, "GET", page, nil, basic("aws", c.tokenAs(k, domain))), 200)
	if r := c.wharf(nil, "admin", "update-access-key", "--access-key-id", k.AccessKey.AccessKeyId, "--status", "Disabled"); r.Code == 0 {
		t.Errorf("an unknown status must be refused:\n%s", r)
	}
}
