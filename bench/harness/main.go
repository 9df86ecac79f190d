// Command harness runs wharf and its references side by side on loopback,
// loads the same data into each, drives them with wrk and prints a table of
// ratios measured in one run. bench/run.sh installs what it needs and calls
// it; see bench/README.md.
package main

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/wharfhq/wharf/internal/client"
)

const (
	accountID  = "123456789012"
	rootKeyID  = "AKIAWHARFBENCH000001"
	rootSecret = "wharfBenchSecretAccessKey000000000000000"
	domain     = "bench"
	repo       = "bench"
	project    = "bench-project"
	bigProject = "bench-big"
	versions   = 150

	acceptJSON = "application/vnd.pypi.simple.v1+json"
	acceptHTML = "text/html"
)

var (
	wharfBin   = flag.String("wharf", "", "the wharf binary")
	ceilingBin = flag.String("ceiling", "", "the stack-ceiling binary (bench/ceiling)")
	workDir    = flag.String("work", "", "scratch directory (default: a new temporary one, removed at the end)")
	duration   = flag.Duration("duration", 10*time.Second, "length of one wrk run")
	rounds     = flag.Int("rounds", 3, "rounds; the table shows medians")
	conns      = flag.Int("conns", 32, "connections for the page workloads")
	threads    = flag.Int("threads", 2, "wrk threads")
	bigMiB     = flag.Int("big-mib", 64, "size of the download workload's file in MiB")
	pypiSrc    = flag.String("pypiserver-src", os.Getenv("PYPISERVER_SRC"), "a pypiserver source tree (the directory holding pypiserver/); empty: leave pypiserver out")
	wharfEnv   = flag.String("wharf-env", os.Getenv("BENCH_WHARF_ENV"), "extra environment for every wharf started, space-separated KEY=VALUE")
	wharfLabel = flag.String("wharf-label", envOr("BENCH_WHARF_LABEL", "SQLite + fs"), "how the table names the main wharf's backend (when -wharf-env changes it)")
	pgS3       = flag.Bool("postgres-s3", true, "also measure wharf on PostgreSQL + S3 in the wrk table: a throwaway PostgreSQL (Debian's /usr/lib/postgresql/*/bin) and versitygw")
	vgwBin     = flag.String("versitygw", "", "the versitygw binary (default: from PATH, $GOBIN or $GOPATH/bin)")
	only       = flag.String("only", "", "comma-separated workloads to run (json,html,gzip,download,upstream,memory,upload,pip,scale); empty: all")
	pprofOut   = flag.String("cpuprofile", "", "after the rounds, record a CPU profile of wharf under the JSON workload into this file (needs WHARF_PPROF support in wharf)")
	markdown   = flag.String("markdown", "", "also write the result table (Markdown) to this file")
)

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func main() {
	flag.Parse()
	log.SetFlags(log.Ltime)
	if *wharfBin == "" || *ceilingBin == "" && *soakFor == 0 {
		log.Fatal("-wharf and -ceiling are required (bench/run.sh builds them)")
	}
	h := &harness{}
	defer h.stopAll()
	// Interrupted: stop every server's whole process group (nginx's and
	// gunicorn's workers too), not just the processes started here.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sig
		h.stopAll()
		if *workDir == "" && h.dir != "" {
			os.RemoveAll(h.dir)
		}
		os.Exit(130)
	}()
	if err := h.run(); err != nil {
		h.stopAll()
		log.Fatal(err)
	}
}

type harness struct {
	stopOnce  sync.Once
	dir       string
	procs     []*proc
	auth      string // Authorization header value of the main wharf, nginx, the ceiling and pypiserver
	wharf     endpoint
	wharfPG   endpoint // wharf on PostgreSQL + S3; zero when left out (-postgres-s3=false)
	ceiling   endpoint
	nginx     endpoint
	pypi      endpoint // zero when pypiserver is left out
	wharfPID  int
	main      *wharfInst
	pgs3      *pgs3Stack // the second wharf, PostgreSQL and versitygw
	wheels    []wheel    // the 150 versions of project
	big       wheel      // the download workload's file
	bigSHA    string
	nginxBase string
	nginxLog  string // access log of the /upstream/ and /pip/ locations
	pprofAddr string
	uploadURL string
	bigSize   int64
}

// endpoint is one server's URLs for the workloads.
type endpoint struct {
	name     string
	backend  string // wharfs: what the table calls its storage
	auth     string // its Authorization header, when not h.auth (another wharf, another token)
	pgid     int    // process group, for CPU accounting; for wharf also its pid
	backing  []backing
	page     string // project page (Accept decides JSON or HTML)
	jsonPage string // where Accept is not used (nginx): the JSON page
	htmlPage string
	download string
}

// backing is a process a server's requests reach in turn (PostgreSQL,
// versitygw): its CPU is counted per request too, separately.
type backing struct {
	name string
	pid  int
}

// authOf is the Authorization header ep accepts.
func (h *harness) authOf(ep endpoint) string {
	if ep.auth != "" {
		return ep.auth
	}
	return h.auth
}

func (h *harness) run() error {
	var err error
	h.dir = *workDir
	if h.dir == "" {
		if h.dir, err = os.MkdirTemp("", "wharf-bench-"); err != nil {
			return err
		}
		defer os.RemoveAll(h.dir)
		defer h.stopAll() // before the directory goes (PostgreSQL's data is in it)
	} else if ents, err := os.ReadDir(h.dir); err == nil && len(ents) > 0 {
		return fmt.Errorf("-work %s is not empty: the harness loads fresh data into a fresh directory", h.dir)
	} else if err := os.MkdirAll(h.dir, 0o755); err != nil {
		return err
	}
	log.Printf("scratch directory %s", h.dir)
	if err := h.startWharf(); err != nil {
		return err
	}
	if err := h.load(); err != nil {
		return err
	}
	if *soakFor > 0 { // the soak instead of the benchmarks (soak.go)
		return h.runSoak()
	}
	if *pgS3 && len(workloads()) > 0 {
		if err := h.startPGS3(); err != nil {
			return fmt.Errorf("wharf on PostgreSQL + S3: %w (-postgres-s3=false leaves it out)", err)
		}
	}
	if err := h.startCeiling(); err != nil {
		return err
	}
	if err := h.startNginx(); err != nil {
		return err
	}
	if *pypiSrc != "" {
		if err := h.startPypiserver(); err != nil {
			log.Printf("pypiserver left out: %v", err)
			h.pypi = endpoint{}
		}
	} else {
		log.Printf("pypiserver left out: no source tree (set PYPISERVER_SRC)")
	}
	if err := h.verify(); err != nil {
		return err
	}
	var table string
	if len(workloads()) > 0 {
		res := h.measure()
		table = h.table(res)
		fmt.Println()
		fmt.Print(table)
	}
	if *pprofOut != "" && len(workloads()) > 0 {
		if err := h.profile(h.wharf, h.pprofAddr, *pprofOut); err != nil {
			return err
		}
		if h.pgs3 != nil {
			ext := filepath.Ext(*pprofOut)
			if err := h.profile(h.wharfPG, h.pgs3.pprofAddr, strings.TrimSuffix(*pprofOut, ext)+".pg-s3"+ext); err != nil {
				return err
			}
		}
	}
	// The other workloads have the machine to themselves.
	if h.pgs3 != nil {
		h.pgs3.stop()
	}
	extra, err := h.extras()
	if extra != "" {
		fmt.Println()
		fmt.Print(extra)
		table += "\n" + extra
	}
	if *markdown != "" {
		if werr := os.WriteFile(*markdown, []byte(table), 0o644); werr != nil {
			return werr
		}
	}
	return err
}

// ------------------------------------------------------------ processes

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// proc is a server the harness started, leader of a process group of its
// own, so that nginx's and gunicorn's workers are counted and stopped with
// it. (PostgreSQL's backends each start a group of their own: see treeCPU.)
type proc struct {
	name   string
	cmd    *exec.Cmd
	pid    int           // also the process group's id
	exited chan struct{} // closed once the leader has exited
	// postmaster: stopped with SIGINT to the leader alone (PostgreSQL's
	// fast shutdown, which removes its shared memory), not SIGTERM to the
	// group (a signal to its backends directly would look like a crash).
	postmaster bool
	stopOnce   sync.Once
}

// start runs bin with the harness's environment plus env.
func (h *harness) start(name string, env []string, bin string, args ...string) (*proc, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	return h.launch(name, cmd, false)
}

// launch starts cmd in a process group of its own, its output in
// NAME.log in the scratch directory, and registers it for stopAll.
func (h *harness) launch(name string, cmd *exec.Cmd, postmaster bool) (*proc, error) {
	logf, err := os.Create(filepath.Join(h.dir, name+".log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child has its own copy
	cmd.Stdout, cmd.Stderr = logf, logf
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig, cmd.SysProcAttr.Setpgid = syscall.SIGKILL, true
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, pid: cmd.Process.Pid, exited: make(chan struct{}), postmaster: postmaster}
	go func() { cmd.Wait(); close(p.exited) }()
	h.procs = append(h.procs, p)
	return p, nil
}

// stop asks p to end, waits for it, then kills whatever is left of its
// process group. Only the first call does anything.
func (p *proc) stop() {
	p.stopOnce.Do(func() {
		grace := 10 * time.Second
		if p.postmaster {
			syscall.Kill(p.pid, syscall.SIGINT)
			grace = 30 * time.Second // a checkpoint first
		} else {
			syscall.Kill(-p.pid, syscall.SIGTERM)
		}
		select {
		case <-p.exited:
		case <-time.After(grace):
			log.Printf("%s (pid %d) did not stop within %s; killing it", p.name, p.pid, grace)
		}
		syscall.Kill(-p.pid, syscall.SIGKILL) // workers left behind
		<-p.exited
	})
}

// stopProcs stops ps all at once.
func stopProcs(ps []*proc) {
	var wg sync.WaitGroup
	for _, p := range ps {
		wg.Go(p.stop)
	}
	wg.Wait()
}

func (h *harness) stopAll() {
	h.stopOnce.Do(func() { stopProcs(h.procs) })
}

func waitHTTP(url string, header http.Header) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequest("GET", url, nil)
		for k, v := range header {
			req.Header[k] = v
		}
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode < 500 {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s did not answer within 30s", url)
}

// ------------------------------------------------------------ wharf + data

func (h *harness) startWharf() error {
	env := []string{}
	if *pprofOut != "" || *soakFor > 0 {
		h.pprofAddr = freeAddr()
		env = append(env, "WHARF_PPROF="+h.pprofAddr)
	}
	w, err := h.newWharf("wharf", filepath.Join(h.dir, "wharf-data"), env)
	if err != nil {
		return err
	}
	h.main = w
	h.wharfPID = w.pid
	h.uploadURL = w.ep
	h.auth = w.auth
	h.wharf = endpoint{name: "wharf (" + *wharfLabel + ")", backend: *wharfLabel,
		page:     w.ep + "simple/" + project + "/",
		download: w.ep + "simple/" + bigProject + "/1.0/" + bigWheelName(),
	}
	h.wharf.jsonPage, h.wharf.htmlPage = h.wharf.page, h.wharf.page
	h.wharf.pgid = w.pid
	return nil
}

// wharfInst is one running `wharf serve` with a domain, a repository and a
// token.
type wharfInst struct {
	name, dataDir string
	env           []string
	proc          *proc
	pid           int
	base          string // http://addr
	ep            string // the repository's pypi endpoint, ending in /
	auth          string // Authorization header value
	cp            *client.Client
}

// newWharf starts wharf on dataDir, creates the domain and repository
// (unless they exist) and gets a token.
func (h *harness) newWharf(name, dataDir string, extraEnv []string) (*wharfInst, error) {
	w := &wharfInst{name: name, dataDir: dataDir, env: extraEnv}
	if err := h.startInst(w); err != nil {
		return nil, err
	}
	ctx := context.Background()
	if err := w.cp.Do(ctx, "POST", "/v1/domain", url.Values{"domain": {domain}}, nil); err != nil {
		return nil, fmt.Errorf("CreateDomain: %w", err)
	}
	if err := w.cp.Do(ctx, "POST", "/v1/repository", url.Values{"domain": {domain}, "repository": {repo}}, nil); err != nil {
		return nil, fmt.Errorf("CreateRepository: %w", err)
	}
	return w, w.token()
}

// startInst (re)starts w's process on its data directory, on a new port.
func (h *harness) startInst(w *wharfInst) error {
	addr := freeAddr()
	env := []string{
		"WHARF_ACCOUNT_ID=" + accountID,
		"WHARF_ROOT_ACCESS_KEY_ID=" + rootKeyID,
		"WHARF_ROOT_SECRET_ACCESS_KEY=" + rootSecret,
		"WHARF_LOG_LEVEL=warn",
	}
	// BENCH_WHARF_ENV goes to every wharf; this instance's own settings
	// (its store, its upstreams) come last and win.
	env = append(env, strings.Fields(*wharfEnv)...)
	env = append(env, w.env...)
	p, err := h.start(w.name, env, *wharfBin, "serve", "--listen", addr, "--data-dir", w.dataDir)
	if err != nil {
		return err
	}
	w.proc, w.pid = p, p.pid
	w.base = "http://" + addr
	w.ep = fmt.Sprintf("%s/%s-%s/pypi/%s/", w.base, domain, accountID, repo)
	if err := waitHTTP(w.base+"/healthz", nil); err != nil {
		return err
	}
	log.Printf("%s listening on %s (pid %d)", w.name, addr, w.pid)
	ctx := context.Background()
	os.Setenv("AWS_ACCESS_KEY_ID", rootKeyID)
	os.Setenv("AWS_SECRET_ACCESS_KEY", rootSecret)
	os.Setenv("AWS_CONFIG_FILE", filepath.Join(h.dir, "no-aws-config"))
	os.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(h.dir, "no-aws-credentials"))
	w.cp, err = client.New(ctx, client.Options{Endpoint: w.base, Region: "us-east-1"})
	return err
}

func (w *wharfInst) token() error {
	tok, err := w.cp.GetAuthorizationToken(context.Background(), domain, accountID, 12*time.Hour)
	if err != nil {
		return err
	}
	w.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte("aws:"+tok.Value))
	return nil
}

// stop ends w's process group and waits for it.
func (w *wharfInst) stop() { w.proc.stop() }

type wheel struct {
	version, filename, path string
}

func wheelName(project, version string) string {
	return strings.ReplaceAll(project, "-", "_") + "-" + version + "-py3-none-any.whl"
}

func bigWheelName() string { return wheelName(bigProject, "1.0") }

// writeWheel writes a valid wheel; payload bytes of incompressible data are
// stored uncompressed (the download workload's large file).
func writeWheel(path, project, version string, payload int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	under := strings.ReplaceAll(project, "-", "_")
	di := under + "-" + version + ".dist-info"
	zw := zip.NewWriter(f)
	add := func(name, body string) {
		w, _ := zw.Create(name)
		io.WriteString(w, body)
	}
	add(under+"/__init__.py", "VERSION = "+strconv.Quote(version)+"\n")
	if payload > 0 {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: under + "/data.bin", Method: zip.Store})
		if err != nil {
			return err
		}
		rng := rand.NewChaCha8([32]byte{1})
		if _, err := io.CopyN(w, rng, payload); err != nil {
			return err
		}
	}
	add(di+"/METADATA", fmt.Sprintf("Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: benchmark project\nRequires-Python: >=3.8\nRequires-Dist: requests>=2\n\n", project, version))
	add(di+"/WHEEL", "Wheel-Version: 1.0\nGenerator: wharf-bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
	add(di+"/RECORD", "")
	return zw.Close()
}

func sha256File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	s := sha256.New()
	if _, err := io.Copy(s, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(s.Sum(nil)), nil
}

// upload sends a wheel through wharf's upload API, as twine does.
func (h *harness) upload(project string, w wheel) error {
	return uploadTo(h.uploadURL, h.auth, project, w)
}

func uploadTo(uploadURL, auth, project string, w wheel) error {
	sha, err := sha256File(w.path)
	if err != nil {
		return err
	}
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		for _, f := range [][2]string{{":action", "file_upload"}, {"protocol_version", "1"}, {"name", project},
			{"version", w.version}, {"filetype", "bdist_wheel"}, {"pyversion", "py3"}, {"metadata_version", "2.1"},
			{"requires_python", ">=3.8"}, {"sha256_digest", sha}} {
			mw.WriteField(f[0], f[1])
		}
		part, _ := mw.CreateFormFile("content", w.filename)
		f, err := os.Open(w.path)
		if err != nil {
			pw.CloseWithError(err)
			return
		}
		defer f.Close()
		if _, err := io.Copy(part, f); err != nil {
			pw.CloseWithError(err)
			return
		}
		pw.CloseWithError(mw.Close())
	}()
	req, _ := http.NewRequest("POST", uploadURL, pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", auth)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return fmt.Errorf("upload %s: %s: %s", w.filename, resp.Status, body)
	}
	return nil
}

// loadInto uploads the 150 versions (a few at a time: versions arrive out
// of order, as in life) and the large file to wharf w.
func (h *harness) loadInto(w *wharfInst) error {
	start := time.Now()
	jobs := make(chan wheel)
	errs := make(chan error, len(h.wheels))
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for wh := range jobs {
				errs <- uploadTo(w.ep, w.auth, project, wh)
			}
		})
	}
	for _, wh := range h.wheels {
		jobs <- wh
	}
	close(jobs)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return fmt.Errorf("%s: %w", w.name, err)
		}
	}
	if err := uploadTo(w.ep, w.auth, bigProject, h.big); err != nil {
		return fmt.Errorf("%s: %w", w.name, err)
	}
	log.Printf("uploaded them to %s in %s", w.name, time.Since(start).Round(time.Millisecond))
	return nil
}

// load builds the 150-version project and the large file, uploads them to
// wharf, and lays out the same bytes for nginx, the ceiling and pypiserver.
func (h *harness) load() error {
	root := filepath.Join(h.dir, "www")
	pdir := filepath.Join(root, "simple", project)
	pkgs := filepath.Join(h.dir, "pypiserver-packages")
	for _, d := range []string{pdir, pkgs} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	start := time.Now()
	var wheels []wheel
	for i := range versions {
		v := fmt.Sprintf("1.%d.%d", i/10, i%10)
		w := wheel{version: v, filename: wheelName(project, v)}
		if err := os.MkdirAll(filepath.Join(pdir, v), 0o755); err != nil {
			return err
		}
		w.path = filepath.Join(pdir, v, w.filename)
		if err := writeWheel(w.path, project, v, 0); err != nil {
			return err
		}
		if err := os.Link(w.path, filepath.Join(pkgs, w.filename)); err != nil {
			return err
		}
		wheels = append(wheels, w)
	}
	big := wheel{version: "1.0", filename: bigWheelName()}
	bdir := filepath.Join(root, "simple", bigProject, "1.0")
	if err := os.MkdirAll(bdir, 0o755); err != nil {
		return err
	}
	big.path = filepath.Join(bdir, big.filename)
	if err := writeWheel(big.path, bigProject, "1.0", int64(*bigMiB)<<20-4096); err != nil {
		return err
	}
	st, _ := os.Stat(big.path)
	h.bigSize = st.Size()
	sha, err := sha256File(big.path)
	if err != nil {
		return err
	}
	h.bigSHA = sha
	h.wheels, h.big = wheels, big
	log.Printf("built %d wheels and a %.1f MiB wheel in %s", len(wheels), float64(h.bigSize)/(1<<20), time.Since(start).Round(time.Millisecond))
	if err := h.loadInto(h.main); err != nil {
		return err
	}

	// The static servers get exactly the bytes wharf renders.
	for _, p := range []struct{ accept, file string }{{acceptJSON, "index.json"}, {acceptHTML, "index.html"}} {
		body, _, err := h.get(h.wharf.page, p.accept, false)
		if err != nil {
			return err
		}
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		zw.Write(body)
		zw.Close()
		if err := os.WriteFile(filepath.Join(pdir, p.file), body, 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(pdir, p.file+".gz"), gz.Bytes(), 0o644); err != nil {
			return err
		}
		log.Printf("%s: %d bytes, %d gzipped", p.file, len(body), gz.Len())
	}
	return nil
}

var plainClient = &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: time.Minute}

// get fetches a page as a client would; gzip asks for compression and
// returns the decompressed bytes with the encoding seen.
func (h *harness) get(u, accept string, gz bool) ([]byte, string, error) {
	return getAs(u, h.auth, accept, gz)
}

func getAs(u, auth, accept string, gz bool) ([]byte, string, error) {
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Authorization", auth)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if gz {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	resp, err := plainClient.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, "", err
	}
	if resp.StatusCode != 200 {
		return nil, "", fmt.Errorf("GET %s: %s: %.300s", u, resp.Status, body)
	}
	enc := resp.Header.Get("Content-Encoding")
	if enc == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, enc, err
		}
		if body, err = io.ReadAll(zr); err != nil {
			return nil, enc, err
		}
	}
	return body, enc, nil
}

// ------------------------------------------------------------ references

func (h *harness) startCeiling() error {
	addr := freeAddr()
	pdir := filepath.Join(h.dir, "www", "simple", project)
	big := filepath.Join(h.dir, "www", "simple", bigProject, "1.0", bigWheelName())
	p, err := h.start("ceiling", nil, *ceilingBin, "-listen", addr, "-auth", h.auth, "-pages", pdir, "-file", big)
	if err != nil {
		return err
	}
	base := "http://" + addr
	h.ceiling = endpoint{name: "stack ceiling (net/http)", pgid: p.pid, page: base + "/simple/" + project + "/",
		download: base + "/simple/" + bigProject + "/1.0/" + bigWheelName()}
	h.ceiling.jsonPage, h.ceiling.htmlPage = h.ceiling.page, h.ceiling.page
	return waitHTTP(base+"/", nil)
}

const nginxConf = `user root;
worker_processes %d;
daemon off;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    client_body_temp_path %[2]s/tmp-body;
    proxy_temp_path %[2]s/tmp-proxy;
    fastcgi_temp_path %[2]s/tmp-fastcgi;
    uwsgi_temp_path %[2]s/tmp-uwsgi;
    scgi_temp_path %[2]s/tmp-scgi;
    types {
        application/vnd.pypi.simple.v1+json json;
        text/html html;
        application/octet-stream whl;
    }
    default_type application/octet-stream;
    server {
        listen %[3]s;
        root %[4]s;
        gzip_static on;
        location / {
            if ($http_authorization != "%[5]s") { return 401; }
        }
        # The upstream workload's "public" index (no credentials, logged).
        location /upstream/ {
            access_log %[2]s/upstream-access.log;
        }
    }
}
`

func (h *harness) startNginx() error {
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/nginx"); serr != nil {
			return fmt.Errorf("nginx not found (apt-get install nginx-light)")
		}
		nginx = "/usr/sbin/nginx"
	}
	prefix := filepath.Join(h.dir, "nginx")
	if err := os.MkdirAll(prefix, 0o755); err != nil {
		return err
	}
	addr := freeAddr()
	conf := fmt.Sprintf(nginxConf, 2, prefix, addr, filepath.Join(h.dir, "www"), h.auth)
	if err := os.WriteFile(filepath.Join(prefix, "nginx.conf"), []byte(conf), 0o644); err != nil {
		return err
	}
	p, err := h.start("nginx", nil, nginx, "-p", prefix, "-e", filepath.Join(prefix, "error.log"), "-c", filepath.Join(prefix, "nginx.conf"))
	if err != nil {
		return err
	}
	base := "http://" + addr
	h.nginxBase = base
	h.nginxLog = filepath.Join(prefix, "upstream-access.log")
	h.nginx = endpoint{name: "nginx (static, sendfile)", pgid: p.pid,
		jsonPage: base + "/simple/" + project + "/index.json",
		htmlPage: base + "/simple/" + project + "/index.html",
		download: base + "/simple/" + bigProject + "/1.0/" + bigWheelName()}
	return waitHTTP(base+"/", nil)
}

func (h *harness) startPypiserver() error {
	src, err := filepath.Abs(*pypiSrc)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(src, "pypiserver", "__main__.py")); err != nil {
		return fmt.Errorf("%s holds no pypiserver/ package", src)
	}
	addr := freeAddr()
	host, port, _ := net.SplitHostPort(addr)
	// --welcome is passed because Debian's importlib_resources (5.x) cannot
	// locate the default one in a source tree.
	p, err := h.start("pypiserver", []string{"PYTHONPATH=" + src}, "/usr/bin/python3", "-m", "pypiserver", "run",
		"-i", host, "-p", port, "-a", ".", "-P", ".", "--welcome", filepath.Join(src, "pypiserver", "welcome.html"),
		"--server", "gunicorn", filepath.Join(h.dir, "pypiserver-packages"))
	if err != nil {
		return err
	}
	base := "http://" + addr
	h.pypi = endpoint{name: "pypiserver (gunicorn)", pgid: p.pid, page: base + "/simple/" + project + "/"}
	h.pypi.htmlPage = h.pypi.page
	return waitHTTP(base+"/", nil)
}

// verify checks every server answers each workload with the same bytes.
// A wharf loaded separately (PostgreSQL + S3) stamped its own upload
// times into the JSON page: those (fixed-width) values may differ.
func (h *harness) verify() error {
	want := map[string][]byte{}
	for _, ep := range h.allServers() {
		auth := h.authOf(ep)
		for _, c := range []struct {
			kind, url, accept string
			gz                bool
		}{{"json", ep.jsonPage, acceptJSON, false}, {"html", ep.htmlPage, acceptHTML, false}, {"json", ep.jsonPage, acceptJSON, true}} {
			body, enc, err := getAs(c.url, auth, c.accept, c.gz)
			if err != nil {
				return fmt.Errorf("%s: %w", ep.name, err)
			}
			if c.gz && enc != "gzip" {
				log.Printf("note: %s answers Accept-Encoding: gzip uncompressed", ep.name)
			}
			switch {
			case want[c.kind] == nil:
				want[c.kind] = body
			case bytes.Equal(want[c.kind], body):
			case ep.auth != "" && c.kind == "json" && len(body) == len(want[c.kind]) &&
				bytes.Equal(reUploadTime.ReplaceAll(want[c.kind], nil), reUploadTime.ReplaceAll(body, nil)):
				// the same page but for its upload times
			default:
				return fmt.Errorf("%s serves a different %s page than wharf", ep.name, c.kind)
			}
		}
		req, _ := http.NewRequest("GET", ep.download, nil)
		req.Header.Set("Authorization", auth)
		resp, err := plainClient.Do(req)
		if err != nil {
			return fmt.Errorf("%s download: %w", ep.name, err)
		}
		sum := sha256.New()
		n, err := io.Copy(sum, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || err != nil || n != h.bigSize || hex.EncodeToString(sum.Sum(nil)) != h.bigSHA {
			return fmt.Errorf("%s download: %s, %d bytes (want %d), %v, sha256 %x (want %s)", ep.name, resp.Status, n, h.bigSize, err, sum.Sum(nil), h.bigSHA)
		}
	}
	if h.pypi.page != "" {
		body, _, err := h.get(h.pypi.page, acceptHTML, false)
		if err != nil {
			return fmt.Errorf("pypiserver: %w", err)
		}
		if n := bytes.Count(body, []byte(".whl")); n < versions {
			return fmt.Errorf("pypiserver lists %d wheels, want %d", n, versions)
		}
	}
	log.Printf("all servers answer with the same bytes")
	return nil
}

var reUploadTime = regexp.MustCompile(`"upload-time":"[^"]*"`)

// allServers are the servers of the wrk table but pypiserver (HTML only).
func (h *harness) allServers() []endpoint {
	eps := []endpoint{h.wharf, h.ceiling, h.nginx}
	if h.wharfPG.name != "" {
		eps = append(eps, h.wharfPG)
	}
	return eps
}

// ------------------------------------------------------------ measuring

type workload struct {
	key, title string
	accept     string
	gzip       bool
	conns      int
	download   bool
	url        func(endpoint) string
}

func workloads() []workload {
	all := []workload{
		{key: "json", title: "PEP 691 JSON page, 150 versions", accept: acceptJSON, conns: *conns, url: func(e endpoint) string { return e.jsonPage }},
		{key: "html", title: "PEP 503 HTML page, 150 versions", accept: acceptHTML, conns: *conns, url: func(e endpoint) string { return e.htmlPage }},
		{key: "gzip", title: "JSON page, Accept-Encoding: gzip", accept: acceptJSON, gzip: true, conns: *conns, url: func(e endpoint) string { return e.jsonPage }},
		{key: "download", title: fmt.Sprintf("%d MiB download, 4 connections", *bigMiB), conns: 4, download: true, url: func(e endpoint) string { return e.download }},
	}
	if *only == "" {
		return all
	}
	var out []workload
	for _, w := range all {
		if slices.Contains(strings.Split(*only, ","), w.key) {
			out = append(out, w)
		}
	}
	return out
}

type wrkResult struct {
	rps       float64
	bytesSec  float64
	requests  float64
	cpuPerReq time.Duration   // server CPU (user+system, all its processes) per request
	backing   []time.Duration // the same for each of the endpoint's backing processes
	errors    string
}

var (
	reRPS    = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	reReqs   = regexp.MustCompile(`(\d+) requests in`)
	reXfer   = regexp.MustCompile(`Transfer/sec:\s+([0-9.]+)([KMGT]?B)`)
	reNon2xx = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	reSock   = regexp.MustCompile(`Socket errors: .*`)
)

func (h *harness) wrk(w workload, ep endpoint, timeout time.Duration) (wrkResult, error) {
	u := w.url(ep)
	cpu0 := groupCPU(ep.pgid)
	var backing0 []time.Duration
	for _, b := range ep.backing {
		backing0 = append(backing0, treeCPU(b.pid))
	}
	args := []string{"-t", strconv.Itoa(min(*threads, w.conns)), "-c", strconv.Itoa(w.conns), "-d", duration.String(),
		"--timeout", timeout.String(), "-H", "Authorization: " + h.authOf(ep)}
	if w.accept != "" {
		args = append(args, "-H", "Accept: "+w.accept)
	}
	if w.gzip {
		args = append(args, "-H", "Accept-Encoding: gzip")
	}
	out, err := exec.Command("wrk", append(args, u)...).CombinedOutput()
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk %s: %v\n%s", u, err, out)
	}
	cpu := groupCPU(ep.pgid) - cpu0
	var r wrkResult
	if m := reReqs.FindSubmatch(out); m != nil {
		r.requests, _ = strconv.ParseFloat(string(m[1]), 64)
		if r.requests > 0 && ep.pgid != 0 {
			r.cpuPerReq = time.Duration(float64(cpu) / r.requests)
		}
		for i, b := range ep.backing {
			if r.requests > 0 {
				r.backing = append(r.backing, time.Duration(float64(treeCPU(b.pid)-backing0[i])/r.requests))
			}
		}
	}
	m := reRPS.FindSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("wrk printed no Requests/sec:\n%s", out)
	}
	r.rps, _ = strconv.ParseFloat(string(m[1]), 64)
	if m := reXfer.FindSubmatch(out); m != nil {
		v, _ := strconv.ParseFloat(string(m[1]), 64)
		r.bytesSec = v * map[string]float64{"B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30, "TB": 1 << 40}[string(m[2])]
	}
	if m := reNon2xx.FindSubmatch(out); m != nil {
		r.errors = "non-2xx: " + string(m[1])
	}
	if m := reSock.Find(out); m != nil {
		r.errors = strings.TrimSpace(r.errors + " " + string(m))
	}
	return r, nil
}

// result holds, per workload and server name, one measurement per round.
type result struct {
	runs map[string]map[string][]wrkResult
	rss  []string
}

func (h *harness) servers(w workload) []endpoint {
	eps := []endpoint{h.ceiling, h.nginx, h.wharf}
	if h.wharfPG.name != "" {
		eps = append(eps, h.wharfPG)
	}
	if w.key == "html" && h.pypi.page != "" {
		eps = append(eps, h.pypi)
	}
	return eps
}

func (h *harness) measure() result {
	res := result{runs: map[string]map[string][]wrkResult{}}
	for _, ep := range h.wharfs() {
		if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", ep.pgid), []byte("5"), 0); err != nil {
			log.Printf("cannot reset %s's peak RSS (%v); VmHWM includes the uploads", ep.name, err)
		}
	}
	for round := range *rounds {
		for _, w := range workloads() {
			if res.runs[w.key] == nil {
				res.runs[w.key] = map[string][]wrkResult{}
			}
			eps := h.servers(w)
			// Rotate the order each round so no server always runs first.
			n := round % len(eps)
			eps = append(eps[n:], eps[:n]...)
			for _, ep := range eps {
				timeout := 5 * time.Second
				if ep.name == h.pypi.name {
					timeout = 30 * time.Second
				}
				r, err := h.wrk(w, ep, timeout)
				if err != nil {
					log.Printf("round %d %s %s: %v", round+1, w.key, ep.name, err)
					continue
				}
				res.runs[w.key][ep.name] = append(res.runs[w.key][ep.name], r)
				unit := fmt.Sprintf("%.0f req/s", r.rps)
				if w.download {
					unit = fmt.Sprintf("%.0f MiB/s", r.rps*float64(h.bigSize)/(1<<20))
				}
				log.Printf("round %d %-8s %-28s %s, %s CPU/request%s %s", round+1, w.key, ep.name, unit, fmtCPU(r.cpuPerReq), fmtBacking(ep, r.backing), r.errors)
			}
			if !w.download && w.key != "gzip" {
				var parts []string
				for _, ep := range h.wharfs() {
					parts = append(parts, ep.backend+": "+rss(ep.pgid))
				}
				res.rss = append(res.rss, fmt.Sprintf("after %s round %d: %s", w.key, round+1, strings.Join(parts, "; ")))
			}
		}
	}
	return res
}

// wharfs are the wharfs of the wrk table.
func (h *harness) wharfs() []endpoint {
	if h.wharfPG.name != "" {
		return []endpoint{h.wharf, h.wharfPG}
	}
	return []endpoint{h.wharf}
}

func rss(pid int) string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return err.Error()
	}
	var parts []string
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && (k == "VmHWM" || k == "VmRSS") {
			parts = append(parts, k+" "+strings.Join(strings.Fields(v), " "))
		}
	}
	return strings.Join(parts, ", ")
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// ratios returns wharf / ref for each round in which both ran.
func ratios(a, b []wrkResult) []float64 {
	var out []float64
	for i := range min(len(a), len(b)) {
		if b[i].rps > 0 {
			out = append(out, a[i].rps/b[i].rps)
		}
	}
	return out
}

// table has one row per workload and wharf: the first holds the
// references' figures, a second (wharf on PostgreSQL + S3) only its own.
func (h *harness) table(res result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Measured %s; %d rounds of %s per server and workload, wrk -t%d, keep-alive; medians.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), *rounds, *duration, *threads)
	b.WriteString("| workload | wharf on | ceiling | nginx | wharf | wharf / ceiling | wharf / nginx | server CPU per request: ceiling / nginx / wharf | other |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, w := range workloads() {
		runs := res.runs[w.key]
		val := func(name string) string {
			var xs []float64
			for _, r := range runs[name] {
				if w.download {
					xs = append(xs, r.rps*float64(h.bigSize)/(1<<20))
				} else {
					xs = append(xs, r.rps)
				}
			}
			if len(xs) == 0 {
				return "-"
			}
			if w.download {
				return fmt.Sprintf("%.0f MiB/s", median(xs))
			}
			return fmt.Sprintf("%.0f/s", median(xs))
		}
		cpu := func(rs []wrkResult, i int) string { // i < 0: the server's own; else its i-th backing process
			var xs []float64
			for _, r := range rs {
				if i < 0 {
					xs = append(xs, float64(r.cpuPerReq))
				} else if i < len(r.backing) {
					xs = append(xs, float64(r.backing[i]))
				}
			}
			if i >= 0 && len(xs) > 0 && median(xs) == 0 {
				return "0µs" // less than a clock tick over the whole run
			}
			return fmtCPU(time.Duration(median(xs)))
		}
		errors := func(names ...string) []string {
			var errs []string
			for _, name := range names {
				for _, r := range runs[name] {
					if r.errors != "" {
						errs = append(errs, name+": "+r.errors)
						break
					}
				}
			}
			return errs
		}
		for i, wh := range h.wharfs() {
			ratio := func(ref string) string {
				rs := ratios(runs[wh.name], runs[ref])
				if len(rs) == 0 {
					return "-"
				}
				return fmt.Sprintf("**%.2f×** (%s)", median(rs), fmtList(rs))
			}
			var other []string
			if w.key == "html" && h.pypi.page != "" && len(runs[h.pypi.name]) > 0 {
				if i == 0 {
					other = append(other, "pypiserver "+val(h.pypi.name))
				}
				other = append(other, fmt.Sprintf("wharf / pypiserver %.0f×", median(ratios(runs[wh.name], runs[h.pypi.name]))))
			}
			title, ceiling, nginx := "", "", ""
			wcpu := cpu(runs[wh.name], -1)
			for j, bk := range wh.backing {
				wcpu += fmt.Sprintf(" + %s %s", bk.name, cpu(runs[wh.name], j))
			}
			if i == 0 {
				title, ceiling, nginx = w.title, val(h.ceiling.name), val(h.nginx.name)
				wcpu = cpu(runs[h.ceiling.name], -1) + " / " + cpu(runs[h.nginx.name], -1) + " / " + wcpu
				other = append(other, errors(h.ceiling.name, h.nginx.name, h.pypi.name, wh.name)...)
			} else {
				other = append(other, errors(wh.name)...)
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", title, wh.backend, ceiling, nginx, val(wh.name),
				ratio(h.ceiling.name), ratio(h.nginx.name), wcpu, strings.Join(other, "; "))
		}
	}
	b.WriteString("\nRatios are per round (in parentheses), the bold one their median.\n")
	if h.pgs3 != nil {
		fmt.Fprintf(&b, "wharf on PostgreSQL + S3: %s; it caches pages, policies and reads for at most 1 s (a shared store), "+
			"and downloads stream from S3 through wharf (no sendfile). The CPU of PostgreSQL and versitygw per request follows wharf's.\n", h.pgs3.describe())
	}
	if h.pypi.page == "" {
		b.WriteString("pypiserver was left out (no source tree: set PYPISERVER_SRC).\n")
	}
	if len(res.rss) > 0 {
		b.WriteString("\nwharf's memory under the page workloads (/proc/PID/status; peak reset after loading the data):\n\n")
		for _, s := range res.rss {
			b.WriteString("- " + s + "\n")
		}
	}
	return b.String()
}

func fmtBacking(ep endpoint, cpu []time.Duration) string {
	var s string
	for i, d := range cpu {
		s += fmt.Sprintf(" + %s %.0fµs", ep.backing[i].name, float64(d)/float64(time.Microsecond))
	}
	return s
}

func fmtList(xs []float64) string {
	var s []string
	for _, x := range xs {
		s = append(s, fmt.Sprintf("%.2f", x))
	}
	return strings.Join(s, ", ")
}

// profile records the CPU profile of a wharf (its WHARF_PPROF listener at
// addr) under the JSON page workload into out.
func (h *harness) profile(ep endpoint, addr, out string) error {
	if addr == "" {
		return nil
	}
	secs := int(duration.Seconds())
	done := make(chan error, 1)
	go func() {
		w := workloads()[0]
		_, err := h.wrk(w, ep, 5*time.Second)
		done <- err
	}()
	time.Sleep(time.Second)
	resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, max(secs-2, 1)))
	if err != nil {
		return fmt.Errorf("cpu profile (is WHARF_PPROF supported by this wharf?): %w", err)
	}
	defer resp.Body.Close()
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := io.Copy(f, resp.Body); err != nil {
		return err
	}
	<-done
	log.Printf("CPU profile of %s under the %s workload: %s (go tool pprof -top %s %s)", ep.name, workloads()[0].key, out, *wharfBin, out)
	return nil
}

// groupCPU is the CPU time (user + system) used so far by the live
// processes of process group pgid (nginx's workers, gunicorn's too).
func groupCPU(pgid int) time.Duration {
	if pgid == 0 {
		return 0
	}
	var ticks int64
	for _, p := range procStats() {
		if p.pgid == pgid {
			ticks += p.utime + p.stime
		}
	}
	return time.Duration(ticks) * time.Second / 100 // USER_HZ
}

// treeCPU is the CPU time used so far by process pid and its children,
// the live ones and those it has waited for. (PostgreSQL's backends are
// children of the postmaster, each in a process group of its own.)
func treeCPU(pid int) time.Duration {
	var ticks int64
	for _, p := range procStats() {
		switch {
		case p.pid == pid:
			ticks += p.utime + p.stime + p.cutime + p.cstime
		case p.ppid == pid:
			ticks += p.utime + p.stime
		}
	}
	return time.Duration(ticks) * time.Second / 100 // USER_HZ
}

// procStat is what /proc/PID/stat says of a process: ids and CPU ticks.
type procStat struct {
	pid, ppid, pgid              int
	utime, stime, cutime, cstime int64
}

func procStats() []procStat {
	ents, _ := os.ReadDir("/proc")
	var out []procStat
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// Fields after the command (which may hold spaces) start after ')'.
		i := bytes.LastIndexByte(data, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(data[i+1:]))
		if len(f) < 15 {
			continue
		}
		p := procStat{pid: pid}
		p.ppid, _ = strconv.Atoi(f[1])
		p.pgid, _ = strconv.Atoi(f[2])
		for j, v := range []*int64{&p.utime, &p.stime, &p.cutime, &p.cstime} {
			*v, _ = strconv.ParseInt(f[11+j], 10, 64)
		}
		out = append(out, p)
	}
	return out
}

func fmtCPU(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0fµs", float64(d)/float64(time.Microsecond))
}
