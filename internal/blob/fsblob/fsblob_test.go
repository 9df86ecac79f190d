package fsblob

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"testing/synctest"
	"time"

	"github.com/wharfhq/wharf/internal/blob"
	"github.com/wharfhq/wharf/internal/blob/blobtest"
)

func newStore(t *testing.T) *Store {
	t.Helper()
	s, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// Whatever a subtest did, successful or not, no temp file may outlive it.
	t.Cleanup(func() {
		if left, _ := os.ReadDir(s.tmp); len(left) > 0 {
			t.Errorf("%d temp files left in %s", len(left), s.tmp)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return newStore(t) })
}

func TestLayoutAndOSFile(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	info, err := s.Put(ctx, "123456789012/dom", bytes.NewReader([]byte("abc")), "")
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(s.root, "123456789012", "dom", info.SHA256[:2], info.SHA256)
	if b, err := os.ReadFile(want); err != nil || string(b) != "abc" {
		t.Fatalf("blob not at %s: %q %v", want, b, err)
	}
	o, err := s.Open(ctx, "123456789012/dom", info.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	f, ok := o.(interface{ OSFile() *os.File })
	if !ok {
		t.Fatal("Object does not expose OSFile")
	}
	if b, _ := io.ReadAll(f.OSFile()); string(b) != "abc" {
		t.Fatalf("OSFile read %q", b)
	}
}

func TestNewRemovesStaleTemps(t *testing.T) {
	root := t.TempDir()
	s, err := New(root)
	if err != nil {
		t.Fatal(err)
	}
	stale, fresh := filepath.Join(s.tmp, "put-stale"), filepath.Join(s.tmp, "put-fresh")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * staleTemp)
	os.Chtimes(stale, old, old)
	if _, err := New(root); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale temp survived: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("fresh temp (maybe a Put in progress) removed: %v", err)
	}
}

func TestPutMemoryDoesNotGrowWithSize(t *testing.T) {
	if testing.Short() {
		t.Skip("256 MiB put")
	}
	s := newStore(t)
	const size = 256 << 20
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	info, err := s.Put(context.Background(), "ns", blobtest.Generate(11, size), "")
	runtime.ReadMemStats(&after)
	if err != nil || info.Size != size {
		t.Fatalf("Put = %+v, %v", info, err)
	}
	// TotalAlloc counts every allocation, so unlike HeapInuse it cannot miss
	// a peak that a GC cleared before the measurement.
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<20 {
		t.Fatalf("Put of %d MiB allocated %d MiB", size>>20, grew>>20)
	}
}

// A Put that fails or is cancelled mid-stream, with chunks in flight on the
// file's and sha256's goroutines (fanout.Writer), leaves no goroutine behind
// (synctest.Test fails if one stays blocked) and no temp file (newStore's
// cleanup).
func TestFailedPutLeavesNoGoroutine(t *testing.T) {
	s := newStore(t)
	disk := errors.New("client went away")
	for name, fail := range map[string]func(context.CancelFunc) io.Reader{
		"read error": func(context.CancelFunc) io.Reader {
			return io.MultiReader(blobtest.Generate(1, 3<<20), errReader{disk})
		},
		"cancelled": func(cancel context.CancelFunc) io.Reader {
			return io.MultiReader(blobtest.Generate(2, 3<<20), cancelReader{cancel}, blobtest.Generate(3, 3<<20))
		},
	} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				if _, err := s.Put(ctx, "ns", fail(cancel), ""); err == nil {
					t.Fatal("Put succeeded")
				}
			})
		})
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// cancelReader cancels the context when it is reached, and reads nothing.
type cancelReader struct{ cancel context.CancelFunc }

func (c cancelReader) Read([]byte) (int, error) { c.cancel(); return 0, io.EOF }
