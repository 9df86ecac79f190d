package registry

import (
	"cmp"
	"context"
	"errors"
	"io"

	"github.com/wharfhq/wharf/internal/blob"
	"github.com/wharfhq/wharf/internal/upstream"
)

// FetchSidecar opens a sidecar of a file (pypi: the wheel's .metadata) for
// a package client, as FetchAsset opens the file: from the repository
// itself, else from the upstream repository holding the file, else from
// the external connection listing it. There the upstream's own sidecar is
// fetched (checked against the digest its index declared), not the file:
// a resolver reads the metadata of many files it never installs.
func (r *Registry) FetchSidecar(ctx context.Context, ref RepoRef, format, namespace, name, version, assetName, sidecar string) (*OpenedAsset, error) {
	local, err := r.OpenSidecar(ctx, ref, format, namespace, name, version, assetName, sidecar)
	if err == nil || !IsKind(err, KindNotFound) {
		return local, err
	}
	vf, f, k, found, verr := r.viewFile(ctx, ref, format, namespace, name, version, assetName)
	if verr != nil || !found {
		return nil, cmp.Or(verr, err)
	}
	if !Downloadable(vf.Status) {
		return nil, upstreamNotDownloadable(vf, k)
	}
	sha := vf.Asset.Attributes[SidecarAttr(sidecar)] // held by an upstream repository
	if vf.Remote != nil {
		rs, ok := f.(RemoteSidecars)
		if !ok {
			return nil, err
		}
		var u string
		if u, sha, ok = rs.RemoteSidecar(*vf.Remote, sidecar); !ok {
			return nil, err
		}
		if ferr := r.fetchRemoteSidecar(ctx, ref, vf, u, sha); ferr != nil {
			return nil, ferr
		}
	}
	if sha == "" {
		return nil, err
	}
	// Held while opening: an unreferenced blob may be swept meanwhile.
	holds := r.newHolds(ref.Owner, ref.Domain)
	defer holds.release()
	if err := holds.hold(ctx, sha); err != nil {
		return nil, err
	}
	obj, err := r.blobs.Open(ctx, blobNamespace(ref.Owner, ref.Domain), sha)
	if err != nil {
		return nil, err
	}
	return &OpenedAsset{Asset: vf.Asset, Object: obj}, nil
}

// fetchRemoteSidecar stores the sidecar at rawURL in the domain's blobs
// (content-addressed, so once for all), unless its bytes are there already.
func (r *Registry) fetchRemoteSidecar(ctx context.Context, ref RepoRef, vf ViewFile, rawURL, sha string) error {
	connection := vf.from.connection
	u, err := upstream.ParseURL(rawURL)
	if err != nil {
		return upstreamFailed(connection, r.ConnectionURL(connection), "external connection %s listed %s: %v", connection, vf.Asset.Name, err)
	}
	ns := blobNamespace(ref.Owner, ref.Domain)
	have := func(ctx context.Context) (any, bool, error) {
		_, err := r.blobs.Stat(ctx, ns, sha)
		if errors.Is(err, blob.ErrNotFound) {
			return nil, false, nil
		}
		return nil, err == nil, err
	}
	_, err = r.upstream.Fetch(ctx, ns+"|"+rawURL, u, have, func(ctx context.Context, body io.Reader) (any, error) {
		_, err := r.blobs.Put(ctx, ns, body, sha)
		if errors.Is(err, blob.ErrDigestMismatch) {
			return nil, digestMismatch(connection, u, sha)
		}
		return nil, err
	})
	if err != nil {
		return upstreamError(connection, err)
	}
	return nil
}
