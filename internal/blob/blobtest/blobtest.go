// Package blobtest is the conformance suite every blob.Store must pass.
package blobtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wharfhq/wharf/internal/blob"
)

const ns = "123456789012/my-domain"

// Run runs the suite. newStore returns an empty store; the suite never
// shares one between subtests.
func Run(t *testing.T, newStore func(t *testing.T) blob.Store) {
	ctx := context.Background()

	t.Run("PutOpenRead", func(t *testing.T) {
		s := newStore(t)
		data := []byte("hello, wharf\n")
		sum := SHA256(data)
		info, err := s.Put(ctx, ns, bytes.NewReader(data), "")
		if err != nil {
			t.Fatal(err)
		}
		if info.SHA256 != sum || info.Size != int64(len(data)) {
			t.Fatalf("Put info = %+v, want sha %s size %d", info, sum, len(data))
		}
		st, err := s.Stat(ctx, ns, sum)
		if err != nil || st.SHA256 != sum || st.Size != int64(len(data)) || st.ModTime.IsZero() {
			t.Fatalf("Stat = %+v, %v", st, err)
		}
		o, err := s.Open(ctx, ns, sum)
		if err != nil {
			t.Fatal(err)
		}
		defer o.Close()
		if oi := o.Info(); oi.SHA256 != sum || oi.Size != int64(len(data)) {
			t.Fatalf("Object.Info = %+v", oi)
		}
		got, err := io.ReadAll(o)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("ReadAll = %q, %v", got, err)
		}
		if pos, err := o.Seek(7, io.SeekStart); err != nil || pos != 7 {
			t.Fatalf("Seek = %d, %v", pos, err)
		}
		got, _ = io.ReadAll(o)
		if string(got) != "wharf\n" {
			t.Fatalf("read after Seek = %q", got)
		}
		if end, err := o.Seek(0, io.SeekEnd); err != nil || end != int64(len(data)) {
			t.Fatalf("Seek end = %d, %v", end, err)
		}
		p := make([]byte, 5)
		if n, err := o.ReadAt(p, 7); n != 5 || string(p) != "wharf" || (err != nil && err != io.EOF) {
			t.Fatalf("ReadAt = %d %q %v", n, p, err)
		}
		// Putting with the correct expectation is the same success.
		if info, err := s.Put(ctx, ns, bytes.NewReader(data), sum); err != nil || info.SHA256 != sum {
			t.Fatalf("Put with expected sha = %+v, %v", info, err)
		}
	})

	t.Run("EmptyBlob", func(t *testing.T) {
		s := newStore(t)
		info, err := s.Put(ctx, ns, bytes.NewReader(nil), "")
		if err != nil || info.Size != 0 || info.SHA256 != SHA256(nil) {
			t.Fatalf("Put empty = %+v, %v", info, err)
		}
		readBack(t, s, ns, info.SHA256, nil)
	})

	t.Run("NotFound", func(t *testing.T) {
		s := newStore(t)
		missing := SHA256([]byte("missing"))
		if _, err := s.Stat(ctx, ns, missing); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Stat missing: %v, want ErrNotFound", err)
		}
		if _, err := s.Open(ctx, ns, missing); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Open missing: %v, want ErrNotFound", err)
		}
		if err := s.Delete(ctx, ns, missing); err != nil {
			t.Errorf("Delete missing: %v", err)
		}
	})

	t.Run("DeleteIdempotent", func(t *testing.T) {
		s := newStore(t)
		sum := put(t, s, ns, []byte("to delete"))
		for range 2 {
			if err := s.Delete(ctx, ns, sum); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Stat(ctx, ns, sum); !errors.Is(err, blob.ErrNotFound) {
				t.Fatalf("Stat after Delete: %v", err)
			}
		}
		// A deleted blob can be put again.
		put(t, s, ns, []byte("to delete"))
		readBack(t, s, ns, sum, []byte("to delete"))
	})

	t.Run("DigestMismatchPublishesNothing", func(t *testing.T) {
		s := newStore(t)
		data := []byte("the real bytes")
		wrong := SHA256([]byte("other bytes"))
		_, err := s.Put(ctx, ns, bytes.NewReader(data), wrong)
		if !errors.Is(err, blob.ErrDigestMismatch) {
			t.Fatalf("Put: %v, want ErrDigestMismatch", err)
		}
		for _, sum := range []string{wrong, SHA256(data)} {
			if _, err := s.Stat(ctx, ns, sum); !errors.Is(err, blob.ErrNotFound) {
				t.Errorf("Stat %s after mismatch: %v, want ErrNotFound", sum, err)
			}
		}
	})

	t.Run("Dedupe", func(t *testing.T) {
		s := newStore(t)
		data := []byte("same bytes")
		a := put(t, s, ns, data)
		b := put(t, s, ns, data)
		if a != b {
			t.Fatalf("same bytes, different sums %s %s", a, b)
		}
		readBack(t, s, ns, a, data)
	})

	// The periodic sweep (registry.SweepBlobs) finds blobs by listing them,
	// and removes Puts' leftovers with CleanupStale.
	t.Run("SweeperListsBlobs", func(t *testing.T) {
		s := newStore(t)
		sw, ok := s.(blob.Sweeper)
		if !ok {
			t.Fatalf("%T does not implement blob.Sweeper: a running server could not sweep it", s)
		}
		want := map[string]string{}
		for i, n := range []string{ns, ns, "210987654321/other"} {
			data := []byte(fmt.Sprintf("listed %d", i))
			want[n+" "+put(t, s, n, data)] = string(data)
		}
		got := map[string]bool{}
		err := sw.List(ctx, func(namespace string, info blob.Info) error {
			k := namespace + " " + info.SHA256
			if got[k] {
				t.Errorf("listed twice: %s", k)
			}
			got[k] = true
			if data, ok := want[k]; !ok {
				t.Errorf("listed %s, which was never put", k)
			} else if info.Size != int64(len(data)) || info.ModTime.IsZero() {
				t.Errorf("%s listed with size %d, modtime %v", k, info.Size, info.ModTime)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Errorf("listed %d blobs, want %d", len(got), len(want))
		}
		stop := errors.New("stop")
		if err := sw.List(ctx, func(string, blob.Info) error { return stop }); !errors.Is(err, stop) {
			t.Errorf("List returned %v, want fn's error", err)
		}
		// Nothing is stale right after a Put; an hour's margin removes nothing.
		if n, err := sw.CleanupStale(ctx, time.Hour); err != nil || n != 0 {
			t.Errorf("CleanupStale(1h) on a fresh store = %d, %v", n, err)
		}
		for k, data := range want {
			n, sum, _ := strings.Cut(k, " ")
			readBack(t, s, n, sum, []byte(data))
		}
	})

	t.Run("NamespacesIsolated", func(t *testing.T) {
		s := newStore(t)
		data := []byte("shared bytes")
		other := "210987654321/other-domain"
		sum := put(t, s, ns, data)
		if _, err := s.Stat(ctx, other, sum); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("blob visible in another namespace: %v", err)
		}
		put(t, s, other, data)
		if err := s.Delete(ctx, ns, sum); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Stat(ctx, ns, sum); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("Stat after Delete: %v", err)
		}
		readBack(t, s, other, sum, data)
	})

	t.Run("ConcurrentPutSameBytes", func(t *testing.T) {
		s := newStore(t)
		data := make([]byte, 3<<20+17) // several copy buffers
		fill(data, 1)
		sum := SHA256(data)
		var wg sync.WaitGroup
		errs := make([]error, 10)
		for i := range errs {
			wg.Go(func() {
				info, err := s.Put(ctx, ns, bytes.NewReader(data), "")
				if err == nil && (info.SHA256 != sum || info.Size != int64(len(data))) {
					err = fmt.Errorf("info %+v", info)
				}
				errs[i] = err
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("Put %d: %v", i, err)
			}
		}
		readBack(t, s, ns, sum, data)
	})

	t.Run("LargeStream", func(t *testing.T) {
		if testing.Short() {
			t.Skip("64 MiB put")
		}
		s := newStore(t)
		const size = 64 << 20
		want := sha256.New()
		io.Copy(want, Generate(7, size))
		sum := hex.EncodeToString(want.Sum(nil))
		info, err := s.Put(ctx, ns, Generate(7, size), sum)
		if err != nil || info.Size != size || info.SHA256 != sum {
			t.Fatalf("Put = %+v, %v", info, err)
		}
		o, err := s.Open(ctx, ns, sum)
		if err != nil {
			t.Fatal(err)
		}
		defer o.Close()
		got := sha256.New()
		if n, err := io.Copy(got, o); err != nil || n != size {
			t.Fatalf("read back %d bytes: %v", n, err)
		}
		if hex.EncodeToString(got.Sum(nil)) != sum {
			t.Fatal("read back different bytes")
		}
	})

	t.Run("FailingReaderPublishesNothing", func(t *testing.T) {
		s := newStore(t)
		boom := errors.New("connection reset")
		const n = 2<<20 + 5
		_, err := s.Put(ctx, ns, io.MultiReader(Generate(3, n), errReader{boom}), "")
		if !errors.Is(err, boom) {
			t.Fatalf("Put: %v, want the reader's error", err)
		}
		partial := sha256.New()
		io.Copy(partial, Generate(3, n))
		if _, err := s.Stat(ctx, ns, hex.EncodeToString(partial.Sum(nil))); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("partial blob visible: %v", err)
		}
	})

	t.Run("CancelledPutPublishesNothing", func(t *testing.T) {
		s := newStore(t)
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		const size = 16 << 20
		full := sha256.New()
		io.Copy(full, Generate(5, size))
		r := &cancelAfter{r: Generate(5, size), n: 2 << 20, cancel: cancel}
		_, err := s.Put(cctx, ns, r, "")
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Put: %v, want context.Canceled", err)
		}
		if _, err := s.Stat(ctx, ns, hex.EncodeToString(full.Sum(nil))); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("blob visible after cancel: %v", err)
		}
	})

	t.Run("InvalidKeys", func(t *testing.T) {
		s := newStore(t)
		good := put(t, s, ns, []byte("x"))
		badNS := []string{"", "/abs", "a/../b", "..", "a/./b", "a//b", "a/", ".tmp", "a/.hidden",
			"a b", "a\\b", "a\x00b", "ä", "C:/x"}
		badSHA := []string{"", "abc", good[:63], good + "0", "G" + good[1:],
			fmt.Sprintf("%X", good[:32]) + good[32:], "../" + good[3:]}
		for _, n := range badNS {
			if _, err := s.Put(ctx, n, bytes.NewReader([]byte("x")), ""); !errors.Is(err, blob.ErrInvalid) {
				t.Errorf("Put(ns %q): %v, want ErrInvalid", n, err)
			}
			if _, err := s.Stat(ctx, n, good); !errors.Is(err, blob.ErrInvalid) {
				t.Errorf("Stat(ns %q): %v, want ErrInvalid", n, err)
			}
		}
		for _, h := range badSHA {
			if _, err := s.Stat(ctx, ns, h); !errors.Is(err, blob.ErrInvalid) {
				t.Errorf("Stat(%q): %v, want ErrInvalid", h, err)
			}
			if _, err := s.Open(ctx, ns, h); !errors.Is(err, blob.ErrInvalid) {
				t.Errorf("Open(%q): %v, want ErrInvalid", h, err)
			}
			if err := s.Delete(ctx, ns, h); !errors.Is(err, blob.ErrInvalid) {
				t.Errorf("Delete(%q): %v, want ErrInvalid", h, err)
			}
			if h != "" {
				if _, err := s.Put(ctx, ns, bytes.NewReader([]byte("x")), h); !errors.Is(err, blob.ErrInvalid) {
					t.Errorf("Put(expect %q): %v, want ErrInvalid", h, err)
				}
			}
		}
		readBack(t, s, ns, good, []byte("x"))
	})
}

// SHA256 is the lowercase hex sha256 of b.
func SHA256(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// Generate returns a reader of n deterministic pseudo-random bytes, so large
// blobs can be streamed and verified without holding them in memory.
func Generate(seed uint64, n int64) io.Reader {
	var key [32]byte
	key[0] = byte(seed)
	return io.LimitReader(rand.NewChaCha8(key), n)
}

func fill(b []byte, seed uint64) { io.ReadFull(Generate(seed, int64(len(b))), b) }

func put(t *testing.T, s blob.Store, namespace string, data []byte) string {
	t.Helper()
	info, err := s.Put(context.Background(), namespace, bytes.NewReader(data), "")
	if err != nil {
		t.Fatal(err)
	}
	return info.SHA256
}

func readBack(t *testing.T, s blob.Store, namespace, sum string, want []byte) {
	t.Helper()
	o, err := s.Open(context.Background(), namespace, sum)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	got, err := io.ReadAll(o)
	if err != nil || !bytes.Equal(got, want) || o.Info().Size != int64(len(want)) {
		t.Fatalf("read back %d bytes (info size %d), want %d: %v", len(got), o.Info().Size, len(want), err)
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// cancelAfter cancels the context once n bytes have been read, then keeps
// supplying data: the store, not the reader, must notice.
type cancelAfter struct {
	r      io.Reader
	n      int64
	cancel func()
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.n -= int64(n); c.n <= 0 {
		c.cancel()
	}
	return n, err
}
