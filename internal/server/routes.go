package server

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/wharfhq/wharf/internal/auth"
	"github.com/wharfhq/wharf/internal/format/httperr"
	"github.com/wharfhq/wharf/internal/policy"
	"github.com/wharfhq/wharf/internal/registry"
	"github.com/wharfhq/wharf/internal/useragent"
)

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.Handle("/v1/", s.synced(s.api))
	mux.Handle("GET "+TokenInfoPath, s.synced(http.HandlerFunc(s.tokenInfo)))
	mux.Handle(AccessKeysPath, s.synced(http.HandlerFunc(s.accessKeys)))
	mux.Handle(TokenKeysPath, s.synced(http.HandlerFunc(s.tokenKeys)))
	mux.Handle(TokenRevocationsPath, s.synced(http.HandlerFunc(s.tokenRevocations)))
	mux.Handle("/", s.synced(http.HandlerFunc(s.dataPlane)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Package clients' requests, nearly all the traffic, skip the
		// mux's pattern matching (a tenth of serving a cached page); a path
		// the mux would clean and redirect still goes through it.
		if m := matchEndpoint(r.URL.Path); m != nil && isCleanPath(r.URL.Path) {
			if err := s.reg.Sync(r.Context()); err != nil { // see synced
				s.syncFailed(w, r, err)
				return
			}
			s.serveEndpoint(w, r, m)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// isCleanPath reports whether path.Clean would leave p as it is (up to a
// trailing slash), i.e. whether http.ServeMux would serve it unredirected.
func isCleanPath(p string) bool {
	return !strings.Contains(p, "//") && !strings.Contains(p, "/./") && !strings.Contains(p, "/../") &&
		!strings.HasSuffix(p, "/.") && !strings.HasSuffix(p, "/..")
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	// The token key is always stored, so reading it proves the metadata
	// store answers (a load balancer then routes around a cut-off replica).
	if _, err := s.store.GetSetting(r.Context(), settingTokenKey); err != nil {
		s.log.Warn("health check failed", "err", err)
		w.Header().Set("Retry-After", registry.RetryAfterSeconds)
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
	m := matchEndpoint(r.URL.Path) // endpointPath, without the regexp
	if m == nil {
		http.Error(w, "not found: repository endpoints look like /{domain}-{owner}/{format}/{repository}/; get yours with `aws codeartifact get-repository-endpoint`", http.StatusNotFound)
		return
	}
	s.serveEndpoint(w, r, m)
}

// serveEndpoint serves a request to a repository endpoint; m is what
// matchEndpoint returned for its path.
func (s *Server) serveEndpoint(w http.ResponseWriter, r *http.Request, m []string) {
	ref := registry.RepoRef{Domain: m[1], Owner: m[2], Repository: m[4]}
	format, rest := m[3], m[5]
	now := time.Now()
	claims, allowed := s.reads.lookup(r, ref, now) // see readmemo.go
	switch {
	case allowed:
		if s.refuseRevoked(w, r, ref, claims) { // on every request: see revocations.go
			return
		}
	case !s.authenticateRead(w, r, ref, format, now, &claims):
		return
	}
	// The principal rides along so that upstream fetches it causes are
	// rate-limited per principal; only uploads publish.
	ctx := registry.WithPrincipal(r.Context(), claims.Principal)
	ctx = registry.WithClient(ctx, useragent.Short(r.UserAgent())) // for upstream failures' log lines
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		if !s.mayPublishSome(w, r, claims.Principal, ref, format) {
			return
		}
		ctx = registry.WithPublishCheck(ctx, s.api.PublishCheck(claims.Principal))
	}
	r = r.WithContext(ctx)
	switch format {
	case "pypi":
		s.pypi.ServeRepo(w, r, ref, rest)
	case "generic":
		s.generic.ServeRepo(w, r, ref, rest)
	default:
		http.Error(w, fmt.Sprintf("wharf does not serve the %s format yet; supported: pypi, generic", format), http.StatusNotFound)
	}
}

// authenticateRead authenticates r (a revoked token is refused as an
// invalid one is) and, for a read, authorizes it; it answers a refusal
// itself and reports whether to go on.
func (s *Server) authenticateRead(w http.ResponseWriter, r *http.Request, ref registry.RepoRef, format string, now time.Time, out *auth.Claims) bool {
	gen := s.reads.generation() // before the checks, as for cached pages
	claims, refusal := s.tokens.Authenticate(r, ref.Owner, ref.Domain, now)
	if refusal != nil {
		msg := refusal.Message
		if format == "pypi" {
			msg = auth.ShowIndexURL(msg, fmt.Sprintf("%s/%s-%s/pypi/%s/simple/", s.publicURL, ref.Domain, ref.Owner, ref.Repository))
		}
		s.unauthorized(w, r, ref, strings.TrimRight(msg, "\n"), "code", refusal.Code)
		return false
	}
	if s.refuseRevoked(w, r, ref, claims) || !s.mayRead(w, r, claims.Principal, ref) {
		return false
	}
	s.reads.remember(r, ref, claims, gen, now)
	*out = claims
	return true
}

// mayRead applies codeartifact:ReadFromRepository to downloads and index
// pages (GET, HEAD); uploads are checked by the format, through Publish, for
// codeartifact:PublishPackageVersion on the package they name. A refusal
// is a 403 naming the principal, the permission and the resource.
func (s *Server) mayRead(w http.ResponseWriter, r *http.Request, principal string, ref registry.RepoRef) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return true
	}
	req := policy.Request{Principal: principal, Action: "codeartifact:ReadFromRepository",
		Resource: policy.RepositoryARN(s.cfg.Region, ref.Owner, ref.Domain, ref.Repository)}
	d, err := s.authz.Authorize(r.Context(), req)
	if err != nil {
		httperr.Fail(w, r, s.log, err)
		return false
	}
	if d.Allowed {
		return true
	}
	msg := policy.Denial(req, d) + ".\nReading needs codeartifact:ReadFromRepository on the repository: use a token of a key with read permissions, or ask the administrator to change the permissions policy."
	s.refuse(w, r, http.StatusForbidden, msg, "data plane read denied", "principal", principal, "resource", req.Resource)
	return false
}
