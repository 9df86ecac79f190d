package clients

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/wharfhq/wharf/internal/blob/s3blob"
	"github.com/wharfhq/wharf/internal/testenv/pgtest"
	"github.com/wharfhq/wharf/internal/testenv/s3test"
)

// TestReplicas is issue #6's check: two replicas on one real PostgreSQL and
// one real S3 server (versitygw) behave as one wharf, whichever replica a
// request reaches, and survive each other's crashes and storage outages.
func TestReplicas(t *testing.T) {
	pg := pgtest.NewServer(t)
	dsn := pg.NewDatabase(t)
	s3srv, bucket := s3test.Bucket(t)
	pub := newStaticIndex(t)
	hot := makeWheel(t, "hot", "1.0", "")
	pub.publish("hot", nil, hot)
	env := map[string]string{"WHARF_STORE": dsn, "WHARF_BLOB": s3srv.URL(bucket),
		"WHARF_EXTERNAL_CONNECTIONS": "public:pypi=" + pub.srv.URL + "/simple/"}
	for _, kv := range s3srv.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	a := startServer(t, serverConfig{Env: env})
	b := startServer(t, serverConfig{Env: env})
	ca, cb := newClientEnv(t, a), newClientEnv(t, b)
	const domain, repo = "shared", "hub"

	// The domain is created on one replica, the repository on the other.
	ca.must(nil, need(t, "aws"), "codeartifact", "create-domain", "--domain", domain, "--endpoint-url", a.URL, "--region", region)
	cb.awsText("create-repository", "--domain", domain, "--repository", repo, "--query", "repository.name")
	if got := ca.awsText("describe-repository", "--domain", domain, "--repository", repo, "--query", "repository.name"); got != repo {
		t.Fatalf("replica A does not see the repository created on B: %q", got)
	}

	// A token minted on A works on B; an upload through A installs through B.
	tok := ca.token(domain)
	auth := basic("aws", tok)
	whl := makeWheel(t, "replicated", "1.0", "")
	mustStatus(t, upload(t, a.Endpoint(domain, repo), whl, auth), 200)
	venv := filepath.Join(cb.Work, "venv")
	cb.must(nil, need(t, "python3"), "-m", "venv", venv)
	indexURL := strings.Replace(b.Endpoint(domain, repo), "http://", "http://aws:"+tok+"@", 1) + "simple/"
	dl := filepath.Join(cb.Work, "dl")
	cb.must(nil, filepath.Join(venv, "bin", "pip"), "download", "--no-deps", "-d", dl, "--index-url", indexURL, "replicated")
	if got := readFile(t, filepath.Join(dl, whl.Filename)); sha256hex(got) != sha256hex(whl.Data) {
		t.Fatal("pip through replica B got other bytes than were uploaded through A")
	}

	// Upstream fetches coalesce across replicas: 40 concurrent requests,
	// half through each replica, for an uncached page and then an uncached
	// file make one upstream request each.
	ca.awsText("create-repository", "--domain", domain, "--repository", "mirror", "--query", "repository.name")
	ca.awsText("associate-external-connection", "--domain", domain, "--repository", "mirror", "--external-connection", "public:pypi", "--query", "repository.name")
	pub.slow.Store(int64(300 * time.Millisecond)) // hold the upstream so the requests overlap
	for _, path := range []string{"simple/hot/", "simple/hot/1.0/" + hot.Filename} {
		var wg sync.WaitGroup
		statuses := make(chan int, 40)
		for i := range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				srv := []*server{a, b}[i%2]
				req, _ := http.NewRequest("GET", srv.Endpoint(domain, "mirror")+path, nil)
				req.SetBasicAuth("aws", tok)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					statuses <- 0
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				statuses <- resp.StatusCode
			}()
		}
		wg.Wait()
		close(statuses)
		for st := range statuses {
			if st != 200 {
				t.Fatalf("GET %s through the replicas: status %d", path, st)
			}
		}
	}
	pub.slow.Store(0)
	if pages, files := pub.count("/simple/hot/"), pub.count("/packages/"+hot.Filename); pages != 1 || files != 1 {
		t.Fatalf("40 requests over two replicas made %d page and %d file requests upstream, want 1 and 1", pages, files)
	}
	t.Logf("cross-replica coalescing: 40 requests over 2 replicas -> 1 upstream page request, 1 upstream file request")

	// Rotating the token signing key on A: tokens issued before keep
	// working on both replicas, and B accepts tokens signed with the new key
	// without a restart.
	r := ca.must([]string{"WHARF_ENDPOINT_URL=" + a.URL}, wharfBin, "admin", "rotate-token-key")
	if !strings.Contains(r.Stdout, "new tokens are signed with key") {
		t.Fatalf("rotate-token-key:\n%s", r)
	}
	fresh := ca.token(domain)
	if tokenKeyID(t, fresh) == tokenKeyID(t, tok) {
		t.Fatalf("the token minted after rotation is signed by the old key %s", tokenKeyID(t, tok))
	}
	for _, tk := range []string{tok, fresh} {
		for _, srv := range []*server{a, b} {
			mustStatus(t, fetch(t, "GET", srv.Endpoint(domain, repo)+"simple/replicated/", nil, basic("aws", tk)), 200)
		}
	}

	// Two racing uploads of one filename with different bytes, one through
	// each replica: exactly one wins and both replicas serve its bytes.
	for round := range 3 {
		version := fmt.Sprintf("2.%d", round)
		x, y := makeWheel(t, "racy", version, "X = 1\n"), makeWheel(t, "racy", version, "Y = 2\n")
		var wg sync.WaitGroup
		replies := make([]reply, 2)
		for i, target := range []struct {
			srv *server
			d   dist
		}{{a, x}, {b, y}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				replies[i] = upload(t, target.srv.Endpoint(domain, repo), target.d, auth)
			}()
		}
		wg.Wait()
		won := 0
		var winner dist
		for i, r := range replies {
			switch r.Status {
			case 200:
				won++
				winner = []dist{x, y}[i]
			case 409:
				if !strings.Contains(string(r.Body), "File already exists") {
					t.Fatalf("the losing upload's refusal:\n%s", r)
				}
			default:
				t.Fatalf("racing upload:\n%s", r)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d of 2 racing uploads succeeded, want exactly 1", round, won)
		}
		for _, srv := range []*server{a, b} {
			got := fetch(t, "GET", srv.Endpoint(domain, repo)+"simple/racy/"+version+"/"+x.Filename, nil, auth)
			mustStatus(t, got, 200)
			if sha256hex(got.Body) != sha256hex(winner.Data) {
				t.Fatalf("round %d: %s serves other bytes than the winning upload", round, srv.URL)
			}
		}
	}

	// A replica killed during a 200 MB upload leaves no partial version;
	// the other keeps serving.
	big := dist{Name: "crashy", Version: "1.0", Filetype: "bdist_wheel", Filename: "crashy-1.0-py3-none-any.whl"}
	reached := make(chan struct{})
	gen := &patternReader{left: 200 << 20, mark: 80 << 20, reached: reached}
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() { pw.CloseWithError(writeUploadForm(mw, big, "", gen)) }()
	req, _ := http.NewRequest("POST", a.Endpoint(domain, repo), pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.SetBasicAuth("aws", tok)
	go func() {
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	select {
	case <-reached:
	case <-time.After(3 * time.Minute):
		t.Fatalf("replica A consumed only %d MiB in 3 minutes", gen.sent.Load()>>20)
	}
	a.Kill()
	if r := fetch(t, "GET", b.Endpoint(domain, repo)+"simple/crashy/", nil, auth, acceptJSON); r.Status != 404 {
		t.Fatalf("the upload interrupted by the crash is visible on B:\n%s", r)
	}
	mustStatus(t, fetch(t, "GET", b.Endpoint(domain, repo)+"simple/replicated/", nil, auth), 200)
	mustStatus(t, upload(t, b.Endpoint(domain, repo), makeWheel(t, "after-crash", "1.0", ""), auth), 200)
	// The killed replica's multipart upload is left in S3 until a cleanup
	// (replicas run one at start for uploads older than an hour; here the
	// age limit is zero because the test cannot wait an hour).
	cfg, err := s3blob.ParseURL(s3srv.URL(bucket))
	if err != nil {
		t.Fatal(err)
	}
	cfg.AccessKeyID, cfg.SecretAccessKey = s3srv.AccessKey, s3srv.SecretKey
	blobs, err := s3blob.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := blobs.CleanupStale(t.Context(), 0); err != nil || n == 0 {
		t.Fatalf("cleanup after the crash removed %d leftovers (%v); the killed upload should have left one", n, err)
	}
	ups, err := s3srv.Client().ListMultipartUploads(t.Context(), &s3.ListMultipartUploadsInput{Bucket: &bucket})
	if err != nil || len(ups.Uploads) != 0 {
		t.Fatalf("multipart uploads left after cleanup: %d (%v)", len(ups.Uploads), err)
	}

	// PostgreSQL goes away: clear 503s with Retry-After, then B recovers
	// by itself when it returns.
	// (A page B rendered before may still come from its cache; ask for
	// one it never rendered.)
	pg.Stop()
	down := fetch(t, "GET", b.Endpoint(domain, repo)+"simple/after-crash/", nil, auth)
	if down.Status != 503 || down.Header.Get("Retry-After") == "" {
		t.Fatalf("with PostgreSQL down:\n%s", down)
	}
	if hz := fetch(t, "GET", b.URL+"/healthz", nil); hz.Status != 503 {
		t.Fatalf("/healthz with PostgreSQL down:\n%s", hz)
	}
	pg.Start(t)
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := fetch(t, "GET", b.Endpoint(domain, repo)+"simple/after-crash/", nil, auth)
		if r.Status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica B did not recover after PostgreSQL came back:\n%s", r)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// tokenKeyID reads the signing key id from a wharf token's payload (the
// payload is not secret; the signature is what makes a token).
func tokenKeyID(t *testing.T, tok string) string {
	parts := strings.Split(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	var p struct{ Kid string }
	if err != nil || json.Unmarshal(raw, &p) != nil || p.Kid == "" {
		t.Fatalf("cannot read the key id of a token: %v", err)
	}
	return p.Kid
}

// replicaEnv points replicas at a new PostgreSQL server of the test's own
// and one new bucket of a real S3 server (versitygw).
func replicaEnv(t *testing.T) map[string]string {
	t.Helper()
	s3srv, bucket := s3test.Bucket(t)
	env := map[string]string{"WHARF_STORE": pgtest.NewServer(t).NewDatabase(t), "WHARF_BLOB": s3srv.URL(bucket)}
	for _, kv := range s3srv.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	return env
}

// startReplicaPair starts two replicas on one real PostgreSQL and one real
// S3 server (versitygw), with a domain and repository, and returns client
// environments pointed at each.
func startReplicaPair(t *testing.T, domain, repo string) (a, b *server, ca, cb *clientEnv) {
	t.Helper()
	env := replicaEnv(t)
	a = startServer(t, serverConfig{Env: env})
	b = startServer(t, serverConfig{Env: env})
	ca, cb = newClientEnv(t, a), newClientEnv(t, b)
	ca.createDomainAndRepo(domain, repo)
	return a, b, ca, cb
}

// Issue 11, item 10: a write acknowledged by one replica is seen by the
// next request any replica receives. 200 rounds of publishing through A
// and reading the project page through B (which has the page cached from
// the round before), then twine through A and pip through B, as a CI job
// behind a load balancer does.
func TestReplicasReadTheirWrites(t *testing.T) {
	const domain, repo = "ryw", "repo"
	a, b, ca, cb := startReplicaPair(t, domain, repo)
	tok := ca.token(domain)
	auth := basic("aws", tok)
	const rounds = 200
	misses := 0
	for i := range rounds {
		version := fmt.Sprintf("1.%d", i)
		mustStatus(t, upload(t, a.Endpoint(domain, repo), makeWheel(t, "ryw-pkg", version, ""), auth), 200)
		page := fetch(t, "GET", b.Endpoint(domain, repo)+"simple/ryw-pkg/", nil, auth, acceptJSON)
		mustStatus(t, page, 200)
		if !strings.Contains(string(page.Body), `"`+version+`"`) {
			misses++
		}
	}
	if misses > 0 {
		t.Fatalf("%d of %d versions published through replica A were missing from replica B's project page right after", misses, rounds)
	}

	// twine through A, then pip through B at once.
	venv := filepath.Join(cb.Work, "venv")
	cb.must(nil, need(t, "python3"), "-m", "venv", venv)
	indexURL := strings.Replace(b.Endpoint(domain, repo), "http://", "http://aws:"+tok+"@", 1) + "simple/"
	for i := range 3 {
		version := fmt.Sprintf("2.%d", i)
		whl := makeWheel(t, "ryw-pkg", version, "")
		writeDist(t, ca, whl)
		ca.must([]string{"TWINE_REPOSITORY_URL=" + a.Endpoint(domain, repo), "TWINE_USERNAME=aws", "TWINE_PASSWORD=" + tok},
			need(t, "twine"), "upload", "--disable-progress-bar", whl.Filename)
		dl := filepath.Join(cb.Work, "dl", version)
		cb.must(nil, filepath.Join(venv, "bin", "pip"), "download", "--no-deps", "--no-cache-dir", "-d", dl, "--index-url", indexURL, "ryw-pkg=="+version)
	}
}

// Issue 11, item 7 across replicas: a token minted on A and revoked on A
// is refused by B on the next request, although B has already verified it
// and remembered the reads it allowed.
func TestReplicasRevokeTokens(t *testing.T) {
	const domain, repo = "rvk", "repo"
	a, b, ca, _ := startReplicaPair(t, domain, repo)
	mustStatus(t, upload(t, a.Endpoint(domain, repo), makeWheel(t, "rvk-pkg", "1.0", ""), basic("aws", ca.token(domain))), 200)
	page := b.Endpoint(domain, repo) + "simple/rvk-pkg/"
	adminOnA := []string{"WHARF_ENDPOINT_URL=" + a.URL}

	// Revoked by access key id.
	k1 := ca.adminCreateKey("ci", "publish")
	t1 := ca.tokenAs(k1, domain)
	mustStatus(t, fetch(t, "GET", page, nil, basic("aws", t1)), 200)
	if r := ca.run(adminOnA, wharfBin, "admin", "revoke-tokens", "--access-key-id", k1.AccessKey.AccessKeyId); r.Code != 0 {
		t.Fatalf("revoke-tokens on A:\n%s", r)
	}
	if r := fetch(t, "GET", page, nil, basic("aws", t1)); r.Status != 401 || !strings.Contains(string(r.Body), "revoked") {
		t.Fatalf("B's next request with the token revoked on A:\n%s", r)
	}
	mustStatus(t, fetch(t, "GET", page, nil, basic("aws", ca.tokenAs(k1, domain))), 200) // minted after: fine

	// Revoked by deleting the key.
	k2 := ca.adminCreateKey("deploy", "publish")
	t2 := ca.tokenAs(k2, domain)
	mustStatus(t, fetch(t, "GET", page, nil, basic("aws", t2)), 200)
	if r := ca.run(adminOnA, wharfBin, "admin", "delete-access-key", "--access-key-id", k2.AccessKey.AccessKeyId); r.Code != 0 {
		t.Fatalf("delete-access-key on A:\n%s", r)
	}
	mustStatus(t, fetch(t, "GET", page, nil, basic("aws", t2)), 401)
	mustStatus(t, upload(t, b.Endpoint(domain, repo), makeWheel(t, "rvk-pkg", "2.0", ""), basic("aws", t2)), 401)
}
