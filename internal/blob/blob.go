// Package blob stores asset bytes, content-addressed by sha256 inside a
// namespace (one namespace per domain, so a domain stores each file once and
// a domain's bytes can be removed without touching another's).
//
// Every backend implements Store and must pass blobtest.Run.
package blob

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"
	"time"
)

// ErrNotFound: no blob with that digest in that namespace.
var ErrNotFound = errors.New("blob not found")

// ErrDigestMismatch: the bytes did not hash to the digest the caller expected.
var ErrDigestMismatch = errors.New("blob digest mismatch")

// Info describes a stored blob.
type Info struct {
	SHA256  string // lowercase hex
	Size    int64
	ModTime time.Time
}

// Object is an open blob: sequential reads, Seek for Range requests, and
// ReadAt for archive readers (zip) that need random access.
//
// Backends on a local filesystem also implement OSFile, so the HTTP layer can
// hand the *os.File itself to net/http and get sendfile (zero copy).
type Object interface {
	io.ReadSeekCloser
	io.ReaderAt
	Info() Info
}

// Store is the blob persistence interface; safe for concurrent use.
type Store interface {
	// Put streams r to a temporary object while hashing it, makes it durable,
	// then publishes it under its sha256. A crash at any point leaves either
	// no blob or a complete one. If expectSHA256 is not empty and the bytes
	// hash differently, nothing is published and ErrDigestMismatch is
	// returned. Putting bytes that already exist is a cheap success.
	// Memory use does not depend on the size of r.
	Put(ctx context.Context, namespace string, r io.Reader, expectSHA256 string) (Info, error)
	// Open returns the blob for reading (with Seek, for Range requests).
	Open(ctx context.Context, namespace, sha256 string) (Object, error)
	// Stat describes a blob without opening it.
	Stat(ctx context.Context, namespace, sha256 string) (Info, error)
	// Delete removes a blob; deleting a missing blob is not an error.
	Delete(ctx context.Context, namespace, sha256 string) error
}

// Sweeper is what a running server's periodic sweep asks of a store
// (registry.SweepBlobs, server/sweep.go); every backend implements it.
type Sweeper interface {
	// CleanupStale removes what crashed or killed Puts left behind
	// (temporary files or objects, unfinished multipart uploads) that have
	// not changed for olderThan, which must exceed the longest time a Put
	// still running anywhere may go without writing. It returns how many
	// it removed.
	CleanupStale(ctx context.Context, olderThan time.Duration) (int, error)
	// List calls fn for every published blob, in no particular order,
	// until fn returns an error (which List returns). Blobs put or deleted
	// meanwhile may or may not be seen.
	List(ctx context.Context, fn func(namespace string, info Info) error) error
}

// ErrInvalid: the namespace or digest is malformed. Backends check keys with
// ValidateKey before touching storage, so a hostile key can never address
// anything outside the store.
var ErrInvalid = errors.New("invalid blob key")

// ValidateKey checks a namespace and a sha256. A namespace is one or more
// '/'-separated segments of [A-Za-z0-9._-], none empty or starting with '.'
// (which rules out ".", ".." and backends' hidden working directories); a
// sha256 is 64 lowercase hex digits.
func ValidateKey(namespace, sha256 string) error {
	if err := ValidateNamespace(namespace); err != nil {
		return err
	}
	if len(sha256) != 64 || strings.Trim(sha256, "0123456789abcdef") != "" {
		return fmt.Errorf("%w: sha256 %q is not 64 lowercase hex digits", ErrInvalid, sha256)
	}
	return nil
}

// ValidateNamespace checks a namespace alone (see ValidateKey).
func ValidateNamespace(namespace string) error {
	if namespace == "" || len(namespace) > 512 {
		return fmt.Errorf("%w: namespace must be 1 to 512 bytes", ErrInvalid)
	}
	for seg := range strings.SplitSeq(namespace, "/") {
		if seg == "" || seg[0] == '.' || strings.TrimLeft(seg, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") != "" {
			return fmt.Errorf("%w: namespace %q: segments must be non-empty, not start with '.', and use only A-Z a-z 0-9 . _ -", ErrInvalid, namespace)
		}
	}
	return nil
}

// CheckSHA256 returns the lowercase hex digest h holds and, when
// expectSHA256 is set and differs, ErrDigestMismatch naming both: what every
// Put checks before it publishes anything.
func CheckSHA256(h hash.Hash, expectSHA256 string) (string, error) {
	sum := hex.EncodeToString(h.Sum(nil))
	if expectSHA256 != "" && sum != expectSHA256 {
		return sum, fmt.Errorf("%w: expected sha256 %s, got %s", ErrDigestMismatch, expectSHA256, sum)
	}
	return sum, nil
}

// Content returns the reader to hand to net/http for obj: the *os.File
// itself when the backend has one (so the kernel copies the bytes with
// sendfile), else obj. A wrapper (registry.OpenedAsset) may have OSFile and
// answer nil when what it wraps has no file.
func Content(obj Object) io.ReadSeeker {
	if f, ok := obj.(interface{ OSFile() *os.File }); ok {
		if file := f.OSFile(); file != nil {
			return file
		}
	}
	return obj
}
