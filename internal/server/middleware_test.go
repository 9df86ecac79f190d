package server

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// testMinProgress is the progress a body must make per idle timeout in
// these tests.
const testMinProgress = 4 << 10

// bodyServer serves a handler that reads the whole body and reports what
// reading it returned.
func bodyServer(t *testing.T, idle time.Duration) (*httptest.Server, chan error) {
	got := make(chan error, 1)
	srv := httptest.NewServer(requestMiddleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		got <- err
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "%d bytes", n)
	}), idle, testMinProgress))
	t.Cleanup(srv.Close)
	return srv, got
}

// TestStalledBodyIsCut: a client that sends part of a body and then nothing
// no longer holds the connection (and what the handler buffered) forever.
func TestStalledBodyIsCut(t *testing.T) {
	srv, got := bodyServer(t, 200*time.Millisecond)
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /upload HTTP/1.1\r\nHost: wharf\r\nContent-Length: 1000000\r\n\r\n0123456789")
	if err := <-got; !errors.Is(err, ErrBodyStalled) {
		t.Fatalf("reading the stalled body returned %v", err)
	}
	// The server answered and closed the connection.
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("x-amzn-RequestId") == "" {
		t.Fatalf("%d %v", resp.StatusCode, resp.Header)
	}
	if _, err := io.ReadAll(resp.Body); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(time.Minute)) // a safety net only
	if n, err := conn.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("connection still open: %d %v", n, err)
	}
}

// TestSteadyBodyIsNotCut: a body that keeps arriving, slowly, for longer
// than the idle timeout in total, is read to the end.
func TestSteadyBodyIsNotCut(t *testing.T) {
	idle := time.Second
	srv, got := bodyServer(t, idle)
	pr, pw := io.Pipe()
	go func() {
		chunk := make([]byte, testMinProgress/2) // two per idle window are enough
		for i := 0; i < 25; i++ {                // 2.5 s in all, never more than 0.1 s apart
			pw.Write(chunk)
			time.Sleep(idle / 10)
		}
		pw.Close()
	}()
	resp, err := http.Post(srv.URL+"/upload", "application/octet-stream", pr)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err := <-got; err != nil || resp.StatusCode != 200 || !strings.HasPrefix(string(body), fmt.Sprintf("%d bytes", 25*testMinProgress/2)) {
		t.Fatalf("%v: %d %s", err, resp.StatusCode, body)
	}
}

// TestTrickledBodyIsCut: a client sending a byte now and then, never quite
// silent, is cut like a silent one once an idle timeout passes with less
// than the minimum progress.
func TestTrickledBodyIsCut(t *testing.T) {
	srv, got := bodyServer(t, 300*time.Millisecond)
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /upload HTTP/1.1\r\nHost: wharf\r\nContent-Length: 1000000\r\n\r\n")
	stop := make(chan struct{})
	defer close(stop)
	go func() { // a byte every 20 ms: far more often than the idle timeout
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
				if _, err := conn.Write([]byte("x")); err != nil {
					return
				}
			}
		}
	}()
	select {
	case err := <-got:
		if !errors.Is(err, ErrBodyStalled) {
			t.Fatalf("reading the trickled body returned %v", err)
		}
	case <-time.After(time.Minute): // a safety net only
		t.Fatal("a body trickling a byte at a time was never cut")
	}
}
