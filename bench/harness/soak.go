package main

// The soak (-soak DURATION, bench/soak.sh): a mixed load — index pages,
// downloads, uploads, control-plane calls and requests that must be refused —
// from a few concurrent workers against each wharf (the embedded default,
// then PostgreSQL + S3), for DURATION each. It counts answers by status
// class per kind of request and samples the server's resident memory,
// goroutines (WHARF_PPROF's /debug/pprof/goroutine) and open file
// descriptors (/proc/PID/fd) after a warm-up ("before"), during the run and
// at the end ("after", once the workers' idle connections are closed). A
// healthy server answers no 5xx and ends with the counts it started with.

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wharfhq/wharf/internal/client"
)

var (
	soakFor     = flag.Duration("soak", 0, "run the soak instead of the benchmarks: this long per wharf (e.g. 10m); see bench/soak.sh")
	soakWorkers = flag.Int("soak-workers", 4, "concurrent workers of the soak")
	soakSamples = flag.Int("soak-samples", 4, "samples taken during the soak, besides before and after")
	soakHeapDir = flag.String("soak-heap-dir", "", "keep the server's heap profile after the soak here (heap-<wharf>.pb.gz), for go tool pprof -top")
)

// soakOp is one kind of request of the mix. refusal: a 4xx is the right
// answer (anything else is unexpected); otherwise a 2xx is.
type soakOp struct {
	name    string
	weight  int
	refusal bool
	do      func(s *soakRun, rnd *rand.Rand) (status int, err error)
}

// soakRun is the soak of one wharf.
type soakRun struct {
	h      *harness
	w      *wharfInst
	pprof  string
	http   *http.Client
	cp     *client.Client
	badTok string       // a token of the right shape and a wrong signature
	dup    wheel        // an existing filename with other bytes
	seq    atomic.Int64 // uploads started
	// uploaded is an upload that succeeded (any recent one).
	uploaded atomic.Int64
	mu       sync.Mutex
	counts   map[string]*[6]int64 // per op: 1xx..5xx by index 1..5, 0 = transport error
	unexp    map[string]int64
	first    map[string]string // the first unexpected answer per op, to show
}

func soakOps() []soakOp {
	get := func(s *soakRun, u, auth, accept string) (int, error) {
		req, _ := http.NewRequest("GET", u, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := s.http.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		_, err = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, err
	}
	api := func(s *soakRun, method, path string, q url.Values) (int, error) {
		err := s.cp.Do(context.Background(), method, path, q, nil)
		var ae *client.APIError
		if errors.As(err, &ae) {
			return ae.Status, nil
		}
		if err != nil {
			return 0, err
		}
		return 200, nil
	}
	repoQ := func(extra ...string) url.Values {
		q := url.Values{"domain": {domain}, "domain-owner": {accountID}, "repository": {repo}}
		for i := 0; i+1 < len(extra); i += 2 {
			q.Set(extra[i], extra[i+1])
		}
		return q
	}
	return []soakOp{
		{"page JSON", 25, false, func(s *soakRun, _ *rand.Rand) (int, error) {
			return get(s, s.w.ep+"simple/"+project+"/", s.w.auth, acceptJSON)
		}},
		{"page HTML", 15, false, func(s *soakRun, _ *rand.Rand) (int, error) {
			return get(s, s.w.ep+"simple/"+project+"/", s.w.auth, acceptHTML)
		}},
		{"page (uploaded project)", 5, false, func(s *soakRun, _ *rand.Rand) (int, error) {
			n := s.uploaded.Load()
			if n == 0 {
				return get(s, s.w.ep+"simple/", s.w.auth, acceptHTML)
			}
			return get(s, s.w.ep+"simple/"+soakProject(n)+"/", s.w.auth, acceptJSON)
		}},
		{"download wheel", 20, false, func(s *soakRun, rnd *rand.Rand) (int, error) {
			wh := s.h.wheels[rnd.IntN(len(s.h.wheels))]
			return get(s, s.w.ep+"simple/"+project+"/"+wh.version+"/"+wh.filename, s.w.auth, "")
		}},
		{"download big file", 2, false, func(s *soakRun, _ *rand.Rand) (int, error) {
			return get(s, s.w.ep+"simple/"+bigProject+"/1.0/"+bigWheelName(), s.w.auth, "")
		}},
		{"upload new version", 8, false, func(s *soakRun, _ *rand.Rand) (int, error) {
			n := s.seq.Add(1)
			p, v := soakProject(n), fmt.Sprintf("2.0.%d", n)
			wh := wheel{version: v, filename: wheelName(p, v),
				path: filepath.Join(s.h.dir, "soak", s.w.name+"-"+strconv.FormatInt(n, 10)+".whl")}
			if err := writeWheel(wh.path, p, v, 0); err != nil {
				return 0, err
			}
			defer os.Remove(wh.path)
			err := uploadTo(s.w.ep, s.w.auth, p, wh)
			if err == nil {
				s.uploaded.Store(n) // its project's page exists
			}
			return statusOf(err)
		}},
		{"API ListPackageVersions", 4, false, func(s *soakRun, _ *rand.Rand) (int, error) {
			return api(s, "POST", "/v1/package/versions", repoQ("format", "pypi", "package", project))
		}},
		{"API DescribePackageVersion", 3, false, func(s *soakRun, rnd *rand.Rand) (int, error) {
			return api(s, "GET", "/v1/package/version", repoQ("format", "pypi", "package", project, "version", s.h.wheels[rnd.IntN(len(s.h.wheels))].version))
		}},
		{"API ListPackages", 3, false, func(s *soakRun, _ *rand.Rand) (int, error) {
			return api(s, "POST", "/v1/packages", repoQ())
		}},
		{"API GetAuthorizationToken", 2, false, func(s *soakRun, _ *rand.Rand) (int, error) {
			_, err := s.cp.GetAuthorizationToken(context.Background(), domain, accountID, time.Hour)
			return statusOf(err)
		}},
		{"refused: bad token", 4, true, func(s *soakRun, _ *rand.Rand) (int, error) {
			return get(s, s.w.ep+"simple/"+project+"/", s.badTok, acceptJSON)
		}},
		{"refused: no such project", 3, true, func(s *soakRun, rnd *rand.Rand) (int, error) {
			return get(s, s.w.ep+"simple/no-such-project-"+strconv.Itoa(rnd.IntN(1000))+"/", s.w.auth, acceptJSON)
		}},
		{"refused: same file, other bytes", 2, true, func(s *soakRun, _ *rand.Rand) (int, error) {
			return statusOf(uploadTo(s.w.ep, s.w.auth, project, s.dup))
		}},
		{"refused: API unknown repository", 2, true, func(s *soakRun, _ *rand.Rand) (int, error) {
			q := repoQ()
			q.Set("repository", "no-such-repo")
			return api(s, "GET", "/v1/repository", q)
		}},
		{"refused: API unsigned", 2, true, func(s *soakRun, _ *rand.Rand) (int, error) {
			req, _ := http.NewRequest("POST", s.w.base+"/v1/packages?"+repoQ().Encode(), nil)
			resp, err := s.http.Do(req)
			if err != nil {
				return 0, err
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return resp.StatusCode, nil
		}},
	}
}

// soakProject is where upload n goes: a new project every 20 versions, so
// the data grows as in life (more projects) while each page stays small,
// and memory that grows is the server's, not a page's.
func soakProject(n int64) string { return fmt.Sprintf("soak-%d", n/20) }

// statusOf turns uploadTo's and the client's errors back into a status.
func statusOf(err error) (int, error) {
	if err == nil {
		return 200, nil
	}
	var ae *client.APIError
	if errors.As(err, &ae) {
		return ae.Status, nil
	}
	// uploadTo: "upload FILE: 409 Conflict: ..."
	if _, rest, ok := strings.Cut(err.Error(), ": "); ok {
		if code, _, ok := strings.Cut(rest, " "); ok {
			if n, aerr := strconv.Atoi(code); aerr == nil && n >= 100 && n < 600 {
				return n, nil
			}
		}
	}
	return 0, err
}

// soakSample is the server's state at one moment.
type soakSample struct {
	label                  string
	at                     time.Duration
	rssKB, goroutines, fds int64
	heapInuse              int64 // bytes of Go heap in use (runtime.MemStats.HeapInuse), -1 if unknown
	requests, unexpected   int64
}

// heapInuse reads HeapInuse from the memory statistics that end a debug=1
// heap profile: with VmRSS it tells live Go memory from pages the runtime
// keeps or the SQLite page cache.
func heapInuse(pprofAddr string) int64 {
	resp, err := http.Get("http://" + pprofAddr + "/debug/pprof/heap?debug=1")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "# HeapInuse = "); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return -1
}

func (s *soakRun) sample(label string, at time.Duration) soakSample {
	smp := soakSample{label: label, at: at, rssKB: procStatus(s.w.pid)["VmRSS"], goroutines: -1, fds: -1,
		heapInuse: heapInuse(s.pprof)}
	if ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", s.w.pid)); err == nil {
		smp.fds = int64(len(ents))
	}
	if resp, err := http.Get("http://" + s.pprof + "/debug/pprof/goroutine?debug=1"); err == nil {
		line, _ := bufio.NewReader(resp.Body).ReadString('\n') // "goroutine profile: total N"
		resp.Body.Close()
		if i := strings.LastIndex(line, "total "); i >= 0 {
			smp.goroutines, _ = strconv.ParseInt(strings.TrimSpace(line[i+6:]), 10, 64)
		}
	}
	s.mu.Lock()
	for _, c := range s.counts {
		for _, n := range c {
			smp.requests += n
		}
	}
	for _, n := range s.unexp {
		smp.unexpected += n
	}
	s.mu.Unlock()
	return smp
}

func (s *soakRun) record(op soakOp, status int, err error) {
	class := status / 100
	if err != nil || class < 1 || class > 5 {
		class = 0
	}
	ok := class == 2 && !op.refusal || class == 4 && op.refusal
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.counts[op.name]
	if c == nil {
		c = &[6]int64{}
		s.counts[op.name] = c
	}
	c[class]++
	if !ok {
		s.unexp[op.name]++
		if _, seen := s.first[op.name]; !seen {
			s.first[op.name] = fmt.Sprintf("status %d, err %v", status, err)
		}
	}
}

// drive runs the mix with the workers until stop is closed.
func (s *soakRun) drive(ops []soakOp, stop <-chan struct{}) {
	total := 0
	for _, op := range ops {
		total += op.weight
	}
	var wg sync.WaitGroup
	for i := range *soakWorkers {
		wg.Go(func() {
			rnd := rand.New(rand.NewPCG(uint64(i)+1, uint64(time.Now().UnixNano())))
			for {
				select {
				case <-stop:
					return
				default:
				}
				pick := rnd.IntN(total)
				for _, op := range ops {
					if pick -= op.weight; pick < 0 {
						status, err := op.do(s, rnd)
						s.record(op, status, err)
						break
					}
				}
			}
		})
	}
	wg.Wait()
}

// soak runs the soak on w and returns its tables.
func (h *harness) soak(label string, w *wharfInst, pprofAddr string) (string, error) {
	if err := os.MkdirAll(filepath.Join(h.dir, "soak"), 0o755); err != nil {
		return "", err
	}
	s := &soakRun{h: h, w: w, pprof: pprofAddr,
		http:   &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *soakWorkers * 2}, Timeout: 2 * time.Minute},
		counts: map[string]*[6]int64{}, unexp: map[string]int64{}, first: map[string]string{},
		badTok: "Basic " + "YXdzOndoYXJmMS5leUp2ZG5JaU9qRjkuQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQQ=="}
	s.dup = wheel{version: h.wheels[0].version, filename: h.wheels[0].filename, path: filepath.Join(h.dir, "soak", "dup-"+w.name+".whl")}
	if err := writeWheel(s.dup.path, project, s.dup.version, 1); err != nil {
		return "", err
	}
	var err error
	if s.cp, err = client.New(context.Background(), client.Options{Endpoint: w.base, Region: "us-east-1", HTTP: s.http}); err != nil {
		return "", err
	}
	ops := soakOps()
	settle := func() {
		s.http.CloseIdleConnections()
		http.DefaultClient.CloseIdleConnections() // uploadTo's
		time.Sleep(2 * time.Second)
	}

	warm := min(30*time.Second, *soakFor/10)
	log.Printf("soak %s: warm-up %s, then %s with %d workers", label, warm, *soakFor, *soakWorkers)
	stop := make(chan struct{})
	time.AfterFunc(warm, func() { close(stop) })
	s.drive(ops, stop)
	settle()
	s.mu.Lock()
	s.counts, s.unexp, s.first = map[string]*[6]int64{}, map[string]int64{}, map[string]string{}
	s.mu.Unlock()

	samples := []soakSample{s.sample("before", 0)}
	start := time.Now()
	stop = make(chan struct{})
	done := make(chan struct{})
	go func() { s.drive(ops, stop); close(done) }()
	every := *soakFor / time.Duration(*soakSamples+1)
	for i := 1; i <= *soakSamples; i++ {
		time.Sleep(time.Until(start.Add(time.Duration(i) * every)))
		smp := s.sample("during", time.Since(start))
		log.Printf("soak %s: %s: %d requests, %d unexpected, RSS %s, Go heap %s, %d goroutines, %d fds",
			label, smp.at.Round(time.Second), smp.requests, smp.unexpected, mib(smp.rssKB), mib(smp.heapInuse/1024), smp.goroutines, smp.fds)
		samples = append(samples, smp)
	}
	time.Sleep(time.Until(start.Add(*soakFor)))
	close(stop)
	<-done
	elapsed := time.Since(start)
	settle()
	samples = append(samples, s.sample("after", elapsed))
	if *soakHeapDir != "" {
		if err := s.keepHeapProfile(filepath.Join(*soakHeapDir, "heap-"+w.name+".pb.gz")); err != nil {
			log.Printf("soak %s: heap profile: %v", label, err)
		}
	}
	return s.table(label, elapsed, samples), nil
}

// keepHeapProfile saves the server's heap profile (after a GC) to path.
func (s *soakRun) keepHeapProfile(path string) error {
	resp, err := http.Get("http://" + s.pprof + "/debug/pprof/heap?gc=1")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (s *soakRun) table(label string, elapsed time.Duration, samples []soakSample) string {
	var b strings.Builder
	fmt.Fprintf(&b, "soak: wharf (%s), %s, %d workers\n\n", label, elapsed.Round(time.Second), *soakWorkers)
	fmt.Fprintln(&b, "| request | count | 2xx | 3xx | 4xx | 5xx | transport errors | unexpected |")
	fmt.Fprintln(&b, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	names := make([]string, 0, len(s.counts))
	for n := range s.counts {
		names = append(names, n)
	}
	sort.Strings(names)
	var tot [6]int64
	var totUnexp, all int64
	for _, n := range names {
		c := s.counts[n]
		var sum int64
		for i, x := range c {
			sum += x
			tot[i] += x
		}
		all += sum
		totUnexp += s.unexp[n]
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d | %d | %d |\n", n, sum, c[2], c[3], c[4], c[5], c[0], s.unexp[n])
	}
	fmt.Fprintf(&b, "| **all** (%.0f req/s) | %d | %d | %d | %d | %d | %d | %d |\n\n", float64(all)/elapsed.Seconds(), all, tot[2], tot[3], tot[4], tot[5], tot[0], totUnexp)
	for _, n := range names {
		if f, ok := s.first[n]; ok {
			fmt.Fprintf(&b, "first unexpected answer to %s: %s\n", n, f)
		}
	}
	fmt.Fprintln(&b, "| sample | at | VmRSS | Go heap in use | goroutines | open fds |")
	fmt.Fprintln(&b, "| --- | ---: | ---: | ---: | ---: | ---: |")
	for _, smp := range samples {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %d | %d |\n", smp.label, smp.at.Round(time.Second), mib(smp.rssKB), mib(smp.heapInuse/1024), smp.goroutines, smp.fds)
	}
	return b.String()
}

// runSoak soaks the embedded wharf, then wharf on PostgreSQL + S3.
func (h *harness) runSoak() error {
	out, err := h.soak(*wharfLabel, h.main, h.pprofAddr)
	if err != nil {
		return err
	}
	fmt.Println()
	fmt.Print(out)
	if *pgS3 {
		h.main.stop() // the machine to the second one
		if err := h.startPGS3(); err != nil {
			return fmt.Errorf("wharf on PostgreSQL + S3: %w (-postgres-s3=false leaves it out)", err)
		}
		pg, err := h.soak("PostgreSQL + S3", h.pgs3.wharf, h.pgs3.pprofAddr)
		if err != nil {
			return err
		}
		fmt.Println()
		fmt.Print(pg)
		out += "\n" + pg
	}
	if *markdown != "" {
		return os.WriteFile(*markdown, []byte(out), 0o644)
	}
	return nil
}
