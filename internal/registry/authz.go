package registry

import (
	"context"

	"github.com/wharfhq/wharf/internal/store"
)

// PublishCheck decides whether the caller may publish to package k (the
// data plane's codeartifact:PublishPackageVersion on the package ARN). It
// rides in the context because only Publish knows the normalized package,
// and it is asked before a byte is stored.
type PublishCheck func(ctx context.Context, k store.PackageKey) error

type publishCheckKey struct{}

// WithPublishCheck returns ctx carrying check for Publish to call.
func WithPublishCheck(ctx context.Context, check PublishCheck) context.Context {
	return context.WithValue(ctx, publishCheckKey{}, check)
}

func checkPublish(ctx context.Context, k store.PackageKey) error {
	if check, ok := ctx.Value(publishCheckKey{}).(PublishCheck); ok && check != nil {
		return check(ctx, k)
	}
	return nil
}

type principalKey struct{}

// WithPrincipal returns ctx naming who makes the request (the data plane's
// authenticated principal): upstream fetches it causes are rate-limited per
// principal (upstream.Config.MissLimit).
func WithPrincipal(ctx context.Context, principal string) context.Context {
	return context.WithValue(ctx, principalKey{}, principal)
}

// requester is the principal WithPrincipal put in ctx, "" if none.
func requester(ctx context.Context) string {
	p, _ := ctx.Value(principalKey{}).(string)
	return p
}

// NormalizePackage returns a package's namespace and name as the format
// stores them, so that permission checks see one ARN per package however a
// client spells it.
func (r *Registry) NormalizePackage(format, namespace, name string) (string, string, error) {
	f, err := r.format(format)
	if err != nil {
		return "", "", err
	}
	return f.NormalizeName(namespace, name)
}
