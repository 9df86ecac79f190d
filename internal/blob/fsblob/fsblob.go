// Package fsblob stores blobs in a local directory:
// root/<namespace>/<sha256[0:2]>/<sha256>. Blobs are written to root/.tmp
// (same filesystem, so publishing is an atomic rename) and only ever appear
// at their final path complete and fsynced.
package fsblob

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/wharfhq/wharf/internal/blob"
	"github.com/wharfhq/wharf/internal/fanout"
)

// staleTemp is how long a temp file must have gone unwritten before New
// deletes it: longer than any Put still running in another process sharing
// the directory can go without a byte.
const staleTemp = time.Hour

// Store is a blob.Store on a local directory.
type Store struct {
	root string
	tmp  string
}

var (
	_ blob.Store   = (*Store)(nil)
	_ blob.Sweeper = (*Store)(nil)
)

// New opens (creating if needed) the store under root and removes temp files
// left behind by a crash.
func New(root string) (*Store, error) {
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	s := &Store{root: root, tmp: filepath.Join(root, ".tmp")}
	if err := os.MkdirAll(s.tmp, 0o755); err != nil {
		return nil, fmt.Errorf("fsblob: %w", err)
	}
	if _, err := s.CleanupStale(context.Background(), staleTemp); err != nil {
		return nil, err
	}
	return s, nil
}

// CleanupStale removes temp files not written to for olderThan: left by a
// crash, or by a Put killed with its process. A running Put writes its
// file as the bytes arrive, so its modification time stays recent.
func (s *Store) CleanupStale(ctx context.Context, olderThan time.Duration) (int, error) {
	entries, err := os.ReadDir(s.tmp)
	if err != nil {
		return 0, fmt.Errorf("fsblob: %w", err)
	}
	removed := 0
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return removed, err
		}
		if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > olderThan {
			if os.Remove(filepath.Join(s.tmp, e.Name())) == nil {
				removed++
			}
		}
	}
	return removed, nil
}

// List walks root/<namespace>/<xx>/<sha256>, skipping .tmp and anything
// that is not a blob's path.
func (s *Store) List(ctx context.Context, fn func(namespace string, info blob.Info) error) error {
	return filepath.WalkDir(s.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // deleted while walking
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			if p == s.tmp {
				return filepath.SkipDir
			}
			return nil
		}
		rel, err := filepath.Rel(s.root, p)
		if err != nil {
			return nil
		}
		rel = filepath.ToSlash(rel)
		i := strings.LastIndexByte(rel, '/')
		j := strings.LastIndexByte(rel[:max(i, 0)], '/')
		if i < 0 || j < 0 {
			return nil
		}
		ns, shard, sum := rel[:j], rel[j+1:i], rel[i+1:]
		if blob.ValidateKey(ns, sum) != nil || shard != sum[:2] || !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil // deleted while walking
		}
		return fn(ns, blob.Info{SHA256: sum, Size: fi.Size(), ModTime: fi.ModTime()})
	})
}

func (s *Store) path(namespace, sum string) (string, error) {
	if err := blob.ValidateKey(namespace, sum); err != nil {
		return "", err
	}
	return filepath.Join(s.root, filepath.FromSlash(namespace), sum[:2], sum), nil
}

func (s *Store) Put(ctx context.Context, namespace string, r io.Reader, expectSHA256 string) (blob.Info, error) {
	if err := blob.ValidateNamespace(namespace); err != nil {
		return blob.Info{}, err
	}
	if expectSHA256 != "" {
		if err := blob.ValidateKey(namespace, expectSHA256); err != nil {
			return blob.Info{}, err
		}
	}
	f, err := os.CreateTemp(s.tmp, "put-*")
	if err != nil {
		return blob.Info{}, fmt.Errorf("fsblob: %w", err)
	}
	tmp := f.Name()
	published := false
	defer func() {
		f.Close()
		if !published {
			os.Remove(tmp)
		}
	}()

	// The file and sha256 each take the bytes on a goroutine of their own
	// (fanout.Writer), in 256 KiB writes however little each Read returns
	// (an upload's multipart reader: 4 KiB), while this goroutine reads on.
	// Its deferred Close runs before the cleanup deferred above, so no write
	// to the file is in flight when the file is closed and removed.
	h := sha256.New()
	fw := fanout.NewWriter(f, h)
	defer fw.Close()
	_, err = io.Copy(fw, ctxReader{ctx, r})
	if err == nil {
		err = fw.Close() // the last chunk; a failed file write surfaces here
	}
	if err != nil {
		return blob.Info{}, fmt.Errorf("fsblob: put: %w", err)
	}
	if err := f.Sync(); err != nil {
		return blob.Info{}, fmt.Errorf("fsblob: %w", err)
	}
	if err := f.Close(); err != nil {
		return blob.Info{}, fmt.Errorf("fsblob: %w", err)
	}
	sum, err := blob.CheckSHA256(h, expectSHA256)
	if err != nil {
		return blob.Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return blob.Info{}, err
	}

	final, _ := s.path(namespace, sum)
	if info, err := s.stat(final, sum); err == nil {
		// Dedupe: the same bytes are already published. Touching them tells
		// the sweep of unreferenced blobs (registry.SweepBlobs), which
		// spares recent blobs, that they are about to be referenced again.
		now := time.Now()
		if os.Chtimes(final, now, now) == nil {
			info.ModTime = now
		}
		return info, nil
	}
	dir := filepath.Dir(final)
	if err := mkdirDurable(s.root, dir); err != nil {
		return blob.Info{}, fmt.Errorf("fsblob: %w", err)
	}
	// A concurrent Put of the same bytes may rename first; replacing its file
	// with identical bytes is harmless, and open readers keep their inode.
	if err := os.Rename(tmp, final); err != nil {
		return blob.Info{}, fmt.Errorf("fsblob: %w", err)
	}
	published = true
	if err := syncDir(dir); err != nil {
		return blob.Info{}, fmt.Errorf("fsblob: %w", err)
	}
	info, err := s.stat(final, sum)
	if err != nil {
		return blob.Info{}, fmt.Errorf("fsblob: %w", err)
	}
	return info, nil
}

func (s *Store) Open(ctx context.Context, namespace, sha256 string) (blob.Object, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p, err := s.path(namespace, sha256)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, notFound(err, namespace, sha256)
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fs.ErrNotExist
	}
	if err != nil {
		f.Close()
		return nil, notFound(err, namespace, sha256)
	}
	return &Object{f: f, info: blob.Info{SHA256: sha256, Size: fi.Size(), ModTime: fi.ModTime()}}, nil
}

func (s *Store) Stat(ctx context.Context, namespace, sha256 string) (blob.Info, error) {
	if err := ctx.Err(); err != nil {
		return blob.Info{}, err
	}
	p, err := s.path(namespace, sha256)
	if err != nil {
		return blob.Info{}, err
	}
	info, err := s.stat(p, sha256)
	return info, notFound(err, namespace, sha256)
}

func (s *Store) stat(p, sum string) (blob.Info, error) {
	fi, err := os.Stat(p)
	if err == nil && !fi.Mode().IsRegular() {
		err = fs.ErrNotExist
	}
	if err != nil {
		return blob.Info{}, err
	}
	return blob.Info{SHA256: sum, Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// Delete leaves the shard directory in place: removing it could race with a
// Put that has just created it and is about to rename into it.
func (s *Store) Delete(ctx context.Context, namespace, sha256 string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := s.path(namespace, sha256)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("fsblob: %w", err)
	}
	return nil
}

func notFound(err error, namespace, sum string) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s/%s", blob.ErrNotFound, namespace, sum)
	}
	if err != nil {
		return fmt.Errorf("fsblob: %w", err)
	}
	return nil
}

// Object is an open blob. OSFile exposes the file so net/http can use
// sendfile.
type Object struct {
	f    *os.File
	info blob.Info
}

func (o *Object) Read(p []byte) (int, error)                { return o.f.Read(p) }
func (o *Object) ReadAt(p []byte, off int64) (int, error)   { return o.f.ReadAt(p, off) }
func (o *Object) Seek(off int64, whence int) (int64, error) { return o.f.Seek(off, whence) }
func (o *Object) Close() error                              { return o.f.Close() }
func (o *Object) Info() blob.Info                           { return o.info }
func (o *Object) OSFile() *os.File                          { return o.f }

// ctxReader stops a long copy soon after ctx is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// mkdirDurable creates dir and its missing parents below root, fsyncing the
// parent of every directory it creates so the new path survives a crash.
func mkdirDurable(root, dir string) error {
	if _, err := os.Stat(dir); err == nil || dir == root {
		return err
	}
	parent := filepath.Dir(dir)
	if err := mkdirDurable(root, parent); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return syncDir(parent)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
