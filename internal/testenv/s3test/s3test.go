// Package s3test gives tests a real S3 server: one versitygw per test binary,
// started on first use on a free loopback port over a temporary directory,
// or the server $WHARF_TEST_S3_URL names (http://KEY:SECRET@HOST:PORT, with
// an optional ?region=R). Every test gets its own bucket.
//
// A missing versitygw fails the test rather than skipping it, so a machine
// without it cannot pass silently; scripts/test.sh installs it
// (go install github.com/versity/versitygw/cmd/versitygw@v1.8.0).
//
// The server outlives individual tests and a package cannot hook the end of
// its test binary, so a watchdog shell holds the read end of a pipe whose
// write end only this process has: when the test binary exits, however it
// exits, the pipe closes and the watchdog stops versitygw and removes its
// directory.
package s3test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"go/build"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// InstallHint is how to get the server the tests need.
const InstallHint = "install it with `go install github.com/versity/versitygw/cmd/versitygw@v1.8.0` " +
	"(scripts/test.sh does), or set WHARF_TEST_S3_URL=http://KEY:SECRET@HOST:PORT to use another S3 server"

// Server is a running S3 server with root credentials.
type Server struct {
	Endpoint  string // http://127.0.0.1:PORT
	Region    string
	AccessKey string
	SecretKey string
	client    *s3.Client
}

var (
	once     sync.Once
	shared   *Server
	startErr error
	watchdog *os.File // the pipe's write end: kept open, and referenced, for the whole run
)

// Start returns the server shared by the test binary, starting it on first
// use; it fails t if the server cannot run.
func Start(t testing.TB) *Server {
	t.Helper()
	once.Do(func() { shared, startErr = start() })
	if startErr != nil {
		t.Fatalf("s3test: %v", startErr)
	}
	return shared
}

// Bucket starts the server if needed and creates an empty bucket for t,
// emptied and removed when t ends. It returns the server and the bucket.
func Bucket(t testing.TB) (*Server, string) {
	t.Helper()
	s := Start(t)
	return s, s.Bucket(t)
}

// Bucket creates an empty bucket for t, emptied and removed when t ends,
// and returns its name.
func (s *Server) Bucket(t testing.TB) string {
	t.Helper()
	name := bucketName(t.Name())
	in := &s3.CreateBucketInput{Bucket: &name}
	if s.Region != "us-east-1" {
		in.CreateBucketConfiguration = &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraint(s.Region)}
	}
	if _, err := s.client.CreateBucket(context.Background(), in); err != nil {
		t.Fatalf("s3test: create bucket %s at %s: %v", name, s.Endpoint, err)
	}
	t.Cleanup(func() {
		if err := s.removeBucket(name); err != nil {
			t.Logf("s3test: removing bucket %s: %v", name, err)
		}
	})
	return name
}

// URL is bucket's blob URL, as --blob / WHARF_BLOB take it.
func (s *Server) URL(bucket string) string {
	q := url.Values{"endpoint": {s.Endpoint}, "region": {s.Region}, "use_path_style": {"true"}}
	return "s3://" + bucket + "?" + q.Encode()
}

// Env is the credentials as the WHARF_S3_* variables wharf reads, for a
// child process.
func (s *Server) Env() []string {
	return []string{"WHARF_S3_ACCESS_KEY_ID=" + s.AccessKey, "WHARF_S3_SECRET_ACCESS_KEY=" + s.SecretKey}
}

// Client is an S3 client with the root credentials, for looking inside a
// bucket.
func (s *Server) Client() *s3.Client { return s.client }

func start() (*Server, error) {
	if raw := os.Getenv("WHARF_TEST_S3_URL"); raw != "" {
		return external(raw)
	}
	bin, err := FindBinary()
	if err != nil {
		return nil, err
	}
	s := &Server{Region: "us-east-1", AccessKey: "wharftest" + randHex(6), SecretKey: randHex(20)}
	// A free port found by listening can be taken before versitygw binds
	// it; a second port is then tried.
	for attempt := 1; ; attempt++ {
		err := s.launch(bin)
		if err == nil || attempt == 3 {
			return s, err
		}
	}
}

func (s *Server) launch(bin string) error {
	dir, err := os.MkdirTemp("", "wharf-s3test-")
	if err != nil {
		return err
	}
	data, logPath := filepath.Join(dir, "data"), filepath.Join(dir, "versitygw.log")
	logf, err := os.Create(logPath)
	if err == nil {
		err = os.Mkdir(data, 0o755)
	}
	if err != nil {
		os.RemoveAll(dir)
		return err
	}
	defer logf.Close()
	addr, err := freeAddr()
	if err != nil {
		os.RemoveAll(dir)
		return err
	}
	s.Endpoint = "http://" + addr
	s.client = newClient(s.Endpoint, s.Region, s.AccessKey, s.SecretKey)

	cmd := exec.Command(bin, "--port", addr, "--quiet", "posix", data)
	// Only what versitygw needs: it reads many VGW_* variables.
	cmd.Env = []string{"ROOT_ACCESS_KEY=" + s.AccessKey, "ROOT_SECRET_KEY=" + s.SecretKey, "HOME=" + dir}
	cmd.Stdout, cmd.Stderr = logf, logf
	// Own process groups: a Ctrl-C to `go test` must not kill them before
	// the watchdog has cleaned up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return fmt.Errorf("starting %s: %w", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	r, w, err := os.Pipe()
	if err != nil {
		cmd.Process.Kill()
		os.RemoveAll(dir)
		return err
	}
	dog := exec.Command("/bin/sh", "-c", watchdogScript,
		"s3test-watchdog", fmt.Sprint(cmd.Process.Pid), dir)
	dog.Stdin = r
	dog.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := dog.Start(); err != nil {
		cmd.Process.Kill()
		os.RemoveAll(dir)
		return fmt.Errorf("starting the watchdog shell: %w", err)
	}
	r.Close()
	go dog.Wait()

	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-exited:
			w.Close()
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("versitygw exited at start (%v); its log:\n%s", err, log)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := s.client.ListBuckets(ctx, &s3.ListBucketsInput{})
		cancel()
		if err == nil {
			watchdog = w
			return nil
		}
		if time.Now().After(deadline) {
			w.Close()
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("versitygw on %s not ready after 30s: %v; its log:\n%s", addr, err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// watchdogScript waits for the test binary to exit (EOF on stdin), stops
// versitygw ($1) and removes its directory ($2). The /proc check keeps it
// from signalling a process that reused the pid of a versitygw that died
// earlier.
const watchdogScript = `read -r _
if [ ! -d /proc ] || grep -qs versitygw "/proc/$1/cmdline"; then
	kill "$1" 2>/dev/null; sleep 0.5; kill -9 "$1" 2>/dev/null
fi
rm -rf "$2"`

// FindBinary finds versitygw in PATH, $GOBIN or $GOPATH/bin, where `go
// install` puts it (the benchmark harness uses it too).
func FindBinary() (string, error) {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	var tried []string
	dirs := []string{os.Getenv("GOBIN")}
	for _, gp := range filepath.SplitList(build.Default.GOPATH) {
		dirs = append(dirs, filepath.Join(gp, "bin"))
	}
	for _, d := range dirs {
		if d == "" {
			continue
		}
		p := filepath.Join(d, "versitygw")
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
		tried = append(tried, d)
	}
	return "", fmt.Errorf("versitygw not found in PATH or %s: %s", strings.Join(tried, ", "), InstallHint)
}

// external uses the server in WHARF_TEST_S3_URL. Errors never repeat the URL:
// it holds a secret.
func external(raw string) (*Server, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User == nil {
		return nil, errors.New("WHARF_TEST_S3_URL is malformed: want http://KEY:SECRET@HOST:PORT[?region=R]")
	}
	secret, _ := u.User.Password()
	s := &Server{Endpoint: u.Scheme + "://" + u.Host, Region: u.Query().Get("region"), AccessKey: u.User.Username(), SecretKey: secret}
	if s.Region == "" {
		s.Region = "us-east-1"
	}
	s.client = newClient(s.Endpoint, s.Region, s.AccessKey, s.SecretKey)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.client.ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil {
		return nil, fmt.Errorf("WHARF_TEST_S3_URL server %s: %w", s.Endpoint, err)
	}
	return s, nil
}

func newClient(endpoint, region, key, secret string) *s3.Client {
	return s3.New(s3.Options{
		BaseEndpoint:               aws.String(endpoint),
		Region:                     region,
		UsePathStyle:               true,
		Credentials:                credentials.NewStaticCredentialsProvider(key, secret, ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

// removeBucket aborts the bucket's uploads, deletes its objects, then the
// bucket: large test blobs must not pile up for the rest of the run.
func (s *Server) removeBucket(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ups, err := s.client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &name})
	if err != nil {
		return err
	}
	for _, u := range ups.Uploads {
		s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &name, Key: u.Key, UploadId: u.UploadId})
	}
	pages := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: &name})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, o := range page.Contents {
			if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &name, Key: o.Key}); err != nil {
				return err
			}
		}
	}
	_, err = s.client.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: &name})
	return err
}

// bucketName derives a valid, unique bucket name (3-63 of a-z 0-9 -) from
// a test name.
func bucketName(test string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(test) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else if s := b.String(); s != "" && !strings.HasSuffix(s, "-") {
			b.WriteByte('-')
		}
	}
	base := strings.Trim(b.String(), "-")
	base = strings.TrimRight(base[:min(len(base), 45)], "-")
	if base == "" {
		return "t-" + randHex(4)
	}
	return "t-" + randHex(4) + "-" + base
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
