package registry

import (
	"context"
	"slices"

	"github.com/wharfhq/wharf/internal/blob"
	"github.com/wharfhq/wharf/internal/store"
)

// RepoRef addresses a repository.
type RepoRef struct {
	Owner, Domain, Repository string
}

// Version statuses (CODEARTIFACT.md, "Version statuses").
const (
	StatusPublished  = "Published"
	StatusUnlisted   = "Unlisted"
	StatusArchived   = "Archived"
	StatusDisposed   = "Disposed"
	StatusUnfinished = "Unfinished"
)

// Downloadable reports whether a version's assets may be downloaded.
func Downloadable(status string) bool { return status == StatusPublished || status == StatusUnlisted }

// packageKey validates and normalizes a package address.
func (r *Registry) packageKey(ctx context.Context, ref RepoRef, format, namespace, name string) (store.PackageKey, Format, error) {
	f, err := r.format(format)
	if err != nil {
		return store.PackageKey{}, nil, err
	}
	if _, err := r.repository(ctx, ref); err != nil {
		return store.PackageKey{}, nil, err
	}
	ns, n, err := f.NormalizeName(namespace, name)
	if err != nil {
		return store.PackageKey{}, nil, Invalid("%v", err)
	}
	return store.PackageKey{
		DomainOwner: ref.Owner, DomainName: ref.Domain, Repository: ref.Repository,
		Format: format, Namespace: ns, Name: n,
	}, f, nil
}

func (r *Registry) ListPackages(ctx context.Context, ref RepoRef, filter store.PackageFilter, page store.Page) ([]store.Package, string, error) {
	if _, err := r.GetRepository(ctx, ref.Owner, ref.Domain, ref.Repository); err != nil {
		return nil, "", err
	}
	if filter.Format != "" {
		if _, err := r.format(filter.Format); err != nil {
			return nil, "", err
		}
	}
	return r.store.ListPackages(ctx, ref.Owner, ref.Domain, ref.Repository, filter, page)
}

func (r *Registry) DescribePackage(ctx context.Context, ref RepoRef, format, namespace, name string) (store.Package, error) {
	k, _, err := r.packageKey(ctx, ref, format, namespace, name)
	if err != nil {
		return store.Package{}, err
	}
	p, err := r.store.GetPackage(ctx, k)
	if isErr(err, store.ErrNotFound) {
		return p, NotFound("package", k.Name, "package %s (%s) not found in repository %s", k.Name, format, ref.Repository)
	}
	return p, err
}

// ListVersions returns a package's versions, newest first in the format's
// order. The package must exist.
func (r *Registry) ListVersions(ctx context.Context, ref RepoRef, format, namespace, name string) (store.Package, []store.PackageVersion, error) {
	p, err := r.DescribePackage(ctx, ref, format, namespace, name)
	if err != nil {
		return p, nil, err
	}
	vs, err := r.store.ListVersions(ctx, p.PackageKey)
	if err != nil {
		return p, nil, err
	}
	f := r.formats[format]
	slices.SortFunc(vs, func(a, b store.PackageVersion) int { return f.CompareVersions(b.Version, a.Version) })
	return p, vs, nil
}

func (r *Registry) DescribeVersion(ctx context.Context, ref RepoRef, format, namespace, name, version string) (store.PackageVersion, error) {
	k, f, err := r.packageKey(ctx, ref, format, namespace, name)
	if err != nil {
		return store.PackageVersion{}, err
	}
	v, err := r.versionKey(ctx, k, f, version)
	if err != nil {
		return store.PackageVersion{}, err
	}
	pv, err := r.store.GetVersion(ctx, store.VersionKey{PackageKey: k, Version: v})
	if isErr(err, store.ErrNotFound) {
		if _, perr := r.store.GetPackage(ctx, k); isErr(perr, store.ErrNotFound) {
			return pv, NotFound("package", k.Name, "package %s (%s) not found in repository %s", k.Name, format, ref.Repository)
		}
		return pv, NotFound("package-version", version, "version %s of package %s not found in repository %s", version, k.Name, ref.Repository)
	}
	return pv, err
}

// versionKey returns the stored spelling of version: the format's normal
// form, or the spelling of an existing version that the format considers
// equal (PEP 440: 1.0 == 1.0.0), so equal versions never split in two.
func (r *Registry) versionKey(ctx context.Context, k store.PackageKey, f Format, version string) (string, error) {
	v, err := f.NormalizeVersion(version)
	if err != nil {
		return "", Invalid("%v", err)
	}
	if _, err := r.store.GetVersion(ctx, store.VersionKey{PackageKey: k, Version: v}); err == nil || !isErr(err, store.ErrNotFound) {
		return v, err
	}
	vs, err := r.store.ListVersions(ctx, k)
	if isErr(err, store.ErrNotFound) { // a new package
		return v, nil
	}
	if err != nil {
		return "", err
	}
	for _, existing := range vs {
		if f.CompareVersions(existing.Version, v) == 0 {
			return existing.Version, nil
		}
	}
	return v, nil
}

func (r *Registry) ListAssets(ctx context.Context, ref RepoRef, format, namespace, name, version string) (store.PackageVersion, []store.Asset, error) {
	pv, err := r.DescribeVersion(ctx, ref, format, namespace, name, version)
	if err != nil {
		return pv, nil, err
	}
	as, err := r.store.ListAssets(ctx, pv.VersionKey)
	return pv, as, err
}

// OpenedAsset is an asset ready to stream.
type OpenedAsset struct {
	Version store.PackageVersion
	Asset   store.Asset
	blob.Object
}

// OpenAsset opens an asset's bytes, refusing versions whose status forbids
// downloads with a message that says why.
func (r *Registry) OpenAsset(ctx context.Context, ref RepoRef, format, namespace, name, version, assetName string) (*OpenedAsset, error) {
	pv, err := r.DescribeVersion(ctx, ref, format, namespace, name, version)
	if err != nil {
		return nil, err
	}
	if !Downloadable(pv.Status) {
		return nil, notDownloadable(ref, pv)
	}
	a, err := r.store.GetAsset(ctx, pv.VersionKey, assetName)
	if isErr(err, store.ErrNotFound) {
		return nil, NotFound("asset", assetName, "version %s of %s has no file named %s", pv.Version, pv.Name, assetName)
	}
	if err != nil {
		return nil, err
	}
	obj, err := r.blobs.Open(ctx, blobNamespace(ref.Owner, ref.Domain), a.SHA256)
	if err != nil {
		return nil, err
	}
	return &OpenedAsset{Version: pv, Asset: a, Object: obj}, nil
}

// OpenSidecar opens a file the format derived from an asset at publish
// time (see Inspection.Sidecars), under the same status rules as the asset.
func (r *Registry) OpenSidecar(ctx context.Context, ref RepoRef, format, namespace, name, version, assetName, sidecar string) (*OpenedAsset, error) {
	a, err := r.OpenAsset(ctx, ref, format, namespace, name, version, assetName)
	if err != nil {
		return nil, err
	}
	a.Object.Close()
	sha := a.Asset.Attributes[SidecarAttr(sidecar)]
	if sha == "" {
		return nil, NotFound("asset", assetName+"."+sidecar, "%s has no %s file", assetName, sidecar)
	}
	obj, err := r.blobs.Open(ctx, blobNamespace(ref.Owner, ref.Domain), sha)
	if err != nil {
		return nil, err
	}
	a.Object = obj
	return a, nil
}

// PutOriginConfiguration sets a package's origin controls.
func (r *Registry) PutOriginConfiguration(ctx context.Context, ref RepoRef, format, namespace, name, publish, upstream string) (store.Package, error) {
	p, err := r.DescribePackage(ctx, ref, format, namespace, name)
	if err != nil {
		return p, err
	}
	if err := r.store.PutPackageOrigin(ctx, p.PackageKey, publish, upstream); err != nil {
		return p, err
	}
	p.OriginPublish, p.OriginUpstream = publish, upstream
	return p, nil
}

// AttrDependencies is the version attribute where a format records a
// version's dependencies, as a JSON array of objects with the fields of the
// API's PackageDependency (namespace, package, dependencyType,
// versionRequirement).
const AttrDependencies = "wharf.dependencies"
