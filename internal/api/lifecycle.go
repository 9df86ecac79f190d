package api

import (
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/wharfhq/wharf/internal/registry"
	"github.com/wharfhq/wharf/internal/sigv4"
)

// lifecycleOps: version statuses, dispose, delete, copy, readme, and the
// generic format's publish.
func (a *API) lifecycleOps() map[string]opFunc {
	return map[string]opFunc{
		"UpdatePackageVersionsStatus": a.updatePackageVersionsStatus,
		"DisposePackageVersions":      a.disposePackageVersions,
		"DeletePackageVersions":       a.deletePackageVersions,
		"DeletePackage":               a.deletePackage,
		"CopyPackageVersions":         a.copyPackageVersions,
		"GetPackageVersionReadme":     a.getPackageVersionReadme,
		"PublishPackageVersion":       a.publishPackageVersion,
	}
}

// maxAssetBytes is CodeArtifact's asset size limit.
const maxAssetBytes = 5 << 30

type successfulVersion struct {
	Revision string `json:"revision"`
	Status   string `json:"status"`
}

type versionError struct {
	ErrorCode    string `json:"errorCode"`
	ErrorMessage string `json:"errorMessage"`
}

// outcome renders a batch result in the model's shape; both maps are
// always present, as in AWS's answers.
func outcome(o registry.Outcome) map[string]any {
	ok := map[string]successfulVersion{}
	for v, i := range o.Succeeded {
		ok[v] = successfulVersion{Revision: i.Revision, Status: i.Status}
	}
	bad := map[string]versionError{}
	for v, e := range o.Failed {
		bad[v] = versionError{ErrorCode: e.Code, ErrorMessage: e.Message}
	}
	return map[string]any{"successfulVersions": ok, "failedVersions": bad}
}

func selection(c *call) registry.Selection {
	sel := registry.Selection{ExpectedStatus: c.in.String("expectedStatus")}
	for _, v := range c.in.List("versions") {
		if s, ok := v.(string); ok {
			sel.Versions = append(sel.Versions, s)
		}
	}
	if m, ok := c.in["versionRevisions"].(map[string]any); ok && len(m) > 0 {
		sel.Revisions = map[string]string{}
		for v, rev := range m {
			sel.Revisions[v], _ = rev.(string)
		}
	}
	return sel
}

func boolIn(c *call, name string) bool {
	b, _ := c.in[name].(bool)
	return b
}

func (a *API) updatePackageVersionsStatus(ctx context.Context, c *call) (any, error) {
	ref, err := a.repoRef(c)
	if err != nil {
		return nil, err
	}
	o, err := a.reg.UpdateVersionsStatus(ctx, ref, c.in.String("format"), c.in.String("namespace"), c.in.String("package"), selection(c), c.in.String("targetStatus"))
	if err != nil {
		return nil, err
	}
	return outcome(o), nil
}

func (a *API) disposePackageVersions(ctx context.Context, c *call) (any, error) {
	ref, err := a.repoRef(c)
	if err != nil {
		return nil, err
	}
	o, err := a.reg.DisposeVersions(ctx, ref, c.in.String("format"), c.in.String("namespace"), c.in.String("package"), selection(c))
	if err != nil {
		return nil, err
	}
	return outcome(o), nil
}

func (a *API) deletePackageVersions(ctx context.Context, c *call) (any, error) {
	ref, err := a.repoRef(c)
	if err != nil {
		return nil, err
	}
	o, err := a.reg.DeleteVersions(ctx, ref, c.in.String("format"), c.in.String("namespace"), c.in.String("package"), selection(c))
	if err != nil {
		return nil, err
	}
	return outcome(o), nil
}

func (a *API) deletePackage(ctx context.Context, c *call) (any, error) {
	ref, err := a.repoRef(c)
	if err != nil {
		return nil, err
	}
	p, err := a.reg.DeletePackage(ctx, ref, c.in.String("format"), c.in.String("namespace"), c.in.String("package"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"deletedPackage": packageSummary{Format: p.Format, Namespace: p.Namespace, Package: p.Name, OriginConfiguration: origin(p)}}, nil
}

func (a *API) copyPackageVersions(ctx context.Context, c *call) (any, error) {
	owner, err := a.owner(c)
	if err != nil {
		return nil, err
	}
	sel := selection(c)
	o, err := a.reg.CopyVersions(ctx, registry.CopyRequest{
		Owner: owner, Domain: c.in.String("domain"),
		Source: c.in.String("sourceRepository"), Destination: c.in.String("destinationRepository"),
		Format: c.in.String("format"), Namespace: c.in.String("namespace"), Name: c.in.String("package"),
		Versions: sel.Versions, Revisions: sel.Revisions,
		AllowOverwrite: boolIn(c, "allowOverwrite"), IncludeFromUpstream: boolIn(c, "includeFromUpstream"),
	})
	if err != nil {
		return nil, err
	}
	return outcome(o), nil
}

func (a *API) getPackageVersionReadme(ctx context.Context, c *call) (any, error) {
	ref, err := a.repoRef(c)
	if err != nil {
		return nil, err
	}
	v, readme, err := a.reg.Readme(ctx, ref, c.in.String("format"), c.in.String("namespace"), c.in.String("package"), c.in.String("packageVersion"))
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"format": v.Format, "namespace": nonEmpty(v.Namespace), "package": v.Name, "version": v.Version,
		"versionRevision": v.Revision, "readme": readme,
	}, nil
}

// publishPackageVersion streams assetContent into the registry. The body
// is not buffered: sigv4 checks it against x-amz-content-sha256 as it is
// read and fails the last read on a mismatch, which the registry sees
// before it records anything.
func (a *API) publishPackageVersion(ctx context.Context, c *call) (any, error) {
	ref, err := a.repoRef(c)
	if err != nil {
		return nil, err
	}
	if f := c.in.String("format"); f != "generic" {
		return nil, registry.Invalid("PublishPackageVersion publishes generic packages only (as in CodeArtifact), not %s; publish %s packages through the repository endpoint (aws codeartifact get-repository-endpoint --format %s)", f, f, f)
	}
	body := http.MaxBytesReader(c.w, c.r.Body, maxAssetBytes)
	res, err := a.reg.Publish(ctx, registry.PublishRequest{
		Repo: ref, Format: "generic", Namespace: c.in.String("namespace"), Name: c.in.String("package"),
		Version: c.in.String("packageVersion"), AssetName: c.in.String("assetName"), Content: body,
		ExpectSHA256: c.in.String("assetSHA256"), Unfinished: boolIn(c, "unfinished"),
	})
	var tooBig *http.MaxBytesError
	switch {
	case errors.Is(err, sigv4.ErrBodyMismatch):
		return nil, err // toAPIError names both hashes
	case errors.As(err, &tooBig):
		return nil, &apiError{Code: "ValidationException", Status: http.StatusBadRequest, Reason: "FIELD_VALIDATION_FAILED",
			Message: "the asset is larger than 5 GiB, CodeArtifact's limit per asset; split it into several assets"}
	case err != nil:
		// A refusal before the bytes were read: drain a bounded amount so
		// the client, still sending, reads this answer instead of a reset.
		io.CopyN(io.Discard, body, 64<<20)
		return nil, err
	}
	v, as := res.Version, res.Asset
	return map[string]any{
		"format": v.Format, "namespace": nonEmpty(v.Namespace), "package": v.Name, "version": v.Version,
		"versionRevision": v.Revision, "status": v.Status,
		"asset": assetSummary{Name: as.Name, Size: as.Size, Hashes: map[string]string{
			"MD5": as.MD5, "SHA-1": as.SHA1, "SHA-256": as.SHA256, "SHA-512": as.SHA512,
		}},
	}, nil
}
