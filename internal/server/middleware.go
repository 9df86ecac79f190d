package server

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/wharfhq/wharf/internal/api"
)

// DefaultBodyIdleTimeout is how long a request body may send nothing
// before the server gives up on it (--body-idle-timeout).
const DefaultBodyIdleTimeout = 60 * time.Second

// MinBodyProgress is how many bytes a request body must deliver within
// each --body-idle-timeout to keep going (16 KiB a minute by default,
// under 300 bytes a second): a client trickling a byte at a time holds
// its connection no longer than a silent one. A body smaller than this
// must simply arrive whole within one timeout.
const MinBodyProgress = 16 << 10

// requestMiddleware is what every request of both planes goes through:
// a request id on the response (x-amzn-RequestId, as AWS answers, which the
// SDKs print and the refusal log lines carry), and an idle deadline on the
// body.
func requestMiddleware(next http.Handler, bodyIdle time.Duration, minProgress int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		api.SetRequestID(w.Header())
		if bodyIdle > 0 && r.Body != nil && r.Body != http.NoBody {
			r.Body = &idleBody{body: r.Body, rc: http.NewResponseController(w), idle: bodyIdle, minProgress: minProgress}
		}
		next.ServeHTTP(w, r)
	})
}

// ErrBodyStalled is what reading a request body returns when the client
// sent nothing for the idle timeout.
var ErrBodyStalled = errors.New("the request body stalled")

// idleBody cuts a request body that makes too little progress: the
// connection's read deadline is idle from the first read, and moves to
// idle from now each time minProgress more bytes have arrived. So a slow
// but steady upload of any size goes through, while a stalled one, or one
// trickling bytes to hold the connection on purpose, is cut and its memory
// and file handles released. A whole-request ReadTimeout could not tell
// the two apart.
type idleBody struct {
	body        io.ReadCloser
	rc          *http.ResponseController
	idle        time.Duration
	minProgress int64
	armed       bool  // the first deadline is set
	progress    int64 // bytes since the deadline last moved
	noDead      bool  // the connection does not support deadlines
	done        bool
}

func (b *idleBody) Read(p []byte) (int, error) {
	if !b.armed && !b.done {
		b.armed = true
		b.extend()
	}
	n, err := b.body.Read(p)
	if b.progress += int64(n); b.progress >= b.minProgress && err == nil {
		b.progress = 0
		b.extend()
	}
	if err != nil && !b.done {
		b.done = true
		switch {
		case err == io.EOF && !b.noDead:
			// net/http reads the connection in the background once the
			// body is consumed (to notice a client going away): that read
			// must not inherit this deadline, or it would cancel a handler
			// still at work.
			b.rc.SetReadDeadline(time.Time{})
		case errors.Is(err, os.ErrDeadlineExceeded):
			// The deadline stays expired, so that net/http's own attempt
			// to drain the rest of the body fails at once too and the
			// connection is closed after the response.
			err = fmt.Errorf("%w: the client sent less than %d bytes in %s (--body-idle-timeout): %w", ErrBodyStalled, b.minProgress, b.idle, err)
		}
	}
	return n, err
}

// extend moves the read deadline to idle from now.
func (b *idleBody) extend() {
	if b.noDead || b.done {
		return
	}
	if err := b.rc.SetReadDeadline(time.Now().Add(b.idle)); err != nil {
		b.noDead = true
	}
}

func (b *idleBody) Close() error { return b.body.Close() }
