package pypi

import (
	"archive/zip"
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/crypto/blake2b"

	"github.com/wharfhq/wharf/internal/registry"
)

// bigWheel is a valid wheel carrying size bytes of random data, stored
// uncompressed, as a large binary wheel mostly is.
func bigWheel(tb testing.TB, name, version string, size int) (string, []byte) {
	tb.Helper()
	var buf bytes.Buffer
	buf.Grow(size + 4096)
	zw := zip.NewWriter(&buf)
	w, _ := zw.CreateHeader(&zip.FileHeader{Name: name + "/data.bin", Method: zip.Store})
	io.CopyN(w, rand.NewChaCha8([32]byte{5}), int64(size))
	f, _ := zw.Create(name + "-" + version + ".dist-info/METADATA")
	io.WriteString(f, "Metadata-Version: 2.1\nName: "+name+"\nVersion: "+version+"\n")
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return name + "-" + version + "-py3-none-any.whl", buf.Bytes()
}

// twineDigests are the three digest fields twine 4 sends.
func twineDigests(content []byte) map[string]string {
	m, s, b := md5.Sum(content), sha256.Sum256(content), blake2b.Sum256(content)
	return map[string]string{
		"md5_digest": hex.EncodeToString(m[:]), "sha256_digest": hex.EncodeToString(s[:]),
		"blake2_256_digest": hex.EncodeToString(b[:]),
	}
}

// The upload checks all three digests twine sends: sha256 and md5 in the
// registry, blake2b in the handler, each hashing on its own goroutine. A
// file of several hashing chunks with the right digests is published with
// them; one wrong digest refuses it.
func TestUploadChecksTwineDigests(t *testing.T) {
	srv, reg := testRepo(t)
	fn, whl := bigWheel(t, "digests", "1.0", 3<<20+17)
	for _, field := range []string{"md5_digest", "sha256_digest", "blake2_256_digest"} {
		f := twineFields("digests", "1.0", "bdist_wheel", whl)
		for k, v := range twineDigests(whl) {
			f[k] = v
		}
		f[field] = strings.Repeat("0", len(f[field]))
		ct, body := uploadForm(t, f, fn, whl)
		if code, msg := post(t, srv.URL+"/pypi/repo/", ct, body); code != 400 || !strings.Contains(msg, strings.TrimSuffix(field, "_digest")) {
			t.Fatalf("wrong %s: %d %s", field, code, msg)
		}
	}
	f := twineFields("digests", "1.0", "bdist_wheel", whl)
	for k, v := range twineDigests(whl) {
		f[k] = strings.ToUpper(v)
	}
	ct, body := uploadForm(t, f, fn, whl)
	if code, msg := post(t, srv.URL+"/pypi/repo/", ct, body); code != 200 {
		t.Fatalf("upload: %d %s", code, msg)
	}
	ref := registry.RepoRef{Owner: testOwner, Domain: "dom", Repository: "repo"}
	_, assets, err := reg.ListAssets(t.Context(), ref, "pypi", "", "digests", "1.0")
	if err != nil || len(assets) != 1 {
		t.Fatalf("assets: %v %v", assets, err)
	}
	if got, want := assets[0].MD5, strings.ToLower(f["md5_digest"]); got != want {
		t.Fatalf("md5 recorded %s, want %s", got, want)
	}
}

// BenchmarkUpload posts a 64 MiB wheel through the legacy upload API over
// loopback HTTP into SQLite + a blob directory: the server's whole cost of an
// upload (multipart parsing, hashing, writing, fsync) plus an in-process
// client's. "twine" declares the three digests twine sends (the server
// computes md5, sha1, sha256, sha512 and blake2b), "sha256" only sha256 (md5,
// sha1, sha256, sha512). The same file each time, so after the first it is an
// idempotent re-upload: hashed and written in full all the same.
//
//	go test ./internal/format/pypi -run '^$' -bench Upload -benchtime 5x
func BenchmarkUpload(b *testing.B) {
	srv, _ := testRepo(b)
	fn, whl := bigWheel(b, "benchupload", "1.0", 64<<20)
	for _, c := range []struct {
		name    string
		digests []string
	}{
		{"twine", []string{"md5_digest", "sha256_digest", "blake2_256_digest"}},
		{"sha256", []string{"sha256_digest"}},
	} {
		b.Run(c.name, func(b *testing.B) {
			fields := twineFields("benchupload", "1.0", "bdist_wheel", whl)
			all := twineDigests(whl)
			for _, d := range c.digests {
				fields[d] = all[d]
			}
			b.SetBytes(int64(len(whl)))
			for b.Loop() {
				benchPost(b, srv.URL+"/pypi/repo/", fields, fn, whl)
			}
		})
	}
}

// benchPost streams one multipart upload, as twine does, and wants a 200.
func benchPost(b *testing.B, url string, fields map[string]string, fn string, content []byte) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		for k, v := range fields {
			mw.WriteField(k, v)
		}
		part, _ := mw.CreateFormFile("content", fn)
		part.Write(content)
		pw.CloseWithError(mw.Close())
	}()
	resp, err := http.Post(url, mw.FormDataContentType(), pr)
	if err != nil {
		b.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Fatalf("%s: %s", resp.Status, msg)
	}
}
