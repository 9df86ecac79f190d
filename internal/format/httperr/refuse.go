package httperr

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Refuse answers a refusal that a person has to read, through every
// channel a Python client shows (docs/CLIENTS.md): the plain-text body (uv
// publish, poetry publish) and, on HTTP/1.x, the status line's reason
// phrase (twine, pdm publish, poetry publish, pip's downloads, pdm -v),
// which carries msg in place of "Unauthorized" or "Forbidden". net/http
// cannot set a reason phrase, so the response is written on the hijacked
// connection, which is then closed; the headers already set on w
// (WWW-Authenticate, Retry-After, the request id) go with it. Over HTTP/2,
// which has no reason phrase, only the body carries msg.
//
// The rest of the request body is read first, so that a client still
// sending (twine, requests, curl send everything before reading) sees the
// answer instead of a connection reset; callers bound it
// (http.MaxBytesReader) where it may be large.
func Refuse(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
	}
	setPlainText(w.Header())
	if r.ProtoMajor == 1 && writeWithReason(w, r, status, msg) {
		return
	}
	w.WriteHeader(status)
	fmt.Fprintln(w, msg)
}

// writeWithReason writes the whole response itself, with msg as the reason
// phrase, and reports whether it could (the connection could be hijacked).
func writeWithReason(w http.ResponseWriter, r *http.Request, status int, msg string) bool {
	h := w.Header().Clone()
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return false
	}
	defer conn.Close()
	body := msg + "\n"
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Connection", "close")
	h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	reason := reasonPhrase(msg)
	if reason == "" {
		reason = http.StatusText(status)
	}
	var out bytes.Buffer
	fmt.Fprintf(&out, "HTTP/1.1 %03d %s\r\n", status, reason)
	h.Write(&out) // replaces line breaks in values, so no header can be injected
	out.WriteString("\r\n")
	if r.Method != http.MethodHead {
		out.WriteString(body)
	}
	buf.Write(out.Bytes())
	buf.Flush()
	return true
}

// maxReasonPhrase bounds the reason phrase: long enough for wharf's
// longest refusal (the JSON document as password, with the command that
// prints the bare token), far below what clients accept in a status line
// (Python's http.client: 64 KiB).
const maxReasonPhrase = 1024

// reasonPhrase makes msg fit a status line (RFC 9112: tabs, spaces and
// visible characters): one line of printable ASCII, line breaks and runs
// of spaces folded into one space, at most maxReasonPhrase bytes.
func reasonPhrase(msg string) string {
	var b strings.Builder
	space := false
	for _, c := range strings.TrimSpace(msg) {
		if b.Len() >= maxReasonPhrase {
			break
		}
		switch {
		case c == ' ' || c == '\n' || c == '\r' || c == '\t':
			space = true
		case c > ' ' && c < 0x7f:
			if space {
				b.WriteByte(' ')
				space = false
			}
			b.WriteRune(c)
		}
	}
	return b.String()
}

func setPlainText(h http.Header) {
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
}
