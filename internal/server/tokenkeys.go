package server

import (
	"net/http"
)

// TokenKeysPath is the administrative endpoint for token signing keys:
// GET names the key that signs, POST rotates (a new key signs from now on;
// tokens signed before keep working until they expire, on every replica).
const TokenKeysPath = "/wharf/v1/token-keys"

func (s *Server) tokenKeys(w http.ResponseWriter, r *http.Request) {
	creds, ok := s.rootCaller(w, r, "rotate token signing keys")
	if !ok {
		return
	}
	switch r.Method {
	case http.MethodGet:
	case http.MethodPost:
		if err := rotateTokenKey(r.Context(), s.store); err != nil {
			s.internalError(w, err)
			return
		}
		if err := s.tokens.Reload(); err != nil {
			s.internalError(w, err)
			return
		}
		s.log.Info("token signing key rotated", "current_key_id", s.tokens.CurrentKeyID(), "by", creds.Principal)
	default:
		w.Header().Set("Allow", "GET, POST")
		adminError(w, http.StatusMethodNotAllowed, "ValidationException", r.Method+" is not supported: GET shows the signing key id, POST rotates it")
		return
	}
	adminJSON(w, map[string]any{"currentKeyId": s.tokens.CurrentKeyID()})
}
