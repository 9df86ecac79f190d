package clients

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestStalledBodiesAreCut: a client that starts a body and goes quiet, on
// either plane, is cut after --body-idle-timeout and answered; before, it
// held its connection and what the server had buffered for ever.
func TestStalledBodiesAreCut(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverConfig{Env: map[string]string{"WHARF_BODY_IDLE_TIMEOUT": "1s"}})
	c := newClientEnv(t, srv)
	c.createDomainAndRepo("stalls", "repo")
	token := c.token("stalls")
	host := strings.TrimPrefix(srv.URL, "http://")
	date := time.Now().UTC().Format("20060102T150405Z")
	for _, tc := range []struct {
		name, head, prefix string
		trickle            bool // a byte every 50 ms instead of silence
	}{
		{"control plane, unsigned-hash body (knowing a key id is enough)", fmt.Sprintf(
			"POST /v1/domain?domain=stalled HTTP/1.1\r\nHost: %s\r\nX-Amz-Date: %s\r\nContent-Type: application/json\r\n"+
				"Authorization: AWS4-HMAC-SHA256 Credential=%s/%s/%s/codeartifact/aws4_request, SignedHeaders=host;x-amz-date, Signature=%s\r\n",
			host, date, rootKeyID, date[:8], region, strings.Repeat("ab", 32)), "", false},
		{"data plane, authenticated upload", fmt.Sprintf(
			"POST /stalls-%s/pypi/repo/ HTTP/1.1\r\nHost: %s\r\n%s\r\nContent-Type: multipart/form-data; boundary=xyz\r\n",
			accountID, host, basic("aws", token)), "--xyz\r\nContent-Disposition: form-data; name=\"comment\"\r\n\r\n", false},
		{"data plane, authenticated upload trickling a byte at a time", fmt.Sprintf(
			"POST /stalls-%s/pypi/repo/ HTTP/1.1\r\nHost: %s\r\n%s\r\nContent-Type: multipart/form-data; boundary=xyz\r\n",
			accountID, host, basic("aws", token)), "--xyz\r\nContent-Disposition: form-data; name=\"comment\"\r\n\r\n", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", host)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			fmt.Fprintf(conn, "%sContent-Length: %d\r\n\r\n%s%s", tc.head, 1<<20, tc.prefix, strings.Repeat("x", 1<<10))
			if tc.trickle {
				stop := make(chan struct{})
				defer close(stop)
				go func() {
					for {
						select {
						case <-stop:
							return
						case <-time.After(50 * time.Millisecond):
							if _, err := conn.Write([]byte("x")); err != nil {
								return
							}
						}
					}
				}()
			}
			// A safety net only: the server answers after about a second.
			conn.SetReadDeadline(time.Now().Add(15 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("no answer to a stalled body: %v\n%s", err, srv.log.Tail(4096))
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode < 400 || resp.StatusCode >= 500 || resp.Header.Get("x-amzn-RequestId") == "" {
				t.Errorf("%d %v\n%s", resp.StatusCode, resp.Header, body)
			}
			if n, err := conn.Read(make([]byte, 1)); n != 0 || err != io.EOF {
				t.Errorf("the connection is still open after the answer: %d %v", n, err)
			}
		})
	}
}
