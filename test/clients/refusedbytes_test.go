package clients

import (
	"bytes"
	"io/fs"
	"mime/multipart"
	"path/filepath"
	"strings"
	"testing"
)

// TestRefusedUploadsLeaveNoBytes counts the files of the blob directory
// around every kind of refused upload: each must leave it as it was (before,
// each left its whole body behind, forever).
func TestRefusedUploadsLeaveNoBytes(t *testing.T) {
	t.Parallel()
	const domain, repo = "refusedbytes", "repo"
	srv := startServer(t, serverConfig{})
	c := newClientEnv(t, srv)
	c.createDomainAndRepo(domain, repo)
	endpoint := srv.Endpoint(domain, repo)
	auth := basic("aws", c.token(domain))
	kept := makeWheel(t, "kept", "1.0", "")
	mustStatus(t, upload(t, endpoint, kept, auth), 200)
	blobs := filepath.Join(srv.DataDir, "blobs")
	baseline := countFiles(t, blobs)

	other := makeWheel(t, "kept", "1.0", strings.Repeat("# other bytes\n", 1000))
	notZip := kept
	notZip.Filename, notZip.Version, notZip.Data = "kept-2.0-py3-none-any.whl", "2.0", bytes.Repeat([]byte("not a zip "), 100000)
	lying := makeWheel(t, "kept", "3.0", "") // its metadata names "kept"; the form says otherwise
	lying.Name = "other-name"
	lying.Filename = "other_name-3.0-py3-none-any.whl"
	for _, tc := range []struct {
		name   string
		d      dist
		sha    string // "-": none; "": the right one
		status int
	}{
		{"same name, other bytes, declared sha256 (refused before reading)", other, "", 409},
		{"same name, other bytes, no sha256", other, "-", 409},
		{"sha256 mismatch", notZip, strings.Repeat("0", 64), 400},
		{"not a zip", notZip, "", 400},
		{"metadata names another project", lying, "", 400},
	} {
		sha := tc.sha
		switch sha {
		case "":
			sha = sha256hex(tc.d.Data)
		case "-":
			sha = ""
		}
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		if err := writeUploadForm(mw, tc.d, sha, bytes.NewReader(tc.d.Data)); err != nil {
			t.Fatal(err)
		}
		r := fetch(t, "POST", endpoint, &body, auth, "Content-Type: "+mw.FormDataContentType())
		if r.Status != tc.status {
			t.Errorf("%s: want %d:\n%s", tc.name, tc.status, r)
		}
		if n := countFiles(t, blobs); n != baseline {
			t.Errorf("%s: %d files in the blob directory after the refusal, want %d", tc.name, n, baseline)
		}
	}
	// An identical re-upload is still an idempotent success.
	mustStatus(t, upload(t, endpoint, kept, auth), 200)
	if n := countFiles(t, blobs); n != baseline {
		t.Errorf("%d files after an identical re-upload, want %d", n, baseline)
	}
}

// countFiles counts the regular files under dir.
func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	if err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return n
}
