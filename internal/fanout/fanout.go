// Package fanout writes one stream to several writers at once, each on its
// own goroutine.
//
// An upload is hashed several times: sha256 by the blob store, md5, sha1 and
// sha512 for the API's asset summary, blake2b to check what twine declares;
// and it is written to a file. One core hashes more slowly than loopback
// delivers (md5 and sha512 manage 500-800 MB/s each here), so doing all of
// it one after another on the request's goroutine made a 200 MiB upload
// cost the sum (bench/README.md, finding 9). Through a Writer every hash
// (and the file) works on the same bytes at the same time, and an upload
// costs about its slowest hash, as far as there are cores.
package fanout

import (
	"errors"
	"io"
	"sync"
)

// ChunkSize is how many bytes a Writer collects before its goroutines write
// them. Starting a goroutine costs about a microsecond, hashing 256 KiB a few
// hundred, so the hand-over is free; the two chunks a Writer holds stay in
// the CPU's cache while every hash reads them. (Measured on a 64 MiB upload:
// 64 KiB chunks 11% slower, 1 MiB no faster.)
const ChunkSize = 256 << 10

// ErrClosed is returned by Write after Close.
var ErrClosed = errors.New("fanout: write after Close")

// chunks recycles chunk buffers, so small uploads do not allocate them anew.
var chunks = sync.Pool{New: func() any { b := make([]byte, 0, ChunkSize); return &b }}

// Writer passes everything written to it on to several writers (hashes, a
// file), each on its own goroutine.
//
// Write copies into a chunk; a full chunk goes to the goroutines while Write
// returns and the caller goes on reading the next one into the second chunk
// (double buffering: reading the network overlaps with hashing; waiting in
// Write for each chunk instead made an upload 1.5 times slower). Before a
// chunk is handed over, the goroutines must have finished the one before, so
// memory is two chunks whatever the stream's size.
//
// The writers have seen everything written only once Close has returned.
// Several writers can share a goroutine as one io.MultiWriter (on two cores
// that measured no faster than a goroutine each).
//
// A goroutine lives for one chunk: a Writer abandoned on an error path
// without Close leaves nothing running once the chunk in flight is written.
// Callers still defer Close, so that those goroutines have ended before they
// close or remove what the writers write to.
//
// A Writer is not safe for concurrent use, like the hashes it feeds.
type Writer struct {
	dsts   []io.Writer
	errs   []error // errs[i]: what dsts[i] returned for the chunk in flight
	fill   *[]byte // the chunk Write copies into; nil until the first Write
	flight *[]byte // the chunk last handed to the goroutines; nil before the first
	busy   sync.WaitGroup
	err    error // the first error of any writer, returned from then on
	closed bool
}

// NewWriter returns a Writer feeding dsts, each on its own goroutine.
func NewWriter(dsts ...io.Writer) *Writer {
	return &Writer{dsts: dsts, errs: make([]error, len(dsts))}
}

// Write copies p into the current chunk, handing full chunks to the
// goroutines. A writer's error surfaces at the Write or Close after the chunk
// that caused it, and from then on every call returns it.
func (w *Writer) Write(p []byte) (int, error) {
	if w.closed {
		return 0, ErrClosed
	}
	if w.err != nil {
		return 0, w.err
	}
	if w.fill == nil {
		w.fill = chunks.Get().(*[]byte)
	}
	n := 0
	for len(p) > 0 {
		buf := *w.fill
		c := copy(buf[len(buf):cap(buf)], p)
		*w.fill = buf[:len(buf)+c]
		n, p = n+c, p[c:]
		if len(*w.fill) == cap(*w.fill) {
			if err := w.handOver(); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// handOver waits for the chunk in flight, then starts one goroutine per
// writer on the filled chunk and takes the other buffer to fill.
func (w *Writer) handOver() error {
	if err := w.wait(); err != nil {
		return err
	}
	next := w.flight
	if next == nil {
		next = chunks.Get().(*[]byte)
	}
	*next = (*next)[:0]
	w.flight, w.fill = w.fill, next
	chunk := *w.flight
	for i, d := range w.dsts {
		w.busy.Go(func() { w.errs[i] = writeAll(d, chunk) })
	}
	return nil
}

// wait blocks until the chunk in flight has been written everywhere and
// records the first error.
func (w *Writer) wait() error {
	w.busy.Wait()
	for _, err := range w.errs {
		if w.err == nil {
			w.err = err
		}
	}
	return w.err
}

// Close hands over what is left, waits for every goroutine and returns the
// first error any writer returned. After Close the writers (hashes) have
// seen every byte written. Calling Close again returns the same error.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if w.err == nil && w.fill != nil && len(*w.fill) > 0 {
		w.handOver()
	}
	err := w.wait()
	for _, b := range []*[]byte{w.fill, w.flight} {
		if b != nil {
			*b = (*b)[:0]
			chunks.Put(b)
		}
	}
	w.fill, w.flight = nil, nil
	return err
}

func writeAll(d io.Writer, p []byte) error {
	n, err := d.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	return err
}
