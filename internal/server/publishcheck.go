package server

import (
	"net/http"
	"strings"

	"github.com/wharfhq/wharf/internal/format/httperr"
	"github.com/wharfhq/wharf/internal/policy"
	"github.com/wharfhq/wharf/internal/registry"
)

// refusedBodyDrain is how much of a refused request's body is read past
// before answering: as much as the largest upload any format accepts
// (pypi's 5 GiB file and its form), so that a client that sends its whole
// body before reading (twine, requests, curl) sees the refusal instead of
// a connection reset, which is what closing on a client still sending
// gives it. Reading past costs bandwidth, no memory, and a body that stops
// making progress is cut by the idle deadline (middleware.go).
const refusedBodyDrain = 5<<30 + 64<<20

// mayPublishSome is the check every data-plane request that carries a body
// passes before its format reads a byte of it: may the principal publish
// any package of this format in this repository (identity profile, domain
// and repository policies)? A read-only token, or a repository-wide Deny,
// is refused here at once, so a body it sends is never parsed or stored.
// The exact check on the package the body names stays in registry.Publish
// (registry.WithPublishCheck); this one only ever refuses what that one
// would refuse for every package (policy.AuthorizeAny).
func (s *Server) mayPublishSome(w http.ResponseWriter, r *http.Request, principal string, ref registry.RepoRef, format string) bool {
	// ".../package/DOMAIN/REPO/FORMAT/": every package ARN of the format in
	// the repository starts so (PackageARN with an empty namespace and name
	// ends in "FORMAT//").
	prefix := strings.TrimSuffix(policy.PackageARN(s.cfg.Region, ref.Owner, ref.Domain, ref.Repository, format, "", ""), "/")
	req := policy.Request{Principal: principal, Action: "codeartifact:PublishPackageVersion", Resource: prefix + "*"}
	d, err := s.authz.AuthorizeAny(r.Context(), req, prefix)
	if err != nil {
		httperr.Fail(w, r, s.log, err)
		return false
	}
	if d.Allowed {
		return true
	}
	msg := policy.Denial(req, d) + ". Publishing needs codeartifact:PublishPackageVersion on the package: use a token of a key with publish permissions, or ask the administrator to change the permissions policy"
	s.refuse(w, r, http.StatusForbidden, msg, "data plane publish denied before reading the body", "principal", principal, "resource", req.Resource)
	return false
}
