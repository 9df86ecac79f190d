package auth

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
)

const (
	owner  = "123456789012"
	domain = "team"
)

var now = time.Date(2026, 11, 27, 11, 20, 0, 0, time.UTC)

func key(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

// testRing has a current key and an older one still accepted after rotation.
func testRing(t testing.TB) *Keyring {
	k, err := NewKeyring("k1", map[string][]byte{"k1": key(1), "k0": key(0)})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mint(t testing.TB, k *Keyring, c Claims) string {
	if c.DomainOwner == "" {
		c.DomainOwner = owner
	}
	if c.Domain == "" {
		c.Domain = domain
	}
	if c.IssuedAt.IsZero() {
		c.IssuedAt = now.Add(-time.Hour)
	}
	if c.ExpiresAt.IsZero() {
		c.ExpiresAt = now.Add(11 * time.Hour)
	}
	tok, err := k.Mint(c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func basicAuth(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func request(authorization string) *http.Request {
	r := httptest.NewRequest("GET", "/pypi/team/simple/foo/", nil)
	if authorization != "" {
		r.Header.Set("Authorization", authorization)
	}
	return r
}

type refusalCase struct {
	name    string
	header  string
	code    string   // "" = accepted
	wantIn  []string // substrings of Message
	secrets []string // never in Message
}

func refusalCases(t testing.TB) []refusalCase {
	k := testRing(t)
	tok := mint(t, k, Claims{Principal: "AKIDROOT"})
	old, _ := NewKeyring("k0", map[string][]byte{"k0": key(0)})
	oldTok := mint(t, old, Claims{})
	foreign, _ := NewKeyring("zz", map[string][]byte{"zz": key(9)})
	foreignTok := mint(t, foreign, Claims{})
	expired := mint(t, k, Claims{IssuedAt: now.Add(-15 * time.Hour), ExpiresAt: now.Add(-3*time.Hour - 12*time.Minute)})
	otherDomain := mint(t, k, Claims{Domain: "other"})
	otherOwner := mint(t, k, Claims{DomainOwner: "210987654321"})
	tampered := tok[:len(tok)-3] + string(rune('A'+(tok[len(tok)-3]-'A'+1)%26)) + tok[len(tok)-2:]
	seedJSON := "{\n    \"authorizationToken\": \"" + tok + "\",\n    \"expiration\": 1795777200\n}\n"

	return []refusalCase{
		{name: "basic aws", header: basicAuth("aws", tok)},
		{name: "basic __token__", header: basicAuth("__token__", tok)},
		{name: "bearer", header: "Bearer " + tok},
		{name: "bearer lower-case scheme", header: "bearer " + tok},
		{name: "old key after rotation", header: basicAuth("aws", oldTok)},

		{name: "no header", code: "no-credentials", wantIn: []string{"No credentials", "get-authorization-token --domain team --domain-owner 123456789012 --query authorizationToken --output text"}},
		{name: "digest", header: `Digest username="aws", realm="x"`, code: "bad-scheme", wantIn: []string{"Digest", "aws"}},
		{name: "basic not base64", header: "Basic !!!" + tok, code: "bad-scheme", wantIn: []string{"base64"}, secrets: []string{tok}},
		{name: "basic with raw token", header: "Basic " + tok, code: "bad-scheme", wantIn: []string{"Bearer"}, secrets: []string{tok}},
		{name: "basic without colon", header: "Basic " + base64.StdEncoding.EncodeToString([]byte(tok)), code: "bad-scheme", wantIn: []string{"no ':'"}, secrets: []string{tok}},
		{name: "bare token", header: tok, code: "bad-scheme", wantIn: []string{"bare token", "Bearer"}, secrets: []string{tok}},
		{name: "sigv4 on data plane", header: "AWS4-HMAC-SHA256 Credential=AKID/20261127/us-east-1/codeartifact/aws4_request, SignedHeaders=host, Signature=00", code: "bad-scheme", wantIn: []string{"Signature Version 4"}},
		{name: "empty bearer", header: "Bearer ", code: "empty-token", wantIn: []string{"no token"}},

		{name: "empty password", header: basicAuth("aws", ""), code: "empty-password", wantIn: []string{"empty password", "UV_INDEX_MY_INDEX_PASSWORD"}},
		{name: "both empty", header: basicAuth("", ""), code: "empty-password", wantIn: []string{"both empty"}},
		{name: "token as username", header: basicAuth(tok, ""), code: "token-as-username", wantIn: []string{"as the username", "`aws`"}, secrets: []string{tok}},

		{name: "seed: whole JSON as password", header: basicAuth("aws", seedJSON), code: "json-password",
			wantIn:  []string{"JSON document", "`authorizationToken`", "--query authorizationToken --output text", "wharf token", "inside it is valid (domain team, owner 123456789012, valid until 2026-11-27T22:20:00Z)"},
			secrets: []string{tok, seedJSON}},
		{name: "JSON fragment", header: basicAuth("aws", `"authorizationToken": "`+tok+`",`), code: "json-password", wantIn: []string{"JSON document", "is valid (domain team"}, secrets: []string{tok}},
		{name: "JSON with expired token", header: basicAuth("aws", `{"authorizationToken": "`+expired+`", "expiration": 1}`), code: "json-password",
			wantIn: []string{"inside it would be valid, but it expired at 2026-11-27T08:08:00Z"}, secrets: []string{expired}},
		{name: "JSON with garbage", header: "Bearer {\"authorizationToken\": \"eyJ2ZXIiOjEsImlzdSI6MTc2NDIzNjAwMH0.abc\"}", code: "json-password", wantIn: []string{"JSON"}, secrets: []string{"eyJ2ZXIiOjEsImlzdSI6MTc2NDIzNjAwMH0"}},
		{name: "text output without query", header: basicAuth("aws", tok+"\t1795777200\n"), code: "cli-output", wantIn: []string{"without --query", "is valid (domain team"}, secrets: []string{tok}},
		{name: "yaml output", header: basicAuth("aws", "authorizationToken: "+tok+"\nexpiration: '2026-11-27T22:20:00+00:00'\n"), code: "cli-output", wantIn: []string{"--output text"}, secrets: []string{tok}},

		{name: "a trailing newline", header: basicAuth("aws", tok+"\n"), code: "whitespace", wantIn: []string{"a trailing newline", "echo", "Without it, the token is valid"}, secrets: []string{tok}},
		{name: "trailing CRLF", header: basicAuth("aws", tok+"\r\n"), code: "whitespace", wantIn: []string{"trailing carriage return (\\r) and newline (\\n)", "CRLF"}, secrets: []string{tok}},
		{name: "a leading space", header: basicAuth("aws", " "+tok), code: "whitespace", wantIn: []string{"a leading space"}, secrets: []string{tok}},
		{name: "a tab inside", header: "Bearer " + tok[:20] + "\t" + tok[20:], code: "whitespace", wantIn: []string{"a tab inside", "line wrapping"}, secrets: []string{tok[:20], tok[20:]}},
		{name: "double quotes", header: basicAuth("aws", `"`+tok+`"`), code: "quoted", wantIn: []string{"quotes", "Without the quotes, the token is valid"}, secrets: []string{tok}},
		{name: "single quotes", header: "Bearer '" + tok + "'", code: "quoted", wantIn: []string{"quotes"}, secrets: []string{tok}},
		{name: "percent-encoded", header: basicAuth("aws", strings.ReplaceAll(tok, ".", "%2E")), code: "percent-encoded", wantIn: []string{"percent-encoding", "Decoded, the token is valid"}, secrets: []string{tok[7:30]}},

		{name: "aws access key id", header: basicAuth("aws", "AKIAIOSFODNN7EXAMPLE"), code: "malformed", wantIn: []string{"access key ID"}, secrets: []string{"AKIAIOSFODNN7EXAMPLE"}},
		{name: "aws secret key", header: basicAuth("aws", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"), code: "malformed", wantIn: []string{"secret access key"}, secrets: []string{"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXU"}},
		{name: "real CodeArtifact token", header: basicAuth("aws", "eyJ2ZXIiOjEsImlzdSI6MTc2NDIzNjAwMCwiZW5jIjoiQTEyOEdDTSJ9.abcdefghijklmnop.qrstuvwxyz"), code: "malformed", wantIn: []string{"AWS CodeArtifact", "endpoint-url"}, secrets: []string{"eyJ2ZXIiOjEsImlzdSI6MTc2NDIzNjAwMCwi"}},
		{name: "random password", header: basicAuth("aws", "correct-horse-battery"), code: "malformed", wantIn: []string{"21-character", "not a token issued by this wharf server"}, secrets: []string{"correct-horse-battery"}},
		{name: "truncated", header: basicAuth("aws", tok[:len(tok)-5]), code: "malformed", wantIn: []string{"damaged or incomplete"}, secrets: []string{tok[:len(tok)-5]}},
		{name: "future format", header: basicAuth("aws", "wharf2.abc.def"), code: "malformed", wantIn: []string{"different version"}},
		{name: "non-ascii", header: basicAuth("aws", "\u201c"+tok+"\u201d"), code: "malformed", wantIn: []string{"Character 1", "non-ASCII"}, secrets: []string{tok}},
		{name: "basic credentials as bearer", header: "Bearer " + base64.StdEncoding.EncodeToString([]byte("aws:"+tok)), code: "malformed", wantIn: []string{"sent as a token"}, secrets: []string{tok}},
		{name: "tampered", header: basicAuth("aws", tampered), code: "bad-signature", wantIn: []string{"altered"}, secrets: []string{tampered}},
		{name: "unknown key", header: "Bearer " + foreignTok, code: "unknown-key", wantIn: []string{"another wharf installation", "rotation"}, secrets: []string{foreignTok}},

		{name: "expired", header: basicAuth("aws", expired), code: "expired", wantIn: []string{"expired at 2026-11-27T08:08:00Z (3h12m ago)", "wharf token --domain team --domain-owner 123456789012"}, secrets: []string{expired}},
		{name: "other domain", header: basicAuth("aws", otherDomain), code: "wrong-domain", wantIn: []string{`domain "other" (owner 123456789012)`, `domain "team" (owner 123456789012)`}, secrets: []string{otherDomain}},
		{name: "other owner", header: "Bearer " + otherOwner, code: "wrong-domain", wantIn: []string{"owner 210987654321", "owner 123456789012"}, secrets: []string{otherOwner}},

		{name: "wrong username", header: basicAuth("admin", tok), code: "bad-username", wantIn: []string{"must be `aws`", "token itself is fine"}, secrets: []string{tok}},
		{name: "upper-case username", header: basicAuth("AWS", tok), code: "bad-username", wantIn: []string{"lower case"}, secrets: []string{tok}},
		{name: "empty username", header: basicAuth("", tok), code: "bad-username", wantIn: []string{"username is empty"}, secrets: []string{tok}},
		{name: "swapped", header: basicAuth(tok, "aws"), code: "bad-username", wantIn: []string{"swapped"}, secrets: []string{tok}},
		{name: "wrong username and JSON password", header: basicAuth("me@example.com", seedJSON), code: "json-password", wantIn: []string{"JSON document", "Also: The username must be `aws`"}, secrets: []string{tok, "me@example.com"}},
	}
}

func TestAuthenticate(t *testing.T) {
	k := testRing(t)
	for _, tc := range refusalCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			c, ref := k.Authenticate(request(tc.header), owner, domain, now)
			if tc.code == "" {
				if ref != nil {
					t.Fatalf("refused: %v\n%s", ref, ref.Message)
				}
				if c.Domain != domain || c.DomainOwner != owner {
					t.Fatalf("claims = %+v", c)
				}
				return
			}
			if ref == nil {
				t.Fatalf("accepted, want refusal %q", tc.code)
			}
			if ref.Code != tc.code {
				t.Errorf("code = %q, want %q\n%s", ref.Code, tc.code, ref.Message)
			}
			for _, w := range tc.wantIn {
				if !strings.Contains(ref.Message, w) {
					t.Errorf("message lacks %q:\n%s", w, ref.Message)
				}
			}
			for _, s := range tc.secrets {
				if strings.Contains(ref.Message, s) || strings.Contains(ref.Error(), s) {
					t.Errorf("message contains the secret %q:\n%s", s, ref.Message)
				}
			}
			if strings.Contains(ref.Message, "wharf1.") && !strings.Contains(ref.Message, `"wharf1."`) {
				t.Errorf("message shows a token:\n%s", ref.Message)
			}
		})
	}
}

// TestNoSecretInMessages checks every refusal against every credential it was
// given, as a backstop to the per-case lists above.
func TestNoSecretInMessages(t *testing.T) {
	k := testRing(t)
	for _, tc := range refusalCases(t) {
		_, ref := k.Authenticate(request(tc.header), owner, domain, now)
		if ref == nil {
			continue
		}
		for _, s := range presentedSecrets(tc.header) {
			if len(s) >= 7 && strings.Contains(ref.Message, s) {
				t.Errorf("%s: message contains presented secret %q", tc.name, s)
			}
		}
	}
}

// presentedSecrets returns every value in an Authorization header that could
// be a secret: the parameter, and the Basic username and password.
func presentedSecrets(h string) []string {
	_, param, ok := strings.Cut(h, " ")
	if !ok {
		return []string{h}
	}
	out := []string{param, strings.TrimSpace(param)}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding} {
		if raw, err := enc.DecodeString(strings.TrimLeft(param, " ")); err == nil {
			u, p, _ := strings.Cut(string(raw), ":")
			out = append(out, string(raw), u, p, strings.TrimSpace(p))
		}
	}
	return out
}

func TestDescribe(t *testing.T) {
	k := testRing(t)
	expired := mint(t, k, Claims{IssuedAt: now.Add(-15 * time.Hour), ExpiresAt: now.Add(-time.Hour), Domain: "other"})
	c, ref := k.Describe(request("Bearer "+expired), "", "", now)
	if ref != nil {
		t.Fatalf("Describe refused an expired token: %v", ref)
	}
	if c.Domain != "other" || !c.ExpiresAt.Equal(now.Add(-time.Hour)) || c.KeyID != "k1" {
		t.Fatalf("claims = %+v", c)
	}
	_, ref = k.Describe(request(""), "", "", now)
	if ref == nil || ref.Code != "no-credentials" || !strings.Contains(ref.Message, "--domain DOMAIN --domain-owner OWNER") {
		t.Fatalf("refusal = %+v", ref)
	}
}

func TestMintVerifyRoundTrip(t *testing.T) {
	k := testRing(t)
	in := Claims{DomainOwner: owner, Domain: domain, Principal: "AKIAWHARFROOT",
		IssuedAt: now, ExpiresAt: now.Add(12 * time.Hour)}
	tok, err := k.Mint(in)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[A-Za-z0-9._-]+$`).MatchString(tok) {
		t.Fatalf("token %q has characters outside the URL-safe alphabet", tok)
	}
	if len(tok) > 200 {
		t.Errorf("token is %d bytes; keep it small", len(tok))
	}
	out, err := k.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	in.KeyID = "k1"
	if out != in {
		t.Fatalf("Verify = %+v, want %+v", out, in)
	}
}

func TestTokenAlphabet(t *testing.T) {
	k := testRing(t)
	re := regexp.MustCompile(`^[A-Za-z0-9._-]+$`)
	for i := range 200 {
		// Names and times that push base64 through all of its 64 symbols.
		tok := mint(t, k, Claims{Domain: strings.Repeat("d", i%50+1), Principal: strings.Repeat("~?>", i%7), ExpiresAt: now.Add(time.Duration(i) * time.Hour)})
		if !re.MatchString(tok) {
			t.Fatalf("token %q has characters outside the URL-safe alphabet", tok)
		}
	}
}

func TestTamperingFails(t *testing.T) {
	k := testRing(t)
	tok := mint(t, k, Claims{})
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
	for i := len(tokenPrefix); i < len(tok); i++ {
		for j := 0; j < len(alphabet); j++ {
			if alphabet[j] == tok[i] {
				continue
			}
			bad := tok[:i] + alphabet[j:j+1] + tok[i+1:]
			if _, err := k.Verify(bad); err == nil {
				t.Fatalf("token altered at byte %d to %q verifies", i, alphabet[j])
			}
		}
	}
	for _, bad := range []string{tok + "A", tok[:len(tok)-1], tok + ".x", "x" + tok} {
		if _, err := k.Verify(bad); err == nil {
			t.Fatalf("%q verifies", bad)
		}
	}
}

func TestKeyRotation(t *testing.T) {
	before, _ := NewKeyring("k0", map[string][]byte{"k0": key(0)})
	tok := mint(t, before, Claims{})
	after := testRing(t) // current k1, k0 kept
	c, err := after.Verify(tok)
	if err != nil || c.KeyID != "k0" {
		t.Fatalf("Verify after rotation = %+v, %v", c, err)
	}
	if newTok := mint(t, after, Claims{}); !strings.Contains(newTok, ".") {
		t.Fatal("no token")
	} else if c, _ := after.Verify(newTok); c.KeyID != "k1" {
		t.Fatalf("new tokens signed with %q, want the current key k1", c.KeyID)
	}
	retired, _ := NewKeyring("k1", map[string][]byte{"k1": key(1)})
	_, err = retired.Verify(tok)
	if ref, ok := err.(*Refusal); !ok || ref.Code != "unknown-key" {
		t.Fatalf("Verify with the key removed = %v, want unknown-key", err)
	}
}

func TestNewKeyringAndGenerateKey(t *testing.T) {
	id, k, err := GenerateKey()
	if err != nil || len(k) != 32 || !regexp.MustCompile(`^[0-9a-f]{8}$`).MatchString(id) {
		t.Fatalf("GenerateKey = %q, %d bytes, %v", id, len(k), err)
	}
	if id2, k2, _ := GenerateKey(); id2 == id || bytes.Equal(k, k2) {
		t.Fatal("GenerateKey repeats itself")
	}
	keys := map[string][]byte{id: k}
	ring, err := NewKeyring(id, keys)
	if err != nil {
		t.Fatal(err)
	}
	k[0] ^= 0xff // the ring must hold its own copy
	tok := mint(t, ring, Claims{})
	if _, err := ring.Verify(tok); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		current string
		keys    map[string][]byte
	}{
		"no keys":         {"a", nil},
		"current missing": {"b", map[string][]byte{"a": key(1)}},
		"short key":       {"a", map[string][]byte{"a": key(1)[:16]}},
		"bad id":          {"a.b", map[string][]byte{"a.b": key(1)}},
	} {
		if _, err := NewKeyring(tc.current, tc.keys); err == nil {
			t.Errorf("%s: NewKeyring accepted it", name)
		}
	}
	if _, err := ring.Mint(Claims{Domain: domain, DomainOwner: owner, IssuedAt: now, ExpiresAt: now}); err == nil {
		t.Error("Mint accepted a token that expires when issued")
	}
}

func FuzzAuthenticate(f *testing.F) {
	k := testRing(f)
	// Text the messages legitimately contain: a "secret" the fuzzer happens
	// to pick from it is not a leak.
	var static strings.Builder
	for _, tc := range refusalCases(f) {
		f.Add(tc.header)
		if _, ref := k.Authenticate(request(tc.header), owner, domain, now); ref != nil {
			static.WriteString(ref.Message)
		}
	}
	f.Fuzz(func(t *testing.T, h string) {
		r := request("")
		r.Header["Authorization"] = []string{h}
		c, ref := k.Authenticate(r, owner, domain, now)
		if ref == nil {
			if c.Domain != domain || c.DomainOwner != owner || !now.Before(c.ExpiresAt) {
				t.Fatalf("accepted claims %+v", c)
			}
			return
		}
		if ref.Code == "" || ref.Message == "" {
			t.Fatalf("empty refusal %+v", ref)
		}
		for _, s := range presentedSecrets(h) {
			if len(s) >= 8 && strings.Contains(ref.Message, s) && !strings.Contains(static.String(), s) {
				t.Fatalf("message echoes the secret %q:\n%s", s, ref.Message)
			}
		}
	})
}

func FuzzVerify(f *testing.F) {
	k := testRing(f)
	tok := mint(f, k, Claims{})
	forged := `{"v":1,"kid":"k1","own":"1","dom":"d","ak":"AKIAEXAMPLE","iat":1,"us":1000000,"exp":2}`
	for _, s := range []string{tok, tok[:len(tok)-2], "wharf1..", "wharf1.e30.",
		"wharf1." + base64.RawURLEncoding.EncodeToString([]byte(forged)) + ".AAAA", "wharf1." + base64.RawURLEncoding.EncodeToString([]byte(`{"v":1,"kid":"k1","own":"1","dom":"d"}`)) + ".AAAA", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := k.Verify(s)
		if err != nil {
			if _, ok := err.(*Refusal); !ok {
				t.Fatalf("error %T is not a *Refusal", err)
			}
			return
		}
		if s != tok || c.Domain != domain {
			t.Fatalf("forged token %q verifies: %+v", s, c)
		}
	})
}
