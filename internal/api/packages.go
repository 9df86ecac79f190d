package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/wharfhq/wharf/internal/blob"
	"github.com/wharfhq/wharf/internal/registry"
	"github.com/wharfhq/wharf/internal/store"
)

type originRestrictions struct {
	Publish  string `json:"publish"`
	Upstream string `json:"upstream"`
}

type originConfiguration struct {
	Restrictions originRestrictions `json:"restrictions"`
}

type packageSummary struct {
	Format              string              `json:"format"`
	Namespace           string              `json:"namespace,omitempty"`
	Package             string              `json:"package"`
	OriginConfiguration originConfiguration `json:"originConfiguration"`
}

type packageDescription struct {
	Format              string              `json:"format"`
	Namespace           string              `json:"namespace,omitempty"`
	Name                string              `json:"name"`
	OriginConfiguration originConfiguration `json:"originConfiguration"`
}

type domainEntryPoint struct {
	RepositoryName         string `json:"repositoryName,omitempty"`
	ExternalConnectionName string `json:"externalConnectionName,omitempty"`
}

type versionOrigin struct {
	DomainEntryPoint domainEntryPoint `json:"domainEntryPoint"`
	OriginType       string           `json:"originType"`
}

type versionSummary struct {
	Version  string        `json:"version"`
	Revision string        `json:"revision"`
	Status   string        `json:"status"`
	Origin   versionOrigin `json:"origin"`
}

type licenseInfo struct {
	Name string `json:"name"`
}

type versionDescription struct {
	Format               string        `json:"format"`
	Namespace            string        `json:"namespace,omitempty"`
	PackageName          string        `json:"packageName"`
	DisplayName          string        `json:"displayName"`
	Version              string        `json:"version"`
	Summary              string        `json:"summary,omitempty"`
	HomePage             string        `json:"homePage,omitempty"`
	SourceCodeRepository string        `json:"sourceCodeRepository,omitempty"`
	PublishedTime        epoch         `json:"publishedTime"`
	Licenses             []licenseInfo `json:"licenses"`
	Revision             string        `json:"revision"`
	Status               string        `json:"status"`
	Origin               versionOrigin `json:"origin"`
}

type assetSummary struct {
	Name   string            `json:"name"`
	Size   int64             `json:"size"`
	Hashes map[string]string `json:"hashes"`
}

func origin(p store.Package) originConfiguration {
	return originConfiguration{Restrictions: originRestrictions{Publish: p.OriginPublish, Upstream: p.OriginUpstream}}
}

func versionOriginOf(v store.PackageVersion) versionOrigin {
	return versionOrigin{
		DomainEntryPoint: domainEntryPoint{RepositoryName: v.OriginRepository, ExternalConnectionName: v.OriginExternalConnection},
		OriginType:       v.OriginType,
	}
}

func (a *API) repoRef(c *call) (registry.RepoRef, error) {
	owner, err := a.owner(c)
	return registry.RepoRef{Owner: owner, Domain: c.in.String("domain"), Repository: c.in.String("repository")}, err
}

func (a *API) listPackages(ctx context.Context, c *call) (any, error) {
	ref, err := a.repoRef(c)
	if err != nil {
		return nil, err
	}
	filter := store.PackageFilter{Format: c.in.String("format"), Namespace: c.in.OptString("namespace"), NamePrefix: c.in.String("packagePrefix")}
	// publish/upstream filters apply after the page is read, so a page may be
	// short; that is allowed by the API (clients follow nextToken).
	pkgs, next, err := a.reg.ListPackages(ctx, ref, filter, store.Page{After: c.in.String("nextToken"), Limit: pageSize(c)})
	if err != nil {
		return nil, err
	}
	out := []packageSummary{}
	for _, p := range pkgs {
		if f := c.in.String("publish"); f != "" && f != p.OriginPublish {
			continue
		}
		if f := c.in.String("upstream"); f != "" && f != p.OriginUpstream {
			continue
		}
		out = append(out, packageSummary{Format: p.Format, Namespace: p.Namespace, Package: p.Name, OriginConfiguration: origin(p)})
	}
	return map[string]any{"packages": out, "nextToken": nonEmpty(next)}, nil
}

func (a *API) describePackage(ctx context.Context, c *call) (any, error) {
	ref, err := a.repoRef(c)
	if err != nil {
		return nil, err
	}
	p, err := a.reg.DescribePackage(ctx, ref, c.in.String("format"), c.in.String("namespace"), c.in.String("package"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"package": packageDescription{Format: p.Format, Namespace: p.Namespace, Name: p.Name, OriginConfiguration: origin(p)}}, nil
}

func (a *API) putPackageOriginConfiguration(ctx context.Context, c *call) (any, error) {
	ref, err := a.repoRef(c)
	if err != nil {
		return nil, err
	}
	r, _ := c.in["restrictions"].(map[string]any)
	publish, _ := r["publish"].(string)
	upstream, _ := r["upstream"].(string)
	p, err := a.reg.PutOriginConfiguration(ctx, ref, c.in.String("format"), c.in.String("namespace"), c.in.String("package"), publish, upstream)
	if err != nil {
		return nil, err
	}
	return map[string]any{"originConfiguration": origin(p)}, nil
}

func (a *API) listPackageVersions(ctx context.Context, c *call) (any, error) {
	ref, err := a.repoRef(c)
	if err != nil {
		return nil, err
	}
	p, versions, err := a.reg.ListVersions(ctx, ref, c.in.String("format"), c.in.String("namespace"), c.in.String("package"))
	if err != nil {
		return nil, err
	}
	var matching []versionSummary
	defaultVersion := ""
	for _, v := range versions {
		if defaultVersion == "" && v.Status == registry.StatusPublished {
			defaultVersion = v.Version // versions are newest first
		}
		if s := c.in.String("status"); s != "" && s != v.Status {
			continue
		}
		if o := c.in.String("originType"); o != "" && o != v.OriginType {
			continue
		}
		matching = append(matching, versionSummary{Version: v.Version, Revision: v.Revision, Status: v.Status, Origin: versionOriginOf(v)})
	}
	page, next, err := paginate(matching, c.in.String("nextToken"), pageSize(c))
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"defaultDisplayVersion": nonEmpty(defaultVersion), "format": p.Format, "namespace": nonEmpty(p.Namespace),
		"package": p.Name, "versions": page, "nextToken": nonEmpty(next),
	}, nil
}

func (a *API) describePackageVersion(ctx context.Context, c *call) (any, error) {
	ref, err := a.repoRef(c)
	if err != nil {
		return nil, err
	}
	v, err := a.reg.DescribeVersion(ctx, ref, c.in.String("format"), c.in.String("namespace"), c.in.String("package"), c.in.String("packageVersion"))
	if err != nil {
		return nil, err
	}
	p, err := a.reg.DescribePackage(ctx, ref, v.Format, v.Namespace, v.Name)
	if err != nil {
		return nil, err
	}
	d := versionDescription{
		Format: v.Format, Namespace: v.Namespace, PackageName: v.Name, DisplayName: p.DisplayName, Version: v.Version,
		Summary: v.Summary, HomePage: v.HomePage, SourceCodeRepository: v.SourceCodeRepository,
		PublishedTime: epoch(v.PublishedAt), Licenses: []licenseInfo{}, Revision: v.Revision, Status: v.Status, Origin: versionOriginOf(v),
	}
	for _, l := range v.Licenses {
		d.Licenses = append(d.Licenses, licenseInfo{Name: l})
	}
	return map[string]any{"packageVersion": d}, nil
}

func (a *API) listPackageVersionAssets(ctx context.Context, c *call) (any, error) {
	ref, err := a.repoRef(c)
	if err != nil {
		return nil, err
	}
	v, assets, err := a.reg.ListAssets(ctx, ref, c.in.String("format"), c.in.String("namespace"), c.in.String("package"), c.in.String("packageVersion"))
	if err != nil {
		return nil, err
	}
	all := make([]assetSummary, 0, len(assets))
	for _, as := range assets {
		all = append(all, assetSummary{Name: as.Name, Size: as.Size, Hashes: map[string]string{
			"MD5": as.MD5, "SHA-1": as.SHA1, "SHA-256": as.SHA256, "SHA-512": as.SHA512,
		}})
	}
	page, next, err := paginate(all, c.in.String("nextToken"), pageSize(c))
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"format": v.Format, "namespace": nonEmpty(v.Namespace), "package": v.Name, "version": v.Version,
		"versionRevision": v.Revision, "assets": page, "nextToken": nonEmpty(next),
	}, nil
}

func (a *API) getPackageVersionAsset(ctx context.Context, c *call) (any, error) {
	ref, err := a.repoRef(c)
	if err != nil {
		return nil, err
	}
	obj, err := a.reg.OpenAsset(ctx, ref, c.in.String("format"), c.in.String("namespace"), c.in.String("package"), c.in.String("packageVersion"), c.in.String("asset"))
	if err != nil {
		return nil, err
	}
	defer obj.Close()
	if rev := c.in.String("packageVersionRevision"); rev != "" && rev != obj.Version.Revision {
		return nil, registry.NotFound("package-version", obj.Version.Version,
			"revision %s of version %s not found; the current revision is %s", rev, obj.Version.Version, obj.Version.Revision)
	}
	h := c.w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("X-AssetName", headerText(obj.Asset.Name))
	h.Set("X-PackageVersion", obj.Version.Version)
	h.Set("X-PackageVersionRevision", obj.Version.Revision)
	h.Set("Content-Length", strconv.FormatInt(obj.Asset.Size, 10))
	c.w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(c.w, blob.Content(obj)); err != nil {
		a.cfg.Log.Warn("asset download interrupted", "asset", obj.Asset.Name, "err", err)
	}
	return nil, nil
}

// headerText is a header value as AWS sends text that is not US-ASCII
// (S3's user metadata, the one AWS convention for it): an RFC 2047
// encoded-word, =?UTF-8?b?...?=, which every client receives intact and
// decodes with its mail library (Python's email.header, Go's
// mime.WordDecoder). Raw UTF-8 would reach botocore and the JavaScript SDK
// garbled, since both read header bytes as ISO-8859-1. ASCII goes as is.
func headerText(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return mime.BEncoding.Encode("UTF-8", s)
		}
	}
	return s
}

// dependency is a PackageDependency as the format recorded it.
type dependency struct {
	Namespace          string `json:"namespace,omitempty"`
	Package            string `json:"package"`
	DependencyType     string `json:"dependencyType,omitempty"`
	VersionRequirement string `json:"versionRequirement,omitempty"`
}

func (a *API) listPackageVersionDependencies(ctx context.Context, c *call) (any, error) {
	ref, err := a.repoRef(c)
	if err != nil {
		return nil, err
	}
	v, err := a.reg.DescribeVersion(ctx, ref, c.in.String("format"), c.in.String("namespace"), c.in.String("package"), c.in.String("packageVersion"))
	if err != nil {
		return nil, err
	}
	deps := []dependency{}
	if raw := v.Attributes[registry.AttrDependencies]; raw != "" {
		if err := json.Unmarshal([]byte(raw), &deps); err != nil {
			return nil, fmt.Errorf("stored dependencies of %s %s: %w", v.Name, v.Version, err)
		}
	}
	page, next, err := paginate(deps, c.in.String("nextToken"), 1000)
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"format": v.Format, "namespace": nonEmpty(v.Namespace), "package": v.Name, "version": v.Version,
		"versionRevision": v.Revision, "dependencies": page, "nextToken": nonEmpty(next),
	}, nil
}

// paginate pages an in-memory list; the token is the offset, encoded so
// clients treat it as opaque.
func paginate[T any](all []T, token string, limit int) ([]T, string, error) {
	start := 0
	if token != "" {
		raw, err := base64.RawURLEncoding.DecodeString(token)
		n, cerr := strconv.Atoi(string(raw))
		if err != nil || cerr != nil || n < 0 || n > len(all) {
			return nil, "", store.ErrBadCursor
		}
		start = n
	}
	end := min(start+limit, len(all))
	next := ""
	if end < len(all) {
		next = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end)))
	}
	page := all[start:end]
	if page == nil {
		page = []T{}
	}
	return page, next, nil
}
