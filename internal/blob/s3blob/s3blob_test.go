package s3blob

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/wharfhq/wharf/internal/blob"
	"github.com/wharfhq/wharf/internal/blob/blobtest"
	"github.com/wharfhq/wharf/internal/testenv/s3test"
)

const ns = "123456789012/my-domain"

// newStore returns a store on a new bucket of the test server, reached
// through its blob URL as wharf serve would.
func newStore(t *testing.T, prefix string) (*Store, *s3test.Server) {
	t.Helper()
	srv, bucket := s3test.Bucket(t)
	cfg, err := ParseURL(strings.Replace(srv.URL(bucket), "?", "/"+prefix+"?", 1))
	if err != nil {
		t.Fatal(err)
	}
	cfg.AccessKeyID, cfg.SecretAccessKey = srv.AccessKey, srv.SecretKey
	s, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Whatever a test did, successful or not, no temporary object and no
	// multipart upload may outlive it.
	t.Cleanup(func() { assertClean(t, s) })
	return s, srv
}

func assertClean(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	ups, err := s.client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &s.bucket})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range ups.Uploads {
		t.Errorf("multipart upload left: %s", aws.ToString(u.Key))
	}
	for _, k := range keys(t, s, s.prefix+tmpDir) {
		t.Errorf("temporary object left: %s", k)
	}
}

func keys(t *testing.T, s *Store, prefix string) []string {
	t.Helper()
	out, err := s.client.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: &prefix})
	if err != nil {
		t.Fatal(err)
	}
	var ks []string
	for _, o := range out.Contents {
		ks = append(ks, aws.ToString(o.Key))
	}
	return ks
}

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { s, _ := newStore(t, ""); return s })
}

func TestLayoutUnderPrefix(t *testing.T) {
	s, _ := newStore(t, "wharf/prod")
	info, err := s.Put(t.Context(), ns, strings.NewReader("abc"), "")
	if err != nil {
		t.Fatal(err)
	}
	want := "wharf/prod/" + ns + "/" + info.SHA256[:2] + "/" + info.SHA256
	if got := keys(t, s, ""); len(got) != 1 || got[0] != want {
		t.Fatalf("bucket holds %q, want only %q", got, want)
	}
}

// TestMultipartStreams checks that a blob larger than a part is uploaded
// part by part while the reader is still being read (streamed, not
// buffered), and reads back identically, sequentially and with ReadAt.
func TestMultipartStreams(t *testing.T) {
	s, _ := newStore(t, "")
	const size = 40 << 20
	sawParts := 0
	probe := &hook{r: blobtest.Generate(9, size), at: 30 << 20, fn: func() {
		ups, err := s.client.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: &s.bucket})
		if err != nil || len(ups.Uploads) != 1 || !strings.HasPrefix(aws.ToString(ups.Uploads[0].Key), tmpDir) {
			t.Errorf("during Put: uploads %+v, %v; want one under %s", ups, err, tmpDir)
			return
		}
		u := ups.Uploads[0]
		parts, err := s.client.ListParts(context.Background(), &s3.ListPartsInput{Bucket: &s.bucket, Key: u.Key, UploadId: u.UploadId})
		if err != nil {
			t.Error(err)
			return
		}
		sawParts = len(parts.Parts)
	}}
	info, err := s.Put(t.Context(), ns, probe, "")
	if err != nil || info.Size != size {
		t.Fatalf("Put = %+v, %v", info, err)
	}
	if sawParts < 3 {
		t.Fatalf("30 MiB into the stream, %d parts were uploaded, want 3 (of %d MiB)", sawParts, DefaultPartSize>>20)
	}
	want := make([]byte, size)
	io.ReadFull(blobtest.Generate(9, size), want)
	if info.SHA256 != blobtest.SHA256(want) {
		t.Fatal("wrong digest")
	}
	o, err := s.Open(t.Context(), ns, info.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	got, err := io.ReadAll(o)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("ReadAll: %d bytes, equal %v, %v", len(got), bytes.Equal(got, want), err)
	}
	checkReadAt(t, o, want)

	// ReadAt is safe for concurrent use, also while Read streams.
	o.Seek(0, io.SeekStart)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			for range 20 {
				off, n := rng.Int64N(size-1), rng.Int64N(2*readAhead)
				p := make([]byte, n)
				got, err := o.ReadAt(p, off)
				if (err != nil && err != io.EOF) || !bytes.Equal(p[:got], want[off:min(off+n, size)]) {
					t.Errorf("concurrent ReadAt(%d at %d): %d bytes, %v", n, off, got, err)
					return
				}
			}
		})
	}
	if n, err := io.Copy(io.Discard, o); err != nil || n != size {
		t.Errorf("Read alongside ReadAt: %d bytes, %v", n, err)
	}
	wg.Wait()
}

// checkReadAt compares ReadAt with want at the edges, across windows, and
// at random offsets and lengths (some larger than the read-ahead window).
func checkReadAt(t *testing.T, o blob.Object, want []byte) {
	t.Helper()
	size := int64(len(want))
	type span struct{ off, n int64 }
	spans := []span{{0, 1}, {0, 4096}, {size - 1, 1}, {size - 10, 20}, {size, 5}, {size + 100, 5},
		{readAhead - 3, 10}, {size - readAhead - 5, 10}, {size / 2, 3 * readAhead}, {0, 0}}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 40 {
		spans = append(spans, span{rng.Int64N(size), rng.Int64N(2 * readAhead)})
	}
	for _, sp := range spans {
		p := make([]byte, sp.n)
		n, err := o.ReadAt(p, sp.off)
		end := min(sp.off+sp.n, size)
		wantN := max(0, end-sp.off)
		if int64(n) != wantN || !bytes.Equal(p[:n], want[min(sp.off, size):max(end, min(sp.off, size))]) {
			t.Fatalf("ReadAt(%d bytes at %d) = %d bytes (equal %v), %v; want %d", sp.n, sp.off, n,
				bytes.Equal(p[:n], want[min(sp.off, size):max(end, min(sp.off, size))]), err, wantN)
		}
		if (wantN < sp.n) != (err == io.EOF) || (err != nil && err != io.EOF) {
			t.Fatalf("ReadAt(%d bytes at %d of %d): err %v", sp.n, sp.off, size, err)
		}
	}
}

// TestPutMemoryDoesNotGrowWithSize: a Put holds one part, whatever the
// blob's size.
func TestPutMemoryDoesNotGrowWithSize(t *testing.T) {
	if testing.Short() {
		t.Skip("256 MiB put")
	}
	s, _ := newStore(t, "")
	const size = 256 << 20
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	info, err := s.Put(t.Context(), ns, blobtest.Generate(11, size), "")
	runtime.ReadMemStats(&after)
	if err != nil || info.Size != size {
		t.Fatalf("Put = %+v, %v", info, err)
	}
	// TotalAlloc counts every allocation, so unlike HeapInuse it cannot miss
	// a peak that a GC cleared before the measurement. The bound is one part
	// buffer plus the SDK's per-request garbage: a fraction of the blob.
	grew := after.TotalAlloc - before.TotalAlloc
	t.Logf("Put of %d MiB in %v allocated %.1f MiB in total", size>>20, time.Since(start).Round(time.Millisecond), float64(grew)/(1<<20))
	if grew > 24<<20 {
		t.Fatalf("Put of %d MiB allocated %d MiB", size>>20, grew>>20)
	}
}

// TestAbortedUploadLeavesNothing: a reader failing after several parts
// leaves no multipart upload and no object.
func TestAbortedUploadLeavesNothing(t *testing.T) {
	s, _ := newStore(t, "")
	boom := errors.New("client went away")
	r := io.MultiReader(blobtest.Generate(4, 20<<20), errReader{boom})
	if _, err := s.Put(t.Context(), ns, r, ""); !errors.Is(err, boom) {
		t.Fatalf("Put: %v, want the reader's error", err)
	}
	ups, err := s.client.ListMultipartUploads(t.Context(), &s3.ListMultipartUploadsInput{Bucket: &s.bucket})
	if err != nil || len(ups.Uploads) != 0 {
		t.Fatalf("uploads left: %+v, %v", ups.Uploads, err)
	}
	if left := keys(t, s, ""); len(left) != 0 {
		t.Fatalf("objects left: %q", left)
	}
}

func TestCancelMidUploadAborts(t *testing.T) {
	s, _ := newStore(t, "")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	r := &hook{r: blobtest.Generate(4, 64<<20), at: 20 << 20, fn: cancel}
	if _, err := s.Put(ctx, ns, r, ""); !errors.Is(err, context.Canceled) {
		t.Fatalf("Put: %v, want context.Canceled", err)
	}
	if left := keys(t, s, ""); len(left) != 0 {
		t.Fatalf("objects left: %q", left)
	}
	// newStore's cleanup checks that the upload was aborted.
}

// TestLargeCopy uses the multipart copy S3 needs beyond 5 GiB, with the
// thresholds lowered so the test needs no 5 GiB blob.
func TestLargeCopy(t *testing.T) {
	s, _ := newStore(t, "")
	s.maxSingleCopy, s.copyPartSize = 6<<20, 5<<20
	const size = 17<<20 + 3
	want := make([]byte, size)
	io.ReadFull(blobtest.Generate(8, size), want)
	info, err := s.Put(t.Context(), ns, bytes.NewReader(want), blobtest.SHA256(want))
	if err != nil || info.Size != size {
		t.Fatalf("Put = %+v, %v", info, err)
	}
	o, err := s.Open(t.Context(), ns, info.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if got, err := io.ReadAll(o); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read back %d bytes, %v", len(got), err)
	}
}

func TestCleanupStale(t *testing.T) {
	s, _ := newStore(t, "pfx")
	ctx := t.Context()
	put := func(key string) {
		t.Helper()
		if _, err := s.client.PutObject(ctx, &s3.PutObjectInput{Bucket: &s.bucket, Key: &key, Body: strings.NewReader("partial")}); err != nil {
			t.Fatal(err)
		}
	}
	start := func(key string) {
		t.Helper()
		mu, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &s.bucket, Key: &key})
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.client.UploadPart(ctx, &s3.UploadPartInput{Bucket: &s.bucket, Key: &key, UploadId: mu.UploadId,
			PartNumber: aws.Int32(1), Body: bytes.NewReader(make([]byte, 5<<20))})
		if err != nil {
			t.Fatal(err)
		}
	}
	// What killed Puts leave: a temporary object (between upload and copy),
	// an upload of a temporary object, the multipart copy of a huge blob.
	sum := blobtest.SHA256([]byte("huge"))
	put("pfx/.tmp/crashed-after-upload")
	start("pfx/.tmp/crashed-mid-upload")
	start("pfx/" + ns + "/" + sum[:2] + "/" + sum)
	// Not this store's: another prefix, and a key that is no blob.
	foreign := []string{"other/.tmp/x", "pfx/notes/readme"}
	for _, k := range foreign {
		start(k)
	}
	put("other/.tmp/y")
	blobSum := blobtest.SHA256([]byte("kept"))
	if _, err := s.Put(ctx, ns, strings.NewReader("kept"), ""); err != nil {
		t.Fatal(err)
	}

	// Fresh leftovers may be Puts still running in another replica.
	if n, err := s.CleanupStale(ctx, time.Hour); err != nil || n != 0 {
		t.Fatalf("CleanupStale(1h) = %d, %v; want nothing removed", n, err)
	}
	time.Sleep(1100 * time.Millisecond) // S3 timestamps have 1s resolution
	if n, err := s.CleanupStale(ctx, 0); err != nil || n != 3 {
		t.Fatalf("CleanupStale = %d, %v; want 3 removed", n, err)
	}
	if left := keys(t, s, ""); fmt.Sprint(left) != fmt.Sprint([]string{"other/.tmp/y", "pfx/" + ns + "/" + blobSum[:2] + "/" + blobSum}) {
		t.Fatalf("objects after cleanup: %q", left)
	}
	ups, err := s.client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &s.bucket})
	if err != nil {
		t.Fatal(err)
	}
	var upKeys []string
	for _, u := range ups.Uploads {
		upKeys = append(upKeys, aws.ToString(u.Key))
		s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &s.bucket, Key: u.Key, UploadId: u.UploadId})
	}
	if fmt.Sprint(upKeys) != fmt.Sprint(foreign) {
		t.Fatalf("uploads after cleanup: %q, want only the foreign %q", upKeys, foreign)
	}
}

func TestWrongSecret(t *testing.T) {
	srv, bucket := s3test.Bucket(t)
	const secret = "not-the-secret-0123456789"
	_, err := New(t.Context(), Config{Bucket: bucket, Endpoint: srv.Endpoint, Region: srv.Region, UsePathStyle: true,
		AccessKeyID: srv.AccessKey, SecretAccessKey: secret})
	if err == nil {
		t.Fatal("New with a wrong secret succeeded")
	}
	msg := err.Error()
	t.Log(msg)
	if !strings.Contains(msg, srv.Endpoint) || !strings.Contains(msg, bucket) || !strings.Contains(msg, "WHARF_S3_SECRET_ACCESS_KEY") {
		t.Errorf("error does not name the endpoint, bucket and the credentials to check: %s", msg)
	}
	if strings.Contains(msg, secret) || strings.Contains(msg, srv.SecretKey) {
		t.Errorf("error shows a secret: %s", msg)
	}
}

func TestMissingBucket(t *testing.T) {
	srv := s3test.Start(t)
	_, err := New(t.Context(), Config{Bucket: "no-such-bucket", Endpoint: srv.Endpoint, UsePathStyle: true,
		AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey})
	if err == nil || !strings.Contains(err.Error(), "create the bucket") {
		t.Fatalf("New on a missing bucket: %v", err)
	}
}

func TestCredentialsFromEnvironment(t *testing.T) {
	srv, bucket := s3test.Bucket(t)
	t.Setenv("WHARF_S3_ACCESS_KEY_ID", srv.AccessKey)
	t.Setenv("WHARF_S3_SECRET_ACCESS_KEY", srv.SecretKey)
	cfg, err := ParseURL(srv.URL(bucket))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	t.Setenv("WHARF_S3_SECRET_ACCESS_KEY", "")
	if _, err := New(t.Context(), cfg); err == nil || !strings.Contains(err.Error(), "both") {
		t.Fatalf("New with only an access key id: %v", err)
	}
}

// TestZipOverReadAt: archive/zip reads a wheel through ReadAt in small
// pieces; the read-ahead window must make that a handful of GETs.
func TestZipOverReadAt(t *testing.T) {
	s, _ := newStore(t, "")
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := range 50 {
		w, _ := zw.Create(fmt.Sprintf("pkg/module_%d.py", i))
		io.CopyN(w, blobtest.Generate(uint64(i), 3000), 3000)
	}
	zw.Close()
	info, err := s.Put(t.Context(), ns, bytes.NewReader(buf.Bytes()), "")
	if err != nil {
		t.Fatal(err)
	}
	var gets atomic.Int64
	opts := s.client.Options()
	opts.HTTPClient = countGets{opts.HTTPClient, &gets}
	s.client = s3.New(opts)

	o, err := s.Open(t.Context(), ns, info.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	zr, err := zip.NewReader(o, o.Info().Size)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		if n, err := io.Copy(io.Discard, rc); err != nil || n != 3000 {
			t.Fatalf("%s: %d bytes, %v", f.Name, n, err)
		}
		rc.Close()
	}
	if n := gets.Load(); n > 2 {
		t.Fatalf("reading a %d KiB zip took %d GETs", buf.Len()>>10, n)
	}
}

func TestPresignGet(t *testing.T) {
	s, _ := newStore(t, "")
	info, err := s.Put(t.Context(), ns, strings.NewReader("presigned bytes"), "")
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.PresignGet(t.Context(), ns, info.SHA256, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if b, _ := io.ReadAll(resp.Body); resp.StatusCode != 200 || string(b) != "presigned bytes" {
		t.Fatalf("GET presigned URL: %s %q", resp.Status, b)
	}
	if _, err := s.PresignGet(t.Context(), "../x", info.SHA256, time.Minute); !errors.Is(err, blob.ErrInvalid) {
		t.Fatalf("PresignGet with a bad namespace: %v", err)
	}
}

func TestParseURL(t *testing.T) {
	for raw, want := range map[string]Config{
		"s3://bucket":               {Bucket: "bucket"},
		"s3://bucket/":              {Bucket: "bucket"},
		"s3://bucket/a/b":           {Bucket: "bucket", Prefix: "a/b/"},
		"s3://bucket/a/b/":          {Bucket: "bucket", Prefix: "a/b/"},
		"s3://b.c?region=eu-west-1": {Bucket: "b.c", Region: "eu-west-1"},
		"s3://bucket?endpoint=http%3A%2F%2F127.0.0.1%3A7070&region=us-east-1&use_path_style=true": {
			Bucket: "bucket", Endpoint: "http://127.0.0.1:7070", Region: "us-east-1", UsePathStyle: true},
		"s3://bucket?endpoint=https://minio.internal:9000&use_path_style=1": {
			Bucket: "bucket", Endpoint: "https://minio.internal:9000", UsePathStyle: true},
	} {
		got, err := ParseURL(raw)
		if err != nil || got != want {
			t.Errorf("ParseURL(%q) = %#v, %v; want %#v", raw, got, err, want)
		}
	}
	for _, raw := range []string{"", "file:///x", "s3://", "s3://Bucket", "s3://bucket/../x", "s3://bucket/.tmp",
		"s3://bucket//x", "s3://bucket?endpoint=ftp://x", "s3://bucket?endpoint=127.0.0.1:7070",
		"s3://bucket?use_path_style=maybe", "s3://bucket?regoin=x", "s3://bucket?part_size=1"} {
		if _, err := ParseURL(raw); err == nil {
			t.Errorf("ParseURL(%q) succeeded", raw)
		}
	}
	// Secrets in the URL are refused, without repeating them.
	for _, raw := range []string{"s3://AKID:hunter2-secret@bucket", "s3://AKID:hunter2-secret@bucket/%zz",
		"s3://bucket?endpoint=http://AKID:hunter2-secret@host", "s3://bucket?endpoint=http://AKID:hunter2-secret@host%25zz",
		"s3://bucket?endpoint=http://AKID:hunter2-secret@host%zz"} {
		if _, err := ParseURL(raw); err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("ParseURL(%q): %v", raw, err)
		}
	}
	cfg := Config{Bucket: "b", Endpoint: "http://h", AccessKeyID: "AKID", SecretAccessKey: "hunter2-secret"}
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg)} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("printed Config shows the secret: %s", s)
		}
	}
}

// hook runs fn once, after at bytes have been read.
type hook struct {
	r     io.Reader
	at    int64
	fn    func()
	read  int64
	fired bool
}

func (h *hook) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	if h.read += int64(n); h.read >= h.at && !h.fired {
		h.fired = true
		h.fn()
	}
	return n, err
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

type countGets struct {
	c interface {
		Do(*http.Request) (*http.Response, error)
	}
	n *atomic.Int64
}

func (c countGets) Do(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodGet {
		c.n.Add(1)
	}
	return c.c.Do(r)
}
