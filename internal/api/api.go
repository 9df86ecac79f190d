// Package api is the control plane: the CodeArtifact REST-JSON API, routed,
// bound and validated from botocore's service model (internal/api/model),
// with each operation translated into registry calls. One file per resource.
package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/wharfhq/wharf/internal/api/model"
	"github.com/wharfhq/wharf/internal/auth"
	"github.com/wharfhq/wharf/internal/policy"
	"github.com/wharfhq/wharf/internal/registry"
	"github.com/wharfhq/wharf/internal/sigv4"
)

// Config is what the control plane needs besides the registry.
type Config struct {
	AccountID string
	Region    string // used in ARNs
	PublicURL string // base URL clients reach; endpoints are built under it
	Tokens    *auth.Keyring
	Verifier  *sigv4.Verifier
	Authz     *policy.Authorizer // permission policies, checked on every operation
	Log       *slog.Logger
	Now       func() time.Time
}

// API serves /v1/... .
type API struct {
	cfg Config
	reg *registry.Registry
	svc *model.Service
	mux *http.ServeMux
}

// call is one bound request.
type call struct {
	r      *http.Request
	w      http.ResponseWriter
	in     model.Input
	caller sigv4.Credentials
}

// opFunc implements one operation; it returns the output structure to
// encode as JSON, or an error.
type opFunc func(ctx context.Context, c *call) (any, error)

// New builds the control plane from the embedded model.
func New(reg *registry.Registry, cfg Config) (*API, error) {
	svc, err := model.Load()
	if err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Authz == nil && reg != nil {
		cfg.Authz = &policy.Authorizer{Store: reg.Store()}
	}
	a := &API{cfg: cfg, reg: reg, svc: svc, mux: http.NewServeMux()}
	impl := a.operations()
	seen := map[string]bool{}
	for name, op := range svc.Operations {
		pattern := op.Method + " " + op.Path
		if seen[pattern] {
			return nil, fmt.Errorf("model: two operations share %s", pattern)
		}
		seen[pattern] = true
		a.mux.Handle(pattern, a.handler(op, impl[name]))
	}
	for name := range impl {
		if svc.Operations[name] == nil {
			return nil, fmt.Errorf("operation %s is not in the service model", name)
		}
	}
	a.mux.HandleFunc("/v1/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, &apiError{Code: "UnknownOperationException", Status: http.StatusNotFound,
			Message: fmt.Sprintf("no CodeArtifact operation is served at %s %s", r.Method, r.URL.Path)}, cfg.Log)
	})
	return a, nil
}

// Implemented lists the operations this control plane implements.
func (a *API) Implemented() []string {
	var out []string
	for name := range a.operations() {
		out = append(out, name)
	}
	return out
}

// operations maps operation names to implementations; each resource file
// contributes its own map.
func (a *API) operations() map[string]opFunc {
	ops := map[string]opFunc{}
	for _, part := range []map[string]opFunc{a.coreOps(), a.lifecycleOps(), a.groupOps(), a.policyOps()} {
		for name, f := range part {
			ops[name] = f
		}
	}
	return ops
}

func (a *API) coreOps() map[string]opFunc {
	return map[string]opFunc{
		"CreateDomain":                   a.createDomain,
		"DescribeDomain":                 a.describeDomain,
		"ListDomains":                    a.listDomains,
		"DeleteDomain":                   a.deleteDomain,
		"CreateRepository":               a.createRepository,
		"DescribeRepository":             a.describeRepository,
		"UpdateRepository":               a.updateRepository,
		"ListRepositories":               a.listRepositories,
		"ListRepositoriesInDomain":       a.listRepositoriesInDomain,
		"DeleteRepository":               a.deleteRepository,
		"AssociateExternalConnection":    a.associateExternalConnection,
		"DisassociateExternalConnection": a.disassociateExternalConnection,
		"GetAuthorizationToken":          a.getAuthorizationToken,
		"GetRepositoryEndpoint":          a.getRepositoryEndpoint,
		"ListPackages":                   a.listPackages,
		"DescribePackage":                a.describePackage,
		"PutPackageOriginConfiguration":  a.putPackageOriginConfiguration,
		"ListPackageVersions":            a.listPackageVersions,
		"DescribePackageVersion":         a.describePackageVersion,
		"ListPackageVersionAssets":       a.listPackageVersionAssets,
		"GetPackageVersionAsset":         a.getPackageVersionAsset,
		"ListPackageVersionDependencies": a.listPackageVersionDependencies,
	}
}

func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	SetRequestID(w.Header()) // unless the server's middleware did
	a.mux.ServeHTTP(w, r)
}

type callerKey struct{}

func (a *API) handler(op *model.Operation, impl opFunc) http.Handler {
	// An operation whose input is a streaming payload (PublishPackageVersion)
	// takes its body unbuffered; every other body must be signed.
	streamed := op.Input != nil && op.Input.Payload != ""
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		verify := a.cfg.Verifier.Verify
		if streamed {
			verify = a.cfg.Verifier.VerifyStreamed
		}
		creds, err := verify(r)
		var mismatch *sigv4.BodyMismatchError
		if err != nil && !errors.As(err, &mismatch) {
			var se *sigv4.Error
			if errors.As(err, &se) {
				a.cfg.Log.Warn("control plane request refused", "op", op.Name, "reason", se.Code, "client", r.RemoteAddr,
					"request_id", RequestID(w), "detail", se.Message)
				writeError(w, r, &apiError{Code: se.Code, Status: se.Status, Message: se.Message}, a.cfg.Log)
				return
			}
			writeError(w, r, err, a.cfg.Log)
			return
		}
		if impl == nil {
			writeError(w, r, &apiError{Code: "NotImplementedException", Status: http.StatusNotImplemented,
				Message: fmt.Sprintf("wharf does not implement %s yet", op.Name)}, a.cfg.Log)
			return
		}
		in, err := op.Bind(r)
		if errors.As(err, &mismatch) {
			// A JSON body is signed through the hash its header states.
			err = &apiError{Code: "InvalidSignatureException", Status: http.StatusForbidden,
				Message: "The body does not match its X-Amz-Content-SHA256 header: it was altered or cut short on the way."}
			a.cfg.Log.Warn("control plane request refused", "op", op.Name, "reason", "InvalidSignatureException", "client", r.RemoteAddr,
				"request_id", RequestID(w), "detail", "body does not match X-Amz-Content-SHA256")
		}
		if err != nil {
			writeError(w, r, err, a.cfg.Log)
			return
		}
		if err := a.authorize(r.Context(), op.Name, in, creds.Principal); err != nil {
			writeError(w, r, err, a.cfg.Log)
			return
		}
		if mismatch != nil {
			// A genuine request (the signature covers the body received)
			// whose stated hash is not the body's: the caller's mistake,
			// not a forgery.
			writeError(w, r, mismatch, a.cfg.Log)
			return
		}
		c := &call{r: r, w: w, in: in, caller: creds}
		out, err := impl(r.Context(), c)
		if err != nil {
			writeError(w, r, err, a.cfg.Log)
			return
		}
		if out == nil { // the operation wrote its own response (streams)
			return
		}
		writeJSON(w, out, a.cfg.Log, op.Name)
	})
}

// owner returns the domain owner a request addresses: domainOwner when
// given, else the caller's account. Wharf has one account, so another owner
// cannot exist.
func (a *API) owner(c *call) (string, error) {
	o := c.in.String("domainOwner")
	if o == "" || o == a.cfg.AccountID {
		return a.cfg.AccountID, nil
	}
	return "", registry.NotFound("domain", c.in.String("domain"),
		"domain %s owned by account %s not found: this wharf hosts the domains of account %s only", c.in.String("domain"), o, a.cfg.AccountID)
}

func (a *API) arn(resource string) string {
	return fmt.Sprintf("arn:aws:codeartifact:%s:%s:%s", a.cfg.Region, a.cfg.AccountID, resource)
}

// epoch encodes a timestamp the way rest-json does by default: seconds since
// the epoch as a JSON number.
type epoch time.Time

func (t epoch) MarshalJSON() ([]byte, error) {
	tt := time.Time(t)
	if tt.IsZero() {
		return []byte("null"), nil
	}
	secs := float64(tt.UnixNano()) / 1e9
	return []byte(fmt.Sprintf("%.3f", math.Round(secs*1000)/1000)), nil
}

// pageSize applies the model's default page size.
func pageSize(c *call) int { return int(c.in.Int("maxResults", 100)) }

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func trimSlash(s string) string { return strings.TrimRight(s, "/") }
