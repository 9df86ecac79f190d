package registry_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/wharfhq/wharf/internal/registry"
)

// The digests recorded for an asset are those of its bytes, now that they
// are computed on several goroutines; ExpectMD5 is checked against them.
func TestPublishDigestsAndExpectMD5(t *testing.T) {
	ctx := context.Background()
	r := newRegistry(t)
	r.CreateDomain(ctx, owner, "dom", "")
	r.CreateRepository(ctx, owner, "dom", "repo", "", nil)
	ref := registry.RepoRef{Owner: owner, Domain: "dom", Repository: "repo"}
	// Several of digest.Writer's chunks and a partial one.
	data := make([]byte, 1<<20+12345)
	rand.NewChaCha8([32]byte{3}).Read(data)
	md5sum, sha1sum, sha256sum, sha512sum := md5.Sum(data), sha1.Sum(data), sha256.Sum256(data), sha512.Sum512(data)

	// A declared md5 that does not match refuses the file, and nothing is
	// visible.
	_, err := r.Publish(ctx, registry.PublishRequest{
		Repo: ref, Format: "pypi", Name: "digests", Version: "1.0", AssetName: "digests-1.0.tar.gz",
		Content: bytes.NewReader(data), ExpectMD5: strings.Repeat("b", 32),
	})
	mustKind(t, err, registry.KindValidation, "md5_digest of digests-1.0.tar.gz does not match the file's bytes")
	if _, err := r.DescribePackage(ctx, ref, "pypi", "", "digests"); !registry.IsKind(err, registry.KindNotFound) {
		t.Fatalf("package visible after a refused upload: %v", err)
	}

	// The right one, in upper case, as some clients send it.
	res, err := r.Publish(ctx, registry.PublishRequest{
		Repo: ref, Format: "pypi", Name: "digests", Version: "1.0", AssetName: "digests-1.0.tar.gz",
		Content:      bytes.NewReader(data),
		ExpectSHA256: hex.EncodeToString(sha256sum[:]),
		ExpectMD5:    strings.ToUpper(hex.EncodeToString(md5sum[:])),
	})
	if err != nil {
		t.Fatal(err)
	}
	a := res.Asset
	for _, c := range []struct{ name, got, want string }{
		{"md5", a.MD5, hex.EncodeToString(md5sum[:])},
		{"sha1", a.SHA1, hex.EncodeToString(sha1sum[:])},
		{"sha256", a.SHA256, hex.EncodeToString(sha256sum[:])},
		{"sha512", a.SHA512, hex.EncodeToString(sha512sum[:])},
	} {
		if c.got != c.want {
			t.Errorf("%s recorded %s, want %s", c.name, c.got, c.want)
		}
	}
	if a.Size != int64(len(data)) {
		t.Errorf("size %d, want %d", a.Size, len(data))
	}
}
