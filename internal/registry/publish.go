package registry

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"strings"

	"github.com/wharfhq/wharf/internal/blob"
	"github.com/wharfhq/wharf/internal/fanout"
	"github.com/wharfhq/wharf/internal/store"
)

// Origin-control values (PackageOriginRestrictions in the API).
const (
	Allow = "ALLOW"
	Block = "BLOCK"
)

// PublishRequest asks to add one file to a package version.
type PublishRequest struct {
	Repo      RepoRef
	Format    string
	Namespace string
	Name      string // as the publisher wrote it
	Version   string // as the publisher wrote it
	AssetName string
	Content   io.Reader
	// ExpectSHA256, when set, is the digest the client declared; bytes that
	// hash differently are refused and nothing is stored.
	ExpectSHA256 string
	// ExpectMD5, when set, is the md5 the client declared (pypi's
	// md5_digest). The registry computes md5 for the asset summary anyway,
	// so checking it here spares the format hashing the file a second time.
	ExpectMD5 string
	// Inspect runs once the bytes are durable and before anything becomes
	// visible: the format reads the file (archive metadata, client digests)
	// and says what to record, or refuses with an error.
	Inspect func(obj blob.Object) (Inspection, error)
	// Unfinished keeps a new version Unfinished so more assets can follow
	// (PublishPackageVersion's unfinished flag); a publish without it
	// finishes an Unfinished version (see lifecycle.go).
	Unfinished bool
}

// Inspection is what a format learned from a file it is about to publish.
type Inspection struct {
	Summary              string
	HomePage             string
	SourceCodeRepository string
	Licenses             []string
	VersionAttributes    map[string]string
	AssetAttributes      map[string]string
	// Sidecars are small files derived from the asset that the format serves
	// beside it (pypi: a wheel's METADATA for PEP 658). They are stored as
	// blobs and found again with OpenSidecar.
	Sidecars map[string][]byte
}

// sidecarAttr is the asset attribute holding a sidecar's sha256.
func SidecarAttr(name string) string { return "wharf.sidecar." + name }

// PublishResult says what Publish recorded.
type PublishResult struct {
	Version store.PackageVersion
	Asset   store.Asset
	// Unchanged is true when the same file with the same bytes was already
	// published: an idempotent retry, not an error.
	Unchanged bool
}

// Publish streams a file into the domain's blob store, hashing it on the way
// in, lets the format inspect it, then records it. Published files are
// immutable: the same name with other bytes is a conflict.
func (r *Registry) Publish(ctx context.Context, req PublishRequest) (PublishResult, error) {
	k, f, err := r.packageKey(ctx, req.Repo, req.Format, req.Namespace, req.Name)
	if err != nil {
		return PublishResult{}, err
	}
	if err := checkPublish(ctx, k); err != nil {
		return PublishResult{}, err
	}
	version, err := r.versionKey(ctx, k, f, req.Version)
	if err != nil {
		return PublishResult{}, err
	}
	if err := r.checkPublishAllowed(ctx, req.Repo, k, f, version); err != nil {
		return PublishResult{}, err
	}
	taken, err := r.checkVersionAccepts(ctx, k, f, version, req.AssetName)
	if err != nil {
		return PublishResult{}, err
	}
	if taken != nil {
		// A declared digest decides a re-upload under a taken name before a
		// byte of it is read or stored (see republish).
		if res, decided, err := r.republish(ctx, req, *taken); decided {
			return res, err
		}
	}

	sums := newMultiHash()
	defer sums.close()
	info, err := r.blobs.Put(ctx, blobNamespace(k.DomainOwner, k.DomainName), io.TeeReader(req.Content, sums), req.ExpectSHA256)
	if errors.Is(err, blob.ErrDigestMismatch) {
		return PublishResult{}, Invalid("the file %s does not match the sha256 digest the client sent (%s); the upload was corrupted or the digest is stale. Nothing was stored; rebuild or re-send the file", req.AssetName, req.ExpectSHA256)
	}
	if err != nil {
		return PublishResult{}, err
	}
	// From here until the asset is recorded, its blobs are held so that a
	// concurrent deletion of identical bytes cannot take them (blobrefs.go).
	// Every refusal below removes, still holding them, the blobs this
	// publish stored that nothing references (refuse), so refused uploads
	// leave no bytes behind.
	holds := r.newHolds(k.DomainOwner, k.DomainName)
	defer holds.release()
	if err := holds.hold(ctx, info.SHA256); err != nil {
		return PublishResult{}, err
	}
	refuse := func(err error) (PublishResult, error) {
		holds.discardUnreferenced(ctx)
		return PublishResult{}, err
	}
	// The wording is the one twine users saw when the pypi handler checked
	// md5_digest itself.
	if req.ExpectMD5 != "" && !strings.EqualFold(hexSum(sums.md5), req.ExpectMD5) {
		return refuse(Invalid("md5_digest of %s does not match the file's bytes (the upload was corrupted, or the digest belongs to another file); nothing was stored", req.AssetName))
	}
	var insp Inspection
	if req.Inspect != nil {
		obj, err := r.blobs.Open(ctx, blobNamespace(k.DomainOwner, k.DomainName), info.SHA256)
		if err != nil {
			return refuse(err)
		}
		insp, err = req.Inspect(obj)
		obj.Close()
		if err != nil {
			return refuse(err)
		}
	}
	for name, data := range insp.Sidecars {
		si, err := r.blobs.Put(ctx, blobNamespace(k.DomainOwner, k.DomainName), bytes.NewReader(data), "")
		if err != nil {
			return refuse(err)
		}
		if err := holds.hold(ctx, si.SHA256); err != nil {
			return refuse(err)
		}
		if insp.AssetAttributes == nil {
			insp.AssetAttributes = map[string]string{}
		}
		insp.AssetAttributes[SidecarAttr(name)] = si.SHA256
	}

	now := r.now().UTC()
	pkg := store.Package{PackageKey: k, DisplayName: req.Name, OriginPublish: Allow, OriginUpstream: Block, CreatedAt: now}
	pv := store.PackageVersion{
		VersionKey:           store.VersionKey{PackageKey: k, Version: version},
		DisplayVersion:       req.Version,
		Status:               initialStatus(req),
		Revision:             newRevision(),
		OriginType:           "INTERNAL",
		OriginRepository:     req.Repo.Repository,
		Summary:              insp.Summary,
		HomePage:             insp.HomePage,
		SourceCodeRepository: insp.SourceCodeRepository,
		Licenses:             insp.Licenses,
		Attributes:           insp.VersionAttributes,
		PublishedAt:          now,
		UpdatedAt:            now,
	}
	asset := store.Asset{
		VersionKey: pv.VersionKey,
		Name:       req.AssetName,
		Size:       info.Size,
		SHA256:     info.SHA256,
		SHA512:     hexSum(sums.sha512),
		SHA1:       hexSum(sums.sha1),
		MD5:        hexSum(sums.md5),
		Attributes: insp.AssetAttributes,
		CreatedAt:  now,
	}
	stored, err := r.store.AddAsset(ctx, pkg, pv, asset)
	if errors.Is(err, store.ErrExists) {
		if stored.SHA256 == asset.SHA256 {
			holds.release()
			return r.unchanged(ctx, req, pv.VersionKey, stored)
		}
		return refuse(fileExists(req, stored.SHA256, asset.SHA256))
	}
	if err != nil {
		return refuse(err)
	}
	holds.release()
	v, err := r.store.GetVersion(ctx, pv.VersionKey)
	if err == nil {
		v, err = r.finish(ctx, v, req)
	}
	return PublishResult{Version: v, Asset: stored}, err
}

// republish decides, before the body is read, a publish under a name the
// version already has, when the client declared the file's sha256: the same
// digest is an idempotent success and other bytes a conflict, so a re-upload
// of a large file costs neither the transfer into storage nor the disk. A
// declared md5 that disagrees with the stored file leaves the decision to
// the bytes (decided is false).
func (r *Registry) republish(ctx context.Context, req PublishRequest, taken store.Asset) (res PublishResult, decided bool, err error) {
	if req.ExpectSHA256 == "" {
		return PublishResult{}, false, nil
	}
	if !strings.EqualFold(taken.SHA256, req.ExpectSHA256) {
		return PublishResult{}, true, fileExists(req, taken.SHA256, strings.ToLower(req.ExpectSHA256))
	}
	if req.ExpectMD5 != "" && !strings.EqualFold(taken.MD5, req.ExpectMD5) {
		return PublishResult{}, false, nil
	}
	res, err = r.unchanged(ctx, req, taken.VersionKey, taken)
	return res, true, err
}

// unchanged answers a publish of a file the version already holds with the
// same bytes: an idempotent success, which still finishes an Unfinished
// version when the request says so.
func (r *Registry) unchanged(ctx context.Context, req PublishRequest, vk store.VersionKey, stored store.Asset) (PublishResult, error) {
	v, err := r.store.GetVersion(ctx, vk)
	if err == nil {
		v, err = r.finish(ctx, v, req)
	}
	return PublishResult{Version: v, Asset: stored, Unchanged: true}, err
}

// fileExists is the conflict of a publish under a taken name with other
// bytes; twine and pip users recognise warehouse's "File already exists".
func fileExists(req PublishRequest, storedSHA, uploadSHA string) error {
	return Conflict("asset", req.AssetName,
		"File already exists: %s was already published in %s/%s with different content (sha256 %s, this upload has %s). Published files are immutable; publish a new version instead",
		req.AssetName, req.Repo.Domain, req.Repo.Repository, storedSHA, uploadSHA)
}

// checkPublishAllowed applies the package's origin controls: publish=BLOCK
// refuses; with upstream=ALLOW, a version an upstream already has cannot be
// published again here (it would shadow the upstream's files).
func (r *Registry) checkPublishAllowed(ctx context.Context, ref RepoRef, k store.PackageKey, f Format, version string) error {
	// The package's group adds its PUBLISH restriction to the checks below.
	if err := r.groupAllowsPublish(ctx, ref, k); err != nil {
		return err
	}
	p, err := r.store.GetPackage(ctx, k)
	if isErr(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if p.OriginPublish == Block {
		return Forbidden("publishing %s to repository %s is blocked by its package origin controls (publish=BLOCK, usually because the package came from an upstream; this protects against dependency confusion). If this package really is yours, allow publishing with: aws codeartifact put-package-origin-configuration --domain %s --domain-owner %s --repository %s --format %s --package %s --restrictions publish=ALLOW,upstream=%s",
			k.Name, k.Repository, k.DomainName, k.DomainOwner, k.Repository, k.Format, k.Name, p.OriginUpstream)
	}
	if p.OriginUpstream != Allow {
		return nil
	}
	if _, err := r.store.GetVersion(ctx, store.VersionKey{PackageKey: k, Version: version}); err == nil {
		return nil // the version is already here: adding a file to it is fine
	}
	view, err := r.view(ctx, ref, k, f, false)
	if err != nil {
		if IsKind(err, KindNotFound) {
			return nil
		}
		// An upstream that cannot be asked must not block a publish of a
		// package that is already allowed to take both.
		r.log.Warn("could not check upstreams before a publish", "package", k.Name, "err", err)
		return nil
	}
	for _, vf := range view.Files {
		if f.CompareVersions(vf.Asset.Version, version) == 0 {
			return Conflict("package-version", version, "version %s of %s already exists upstream (in %s); with upstream=ALLOW a version cannot be published over an upstream one. Publish a new version, or block upstream versions with: aws codeartifact put-package-origin-configuration --domain %s --repository %s --format %s --package %s --restrictions publish=ALLOW,upstream=BLOCK",
				version, k.Name, vf.Source, k.DomainName, k.Repository, k.Format, k.Name)
		}
	}
	return nil
}

// multiHash computes the digests AssetSummary reports while the bytes stream
// past: md5, sha1 and sha512, each on its own goroutine (fanout.Writer), so
// they cost the time of the slowest rather than of all three. Its sums are
// read with hexSum, which first waits for the hashing to finish.
type multiHash struct {
	md5, sha1, sha512 *pendingHash
	w                 *fanout.Writer
}

// pendingHash is one of a multiHash's hashes, possibly still being fed on
// another goroutine: read it with hexSum.
type pendingHash struct {
	h hash.Hash
	m *multiHash
}

func newMultiHash() *multiHash {
	m := &multiHash{}
	m.md5, m.sha1, m.sha512 = &pendingHash{md5.New(), m}, &pendingHash{sha1.New(), m}, &pendingHash{sha512.New(), m}
	m.w = fanout.NewWriter(m.md5.h, m.sha1.h, m.sha512.h)
	return m
}

func (m *multiHash) Write(p []byte) (int, error) { return m.w.Write(p) }

// close waits for the hashing of everything written. Callers defer it so no
// hashing goroutine outlives a failed publish; it may be called again.
func (m *multiHash) close() { m.w.Close() } // hashes never fail to write

// hexSum is p's digest of everything written to its multiHash.
func hexSum(p *pendingHash) string {
	p.m.close()
	return hex.EncodeToString(p.h.Sum(nil))
}
