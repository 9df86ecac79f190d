package fanout

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"

	"golang.org/x/crypto/blake2b"
)

// hashes returns fresh instances of every hash an upload goes through.
func hashes() []hash.Hash {
	b, _ := blake2b.New256(nil)
	return []hash.Hash{md5.New(), sha1.New(), sha256.New(), sha512.New(), b}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{7}).Read(b)
	return b
}

func sums(hs []hash.Hash) []string {
	var out []string
	for _, h := range hs {
		out = append(out, fmt.Sprintf("%x", h.Sum(nil)))
	}
	return out
}

// writeIn writes data to w in pieces of size n (the last one shorter).
func writeIn(t testing.TB, w io.Writer, data []byte, n int) {
	t.Helper()
	for len(data) > 0 {
		k := min(n, len(data))
		if m, err := w.Write(data[:k]); err != nil || m != k {
			t.Fatalf("Write(%d bytes) = %d, %v", k, m, err)
		}
		data = data[k:]
	}
}

// Every size around the chunk boundaries, written in pieces of every shape
// (one byte, multipart's 4 KiB, exactly a chunk, more than a chunk, all at
// once), gives the digests of hashing it on one goroutine.
func TestDigestsMatchSequential(t *testing.T) {
	data := randomBytes(3*ChunkSize + 4099)
	sizes := []int{0, 1, 100, ChunkSize - 1, ChunkSize, ChunkSize + 1, 2 * ChunkSize, len(data)}
	writes := []int{1, 7, 4096, 65536, ChunkSize - 3, ChunkSize, ChunkSize + 1, 1 << 20, len(data)}
	for _, size := range sizes {
		want := hashes()
		for _, h := range want {
			h.Write(data[:size])
		}
		for _, piece := range writes {
			if piece == 1 && size > 2*ChunkSize {
				continue // a million one-byte writes add time, not coverage
			}
			t.Run(fmt.Sprintf("size=%d/write=%d", size, piece), func(t *testing.T) {
				got := hashes()
				w := NewWriter(writers(got)...)
				writeIn(t, w, data[:size], piece)
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				if g, w := sums(got), sums(want); !slicesEqual(g, w) {
					t.Fatalf("digests differ:\n got %v\nwant %v", g, w)
				}
			})
		}
	}
}

// Hashes that share a goroutine through io.MultiWriter get the same bytes.
func TestSharedGoroutine(t *testing.T) {
	data := randomBytes(5*ChunkSize + 1)
	want, got := hashes(), hashes()
	for _, h := range want {
		h.Write(data)
	}
	w := NewWriter(got[0], io.MultiWriter(got[1], got[3]), io.MultiWriter(got[2], got[4]))
	writeIn(t, w, data, 4096)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if !slicesEqual(sums(got), sums(want)) {
		t.Fatal("digests differ")
	}
}

func writers(hs []hash.Hash) []io.Writer {
	ws := make([]io.Writer, len(hs))
	for i, h := range hs {
		ws[i] = h
	}
	return ws
}

func slicesEqual(a, b []string) bool {
	return fmt.Sprint(a) == fmt.Sprint(b)
}

// failAfter accepts limit bytes, then fails every write.
type failAfter struct {
	limit int
	err   error
}

func (f *failAfter) Write(p []byte) (int, error) {
	if len(p) > f.limit {
		n := f.limit
		f.limit = 0
		return n, f.err
	}
	f.limit -= len(p)
	return len(p), nil
}

// shortWriter claims to write half of every chunk without an error.
type shortWriter struct{}

func (shortWriter) Write(p []byte) (int, error) { return len(p) / 2, nil }

func TestErrorPropagates(t *testing.T) {
	disk := errors.New("disk on fire")
	for _, c := range []struct {
		name string
		dst  io.Writer
		want error
	}{
		{"error in the first chunk", &failAfter{limit: 10, err: disk}, disk},
		{"error in a later chunk", &failAfter{limit: 3 * ChunkSize, err: disk}, disk},
		{"short write", shortWriter{}, io.ErrShortWrite},
	} {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				// Through io.Copy and a TeeReader, as Publish uses it: the
				// copy stops with the error instead of reading on.
				w := NewWriter(md5.New(), c.dst, sha512.New())
				src := bytes.NewReader(randomBytes(10 * ChunkSize))
				_, err := io.Copy(io.Discard, io.TeeReader(src, w))
				if err == nil {
					err = w.Close()
				}
				if !errors.Is(err, c.want) {
					t.Fatalf("copy: %v, want %v", err, c.want)
				}
				if src.Len() == 0 {
					t.Fatal("the whole source was read despite the error")
				}
				// From then on every call says so.
				if _, err := w.Write([]byte("more")); !errors.Is(err, c.want) && !errors.Is(err, ErrClosed) {
					t.Fatalf("Write after the error: %v", err)
				}
				if err := w.Close(); !errors.Is(err, c.want) {
					t.Fatalf("Close after the error: %v, want %v", err, c.want)
				}
			})
		})
	}
}

func TestWriteAfterClose(t *testing.T) {
	h := sha256.New()
	w := NewWriter(h)
	w.Write([]byte("abc"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("d")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Write after Close: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if got, want := fmt.Sprintf("%x", h.Sum(nil)), fmt.Sprintf("%x", sha256.Sum256([]byte("abc"))); got != want {
		t.Fatalf("sha256 %s, want %s", got, want)
	}
}

// No goroutine outlives Close, nor a Writer abandoned mid-stream (a request
// cancelled while its body was being hashed): synctest.Test fails if any
// goroutine started inside it is still blocked when the function returns.
func TestNoGoroutineLeft(t *testing.T) {
	data := randomBytes(4*ChunkSize + 5)
	t.Run("closed", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			w := NewWriter(writers(hashes())...)
			writeIn(t, w, data, 4096)
			w.Close()
		})
	})
	t.Run("abandoned", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			w := NewWriter(writers(hashes())...)
			writeIn(t, w, data, 4096) // a chunk is in flight, never closed
			synctest.Wait()           // returns once every goroutine has ended or blocked
		})
	})
	t.Run("failed", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			w := NewWriter(md5.New(), &failAfter{limit: ChunkSize, err: errors.New("x")})
			for range 8 {
				if _, err := w.Write(data[:ChunkSize]); err != nil {
					break
				}
			}
			synctest.Wait()
		})
	})
}

// Memory does not depend on the stream's size: 64 MiB through a Writer
// allocates about two chunks and a closure per goroutine, not the stream.
func TestBoundedMemory(t *testing.T) {
	piece := randomBytes(4096)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	w := NewWriter(md5.New(), sha1.New(), sha512.New())
	for range (64 << 20) / len(piece) {
		w.Write(piece)
	}
	w.Close()
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 4<<20 {
		t.Fatalf("hashing 64 MiB allocated %d KiB", grew>>10)
	}
}

// syncFanOut is the alternative to double buffering, kept for the
// benchmark: hash a full chunk on all goroutines and wait before taking
// the next bytes, so reading never overlaps hashing.
type syncFanOut struct {
	dsts []io.Writer
	buf  []byte
}

func (s *syncFanOut) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		c := min(len(p), ChunkSize-len(s.buf))
		s.buf, p = append(s.buf, p[:c]...), p[c:]
		if len(s.buf) == ChunkSize {
			s.flush()
		}
	}
	return n, nil
}

func (s *syncFanOut) flush() {
	var wg sync.WaitGroup
	for _, d := range s.dsts {
		wg.Go(func() { d.Write(s.buf) })
	}
	wg.Wait()
	s.buf = s.buf[:0]
}

// BenchmarkHash feeds 64 MiB in multipart's 4 KiB reads to the hashes of a
// twine upload (md5, sha1, sha256, sha512, blake2b) and of the registry
// alone (md5, sha1, sha512): on one goroutine (today's io.MultiWriter), with
// a goroutine per hash waiting for each chunk (sync), and with a Writer
// (double-buffered), also with the fast SHA-NI hashes sharing a goroutine.
// Each op spins the writer for 64 MiB of input; read MB/s.
//
//	go test ./internal/fanout -run '^$' -bench Hash -benchtime 10x
func BenchmarkHash(b *testing.B) {
	const size = 64 << 20
	piece := randomBytes(4096)
	type variant struct {
		name string
		make func([]hash.Hash) (io.Writer, func())
	}
	variants := []variant{
		{"sequential", func(hs []hash.Hash) (io.Writer, func()) { return io.MultiWriter(writers(hs)...), func() {} }},
		{"fanout-sync", func(hs []hash.Hash) (io.Writer, func()) {
			s := &syncFanOut{dsts: writers(hs)}
			return s, s.flush
		}},
		{"fanout", func(hs []hash.Hash) (io.Writer, func()) {
			w := NewWriter(writers(hs)...)
			return w, func() { w.Close() }
		}},
		{"fanout-shared", func(hs []hash.Hash) (io.Writer, func()) {
			// sha1 (and sha256, when present: both SHA-NI) with the
			// slowest of the others.
			ws := []io.Writer{hs[0], io.MultiWriter(hs[1], hs[len(hs)-1])}
			for _, h := range hs[2 : len(hs)-1] {
				ws = append(ws, h)
			}
			w := NewWriter(ws...)
			return w, func() { w.Close() }
		}},
	}
	sets := []struct {
		name string
		make func() []hash.Hash
	}{
		{"twine", func() []hash.Hash {
			// md5, sha1, sha512, blake2b, sha256: the shared variant pairs
			// sha1 with sha256.
			b2, _ := blake2b.New256(nil)
			return []hash.Hash{md5.New(), sha1.New(), sha512.New(), b2, sha256.New()}
		}},
		{"registry", func() []hash.Hash { return []hash.Hash{md5.New(), sha1.New(), sha512.New()} }},
	}
	for _, set := range sets {
		for _, v := range variants {
			b.Run(set.name+"/"+v.name, func(b *testing.B) {
				b.SetBytes(size)
				for b.Loop() {
					w, done := v.make(set.make())
					for range size / len(piece) {
						w.Write(piece)
					}
					done()
				}
			})
		}
	}
}
