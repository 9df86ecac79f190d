package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/wharfhq/wharf/internal/auth"
)

// TokenInfoPath describes the token a request presents, for `wharf doctor`.
const TokenInfoPath = "/wharf/v1/token-info"

// tokenInfo answers GET TokenInfoPath. The token is presented exactly as a
// package client would send it (Basic aws:<token> or Bearer), so the same
// checks and words apply. A token that verifies is described even when it
// has expired (200, "expired": true): its holder can decode those claims
// from the token anyway. A revoked token, or anything else, gets the data plane's 401 with the
// refusal reason, which never quotes the secret, and learns nothing more.
// Optional ?domain=&domain-owner= only make the fix commands concrete.
func (s *Server) tokenInfo(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	now := time.Now()
	c, refusal := s.tokens.Describe(r, q.Get("domain-owner"), q.Get("domain"), now)
	w.Header().Set("Cache-Control", "no-store")
	if refusal == nil {
		rv, err := s.revoked.match(r.Context(), c)
		if err != nil {
			s.syncFailed(w, r, err)
			return
		}
		if rv != nil {
			refusal = auth.RevokedRefusal(*rv, c)
		}
	}
	if refusal != nil {
		s.log.Info("token-info refused", "reason", refusal.Code, "client", r.RemoteAddr, "user_agent", r.UserAgent())
		w.Header().Set("WWW-Authenticate", `Basic realm="wharf"`)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintln(w, strings.TrimRight(refusal.Message, "\n"))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"domain":      c.Domain,
		"domainOwner": c.DomainOwner,
		"issuedAt":    c.IssuedAt.UTC().Format(time.RFC3339),
		"expiration":  c.ExpiresAt.UTC().Format(time.RFC3339),
		"expired":     !now.Before(c.ExpiresAt),
	})
}
