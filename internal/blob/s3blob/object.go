package s3blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/wharfhq/wharf/internal/blob"
)

// Object is an open blob read with ranged GETs. Read streams from the
// current offset over one GET, kept open until a Seek moves elsewhere or
// Close; ReadAt fetches readAhead-sized windows and serves small reads from
// the last one. Requests use the context given to Open, so a blob opened
// for an HTTP request stops downloading when the request ends.
//
// Read and Seek are for one goroutine; ReadAt may be called concurrently
// (with itself and with Read).
type Object struct {
	ctx  context.Context
	s    *Store
	key  string
	info blob.Info

	off  int64         // Read/Seek position
	body io.ReadCloser // the GET Read is consuming, from off; nil until Read

	mu     sync.Mutex // guards the ReadAt window
	win    []byte
	winOff int64
}

var _ blob.Object = (*Object)(nil)

func (o *Object) Info() blob.Info { return o.info }

func (o *Object) Read(p []byte) (int, error) {
	if o.off >= o.info.Size {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	if o.body == nil {
		body, err := o.get(o.off, o.info.Size)
		if err != nil {
			return 0, err
		}
		o.body = body
	}
	n, err := o.body.Read(p)
	o.off += int64(n)
	switch {
	case err == io.EOF && o.off < o.info.Size:
		err = io.ErrUnexpectedEOF
	case err != nil && err != io.EOF:
		err = o.s.fail("read", o.key, err)
	}
	if err != nil {
		o.body.Close()
		o.body = nil // a later Read retries with a new GET from off
	}
	return n, err
}

func (o *Object) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		offset += o.off
	case io.SeekEnd:
		offset += o.info.Size
	case io.SeekStart:
	default:
		return o.off, fmt.Errorf("s3blob: seek: invalid whence %d", whence)
	}
	if offset < 0 {
		return o.off, errors.New("s3blob: seek: negative position")
	}
	if offset != o.off && o.body != nil {
		o.body.Close()
		o.body = nil
	}
	o.off = offset
	return offset, nil
}

func (o *Object) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("s3blob: ReadAt: negative offset")
	}
	want := int(min(int64(len(p)), max(0, o.info.Size-off)))
	o.mu.Lock()
	defer o.mu.Unlock()
	for n := 0; n < want; {
		cur := off + int64(n)
		if cur >= o.winOff && cur < o.winOff+int64(len(o.win)) {
			n += copy(p[n:want], o.win[cur-o.winOff:])
			continue
		}
		if want-n >= readAhead { // a large read goes straight into p
			if err := o.fill(p[n:want], cur); err != nil {
				return n, err
			}
			break
		}
		// A window near the end reaches back from it: zip reads the end of
		// directory record first, then the central directory before it.
		start := cur
		if o.info.Size-cur < readAhead {
			start = max(0, o.info.Size-readAhead)
		}
		if o.win == nil {
			o.win = make([]byte, 0, readAhead)
		}
		o.win, o.winOff = o.win[:min(readAhead, o.info.Size-start)], start
		if err := o.fill(o.win, start); err != nil {
			o.win = o.win[:0]
			return n, err
		}
	}
	if want < len(p) {
		return want, io.EOF
	}
	return want, nil
}

// fill reads len(p) bytes from off.
func (o *Object) fill(p []byte, off int64) error {
	body, err := o.get(off, off+int64(len(p)))
	if err != nil {
		return err
	}
	defer body.Close()
	if _, err := io.ReadFull(body, p); err != nil {
		return o.s.fail("read", o.key, err)
	}
	return nil
}

// get GETs the bytes [start, end).
func (o *Object) get(start, end int64) (io.ReadCloser, error) {
	rng := fmt.Sprintf("bytes=%d-%d", start, end-1)
	out, err := o.s.client.GetObject(o.ctx, &s3.GetObjectInput{Bucket: &o.s.bucket, Key: &o.key, Range: &rng})
	if err != nil {
		return nil, o.s.notFound("get", o.key, err)
	}
	// A server that ignored Range would send the whole object from 0.
	if n := aws.ToInt64(out.ContentLength); out.ContentLength != nil && n != end-start {
		out.Body.Close()
		return nil, o.s.fail("get", o.key, fmt.Errorf("asked for %s, got %d bytes", rng, n))
	}
	return out.Body, nil
}

func (o *Object) Close() error {
	if o.body != nil {
		o.body.Close()
		o.body = nil
	}
	o.mu.Lock()
	o.win = nil
	o.mu.Unlock()
	return nil
}
