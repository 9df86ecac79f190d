// Package s3blob stores blobs in an S3-compatible bucket (AWS S3, MinIO,
// Ceph RGW, SeaweedFS, versitygw) with fsblob's layout:
// <prefix><namespace>/<sha256[0:2]>/<sha256>.
//
// The digest, and so the key, is known only once the last byte has been read,
// and S3 has no rename. Put therefore streams the bytes, hashing them, into a
// temporary object <prefix>.tmp/<random> (a multipart upload of fixed-size
// parts: memory is one part per concurrent Put), then copies it server-side
// to its content-addressed key and deletes the temporary object. A key only
// ever appears complete: PutObject, CompleteMultipartUpload and CopyObject
// are all atomic. Namespaces cannot start with '.', so .tmp/ never collides
// with a blob.
//
// A crash mid-Put leaves an incomplete multipart upload or a temporary
// object, never a blob; CleanupStale removes them.
package s3blob

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/wharfhq/wharf/internal/blob"
)

const (
	// DefaultPartSize is the multipart part size, and so the memory one Put
	// holds. With S3's 10,000 parts per upload it bounds a blob to 78 GiB.
	DefaultPartSize = 8 << 20
	minPartSize     = 5 << 20 // S3's minimum for every part but the last
	maxParts        = 10000

	// S3 copies at most 5 GiB in one CopyObject; larger blobs are copied as
	// a multipart upload of UploadPartCopy ranges of copyPartSize.
	maxSingleCopy = 5 << 30
	copyPartSize  = 512 << 20

	// readAhead is how much one ReadAt fetches: archive/zip reads a wheel's
	// central directory and members in 4 KiB ReadAt calls, which must not
	// each cost a request.
	readAhead = 256 << 10

	tmpDir         = ".tmp/"
	cleanupTimeout = 30 * time.Second
)

// Config selects a bucket and how to reach it; ParseURL builds one from
// s3://BUCKET[/prefix]?endpoint=URL&region=R&use_path_style=true.
type Config struct {
	Bucket string
	// Prefix is put before every key, so installations can share a bucket:
	// "" or a path ending in "/".
	Prefix string
	// Endpoint is the S3 API base URL (http://127.0.0.1:7070); empty means
	// AWS S3 in Region.
	Endpoint string
	// Region: empty means the AWS chain's (AWS_REGION, ~/.aws/config), else
	// us-east-1 when Endpoint is set (what most S3-compatible servers expect).
	Region string
	// UsePathStyle addresses the bucket as ENDPOINT/BUCKET rather than
	// BUCKET.ENDPOINT; most self-hosted servers need it.
	UsePathStyle bool
	// AccessKeyID and SecretAccessKey: when both are empty, New reads
	// WHARF_S3_ACCESS_KEY_ID and WHARF_S3_SECRET_ACCESS_KEY, and when those
	// are unset too, uses the standard AWS chain (AWS_* variables, shared
	// config and credentials files, SSO, web identity, ECS and EC2 roles).
	AccessKeyID, SecretAccessKey string
	// PartSize is the multipart part size; 0 means DefaultPartSize.
	PartSize int64
}

// String describes c without its credentials, so a logged or printed
// Config never leaks the secret.
func (c Config) String() string {
	u := url.URL{Scheme: "s3", Host: c.Bucket}
	if c.Prefix != "" {
		u.Path = "/" + c.Prefix
	}
	q := url.Values{}
	if c.Endpoint != "" {
		q.Set("endpoint", c.Endpoint)
	}
	if c.Region != "" {
		q.Set("region", c.Region)
	}
	if c.UsePathStyle {
		q.Set("use_path_style", "true")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// GoString keeps %#v from printing the secret too.
func (c Config) GoString() string { return "s3blob.Config(" + c.String() + ")" }

// ParseURL parses s3://BUCKET[/prefix]?endpoint=URL&region=R&use_path_style=true.
// Credentials never go in the URL (it ends up in process listings and logs):
// see Config.AccessKeyID.
func ParseURL(raw string) (Config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error repeats the whole URL, which may hold a secret.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return Config{}, fmt.Errorf("s3blob: malformed blob URL: %v", err)
	}
	if u.Scheme != "s3" {
		return Config{}, fmt.Errorf("s3blob: blob URL scheme %q, want s3://BUCKET[/prefix]", u.Scheme)
	}
	if u.User != nil {
		return Config{}, errors.New("s3blob: the blob URL must not hold credentials; set WHARF_S3_ACCESS_KEY_ID and WHARF_S3_SECRET_ACCESS_KEY instead")
	}
	cfg := Config{Bucket: u.Host, Prefix: strings.TrimPrefix(u.Path, "/")}
	if cfg.Prefix != "" && !strings.HasSuffix(cfg.Prefix, "/") {
		cfg.Prefix += "/"
	}
	query, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return Config{}, fmt.Errorf("s3blob: malformed blob URL parameters: %v", err)
	}
	for k, vs := range query {
		v := vs[len(vs)-1]
		switch k {
		case "endpoint":
			cfg.Endpoint = v
		case "region":
			cfg.Region = v
		case "use_path_style":
			if cfg.UsePathStyle, err = strconv.ParseBool(v); err != nil {
				return Config{}, fmt.Errorf("s3blob: use_path_style=%q is not a boolean", v)
			}
		default:
			return Config{}, fmt.Errorf("s3blob: unknown blob URL parameter %q (known: endpoint, region, use_path_style)", k)
		}
	}
	return cfg, cfg.validate()
}

func (c Config) validate() error {
	if c.Bucket == "" || strings.Trim(c.Bucket, "abcdefghijklmnopqrstuvwxyz0123456789.-_") != "" {
		return fmt.Errorf("s3blob: bucket %q: want lowercase letters, digits, '.', '-' or '_'", c.Bucket)
	}
	if c.Prefix != "" {
		if !strings.HasSuffix(c.Prefix, "/") || blob.ValidateNamespace(strings.TrimSuffix(c.Prefix, "/")) != nil {
			return fmt.Errorf("s3blob: prefix %q: want '/'-separated segments of A-Z a-z 0-9 . _ - (none starting with '.') ending in '/'", c.Prefix)
		}
	}
	if c.Endpoint != "" {
		u, err := url.Parse(c.Endpoint)
		if err == nil && u.User != nil {
			return errors.New("s3blob: the endpoint must not hold credentials; set WHARF_S3_ACCESS_KEY_ID and WHARF_S3_SECRET_ACCESS_KEY instead")
		}
		if err != nil {
			return errors.New("s3blob: malformed endpoint URL") // url.Error would repeat it, secret and all
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("s3blob: endpoint %q: want http(s)://HOST[:PORT]", c.Endpoint)
		}
	}
	if c.PartSize != 0 && (c.PartSize < minPartSize || c.PartSize > maxSingleCopy) {
		return fmt.Errorf("s3blob: part size %d: want 5 MiB to 5 GiB", c.PartSize)
	}
	return nil
}

// Store is a blob.Store on an S3 bucket; safe for concurrent use.
type Store struct {
	client  *s3.Client
	presign *s3.PresignClient
	bucket  string
	prefix  string
	where   string // the endpoint, for error messages
	parts   sync.Pool

	// The multipart-copy thresholds, variables so tests need no 5 GiB blob.
	maxSingleCopy, copyPartSize int64
}

var (
	_ blob.Store   = (*Store)(nil)
	_ blob.Sweeper = (*Store)(nil)
)

// New connects to the bucket and checks that the credentials can list it,
// so a wrong endpoint, bucket or secret fails at startup, not at the first
// upload.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	partSize := cmp.Or(cfg.PartSize, DefaultPartSize)
	opts := []func(*config.LoadOptions) error{
		// Checksums only where S3 requires them: several S3-compatible
		// servers reject the SDK's default trailing CRC checksums, and
		// every request body is already covered by the SigV4 payload hash.
		config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
		config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired),
	}
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	id, secret := cfg.AccessKeyID, cfg.SecretAccessKey
	if id == "" && secret == "" {
		id, secret = os.Getenv("WHARF_S3_ACCESS_KEY_ID"), os.Getenv("WHARF_S3_SECRET_ACCESS_KEY")
	}
	switch {
	case id != "" && secret != "":
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(id, secret, "")))
	case id != "" || secret != "":
		return nil, errors.New("s3blob: set both WHARF_S3_ACCESS_KEY_ID and WHARF_S3_SECRET_ACCESS_KEY, or neither (to use the AWS credentials chain)")
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("s3blob: loading AWS configuration: %w", err)
	}
	if awsCfg.Region == "" {
		if cfg.Endpoint == "" {
			return nil, errors.New("s3blob: no region: add ?region= to the blob URL or set AWS_REGION")
		}
		awsCfg.Region = "us-east-1"
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.UsePathStyle
	})
	s := &Store{
		client:        client,
		presign:       s3.NewPresignClient(client),
		bucket:        cfg.Bucket,
		prefix:        cfg.Prefix,
		where:         cfg.Endpoint,
		parts:         sync.Pool{New: func() any { b := make([]byte, partSize); return &b }},
		maxSingleCopy: maxSingleCopy,
		copyPartSize:  copyPartSize,
	}
	if s.where == "" {
		s.where = "AWS S3 (" + awsCfg.Region + ")"
	}
	_, err = client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: &s.prefix, MaxKeys: aws.Int32(1)})
	if err != nil {
		hint := ""
		switch code(err) {
		case "SignatureDoesNotMatch", "InvalidAccessKeyId", "AccessDenied", "Forbidden", "InvalidToken", "ExpiredToken":
			hint = " (check WHARF_S3_ACCESS_KEY_ID / WHARF_S3_SECRET_ACCESS_KEY or the AWS credentials chain, and the bucket policy)"
		case "NoSuchBucket":
			hint = " (create the bucket first)"
		}
		return nil, fmt.Errorf("s3blob: cannot list bucket %q at %s%s: %w", s.bucket, s.where, hint, err)
	}
	return s, nil
}

func (s *Store) key(namespace, sum string) (string, error) {
	if err := blob.ValidateKey(namespace, sum); err != nil {
		return "", err
	}
	return s.prefix + namespace + "/" + sum[:2] + "/" + sum, nil
}

// fail wraps err (if any) with the operation, key and endpoint.
func (s *Store) fail(op, key string, err error) error {
	if err == nil {
		return nil
	}
	if storageFull(err) {
		// As a full disk does, so both planes answer "no space left" (507).
		return fmt.Errorf("s3blob: %s s3://%s/%s at %s: %w: %w", op, s.bucket, key, s.where, syscall.ENOSPC, err)
	}
	return fmt.Errorf("s3blob: %s s3://%s/%s at %s: %w", op, s.bucket, key, s.where, err)
}

// storageFull recognizes an S3 server's "out of space" answers: 507
// Insufficient Storage, and the codes MinIO and others give it.
func storageFull(err error) bool {
	switch code(err) {
	case "XMinioStorageFull", "InsufficientStorage", "StorageFull":
		return true
	}
	var status interface{ HTTPStatusCode() int }
	return errors.As(err, &status) && status.HTTPStatusCode() == http.StatusInsufficientStorage
}

// cleanupCtx outlives a cancelled request: a Put cancelled by its client
// must still abort its upload and delete its temporary object.
func cleanupCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
}

func (s *Store) Put(ctx context.Context, namespace string, r io.Reader, expectSHA256 string) (blob.Info, error) {
	if err := blob.ValidateNamespace(namespace); err != nil {
		return blob.Info{}, err
	}
	if expectSHA256 != "" {
		if err := blob.ValidateKey(namespace, expectSHA256); err != nil {
			return blob.Info{}, err
		}
	}
	tmp := s.prefix + tmpDir + rand.Text()
	// Whatever happens, the temporary object goes: after success, and also
	// after a failure that S3 may have completed anyway (a cancelled
	// request whose upload finished on the server).
	defer func() {
		cctx, cancel := cleanupCtx(ctx)
		defer cancel()
		s.client.DeleteObject(cctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: &tmp})
	}()

	h := sha256.New()
	buf := s.parts.Get().(*[]byte)
	size, err := s.upload(ctx, tmp, ctxReader{ctx, io.TeeReader(r, h)}, *buf)
	s.parts.Put(buf)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
			err = fmt.Errorf("%w (%v)", cerr, err)
		}
		return blob.Info{}, fmt.Errorf("s3blob: put: %w", err)
	}
	sum, err := blob.CheckSHA256(h, expectSHA256)
	if err != nil {
		return blob.Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return blob.Info{}, err
	}
	final, _ := s.key(namespace, sum)
	if info, err := s.head(ctx, final, sum); err == nil && info.Size == size {
		return info, nil // dedupe: the same bytes are already published
	}
	// A concurrent Put of the same bytes may copy too; the second copy
	// replaces the key with identical bytes, atomically.
	if err := s.copy(ctx, tmp, final, size); err != nil {
		return blob.Info{}, err
	}
	return s.head(ctx, final, sum)
}

// upload writes r to key as one PutObject when it fits in buf, else as a
// multipart upload of len(buf)-byte parts, aborted on any error. It returns
// the number of bytes written.
func (s *Store) upload(ctx context.Context, key string, r io.Reader, buf []byte) (int64, error) {
	n, err := readPart(r, buf)
	if err != nil {
		return 0, err
	}
	if n < len(buf) {
		_, err := s.client.PutObject(ctx, &s3.PutObjectInput{Bucket: &s.bucket, Key: &key,
			Body: bytes.NewReader(buf[:n]), ContentLength: aws.Int64(int64(n))})
		return int64(n), s.fail("upload", key, err)
	}
	mu, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &s.bucket, Key: &key})
	if err != nil {
		return 0, s.fail("start upload of", key, err)
	}
	done := false
	defer func() {
		if !done {
			s.abort(ctx, key, mu.UploadId)
		}
	}()
	var parts []types.CompletedPart
	var size int64
	for n > 0 {
		if len(parts) == maxParts {
			return 0, fmt.Errorf("s3blob: blob larger than %d parts of %d MiB: raise the part size", maxParts, len(buf)>>20)
		}
		num := int32(len(parts) + 1)
		out, err := s.client.UploadPart(ctx, &s3.UploadPartInput{Bucket: &s.bucket, Key: &key, UploadId: mu.UploadId,
			PartNumber: &num, Body: bytes.NewReader(buf[:n]), ContentLength: aws.Int64(int64(n))})
		if err != nil {
			return 0, s.fail(fmt.Sprintf("upload part %d of", num), key, err)
		}
		parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: &num})
		size += int64(n)
		if n < len(buf) {
			break
		}
		if n, err = readPart(r, buf); err != nil {
			return 0, err
		}
	}
	_, err = s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &s.bucket, Key: &key,
		UploadId: mu.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	if err != nil {
		return 0, s.fail("complete upload of", key, err)
	}
	done = true
	return size, nil
}

// readPart fills buf, or as much of it as r has left.
func readPart(r io.Reader, buf []byte) (int, error) {
	n, err := io.ReadFull(r, buf)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		err = nil
	}
	return n, err
}

func (s *Store) abort(ctx context.Context, key string, uploadID *string) {
	cctx, cancel := cleanupCtx(ctx)
	defer cancel()
	s.client.AbortMultipartUpload(cctx, &s3.AbortMultipartUploadInput{Bucket: &s.bucket, Key: &key, UploadId: uploadID})
}

// copy copies src to dst inside the bucket, server-side.
func (s *Store) copy(ctx context.Context, src, dst string, size int64) error {
	source := (&url.URL{Path: s.bucket + "/" + src}).EscapedPath()
	if size <= s.maxSingleCopy {
		_, err := s.client.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &s.bucket, Key: &dst, CopySource: &source})
		return s.fail("copy to", dst, err)
	}
	mu, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &s.bucket, Key: &dst})
	if err != nil {
		return s.fail("start copy to", dst, err)
	}
	done := false
	defer func() {
		if !done {
			s.abort(ctx, dst, mu.UploadId)
		}
	}()
	var parts []types.CompletedPart
	for off := int64(0); off < size; off += s.copyPartSize {
		num := int32(len(parts) + 1)
		rng := fmt.Sprintf("bytes=%d-%d", off, min(off+s.copyPartSize, size)-1)
		out, err := s.client.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: &s.bucket, Key: &dst, UploadId: mu.UploadId,
			PartNumber: &num, CopySource: &source, CopySourceRange: &rng})
		if err == nil && out.CopyPartResult == nil {
			err = errors.New("no CopyPartResult in the answer")
		}
		if err != nil {
			return s.fail(fmt.Sprintf("copy part %d to", num), dst, err)
		}
		parts = append(parts, types.CompletedPart{ETag: out.CopyPartResult.ETag, PartNumber: &num})
	}
	_, err = s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &s.bucket, Key: &dst,
		UploadId: mu.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	if err != nil {
		return s.fail("complete copy to", dst, err)
	}
	done = true
	return nil
}

func (s *Store) Open(ctx context.Context, namespace, sha256 string) (blob.Object, error) {
	key, err := s.key(namespace, sha256)
	if err != nil {
		return nil, err
	}
	info, err := s.head(ctx, key, sha256)
	if err != nil {
		return nil, err
	}
	return &Object{ctx: ctx, s: s, key: key, info: info}, nil
}

func (s *Store) Stat(ctx context.Context, namespace, sha256 string) (blob.Info, error) {
	key, err := s.key(namespace, sha256)
	if err != nil {
		return blob.Info{}, err
	}
	return s.head(ctx, key, sha256)
}

func (s *Store) head(ctx context.Context, key, sum string) (blob.Info, error) {
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: &key})
	if err != nil {
		return blob.Info{}, s.notFound("stat", key, err)
	}
	return blob.Info{SHA256: sum, Size: aws.ToInt64(out.ContentLength), ModTime: aws.ToTime(out.LastModified)}, nil
}

func (s *Store) Delete(ctx context.Context, namespace, sha256 string) error {
	key, err := s.key(namespace, sha256)
	if err != nil {
		return err
	}
	_, err = s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: &key})
	if err = s.notFound("delete", key, err); errors.Is(err, blob.ErrNotFound) {
		return nil // S3 answers 204 for a missing key; some compatibles 404
	}
	return err
}

// PresignGet returns a URL that downloads the blob without credentials
// until ttl (at most 7 days) has passed, for answering downloads with a
// redirect. It does not check that the blob exists. The URL names the
// configured endpoint, which clients must be able to reach.
func (s *Store) PresignGet(ctx context.Context, namespace, sha256 string, ttl time.Duration) (string, error) {
	key, err := s.key(namespace, sha256)
	if err != nil {
		return "", err
	}
	req, err := s.presign.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: &key}, s3.WithPresignExpires(ttl))
	if err != nil {
		return "", s.fail("presign", key, err)
	}
	return req.URL, nil
}

// CleanupStale removes what crashed or killed Puts left behind: multipart
// uploads under this store's prefix (of temporary objects, and of the
// multipart copies of blobs over 5 GiB) and temporary objects, started more
// than olderThan ago. Replicas call it at start. olderThan must exceed the
// longest Put another replica may still be running, and it absorbs the clock
// skew between this host and S3, whose timestamps are compared with
// time.Now: an hour is a sound choice. Uploads of keys that are not this
// store's are left alone, so a shared bucket is safe. It returns how many
// uploads and objects it removed.
func (s *Store) CleanupStale(ctx context.Context, olderThan time.Duration) (int, error) {
	cutoff := time.Now().Add(-olderThan)
	removed := 0
	in := &s3.ListMultipartUploadsInput{Bucket: &s.bucket, Prefix: &s.prefix}
	for {
		out, err := s.client.ListMultipartUploads(ctx, in)
		if err != nil {
			return removed, s.fail("list uploads in", s.prefix, err)
		}
		for _, u := range out.Uploads {
			key := aws.ToString(u.Key)
			if u.Initiated == nil || !u.Initiated.Before(cutoff) || !s.ours(key) {
				continue
			}
			_, err := s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &s.bucket, Key: &key, UploadId: u.UploadId})
			if err != nil && code(err) != "NoSuchUpload" { // another replica's cleanup was first
				return removed, s.fail("abort upload of", key, err)
			}
			removed++
		}
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
	pages := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: aws.String(s.prefix + tmpDir)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return removed, s.fail("list", s.prefix+tmpDir, err)
		}
		for _, o := range page.Contents {
			if o.LastModified == nil || !o.LastModified.Before(cutoff) {
				continue
			}
			if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: o.Key}); err != nil {
				return removed, s.fail("delete", aws.ToString(o.Key), err)
			}
			removed++
		}
	}
	return removed, nil
}

// List lists the blobs under this store's prefix, skipping temporary
// objects and keys that are not this store's (a shared bucket is safe).
func (s *Store) List(ctx context.Context, fn func(namespace string, info blob.Info) error) error {
	pages := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: &s.prefix})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return s.fail("list", s.prefix, err)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			rel := strings.TrimPrefix(key, s.prefix)
			if strings.HasPrefix(rel, tmpDir) || !s.ours(key) {
				continue
			}
			ns, sum := rel[:len(rel)-68], rel[len(rel)-64:]
			if err := fn(ns, blob.Info{SHA256: sum, Size: aws.ToInt64(o.Size), ModTime: aws.ToTime(o.LastModified)}); err != nil {
				return err
			}
		}
	}
	return nil
}

// ours reports whether key is a temporary object or a blob of this store.
func (s *Store) ours(key string) bool {
	rel, ok := strings.CutPrefix(key, s.prefix)
	if strings.HasPrefix(rel, tmpDir) {
		return ok
	}
	if !ok || len(rel) < 69 {
		return false
	}
	ns, sum := rel[:len(rel)-68], rel[len(rel)-64:]
	return blob.ValidateKey(ns, sum) == nil && rel == ns+"/"+sum[:2]+"/"+sum
}

// code is the S3 error code of err ("NoSuchKey"), or "".
func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// notFound maps S3's missing-key errors to blob.ErrNotFound and wraps the
// others with the operation, key and endpoint.
func (s *Store) notFound(op, key string, err error) error {
	switch code(err) {
	case "NotFound", "NoSuchKey":
		return fmt.Errorf("%w: s3://%s/%s", blob.ErrNotFound, s.bucket, key)
	}
	return s.fail(op, key, err)
}

// ctxReader stops a long upload soon after ctx is cancelled, between parts
// as well as during one.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
