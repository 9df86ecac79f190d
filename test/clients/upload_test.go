package clients

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestUploadValidation: a bad upload is refused with 400 and a body that says
// what is wrong (twine prints it with --verbose), and nothing is stored.
func TestUploadValidation(t *testing.T) {
	t.Parallel()
	const domain, repo = "validation", "repo"
	srv := startServer(t, serverConfig{})
	c := newClientEnv(t, srv)
	c.createDomainAndRepo(domain, repo)
	endpoint := srv.Endpoint(domain, repo)
	auth := basic("aws", c.token(domain))

	good := makeWheel(t, "valid-pkg", "1.0", "")
	cases := []struct {
		name string
		d    dist
		sha  string // "" sends the right digest
		body string // regexp the body must match (case-insensitive)
	}{
		{"digest-mismatch", good, strings.Repeat("0", 64), `sha256|digest`},
		{"form-name-differs-from-wheel", dist{Name: "other-pkg", Version: "1.0", Filetype: "bdist_wheel", Filename: good.Filename, Data: good.Data}, "", `name|other-pkg|valid`},
		{"form-version-differs-from-wheel", dist{Name: "valid-pkg", Version: "2.0", Filetype: "bdist_wheel", Filename: good.Filename, Data: good.Data}, "", `version|2\.0`},
		{"not-a-zip", dist{Name: "valid-pkg", Version: "1.0", Filetype: "bdist_wheel", Filename: good.Filename, Data: []byte("this is not a zip file")}, "", `zip|wheel|archive|invalid`},
		{"wheel-sent-as-sdist", dist{Name: "valid-pkg", Version: "1.0", Filetype: "sdist", Filename: good.Filename, Data: good.Data}, "", `sdist|filetype|extension|\.tar\.gz`},
		{"invalid-project-name", dist{Name: "-bad-", Version: "1.0", Filetype: "bdist_wheel", Filename: "_bad_-1.0-py3-none-any.whl", Data: good.Data}, "", `name`},
		{"invalid-version", dist{Name: "valid-pkg", Version: "not a version", Filetype: "bdist_wheel", Filename: "valid_pkg-not a version-py3-none-any.whl", Data: good.Data}, "", `version`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sha := tc.sha
			if sha == "" {
				sha = sha256hex(tc.d.Data)
			}
			var body bytes.Buffer
			mw := multipart.NewWriter(&body)
			if err := writeUploadForm(mw, tc.d, sha, bytes.NewReader(tc.d.Data)); err != nil {
				t.Fatal(err)
			}
			r := fetch(t, "POST", endpoint, &body, auth, "Content-Type: "+mw.FormDataContentType())
			if r.Status != 400 || !regexp.MustCompile(`(?i)`+tc.body).Match(r.Body) {
				t.Errorf("want 400 with a body matching /%s/:\n%s", tc.body, r)
			}
		})
	}
	t.Run("nothing-stored", func(t *testing.T) {
		for _, p := range []string{"valid-pkg", "other-pkg"} {
			if r := fetch(t, "GET", endpoint+"simple/"+p+"/", nil, auth, acceptJSON); r.Status != 404 {
				t.Errorf("refused uploads must leave nothing behind:\n%s", r)
			}
		}
	})
	t.Run("missing-content", func(t *testing.T) {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		mw.WriteField(":action", "file_upload")
		mw.WriteField("name", "valid-pkg")
		mw.WriteField("version", "1.0")
		mw.Close()
		r := fetch(t, "POST", endpoint, &body, auth, "Content-Type: "+mw.FormDataContentType())
		if r.Status != 400 || len(bytes.TrimSpace(r.Body)) == 0 {
			t.Errorf("want 400 with an explanation:\n%s", r)
		}
	})
	t.Run("good-upload-still-works", func(t *testing.T) {
		mustStatus(t, upload(t, endpoint, good, auth), 200, 201)
	})
}

// TestGracefulShutdownFinishesUploads sends SIGTERM while an upload is half
// sent: the server must finish it (200), exit 0, and keep the file.
func TestGracefulShutdownFinishesUploads(t *testing.T) {
	t.Parallel()
	const domain, repo = "graceful", "repo"
	srv := startServer(t, serverConfig{})
	c := newClientEnv(t, srv)
	c.createDomainAndRepo(domain, repo)
	endpoint := srv.Endpoint(domain, repo)
	auth := basic("aws", c.token(domain))

	d := makeWheel(t, "inflight", "1.0", "# "+strings.Repeat("padding ", 1<<17)+"\n")
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if err := writeUploadForm(mw, d, sha256hex(d.Data), bytes.NewReader(d.Data)); err != nil {
		t.Fatal(err)
	}
	full := body.Bytes()
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", endpoint, pr)
	req.ContentLength = int64(len(full))
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", strings.TrimPrefix(auth, "Authorization: "))
	type answer struct {
		status int
		body   string
		err    error
	}
	done := make(chan answer, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- answer{err: err}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- answer{status: resp.StatusCode, body: string(b)}
	}()
	half := len(full) / 2
	if _, err := pw.Write(full[:half]); err != nil {
		t.Fatal(err)
	}
	// The first half has left the client, but the server may not have
	// accepted the connection yet (it can sit in the kernel's backlog on a
	// loaded machine, and a closing listener resets those); give it time.
	time.Sleep(500 * time.Millisecond)
	srv.stopped = true
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // let shutdown begin while the body is incomplete
	_, werr := pw.Write(full[half:])
	pw.Close()
	a := <-done
	if werr != nil || a.err != nil || a.status != 200 && a.status != 201 {
		t.Errorf("upload in flight during SIGTERM: write err %v, answer %d %q %v", werr, a.status, a.body, a.err)
	}
	select {
	case <-srv.exited:
		if srv.waitErr != nil {
			t.Errorf("exit after SIGTERM: %v\n%s", srv.waitErr, srv.log.Tail(4096))
		}
	case <-time.After(20 * time.Second):
		srv.Kill()
		t.Fatal("server still running 20s after SIGTERM")
	}

	srv2 := startServer(t, serverConfig{DataDir: srv.DataDir})
	r := fetch(t, "GET", srv2.Endpoint(domain, repo)+"simple/inflight/", nil, auth, acceptJSON)
	if r.Status != 200 || !strings.Contains(string(r.Body), d.Filename) {
		t.Errorf("the upload finished during shutdown is not there after a restart:\n%s", r)
	}
}
