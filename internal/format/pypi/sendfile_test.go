package pypi

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
)

// fileSpy is a ResponseWriter with ReadFrom, as net/http's: ServeContent
// hands it what it streams, so the test sees whether the kernel could send
// the file (an *os.File) or the bytes go through user space.
type fileSpy struct {
	*httptest.ResponseRecorder
	sawFile bool
}

func (w *fileSpy) ReadFrom(r io.Reader) (int64, error) {
	src := r
	if lr, ok := r.(*io.LimitedReader); ok {
		src = lr.R
	}
	_, w.sawFile = src.(*os.File)
	return io.Copy(w.ResponseRecorder, r)
}

// On the fs blob store, downloads reach net/http as the *os.File itself
// (sendfile): the 64 MiB download of bench/ depends on it.
func TestDownloadIsSendfile(t *testing.T) {
	f := newCacheFixture(t)
	fn := f.upload("repo", "demo", "1.0")
	for _, path := range []string{"/simple/demo/1.0/" + fn, "/simple/demo/1.0/" + fn + ".metadata"} {
		w := &fileSpy{ResponseRecorder: httptest.NewRecorder()}
		f.h.ServeRepo(w, httptest.NewRequest("GET", "/pypi/repo"+path, nil), f.ref("repo"), path)
		if w.Code != http.StatusOK || !w.sawFile {
			t.Errorf("GET %s: status %d, streamed from an *os.File: %v", path, w.Code, w.sawFile)
		}
	}
}
