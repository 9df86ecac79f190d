package server

import (
	"fmt"
	"net/http"

	"github.com/wharfhq/wharf/internal/format/httperr"
	"github.com/wharfhq/wharf/internal/registry"
)

// refuse answers a data-plane refusal (401 or 403) and logs it: the log
// line carries the same sentence the client is sent, the client's short
// name and version, and attrs (the principal, the refusal's code). The
// answer goes through every channel a client shows (httperr.Refuse). The
// body of an upload is read up to refusedBodyDrain first, so twine and
// requests see the answer rather than a reset. That holds for a 401 too:
// a client without valid credentials can make the server read (never
// store) as much as an upload may be, and one that stalls is cut by the
// body's idle deadline (middleware.go).
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, status int, msg, logMsg string, attrs ...any) {
	s.log.Warn(logMsg, httperr.RefusalAttrs(w, r, status, msg, attrs...)...)
	r.Body = http.MaxBytesReader(w, r.Body, refusedBodyDrain)
	httperr.Refuse(w, r, status, msg)
}

// unauthorized is refuse for credentials that were not accepted: a 401 whose
// challenge names the repository. The Basic challenge must stay: pip and uv
// send credentials from a keyring only after a 401 that asks for Basic.
func (s *Server) unauthorized(w http.ResponseWriter, r *http.Request, ref registry.RepoRef, msg string, attrs ...any) {
	w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Basic realm="%s/%s"`, ref.Domain, ref.Repository))
	s.refuse(w, r, http.StatusUnauthorized, msg, "data plane request refused", attrs...)
}
