package auth

import (
	"testing"
	"time"
)

// A token seen before skips decoding and the HMAC, but never the checks
// that depend on the request: expiry, domain, and the username.
func TestRememberedTokenStillChecked(t *testing.T) {
	k := testRing(t)
	tok := mint(t, k, Claims{ExpiresAt: now.Add(time.Hour)})
	for i := range 2 {
		c, ref := k.Authenticate(request(basicAuth("aws", tok)), owner, domain, now)
		if ref != nil || c.Domain != domain || c.DomainOwner != owner {
			t.Fatalf("request %d: %+v %v", i, c, ref)
		}
	}
	if _, ref := k.Authenticate(request(basicAuth("aws", tok)), owner, domain, now.Add(2*time.Hour)); ref == nil || ref.Code != "expired" {
		t.Fatalf("expired token accepted after being remembered: %+v", ref)
	}
	if _, ref := k.Authenticate(request(basicAuth("aws", tok)), owner, "other-domain", now); ref == nil {
		t.Fatal("token for another domain accepted after being remembered")
	}
	if _, ref := k.Authenticate(request(basicAuth(tok, "aws")), owner, domain, now); ref == nil || ref.Code != "bad-username" {
		t.Fatalf("swapped username and password accepted: %+v", ref)
	}
	// A tampered copy is not the remembered token.
	bad := tok[:len(tok)-2] + "AA"
	if bad == tok {
		bad = tok[:len(tok)-2] + "BB"
	}
	if _, ref := k.Authenticate(request(basicAuth("aws", bad)), owner, domain, now); ref == nil {
		t.Fatal("tampered token accepted")
	}
	// Another keyring (another server, or after key rotation) does not
	// share the memory.
	other, _ := NewKeyring("zz", map[string][]byte{"zz": key(9)})
	if _, ref := other.Authenticate(request(basicAuth("aws", tok)), owner, domain, now); ref == nil || ref.Code != "unknown-key" {
		t.Fatalf("foreign keyring: %+v", ref)
	}
}
