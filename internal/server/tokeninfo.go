package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/wharfhq/wharf/internal/auth"
	"github.com/wharfhq/wharf/internal/format/httperr"
	"github.com/wharfhq/wharf/internal/policy"
	"github.com/wharfhq/wharf/internal/registry"
)

// TokenInfoPath describes the token a request presents, for `wharf doctor`.
const TokenInfoPath = "/wharf/v1/token-info"

// tokenInfo answers GET TokenInfoPath. The token is presented exactly as a
// package client would send it (Basic aws:<token> or Bearer), so the same
// checks and words apply. A token that verifies is described even when it
// has expired (200, "expired": true): its holder can decode those claims
// from the token anyway. A revoked token, or anything else, gets the data plane's 401 with the
// refusal reason, which never quotes the secret, and learns nothing more.
// Optional ?domain=&domain-owner= only make the fix commands concrete;
// optional &repository= adds searchOrderWarnings for that repository.
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
		msg := strings.TrimRight(refusal.Message, "\n")
		s.log.Info("token-info refused", httperr.RefusalAttrs(w, r, http.StatusUnauthorized, msg, "code", refusal.Code)...)
		w.Header().Set("WWW-Authenticate", `Basic realm="wharf"`)
		httperr.Refuse(w, r, http.StatusUnauthorized, msg)
		return
	}
	info := map[string]any{
		"domain":      c.Domain,
		"domainOwner": c.DomainOwner,
		"issuedAt":    c.IssuedAt.UTC().Format(time.RFC3339),
		"expiration":  c.ExpiresAt.UTC().Format(time.RFC3339),
		"expired":     !now.Before(c.ExpiresAt),
	}
	// Only for the repository the caller names in the token's own domain.
	if repo := q.Get("repository"); repo != "" && now.Before(c.ExpiresAt) && q.Get("domain") == c.Domain && q.Get("domain-owner") == c.DomainOwner {
		if warnings := s.searchOrderWarnings(r, c, repo); warnings != nil {
			info["searchOrderWarnings"] = warnings
		}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(info)
}

// searchOrderWarnings describes what in repo's search order exposes its
// internal packages to dependency confusion (registry.ConfusionRisks), for
// a token of repo's domain whose principal may read repo; nil otherwise,
// so a token learns nothing about a repository it cannot read.
func (s *Server) searchOrderWarnings(r *http.Request, c auth.Claims, repo string) []string {
	ref := registry.RepoRef{Owner: c.DomainOwner, Domain: c.Domain, Repository: repo}
	req := policy.Request{Principal: c.Principal, Action: "codeartifact:ReadFromRepository",
		Resource: policy.RepositoryARN(s.cfg.Region, ref.Owner, ref.Domain, ref.Repository)}
	if d, err := s.authz.Authorize(r.Context(), req); err != nil || !d.Allowed {
		return nil
	}
	risks, err := s.reg.ConfusionRisks(r.Context(), ref)
	if err != nil {
		return nil // an unknown repository: the index probe reports it
	}
	out := []string{}
	for _, risk := range risks {
		out = append(out, risk.String())
	}
	return out
}
