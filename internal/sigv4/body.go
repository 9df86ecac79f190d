package sigv4

// What a signature says about the body, and what the verifier must read of
// it before it knows who is asking.
//
// A request that states its payload hash (X-Amz-Content-SHA256) is verified
// before a byte of its body is read; the body is then checked as the handler
// streams it (hashCheck). Only a request that does not state the hash (the aws
// CLI and the Go SDK on JSON operations) must be read before the signature
// can be checked: those bodies are buffered, at most MaxBody bytes each and
// at most MaxUnverified bytes across all requests at once, growing with the
// bytes actually received, and the memory is counted as unverified only
// until the signature is known good or bad.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
)

const (
	defaultMaxBody       = 1 << 20
	defaultMaxUnverified = 32 << 20
	defaultMaxStreamed   = 5 << 30 // CodeArtifact's asset size limit
)

// ErrBodyMismatch is what reading a request body returns (wrapped in a
// *BodyMismatchError) when its bytes do not match the X-Amz-Content-SHA256
// the request was signed with.
var ErrBodyMismatch = errors.New("sigv4: request body does not match its signed X-Amz-Content-SHA256")

// BodyMismatchError is a genuinely signed request whose body does not hash
// to the SHA-256 its X-Amz-Content-SHA256 header states. Both are hex.
type BodyMismatchError struct {
	Stated, Actual string
}

func (e *BodyMismatchError) Error() string {
	return fmt.Sprintf("%v: the header states %s, the body received hashes to %s", ErrBodyMismatch, e.Stated, e.Actual)
}

func (e *BodyMismatchError) Is(target error) bool { return target == ErrBodyMismatch }

// hashCheck passes a body through and fails its last read if the bytes do
// not hash to want.
type hashCheck struct {
	body io.ReadCloser
	h    hash.Hash
	want string
}

func checkBody(body io.ReadCloser, want string) io.ReadCloser {
	if body == nil || body == http.NoBody {
		body = io.NopCloser(bytes.NewReader(nil))
	}
	return &hashCheck{body: body, h: sha256.New(), want: strings.ToLower(want)}
}

func (c *hashCheck) Read(p []byte) (int, error) {
	n, err := c.body.Read(p)
	c.h.Write(p[:n])
	if err == io.EOF {
		if got := hex.EncodeToString(c.h.Sum(nil)); got != c.want {
			return n, &BodyMismatchError{Stated: c.want, Actual: got}
		}
	}
	return n, err
}

func (c *hashCheck) Close() error { return c.body.Close() }

// budget counts the bytes buffered for requests not yet verified.
type budget struct{ used atomic.Int64 }

func (b *budget) take(n, limit int64) bool {
	if b.used.Add(n) > limit {
		b.used.Add(-n)
		return false
	}
	return true
}

func (b *budget) give(n int64) { b.used.Add(-n) }

// Unverified reports the bytes now buffered for requests whose signature is
// not yet checked (for tests and metrics).
func (v *Verifier) Unverified() int64 { return v.unverified.used.Load() }

func (v *Verifier) maxBody() int64 {
	if v.MaxBody > 0 {
		return v.MaxBody
	}
	return defaultMaxBody
}

func (v *Verifier) maxUnverified() int64 {
	if v.MaxUnverified > 0 {
		return v.MaxUnverified
	}
	return defaultMaxUnverified
}

func (v *Verifier) maxStreamed() int64 {
	if v.MaxStreamed > 0 {
		return v.MaxStreamed
	}
	return defaultMaxStreamed
}

// readUnverified buffers the body of a request that does not state its
// payload hash, so that the hash can be computed. The buffer grows with the
// bytes received (doubling from 4 KiB), each growth taken from the shared
// budget first; release gives it all back and must be called once the
// signature has been checked.
func (v *Verifier) readUnverified(r *http.Request) (body []byte, release func(), e *Error) {
	var held int64
	release = func() { v.unverified.give(held); held = 0 }
	if r.Body == nil || r.Body == http.NoBody {
		return nil, release, nil
	}
	limit := v.maxBody()
	tooLarge := &Error{Code: "RequestEntityTooLargeException", Status: http.StatusRequestEntityTooLarge,
		Message: fmt.Sprintf("The request body is larger than %d bytes, the most this server reads to check a signature. Larger bodies must state their SHA-256 in X-Amz-Content-SHA256.", limit)}
	if r.ContentLength > limit {
		return nil, release, tooLarge
	}
	for {
		if len(body) == cap(body) {
			if int64(len(body)) > limit {
				release()
				return nil, release, tooLarge
			}
			grow := int64(max(cap(body), 4<<10))
			grow = min(grow, limit+1-int64(cap(body)))
			if !v.unverified.take(grow, v.maxUnverified()) {
				release()
				return nil, release, &Error{Code: "ThrottlingException", Status: http.StatusTooManyRequests,
					Message: "The server is reading too many request bodies whose signature it cannot check yet; retry in a few seconds. (Clients that send X-Amz-Content-SHA256 are not limited by this.)"}
			}
			held += grow
			next := make([]byte, len(body), int64(cap(body))+grow)
			copy(next, body)
			body = next
		}
		n, err := r.Body.Read(body[len(body):cap(body)])
		body = body[:len(body)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			release()
			return nil, release, &Error{Code: "ValidationException", Status: http.StatusBadRequest, Message: "Could not read the request body: " + err.Error()}
		}
	}
	if int64(len(body)) > limit {
		release()
		return nil, release, tooLarge
	}
	r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body, release, nil
}

// hashUnverified reads and discards a streamed body, up to MaxStreamed
// bytes, and returns its SHA-256. It holds no more than a read buffer.
func (v *Verifier) hashUnverified(r *http.Request) (string, *Error) {
	h := sha256.New()
	if r.Body != nil {
		n, err := io.Copy(h, io.LimitReader(r.Body, v.maxStreamed()+1))
		if err != nil {
			return "", &Error{Code: "ValidationException", Status: http.StatusBadRequest, Message: "Could not read the request body: " + err.Error()}
		}
		if n > v.maxStreamed() {
			return "", &Error{Code: "RequestEntityTooLargeException", Status: http.StatusRequestEntityTooLarge,
				Message: fmt.Sprintf("The request body is larger than %d bytes.", v.maxStreamed())}
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func isHexSHA256(s string) bool {
	return len(s) == 64 && strings.Trim(strings.ToLower(s), "0123456789abcdef") == ""
}
