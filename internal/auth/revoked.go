package auth

import (
	"fmt"
	"time"

	"github.com/wharfhq/wharf/internal/store"
)

// Revoked reports whether revocation r applies to a token with claims c:
// c was issued before r.Before, by r.Principal when r names one, from
// r.AccessKeyID when r names one. A token that carries no access key id
// (minted before wharf recorded them) cannot be matched by key: a
// revocation by key then applies to it only through the key's principal,
// which the server records with the key id when it knows it.
func Revoked(r store.Revocation, c Claims) bool {
	if !c.IssuedAt.Before(r.Before) {
		return false
	}
	if r.Principal != "" && r.Principal != c.Principal {
		return false
	}
	if r.AccessKeyID != "" {
		if c.AccessKeyID == "" {
			return r.Principal != ""
		}
		return c.AccessKeyID == r.AccessKeyID
	}
	return true
}

// RevokedRefusal explains a refusal of a revoked token to the person
// behind the client.
func RevokedRefusal(r store.Revocation, c Claims) *Refusal {
	why := r.Reason
	if why == "" {
		why = "revoked by the administrator"
	}
	return &Refusal{Code: "revoked", Message: fmt.Sprintf("The token was revoked (%s, %s): tokens issued before then for %s are no longer accepted.\n"+
		"Get a new token (`wharf token`, or `aws codeartifact get-authorization-token`) with a current access key; "+
		"if your access key was deleted, ask the administrator for a new one.",
		why, r.Before.UTC().Format(time.RFC3339), orPlaceholder(c.Principal, "this principal"))}
}
