package auth

import (
	"testing"
	"time"

	"github.com/wharfhq/wharf/internal/store"
)

// Tokens carry the access key they were minted from and their issue time
// to the microsecond, so that revocations can tell them apart.
func TestMintKeepsAccessKeyAndMicroseconds(t *testing.T) {
	k := testRing(t)
	issued := now.Add(123456 * time.Microsecond)
	tok, err := k.Mint(Claims{DomainOwner: owner, Domain: domain, Principal: "arn:aws:iam::123456789012:user/admin/ci",
		AccessKeyID: "AKIAEXAMPLEKEY000001", IssuedAt: issued, ExpiresAt: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	c, err := k.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if c.AccessKeyID != "AKIAEXAMPLEKEY000001" || !c.IssuedAt.Equal(issued) {
		t.Fatalf("claims %+v, want the access key id and IssuedAt %v", c, issued)
	}
}

func TestRevoked(t *testing.T) {
	const ci, other = "arn:aws:iam::123456789012:user/admin/ci", "arn:aws:iam::123456789012:user/read/dev"
	at := now
	tok := func(principal, key string, issued time.Time) Claims {
		return Claims{Principal: principal, AccessKeyID: key, IssuedAt: issued}
	}
	for _, tc := range []struct {
		name string
		r    store.Revocation
		c    Claims
		want bool
	}{
		{"key: its token", store.Revocation{AccessKeyID: "K1", Principal: ci, Before: at}, tok(ci, "K1", at.Add(-time.Second)), true},
		{"key: minted after", store.Revocation{AccessKeyID: "K1", Principal: ci, Before: at}, tok(ci, "K1", at.Add(time.Microsecond)), false},
		{"key: another key of the principal", store.Revocation{AccessKeyID: "K1", Principal: ci, Before: at}, tok(ci, "K2", at.Add(-time.Second)), false},
		{"key: an old token without key id, same principal", store.Revocation{AccessKeyID: "K1", Principal: ci, Before: at}, tok(ci, "", at.Add(-time.Second)), true},
		{"key only: an old token without key id", store.Revocation{AccessKeyID: "K1", Before: at}, tok(ci, "", at.Add(-time.Second)), false},
		{"principal", store.Revocation{Principal: ci, Before: at}, tok(ci, "K2", at.Add(-time.Second)), true},
		{"principal: another one", store.Revocation{Principal: ci, Before: at}, tok(other, "K3", at.Add(-time.Second)), false},
		{"before: everyone", store.Revocation{Before: at}, tok(other, "", at.Add(-time.Hour)), true},
		{"before: issued at the instant", store.Revocation{Before: at}, tok(other, "K3", at), false},
	} {
		if got := Revoked(tc.r, tc.c); got != tc.want {
			t.Errorf("%s: Revoked = %v, want %v", tc.name, got, tc.want)
		}
	}
}
