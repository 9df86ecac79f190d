package api

import (
	"crypto/rand"
	"fmt"
	"net/http"
)

// RequestIDHeader is the header AWS services answer every request with; the
// SDKs show it in their errors ("RequestID: ...") and it ties a client's
// report to the server's log line.
const RequestIDHeader = "x-amzn-RequestId"

// SetRequestID gives a response a request id unless it has one, and
// returns it. The server's middleware calls it for both planes.
func SetRequestID(h http.Header) string {
	if id := h.Get(RequestIDHeader); id != "" {
		return id
	}
	id := newRequestID()
	h.Set(RequestIDHeader, id)
	return id
}

// RequestID is the id SetRequestID gave w's response ("" if none).
func RequestID(w http.ResponseWriter) string { return w.Header().Get(RequestIDHeader) }

// newRequestID is a random (version 4) UUID, the form AWS's ids take.
func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
