package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/wharfhq/wharf/internal/store"
)

// Optional format rules the lifecycle needs; a format implements the ones
// that apply to it.
type (
	// AssetNameValidator refuses asset names the format cannot serve.
	AssetNameValidator interface{ ValidateAssetName(name string) error }
	// Sealer: a version takes new assets only while Unfinished (generic);
	// other formats add files to published versions (pypi wheels).
	Sealer interface{ SealedWhenPublished() bool }
	// Readmer extracts a version's readme from what the format recorded.
	Readmer interface {
		Readme(v store.PackageVersion) string
	}
)

// PackageVersionError codes (the API's PackageVersionErrorCode).
const (
	CodeAlreadyExists      = "ALREADY_EXISTS"
	CodeMismatchedRevision = "MISMATCHED_REVISION"
	CodeMismatchedStatus   = "MISMATCHED_STATUS"
	CodeNotAllowed         = "NOT_ALLOWED"
	CodeNotFound           = "NOT_FOUND"
	CodeSkipped            = "SKIPPED"
)

// StatusDeleted is what DeletePackageVersions reports for a removed version.
const StatusDeleted = "Deleted"

// Selection names the versions a batch operation acts on.
type Selection struct {
	Versions []string
	// Revisions maps a version to the revision it must still have
	// (compare-and-set); a version listed only here is selected too.
	Revisions      map[string]string
	ExpectedStatus string // "" matches any status
}

// list is each selected version once: Versions in order, then versions
// named only in Revisions.
func (s Selection) list() []string {
	var out, extra []string
	for _, v := range s.Versions {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	for v := range s.Revisions {
		if !slices.Contains(out, v) {
			extra = append(extra, v)
		}
	}
	slices.Sort(extra)
	return append(out, extra...)
}

// VersionInfo is one version a batch changed (SuccessfulPackageVersionInfo).
type VersionInfo struct{ Revision, Status string }

// VersionError is one version a batch did not change (PackageVersionError).
type VersionError struct{ Code, Message string }

// Outcome reports a batch per version, keyed as the caller wrote them.
type Outcome struct {
	Succeeded map[string]VersionInfo
	Failed    map[string]VersionError
}

func failed(code, format string, args ...any) *VersionError {
	return &VersionError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// each runs fn on every selected version of package k that exists and
// passes the selection's status and revision checks.
func (r *Registry) each(ctx context.Context, k store.PackageKey, f Format, sel Selection,
	fn func(asked string, v store.PackageVersion) (VersionInfo, *VersionError, error)) (Outcome, error) {
	out := Outcome{Succeeded: map[string]VersionInfo{}, Failed: map[string]VersionError{}}
	for _, asked := range sel.list() {
		v, verr, err := r.lookupVersion(ctx, k, f, asked)
		if err == nil && verr == nil {
			switch rev := sel.Revisions[asked]; {
			case sel.ExpectedStatus != "" && v.Status != sel.ExpectedStatus:
				verr = failed(CodeMismatchedStatus, "version %s is %s, not the expected %s", asked, v.Status, sel.ExpectedStatus)
			case rev != "" && rev != v.Revision:
				verr = failed(CodeMismatchedRevision, "version %s has revision %s, not the expected %s; it changed since you read it", asked, v.Revision, rev)
			default:
				var info VersionInfo
				info, verr, err = fn(asked, v)
				if err == nil && verr == nil {
					out.Succeeded[asked] = info
				}
			}
		}
		if err != nil {
			return out, err
		}
		if verr != nil {
			out.Failed[asked] = *verr
		}
	}
	return out, nil
}

func (r *Registry) lookupVersion(ctx context.Context, k store.PackageKey, f Format, asked string) (store.PackageVersion, *VersionError, error) {
	version, err := r.versionKey(ctx, k, f, asked)
	if IsKind(err, KindValidation) {
		return store.PackageVersion{}, failed(CodeNotFound, "%v", err), nil
	}
	if err != nil {
		return store.PackageVersion{}, nil, err
	}
	v, err := r.store.GetVersion(ctx, store.VersionKey{PackageKey: k, Version: version})
	if isErr(err, store.ErrNotFound) {
		return v, failed(CodeNotFound, "version %s of %s not found in repository %s", asked, k.Name, k.Repository), nil
	}
	return v, nil, err
}

// UpdateVersionsStatus moves versions to Published, Unlisted or Archived.
// Each change is a compare-and-set on the revision read, so a concurrent
// change is reported, never overwritten.
func (r *Registry) UpdateVersionsStatus(ctx context.Context, ref RepoRef, format, namespace, name string, sel Selection, target string) (Outcome, error) {
	switch target {
	case StatusPublished, StatusUnlisted, StatusArchived:
	case StatusDisposed:
		return Outcome{}, Invalid("versions are disposed with dispose-package-versions (DisposePackageVersions), which also deletes their assets")
	default:
		return Outcome{}, Invalid("targetStatus must be Published, Unlisted or Archived, not %s", target)
	}
	p, err := r.DescribePackage(ctx, ref, format, namespace, name)
	if err != nil {
		return Outcome{}, err
	}
	return r.each(ctx, p.PackageKey, r.formats[format], sel, func(asked string, v store.PackageVersion) (VersionInfo, *VersionError, error) {
		switch v.Status {
		case target:
			return VersionInfo{}, failed(CodeSkipped, "version %s is already %s", asked, target), nil
		case StatusDisposed:
			return VersionInfo{}, failed(CodeNotAllowed, "version %s is Disposed: its assets were deleted for good, so it can only be deleted (delete-package-versions)", asked), nil
		}
		nv, err := r.store.SetVersionStatus(ctx, v.VersionKey, target, newRevision(), v.Revision, r.now().UTC())
		if isErr(err, store.ErrRevisionMismatch) {
			return VersionInfo{}, failed(CodeMismatchedRevision, "version %s changed while its status was being updated; read it again and retry", asked), nil
		}
		return VersionInfo{Revision: nv.Revision, Status: nv.Status}, nil, err
	})
}

// DisposeVersions deletes versions' assets for good and marks them
// Disposed; bytes no asset of the domain references any more are deleted.
func (r *Registry) DisposeVersions(ctx context.Context, ref RepoRef, format, namespace, name string, sel Selection) (Outcome, error) {
	p, err := r.DescribePackage(ctx, ref, format, namespace, name)
	if err != nil {
		return Outcome{}, err
	}
	return r.each(ctx, p.PackageKey, r.formats[format], sel, func(asked string, v store.PackageVersion) (VersionInfo, *VersionError, error) {
		if v.Status == StatusDisposed {
			return VersionInfo{}, failed(CodeSkipped, "version %s is already Disposed", asked), nil
		}
		assets, err := r.store.ListAssets(ctx, v.VersionKey)
		if err != nil {
			return VersionInfo{}, nil, err
		}
		rev := newRevision()
		orphans, err := r.store.DisposeVersion(ctx, v.VersionKey, rev, r.now().UTC())
		if err != nil {
			return VersionInfo{}, nil, err
		}
		r.deleteBlobs(ctx, ref, orphans, assets)
		return VersionInfo{Revision: rev, Status: StatusDisposed}, nil, nil
	})
}

// DeleteVersions removes versions entirely; they may be published again.
func (r *Registry) DeleteVersions(ctx context.Context, ref RepoRef, format, namespace, name string, sel Selection) (Outcome, error) {
	p, err := r.DescribePackage(ctx, ref, format, namespace, name)
	if err != nil {
		return Outcome{}, err
	}
	return r.each(ctx, p.PackageKey, r.formats[format], sel, func(asked string, v store.PackageVersion) (VersionInfo, *VersionError, error) {
		assets, err := r.store.ListAssets(ctx, v.VersionKey)
		if err != nil {
			return VersionInfo{}, nil, err
		}
		orphans, err := r.store.DeleteVersion(ctx, v.VersionKey)
		if isErr(err, store.ErrNotFound) {
			return VersionInfo{}, failed(CodeNotFound, "version %s was deleted concurrently", asked), nil
		}
		if err != nil {
			return VersionInfo{}, nil, err
		}
		r.deleteBlobs(ctx, ref, orphans, assets)
		return VersionInfo{Revision: v.Revision, Status: StatusDeleted}, nil, nil
	})
}

// DeletePackage removes a package with all its versions and returns it as
// it was.
func (r *Registry) DeletePackage(ctx context.Context, ref RepoRef, format, namespace, name string) (store.Package, error) {
	p, err := r.DescribePackage(ctx, ref, format, namespace, name)
	if err != nil {
		return p, err
	}
	assets, err := r.store.ListPackageAssets(ctx, p.PackageKey)
	if err != nil {
		return p, err
	}
	orphans, err := r.store.DeletePackage(ctx, p.PackageKey)
	if err != nil {
		return p, translate(err, "package", p.Name)
	}
	r.deleteBlobs(ctx, ref, orphans, assets)
	return p, nil
}

// deleteBlobs deletes the blobs the store reported orphaned, and the
// sidecars of the removed assets that nothing in the domain references any
// more: the store's orphan query sees assets' sha256 only, not the sidecar
// digests kept in attributes (two wheels of one release often share their
// METADATA).
func (r *Registry) deleteBlobs(ctx context.Context, ref RepoRef, orphans []string, removed []store.Asset) {
	candidates := slices.Clone(orphans)
	for _, a := range removed {
		for k, v := range a.Attributes {
			if strings.HasPrefix(k, SidecarAttr("")) && v != "" {
				candidates = append(candidates, v)
			}
		}
	}
	r.removeBlobs(ctx, ref.Owner, ref.Domain, candidates)
}

// CopyRequest copies versions of one package between two repositories of
// a domain (CopyPackageVersions).
type CopyRequest struct {
	Owner, Domain, Source, Destination string
	Format, Namespace, Name            string
	Versions                           []string
	Revisions                          map[string]string // version -> revision it must have in the source
	AllowOverwrite                     bool
	IncludeFromUpstream                bool
}

// copySource is a version to copy and its assets.
type copySource struct {
	version store.PackageVersion
	assets  []store.Asset
}

// CopyVersions copies metadata only: the domain stores each blob once, so
// the destination's assets reference the source's bytes. Copying a version
// the destination already holds with the same assets is a success.
func (r *Registry) CopyVersions(ctx context.Context, req CopyRequest) (Outcome, error) {
	if (len(req.Versions) > 0) == (len(req.Revisions) > 0) {
		return Outcome{}, Invalid("give either versions or versionRevisions (exactly one of them)")
	}
	if req.Source == req.Destination {
		return Outcome{}, Invalid("the source and destination repositories are both %s; copy between two repositories", req.Source)
	}
	src := RepoRef{Owner: req.Owner, Domain: req.Domain, Repository: req.Source}
	k, f, err := r.packageKey(ctx, src, req.Format, req.Namespace, req.Name)
	if err != nil {
		return Outcome{}, err
	}
	if _, err := r.GetRepository(ctx, req.Owner, req.Domain, req.Destination); err != nil {
		return Outcome{}, err
	}
	// The destination package, if new, takes the source's origin controls;
	// a package known only upstream gets those of a retained package.
	pkg := store.Package{PackageKey: k, DisplayName: req.Name, OriginPublish: Block, OriginUpstream: Allow, CreatedAt: r.now().UTC()}
	var view *View
	switch sp, err := r.store.GetPackage(ctx, k); {
	case err == nil:
		pkg.DisplayName, pkg.OriginPublish, pkg.OriginUpstream = sp.DisplayName, sp.OriginPublish, sp.OriginUpstream
	case !isErr(err, store.ErrNotFound):
		return Outcome{}, err
	case !req.IncludeFromUpstream:
		return Outcome{}, NotFound("package", k.Name, "package %s (%s) not found in repository %s; to copy versions its upstreams hold, set includeFromUpstream", k.Name, req.Format, req.Source)
	}
	if req.IncludeFromUpstream {
		if view, err = r.PackageView(ctx, src, req.Format, req.Namespace, req.Name); err != nil {
			return Outcome{}, err
		}
	}
	pkg.Repository = req.Destination
	out := Outcome{Succeeded: map[string]VersionInfo{}, Failed: map[string]VersionError{}}
	for _, asked := range (Selection{Versions: req.Versions, Revisions: req.Revisions}).list() {
		s, verr, err := r.copySource(ctx, src, k, f, view, asked)
		if err == nil && verr == nil {
			var info VersionInfo
			if info, verr, err = r.copyVersion(ctx, req, pkg, s, asked); err == nil && verr == nil {
				out.Succeeded[asked] = info
			}
		}
		if err != nil {
			return out, err
		}
		if verr != nil {
			out.Failed[asked] = *verr
		}
	}
	return out, nil
}

// copySource finds what to copy for one asked version: the source
// repository's own version, else (with a view) the version its upstreams
// offer, ingesting files not yet fetched from an external connection.
func (r *Registry) copySource(ctx context.Context, src RepoRef, k store.PackageKey, f Format, view *View, asked string) (copySource, *VersionError, error) {
	v, verr, err := r.lookupVersion(ctx, k, f, asked)
	if err != nil || (verr != nil && view == nil) {
		return copySource{}, verr, err
	}
	if verr == nil {
		assets, err := r.store.ListAssets(ctx, v.VersionKey)
		return copySource{version: v, assets: assets}, nil, err
	}
	want, _ := f.NormalizeVersion(asked)
	var files []ViewFile
	for _, vf := range view.Files {
		if f.CompareVersions(vf.Asset.Version, want) == 0 {
			files = append(files, vf)
		}
	}
	if len(files) == 0 {
		return copySource{}, failed(CodeNotFound, "version %s of %s not found in repository %s or the upstreams its origin controls allow", asked, k.Name, src.Repository), nil
	}
	if files[0].Remote != nil {
		// Fetching retains the version in the source repository, as a
		// client's download would; it is then copied like any other.
		for _, vf := range files {
			obj, err := r.FetchAsset(ctx, src, k.Format, k.Namespace, k.Name, vf.Asset.Version, vf.Asset.Name)
			if err != nil {
				return copySource{}, nil, err
			}
			obj.Close()
		}
		return r.copySource(ctx, src, k, f, nil, asked)
	}
	if v, err = r.store.GetVersion(ctx, files[0].Asset.VersionKey); err != nil {
		return copySource{}, nil, err
	}
	s := copySource{version: v}
	for _, vf := range files {
		s.assets = append(s.assets, vf.Asset)
	}
	return s, nil, nil
}

func (r *Registry) copyVersion(ctx context.Context, req CopyRequest, pkg store.Package, s copySource, asked string) (VersionInfo, *VersionError, error) {
	v := s.version
	switch rev := req.Revisions[asked]; {
	case rev != "" && rev != v.Revision:
		return VersionInfo{}, failed(CodeMismatchedRevision, "version %s has revision %s in %s, not the expected %s", asked, v.Revision, v.Repository, rev), nil
	case v.Status == StatusDisposed || v.Status == StatusUnfinished || len(s.assets) == 0:
		return VersionInfo{}, failed(CodeNotAllowed, "version %s is %s and has no complete set of assets to copy", asked, v.Status), nil
	}
	dk := store.VersionKey{PackageKey: pkg.PackageKey, Version: v.Version}
	switch dv, err := r.store.GetVersion(ctx, dk); {
	case isErr(err, store.ErrNotFound):
	case err != nil:
		return VersionInfo{}, nil, err
	default:
		have, err := r.store.ListAssets(ctx, dk)
		if err != nil {
			return VersionInfo{}, nil, err
		}
		if sameFiles(have, s.assets) {
			return VersionInfo{Revision: dv.Revision, Status: dv.Status}, nil, nil
		}
		if !req.AllowOverwrite {
			return VersionInfo{}, failed(CodeAlreadyExists, "version %s already exists in %s with other assets; set allowOverwrite to replace it", asked, req.Destination), nil
		}
		orphans, err := r.store.DeleteVersion(ctx, dk)
		if err != nil && !isErr(err, store.ErrNotFound) {
			return VersionInfo{}, nil, err
		}
		r.deleteBlobs(ctx, RepoRef{Owner: req.Owner, Domain: req.Domain}, orphans, have)
	}
	nv := v
	nv.VersionKey, nv.Revision, nv.UpdatedAt = dk, newRevision(), r.now().UTC()
	for _, a := range s.assets {
		a.VersionKey = dk
		release, err := r.holdBlobs(ctx, a)
		if err != nil {
			return VersionInfo{}, nil, err
		}
		stored, err := r.store.AddAsset(ctx, pkg, nv, a)
		release()
		if errors.Is(err, store.ErrExists) && stored.SHA256 != a.SHA256 {
			return VersionInfo{}, failed(CodeAlreadyExists, "asset %s of version %s was published in %s with other content meanwhile", a.Name, asked, req.Destination), nil
		}
		if err != nil && !errors.Is(err, store.ErrExists) {
			return VersionInfo{}, nil, err
		}
	}
	return VersionInfo{Revision: nv.Revision, Status: nv.Status}, nil, nil
}

// sameFiles reports whether two versions hold the same assets (names and bytes).
func sameFiles(a, b []store.Asset) bool {
	if len(a) != len(b) {
		return false
	}
	sums := map[string]string{}
	for _, x := range a {
		sums[x.Name] = x.SHA256
	}
	for _, y := range b {
		if sums[y.Name] != y.SHA256 {
			return false
		}
	}
	return true
}

// Readme returns a version's readme; formats without one give "" (as
// CodeArtifact does for generic packages).
func (r *Registry) Readme(ctx context.Context, ref RepoRef, format, namespace, name, version string) (store.PackageVersion, string, error) {
	v, err := r.DescribeVersion(ctx, ref, format, namespace, name, version)
	if err != nil {
		return v, "", err
	}
	if rd, ok := r.formats[format].(Readmer); ok {
		return v, rd.Readme(v), nil
	}
	return v, "", nil
}

// ---- publishing and downloading under statuses

func initialStatus(req PublishRequest) string {
	if req.Unfinished {
		return StatusUnfinished
	}
	return StatusPublished
}

// checkVersionAccepts refuses, before any byte is stored, a file the
// version cannot take: a bad asset name, a new file for an Archived or
// Disposed version, or for a published version of a sealed format. A file
// the version already has passes, so identical retries stay idempotent; it
// is returned as taken, so Publish can decide on a declared digest alone.
func (r *Registry) checkVersionAccepts(ctx context.Context, k store.PackageKey, f Format, version, assetName string) (taken *store.Asset, err error) {
	if av, ok := f.(AssetNameValidator); ok {
		if err := av.ValidateAssetName(assetName); err != nil {
			return nil, Invalid("%v", err)
		}
	}
	v, err := r.store.GetVersion(ctx, store.VersionKey{PackageKey: k, Version: version})
	if isErr(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if a, err := r.store.GetAsset(ctx, v.VersionKey, assetName); err == nil {
		return &a, nil
	} else if !isErr(err, store.ErrNotFound) {
		return nil, err
	}
	sealed := false
	if s, ok := f.(Sealer); ok {
		sealed = s.SealedWhenPublished()
	}
	switch {
	case v.Status == StatusUnfinished:
		return nil, nil
	case v.Status == StatusArchived:
		return nil, Conflict("package-version", version, "version %s of %s is Archived; restore it (aws codeartifact update-package-versions-status --target-status Published) before adding files to it", version, displayName(k))
	case v.Status == StatusDisposed:
		return nil, Conflict("package-version", version, "version %s of %s was disposed; delete it (aws codeartifact delete-package-versions) to publish it again, or publish a new version", version, displayName(k))
	case sealed:
		return nil, Conflict("package-version", version, "version %s of %s is already %s, so no asset can be added to it. Publish every asset but the last with --unfinished, or publish a new version", version, displayName(k), v.Status)
	}
	return nil, nil
}

// finish publishes an Unfinished version once a publish without the
// unfinished flag completes it. The compare-and-set retries when another
// asset of the same version landed meanwhile.
func (r *Registry) finish(ctx context.Context, v store.PackageVersion, req PublishRequest) (store.PackageVersion, error) {
	for range 5 {
		if v.Status != StatusUnfinished || req.Unfinished {
			return v, nil
		}
		nv, err := r.store.SetVersionStatus(ctx, v.VersionKey, StatusPublished, newRevision(), v.Revision, r.now().UTC())
		if !isErr(err, store.ErrRevisionMismatch) {
			return nv, err
		}
		if v, err = r.store.GetVersion(ctx, v.VersionKey); err != nil {
			return v, err
		}
	}
	return v, Conflict("package-version", v.Version, "version %s changed concurrently while being published; retry", v.Version)
}

func displayName(k store.PackageKey) string {
	if k.Namespace != "" {
		return k.Namespace + "/" + k.Name
	}
	return k.Name
}

// notDownloadable says why a version's files cannot be downloaded and
// what would change that.
func notDownloadable(ref RepoRef, v store.PackageVersion) error {
	name := displayName(v.PackageKey)
	switch v.Status {
	case StatusArchived:
		ns := ""
		if v.Namespace != "" {
			ns = " --namespace " + v.Namespace
		}
		return Gone("package-version", v.Version, "version %s of %s is Archived and cannot be downloaded. An administrator can restore it: aws codeartifact update-package-versions-status --domain %s --repository %s --format %s%s --package %s --versions %s --target-status Published",
			v.Version, name, ref.Domain, ref.Repository, v.Format, ns, v.Name, v.Version)
	case StatusDisposed:
		return Gone("package-version", v.Version, "version %s of %s was disposed: its files were deleted for good and cannot be downloaded. Use another version", v.Version, name)
	case StatusUnfinished:
		return Gone("package-version", v.Version, "version %s of %s is Unfinished: its publisher has not uploaded all its assets yet (the last publish-package-version without --unfinished completes it)", v.Version, name)
	}
	return Gone("package-version", v.Version, "version %s of %s is %s and cannot be downloaded", v.Version, name, v.Status)
}
