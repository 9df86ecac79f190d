package clients

import (
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "modernc.org/sqlite" // to measure the server's database
)

// dbBytes is the size of the server's SQLite database once its
// write-ahead log is checkpointed into it (the log's own size says more
// about checkpoint timing than about what is stored).
func dbBytes(t *testing.T, dir string) int64 {
	t.Helper()
	path := filepath.Join(dir, "wharf.db")
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestUpstreamMissesAreBounded is issue 11 item 6: a read-only token asking
// for many distinct unknown names can neither make unbounded upstream
// requests nor grow the database without bound. Names too long to be a
// Python project are refused before anything is asked; valid unknown
// names cost one upstream request each up to the per-principal limit, then
// 429 with Retry-After.
func TestUpstreamMissesAreBounded(t *testing.T) {
	var upstreamRequests atomic.Int64
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		upstreamRequests.Add(1)
		http.NotFound(w, r)
	}))
	defer up.Close()
	srv := startServer(t, serverConfig{Env: map[string]string{
		"WHARF_EXTERNAL_CONNECTIONS": "public:pypi=" + up.URL + "/simple/",
		"WHARF_UPSTREAM_MISS_LIMIT":  "300/1m",
	}})
	c := newClientEnv(t, srv)
	const domain = "misses"
	c.createDomainAndRepo(domain, "store")
	c.aws(nil, "associate-external-connection", "--domain", domain, "--repository", "store", "--external-connection", "public:pypi")
	auth := basic("aws", c.tokenAs(c.adminCreateKey("reader", "read"), domain))
	base := srv.Endpoint(domain, "store") + "simple/"

	// flood asks for n distinct names of the given length, 8 at a time,
	// and counts the answers by status.
	flood := func(n, length int, prefix string) (map[int]int, reply) {
		statuses := map[int]int{}
		var mu sync.Mutex
		var sample reply
		var wg sync.WaitGroup
		next := atomic.Int64{}
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := next.Add(1); i <= int64(n); i = next.Add(1) {
					tag := fmt.Sprintf("%s%d-", prefix, i)
					name := tag + strings.Repeat("x", length-len(tag))
					r := fetch(t, "GET", base+name+"/", nil, auth)
					mu.Lock()
					statuses[r.Status]++
					if r.Status == 429 || sample.Status == 0 {
						sample = r
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		return statuses, sample
	}

	before, start := dbBytes(t, srv.DataDir), time.Now()
	statuses, sample := flood(1000, 8<<10, "long")
	grew := dbBytes(t, srv.DataDir) - before
	t.Logf("1,000 distinct 8 KB names: %v in %v, %d upstream requests, database +%d bytes", statuses, time.Since(start).Round(time.Millisecond), upstreamRequests.Load(), grew)
	if statuses[404] != 1000 || upstreamRequests.Load() != 0 || !strings.Contains(string(sample.Body), "at most 246") {
		t.Errorf("names too long to exist must be refused before the upstream is asked: %v, %d upstream requests\n%s", statuses, upstreamRequests.Load(), sample)
	}
	if grew > 1<<20 {
		t.Errorf("refused names grew the database by %d bytes", grew)
	}
	// A download under such a name is refused the same way.
	long := strings.Repeat("y", 8<<10)
	dl := fetch(t, "GET", base+long+"/1.0/"+long+"-1.0.tar.gz", nil, auth)
	if dl.Status/100 != 4 || upstreamRequests.Load() != 0 {
		t.Errorf("a download under a name too long to exist: %d upstream requests\n%s", upstreamRequests.Load(), dl)
	}

	before, start = dbBytes(t, srv.DataDir), time.Now()
	statuses, sample = flood(1000, 200, "valid")
	grew = dbBytes(t, srv.DataDir) - before
	t.Logf("1,000 distinct unknown 200-byte names: %v in %v, %d upstream requests, database +%d bytes", statuses, time.Since(start).Round(time.Millisecond), upstreamRequests.Load(), grew)
	if statuses[429] == 0 || sample.Status != 429 || sample.Header.Get("Retry-After") == "" || !strings.Contains(string(sample.Body), "300 per 1m") {
		t.Errorf("past the limit a principal gets 429 with Retry-After: %v\n%s", statuses, sample)
	}
	// 300 at once, refilled at 5 a second while the flood lasts.
	if n := upstreamRequests.Load(); n < 300 || n > 300+int64(5*time.Since(start).Seconds())+5 {
		t.Errorf("%d upstream requests for one principal's 1,000 misses, want the limit's 300 (and what refilled)", n)
	}
	// Another principal is not held back by the first one's misses.
	other := basic("aws", c.token(domain))
	mustStatus(t, fetch(t, "GET", base+"another-principal/", nil, other), 404)
}
