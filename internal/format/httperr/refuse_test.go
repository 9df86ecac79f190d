package httperr

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// TestRefuseReasonPhrase reads a refusal off the wire: the message is the
// status line's reason phrase (what twine and pdm show) and the body (what
// uv shows), and the headers set before it (the Basic challenge that makes
// pip and uv send credentials, the request id) are kept.
func TestRefuseReasonPhrase(t *testing.T) {
	msg := "The token expired at 12:00.\nGet a new one:  wharf token"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Basic realm="d/r"`)
		w.Header().Set("X-Amzn-Requestid", "req-1")
		Refuse(w, r, http.StatusUnauthorized, msg)
	}))
	defer srv.Close()
	for _, method := range []string{"GET", "POST", "HEAD"} {
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		body := ""
		if method == "POST" {
			body = strings.Repeat("x", 100_000) // read before answering
		}
		io.WriteString(conn, method+" / HTTP/1.1\r\nHost: x\r\nContent-Length: "+itoa(len(body))+"\r\n\r\n"+body)
		req, _ := http.NewRequest(method, "/", nil)
		resp, err := http.ReadResponse(bufio.NewReader(conn), req)
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		got, _ := io.ReadAll(resp.Body)
		conn.Close()
		if want := "401 The token expired at 12:00. Get a new one: wharf token"; resp.Status != want {
			t.Errorf("%s: status line %q, want %q", method, resp.Status, want)
		}
		wantBody := msg + "\n"
		if method == "HEAD" {
			wantBody = ""
		}
		if string(got) != wantBody {
			t.Errorf("%s: body %q, want %q", method, got, wantBody)
		}
		if !resp.Close {
			t.Errorf("%s: no Connection: close after a hijacked answer", method)
		}
		for h, want := range map[string]string{"WWW-Authenticate": `Basic realm="d/r"`, "X-Amzn-Requestid": "req-1",
			"Content-Type": "text/plain; charset=utf-8", "Content-Length": itoa(len(msg) + 1)} {
			if v := resp.Header.Get(h); v != want {
				t.Errorf("%s: %s = %q, want %q", method, h, v, want)
			}
		}
	}
}

// Without a connection to hijack (HTTP/2, a recorder), the body still
// carries the message.
func TestRefuseWithoutHijack(t *testing.T) {
	rec := httptest.NewRecorder()
	Refuse(rec, httptest.NewRequest("GET", "/", nil), http.StatusForbidden, "denied")
	if rec.Code != http.StatusForbidden || rec.Body.String() != "denied\n" {
		t.Errorf("got %d %q", rec.Code, rec.Body)
	}
}

func TestReasonPhrase(t *testing.T) {
	for in, want := range map[string]string{
		"one line":                   "one line",
		" two\r\nlines \t here\n":    "two lines here",
		"naïve “quotes”\x00\x7f end": "nave quotes end",
		"":                           "",
	} {
		if got := reasonPhrase(in); got != want {
			t.Errorf("reasonPhrase(%q) = %q, want %q", in, got, want)
		}
	}
	if got := reasonPhrase(strings.Repeat("ab ", 1000)); len(got) > maxReasonPhrase {
		t.Errorf("reasonPhrase is %d bytes, more than %d", len(got), maxReasonPhrase)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
