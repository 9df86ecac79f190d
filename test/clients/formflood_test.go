package clients

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestUploadFormFloodMemory sends, with a read-only token and with a
// publish token, an upload form of about two million empty fields and no
// file (110 MB). The read-only token is refused with 403 before its body
// is parsed; the publish token with 400 once the form passes its bounds.
// Neither may grow the server's memory with the number of fields.
func TestUploadFormFloodMemory(t *testing.T) {
	t.Parallel()
	const domain, repo = "flood", "repo"
	srv := startServer(t, serverConfig{})
	c := newClientEnv(t, srv)
	c.createDomainAndRepo(domain, repo)
	endpoint := srv.Endpoint(domain, repo)
	reader := c.tokenAs(c.adminCreateKey("flood-reader", "read"), domain)
	publisher := c.tokenAs(c.adminCreateKey("flood-publisher", "publish"), domain)
	pid := srv.cmd.Process.Pid

	for _, tc := range []struct {
		who, token string
		status     int
		body       string
	}{
		{"read-only token", reader, 403, "codeartifact:PublishPackageVersion"},
		{"publish token", publisher, 400, "form fields"},
	} {
		resetPeakRSS(t, pid)
		before := procStatus(t, pid, "VmRSS:")
		const fields = 2 << 20
		boundary := "flood-boundary"
		req, _ := http.NewRequest("POST", endpoint, &fieldFlood{boundary: boundary, left: fields})
		req.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
		req.SetBasicAuth("aws", tc.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.who, err)
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		peak, after := procStatus(t, pid, "VmHWM:"), procStatus(t, pid, "VmRSS:")
		t.Logf("%s, %d empty fields (%d MB): %s; server VmRSS %d MB before, peak %d MB, %d MB after",
			tc.who, fields, fieldFloodSize(boundary, fields)/1e6, resp.Status, before/1e6, peak/1e6, after/1e6)
		if resp.StatusCode != tc.status || !strings.Contains(string(b), tc.body) {
			t.Errorf("%s: want %d mentioning %q, got %s\n%s", tc.who, tc.status, tc.body, resp.Status, b)
		}
		if peak-before > 64<<20 {
			t.Errorf("%s: the server grew by %d MB reading a form of empty fields: memory must not grow with the number of fields", tc.who, (peak-before)/1e6)
		}
	}
}

// fieldFlood is a multipart body of left empty fields named "f", then the
// closing boundary: the smallest form that costs a careless parser most.
type fieldFlood struct {
	boundary string
	left     int
	pending  []byte
}

func (f *fieldFlood) Read(p []byte) (int, error) {
	for len(f.pending) < len(p) && f.left > 0 {
		f.pending = append(f.pending, floodField(f.boundary)...)
		f.left--
		if f.left == 0 {
			f.pending = append(f.pending, "--"+f.boundary+"--\r\n"...)
		}
	}
	if len(f.pending) == 0 {
		return 0, io.EOF
	}
	n := copy(p, f.pending)
	f.pending = f.pending[n:]
	return n, nil
}

func floodField(boundary string) string {
	return "--" + boundary + "\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\n\r\n"
}

func fieldFloodSize(boundary string, n int) int64 {
	return int64(n*len(floodField(boundary)) + len(boundary) + 6)
}

// procStatus reads a memory figure (VmRSS:, VmHWM:) of a process, in bytes.
func procStatus(t *testing.T, pid int, field string) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fs := strings.Fields(sc.Text()); len(fs) == 3 && fs[0] == field {
			kb, _ := strconv.ParseInt(fs[1], 10, 64)
			return kb << 10
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// resetPeakRSS resets VmHWM to the current RSS (Linux clear_refs), so each
// flood's peak is its own.
func resetPeakRSS(t *testing.T, pid int) {
	t.Helper()
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
		t.Fatalf("resetting the server's peak RSS: %v", err)
	}
}
