package server

import (
	"net/http"
	"strings"

	"github.com/wharfhq/wharf/internal/format/httperr"
	"github.com/wharfhq/wharf/internal/registry"
)

// synced makes every request see every write acknowledged before it
// arrived, whichever replica made it: before anything cached is consulted
// (index pages, repositories, policies, allowed reads, revocations), the
// registry reads the store's change feed (registry.Sync; one round trip
// with PostgreSQL, nothing with SQLite). /healthz reads the store itself.
func (s *Server) synced(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.reg.Sync(r.Context()); err != nil {
			s.syncFailed(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// syncFailed answers a request whose caches could not be brought up to
// date: in the control plane's error shape under /v1/ and the admin
// endpoints, as a plain-text refusal elsewhere.
func (s *Server) syncFailed(w http.ResponseWriter, r *http.Request, err error) {
	if strings.HasPrefix(r.URL.Path, "/v1/") || strings.HasPrefix(r.URL.Path, "/wharf/") {
		s.log.Warn("request refused: change feed unreadable", "method", r.Method, "path", r.URL.Path, "err", err)
		w.Header().Set("Retry-After", registry.RetryAfterSeconds)
		status, code := http.StatusServiceUnavailable, "ServiceUnavailableException"
		msg := "wharf's metadata database is unreachable right now; retry in a few seconds"
		if !registry.Unavailable(err) {
			status, code, msg = http.StatusInternalServerError, "InternalServerException", "internal error; the server log has details"
		}
		adminError(w, status, code, msg)
		return
	}
	httperr.Fail(w, r, s.log, err)
}
