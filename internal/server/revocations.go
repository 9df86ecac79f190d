package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/wharfhq/wharf/internal/auth"
	"github.com/wharfhq/wharf/internal/registry"
	"github.com/wharfhq/wharf/internal/store"
)

// TokenRevocationsPath is the administrator's endpoint for revoking
// authorization tokens (`wharf admin revoke-tokens`): POST with
// accessKeyId, principal and/or before (RFC 3339, default now) revokes every
// token issued before then that matches; GET lists the revocations still
// in force. Root only, like the access keys.
const TokenRevocationsPath = "/wharf/v1/token-revocations"

// maxTokenLifetime is the longest a token lives (GetAuthorizationToken's
// 12 hours), plus a margin for clock skew between replicas: a revocation
// older than that only revokes tokens that have expired.
const maxTokenLifetime = 13 * time.Hour

// revocationSet holds the revocations in force, read from the store when
// a revocation is recorded (by this replica, or by another as of the
// request's Sync), so that checking a token costs no I/O.
type revocationSet struct {
	reg   *registry.Registry
	store store.Store

	mu     sync.RWMutex
	gen    uint64 // RevocationGeneration the list was read at
	loaded bool
	list   []store.Revocation
}

// match returns the revocation that applies to claims, if any.
func (s *revocationSet) match(ctx context.Context, claims auth.Claims) (*store.Revocation, error) {
	list, err := s.current(ctx)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if auth.Revoked(list[i], claims) {
			return &list[i], nil
		}
	}
	return nil, nil
}

func (s *revocationSet) current(ctx context.Context) ([]store.Revocation, error) {
	gen := s.reg.RevocationGeneration() // before the read, as for every cache
	s.mu.RLock()
	list, ok := s.list, s.loaded && s.gen == gen
	s.mu.RUnlock()
	if ok {
		return list, nil
	}
	list, err := s.store.ListRevocations(ctx, time.Now().Add(-maxTokenLifetime))
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.list, s.gen, s.loaded = list, gen, true
	s.mu.Unlock()
	return list, nil
}

// revoke records a revocation and reports it in the log.
func (s *Server) revoke(ctx context.Context, r store.Revocation, by string) error {
	if r.CreatedAt.IsZero() {
		r.CreatedAt = time.Now().UTC()
	}
	if err := s.reg.Store().CreateRevocation(ctx, r); err != nil {
		return err
	}
	s.log.Info("tokens revoked", "access_key_id", r.AccessKeyID, "principal", r.Principal,
		"issued_before", r.Before.UTC().Format(time.RFC3339Nano), "reason", r.Reason, "by", by)
	return nil
}

// refuseRevoked answers 401 when claims' token was revoked, and reports
// whether it did (or failed to find out, answering that).
func (s *Server) refuseRevoked(w http.ResponseWriter, r *http.Request, ref registry.RepoRef, claims auth.Claims) bool {
	rv, err := s.revoked.match(r.Context(), claims)
	if err != nil {
		s.syncFailed(w, r, err)
		return true
	}
	if rv == nil {
		return false
	}
	refusal := auth.RevokedRefusal(*rv, claims)
	s.unauthorized(w, r, ref, refusal.Message, "code", refusal.Code, "principal", claims.Principal, "access_key_id", claims.AccessKeyID)
	return true
}

// revocation is a revocation as the admin endpoint shows it.
type revocation struct {
	AccessKeyID  string `json:"accessKeyId,omitempty"`
	Principal    string `json:"principal,omitempty"`
	IssuedBefore string `json:"issuedBefore"`
	Reason       string `json:"reason"`
	CreatedAt    string `json:"createdAt"`
}

func describeRevocation(r store.Revocation) revocation {
	return revocation{AccessKeyID: r.AccessKeyID, Principal: r.Principal, Reason: r.Reason,
		IssuedBefore: r.Before.UTC().Format(time.RFC3339Nano), CreatedAt: r.CreatedAt.UTC().Format(time.RFC3339)}
}

// tokenRevocations serves TokenRevocationsPath.
func (s *Server) tokenRevocations(w http.ResponseWriter, r *http.Request) {
	creds, ok := s.rootCaller(w, r, "revoke tokens")
	if !ok {
		return
	}
	ctx, q := r.Context(), r.URL.Query()
	switch r.Method {
	case http.MethodGet:
		list, err := s.store.ListRevocations(ctx, time.Now().Add(-maxTokenLifetime))
		if err != nil {
			s.internalError(w, err)
			return
		}
		out := make([]revocation, 0, len(list))
		for _, rv := range list {
			out = append(out, describeRevocation(rv))
		}
		adminJSON(w, map[string]any{"revocations": out})
	case http.MethodPost:
		rv, err := s.revocationRequest(ctx, q.Get("accessKeyId"), q.Get("principal"), q.Get("before"))
		var ve validationError
		if errors.As(err, &ve) {
			adminError(w, http.StatusBadRequest, "ValidationException", ve.Error())
			return
		}
		if err == nil {
			err = s.revoke(ctx, rv, creds.Principal)
		}
		if err != nil {
			s.internalError(w, err)
			return
		}
		adminJSON(w, map[string]any{"revocation": describeRevocation(rv)})
	default:
		w.Header().Set("Allow", "GET, POST")
		adminError(w, http.StatusMethodNotAllowed, "ValidationException", r.Method+" is not supported: GET lists revocations, POST revokes tokens")
	}
}

// revocationRequest builds the revocation an administrator asked for. A
// key that still exists lends its principal, so that tokens minted from it
// before wharf recorded key ids in tokens are revoked too.
func (s *Server) revocationRequest(ctx context.Context, keyID, principal, before string) (store.Revocation, error) {
	now := time.Now().UTC()
	rv := store.Revocation{AccessKeyID: keyID, Principal: principal, Before: now, Reason: "revoked by the administrator", CreatedAt: now}
	if before != "" {
		t, err := time.Parse(time.RFC3339Nano, before)
		if err != nil {
			return rv, validationError{fmt.Errorf("before %q is not a time in RFC 3339 form (2026-12-04T15:00:00Z)", before)}
		}
		if t.After(now) {
			return rv, validationError{fmt.Errorf("before %s is in the future: a revocation applies to tokens already issued; leave it out to revoke everything issued until now", before)}
		}
		rv.Before = t.UTC()
	}
	if keyID == "" && principal == "" && before == "" {
		return rv, validationError{errors.New("say which tokens to revoke: --access-key-id, --principal, or --before TIME (every token issued before TIME); they combine")}
	}
	if keyID != "" && principal == "" {
		k, err := s.store.GetAccessKey(ctx, keyID)
		switch {
		case err == nil:
			rv.Principal = k.Principal
		case !errors.Is(err, store.ErrNotFound):
			return rv, err
		}
	}
	return rv, nil
}
