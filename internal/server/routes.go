package server

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/wharfhq/wharf/internal/registry"
)

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.Handle("/v1/", s.api)
	mux.HandleFunc("GET "+TokenInfoPath, s.tokenInfo)
	mux.HandleFunc("/", s.dataPlane)
	return mux
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if _, err := s.store.GetSetting(r.Context(), settingAccountID); err != nil && s.cfg.AccountID == "" {
		http.Error(w, "metadata store unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "ok")
}

// endpointPath matches "/{domain}-{owner}/{format}/{repository}{rest}", the
// path form of CodeArtifact's https://{domain}-{owner}.d.codeartifact.../{format}/{repository}/.
var endpointPath = regexp.MustCompile(`^/([a-z][a-z0-9-]{0,48}[a-z0-9])-([0-9]{12})/([a-z]+)/([A-Za-z0-9][A-Za-z0-9._-]{1,99})(/.*)?$`)

// dataPlane authenticates a package-client request and hands it to its
// format. Credentials are checked before anything is looked up, so an
// anonymous client learns nothing about what exists.
func (s *Server) dataPlane(w http.ResponseWriter, r *http.Request) {
	m := endpointPath.FindStringSubmatch(r.URL.Path)
	if m == nil {
		http.Error(w, "not found: repository endpoints look like /{domain}-{owner}/{format}/{repository}/; get yours with `aws codeartifact get-repository-endpoint`", http.StatusNotFound)
		return
	}
	ref := registry.RepoRef{Domain: m[1], Owner: m[2], Repository: m[4]}
	format, rest := m[3], m[5]
	claims, refusal := s.tokens.Authenticate(r, ref.Owner, ref.Domain, time.Now())
	if refusal != nil {
		s.log.Warn("data plane request refused", "reason", refusal.Code, "client", r.RemoteAddr,
			"method", r.Method, "path", r.URL.Path, "user_agent", r.UserAgent())
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Basic realm="%s/%s"`, ref.Domain, ref.Repository))
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintln(w, strings.TrimRight(refusal.Message, "\n"))
		return
	}
	_ = claims
	switch format {
	case "pypi":
		s.pypi.ServeRepo(w, r, ref, rest)
	default:
		http.Error(w, fmt.Sprintf("wharf does not serve the %s format yet; supported: pypi", format), http.StatusNotFound)
	}
}
