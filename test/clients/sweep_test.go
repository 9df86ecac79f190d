package clients

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestCrashLeftoversSweptWhileRunning kills the server (SIGKILL) in the
// middle of an upload, restarts it with a one-second sweep interval, and
// requires what the crash left (the upload's temporary file, and an
// unreferenced blob such as a publish killed between storing its bytes and
// recording them leaves) to be removed while the server runs, not at a
// start an hour later; published files and their sidecars stay.
func TestCrashLeftoversSweptWhileRunning(t *testing.T) {
	t.Parallel()
	const domain, repo = "sweep", "repo"
	sweepEnv := map[string]string{"WHARF_SWEEP_INTERVAL": "1s"}
	srv := startServer(t, serverConfig{Env: sweepEnv})
	c := newClientEnv(t, srv)
	c.createDomainAndRepo(domain, repo)
	token := c.token(domain)
	endpoint := srv.Endpoint(domain, repo)
	survivor := makeWheel(t, "kept", "1.0", "")
	mustStatus(t, upload(t, endpoint, survivor, basic("aws", token)), 200, 201)

	// Kill the server with half of a 64 MiB upload received.
	const total, killAt = 64 << 20, 32 << 20
	big := dist{Name: "killed", Version: "1.0", Filetype: "bdist_wheel", Filename: "killed-1.0-py3-none-any.whl"}
	reached := make(chan struct{})
	gen := &patternReader{left: total, mark: total - killAt, reached: reached}
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() { pw.CloseWithError(writeUploadForm(mw, big, "", gen)) }()
	req, _ := http.NewRequest("POST", endpoint, pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.SetBasicAuth("aws", token)
	answered := make(chan struct{})
	go func() {
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
		close(answered)
	}()
	select {
	case <-reached:
	case <-answered:
		t.Fatal("the server answered the upload before the crash")
	case <-time.After(3 * time.Minute):
		t.Fatalf("the server consumed only %d MiB of the upload in 3 minutes", gen.sent.Load()>>20)
	}
	srv.Kill()
	<-answered

	blobs := filepath.Join(srv.DataDir, "blobs")
	temps, _ := filepath.Glob(filepath.Join(blobs, ".tmp", "*"))
	if len(temps) == 0 {
		t.Fatal("the killed upload left no temporary file: nothing for the sweep to prove itself on")
	}
	// The bytes of a publish killed after its file was stored and before it
	// was recorded: a complete blob that nothing references.
	orphanData := []byte("bytes stored by a publish killed before it recorded them\n")
	sum := sha256.Sum256(orphanData)
	orphanSHA := hex.EncodeToString(sum[:])
	orphan := filepath.Join(blobs, accountID, domain, orphanSHA[:2], orphanSHA)
	if err := os.MkdirAll(filepath.Dir(orphan), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(orphan, orphanData, 0o600); err != nil {
		t.Fatal(err)
	}

	srv2 := startServer(t, serverConfig{DataDir: srv.DataDir, Env: sweepEnv})
	// The start-up cleanup has run and kept them (they are seconds old).
	// Age everything by two hours, published files included: only what is
	// unreferenced may go.
	old := time.Now().Add(-2 * time.Hour)
	filepath.WalkDir(blobs, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			os.Chtimes(p, old, old)
		}
		return nil
	})
	deadline := time.Now().Add(time.Minute)
	for {
		left := []string{}
		for _, p := range append(temps, orphan) {
			if _, err := os.Stat(p); err == nil {
				left = append(left, strings.TrimPrefix(p, blobs))
			}
		}
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a minute after the restart, with a one-second sweep, these leftovers are still there: %v", left)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(srv2.log.Tail(64<<10), "sweep: removed") {
		t.Errorf("the sweep's removals are not logged:\n%s", srv2.log.Tail(4<<10))
	}

	// The published wheel and its METADATA sidecar are still served.
	auth := basic("aws", token)
	endpoint = srv2.Endpoint(domain, repo)
	page := fetch(t, "GET", endpoint+"simple/kept/", nil, auth, acceptJSON)
	mustStatus(t, page, 200)
	m := regexp.MustCompile(`"url"\s*:\s*"([^"]+)"`).FindStringSubmatch(string(page.Body))
	if m == nil {
		t.Fatalf("no file URL on the page:\n%s", page)
	}
	file := stripFragment(resolve(t, endpoint+"simple/kept/", m[1]))
	got := fetch(t, "GET", file, nil, auth)
	mustStatus(t, got, 200)
	if sha256hex(got.Body) != sha256hex(survivor.Data) {
		t.Error("the published wheel serves other bytes after the sweep")
	}
	mustStatus(t, fetch(t, "GET", file+".metadata", nil, auth), 200)
}
