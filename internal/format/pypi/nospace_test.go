package pypi

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/wharfhq/wharf/internal/blob/fsblob"
	"github.com/wharfhq/wharf/internal/registry"
	"github.com/wharfhq/wharf/internal/store/sqlite"
)

// mountFullDisk mounts a tmpfs of size bytes at a fresh directory: a real
// disk that fills up. It needs root (CAP_SYS_ADMIN), which the test
// machines give; without it the test fails and says so rather than skip.
func mountFullDisk(t *testing.T, size string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "disk")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Fatalf("mounting a %s tmpfs to stand for a full disk: %v (the test needs root, CAP_SYS_ADMIN)", size, err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}

// An upload that fills the blob disk is answered 507 Insufficient Storage
// with a message that says so (not a 503 "retry" that clients repeat
// blindly), the partial file is removed, the full disk is logged once
// however many uploads it refuses, and uploads that fit work again.
func TestUploadOnFullDisk(t *testing.T) {
	disk := mountFullDisk(t, "1m")
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "wharf.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	bl, err := fsblob.New(filepath.Join(disk, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	var logs syncLog
	log := slog.New(slog.NewTextHandler(&logs, nil))
	reg := registry.New(db, bl, log, Format{})
	ctx := t.Context()
	reg.CreateDomain(ctx, testOwner, "dom", "")
	reg.CreateRepository(ctx, testOwner, "dom", "repo", "", nil)
	h := NewHandler(reg, log)
	ref := registry.RepoRef{Owner: testOwner, Domain: "dom", Repository: "repo"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeRepo(w, r, ref, strings.TrimPrefix(r.URL.Path, "/pypi/repo"))
	}))
	t.Cleanup(srv.Close)

	fn, whl := bigWheel(t, "huge", "1.0", 2<<20)
	for range 3 {
		ct, body := uploadForm(t, twineFields("huge", "1.0", "bdist_wheel", whl), fn, whl)
		code, msg := post(t, srv.URL+"/pypi/repo/", ct, body)
		if code != http.StatusInsufficientStorage || !strings.Contains(msg, "no space left") {
			t.Fatalf("an upload larger than the free space: got %d %q, want 507 saying no space is left", code, msg)
		}
	}
	if n := strings.Count(logs.String(), "storage is full"); n != 1 {
		t.Errorf("the full disk was logged %d times for 3 refusals, want once:\n%s", n, logs.String())
	}
	var st syscall.Statfs_t
	syscall.Statfs(disk, &st)
	if used := (st.Blocks - st.Bfree) * uint64(st.Bsize); used > 64<<10 {
		t.Errorf("%d bytes still used on the disk after the refusals: partial files must be removed", used)
	}
	fn, small := buildWheel(t, "small", "1.0", "")
	ct, body := uploadForm(t, twineFields("small", "1.0", "bdist_wheel", small), fn, small)
	if code, msg := post(t, srv.URL+"/pypi/repo/", ct, body); code != 200 {
		t.Fatalf("an upload that fits, after the refusals: %d %s", code, msg)
	}
}

// syncLog is a log destination several goroutines write to.
type syncLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
