package main

// The workloads that are not a wrk run against three servers: upstream
// coalescing, memory while serving a large file, upload through twine,
// pip download against nginx, and metadata at scale. Each returns rows for
// one table (target, result, how it was measured).

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

var (
	scalegenBin   = flag.String("scalegen", "", "the bench/scalegen binary (scale workload)")
	scaleProjects = flag.Int("scale-projects", 100000, "projects for the scale workload (10 files each)")
	hugeMiB       = flag.Int("huge-mib", 2048, "size of the memory workload's file in MiB")
	uploadMiB     = flag.Int("upload-mib", 200, "size of the upload workload's wheel in MiB")
	twineBin      = flag.String("twine", "/usr/bin/twine", "twine for the upload workload")
	pipBin        = flag.String("pip", "/root/.pyenv/versions/3.11.7/bin/pip", "pip for the pip workload")
	pipPackages   = flag.Int("pip-packages", 50, "packages for the pip workload")
)

var extraKeys = []string{"upstream", "memory", "upload", "pip", "scale"}

func selected(key string) bool {
	return *only == "" || slices.Contains(strings.Split(*only, ","), key)
}

type extraRow struct{ workload, target, result, detail string }

// extras runs the selected extra workloads in order of cost and returns
// their table.
func (h *harness) extras() (string, error) {
	var rows []extraRow
	var errs []string
	for _, k := range extraKeys {
		if !selected(k) {
			continue
		}
		var r []extraRow
		var err error
		switch k {
		case "upstream":
			r, err = h.upstreamWorkload()
		case "memory":
			r, err = h.memoryWorkload()
		case "upload":
			r, err = h.uploadWorkload()
		case "pip":
			r, err = h.pipWorkload()
		case "scale":
			r, err = h.scaleWorkload()
		}
		rows = append(rows, r...)
		if err != nil {
			log.Printf("%s: %v", k, err)
			errs = append(errs, k+": "+err.Error())
		}
	}
	if len(rows) == 0 && len(errs) == 0 {
		return "", nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Measured %s; %d rounds where rounds apply.\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"), *rounds)
	b.WriteString("| workload | target | result | how |\n|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", r.workload, r.target, r.result, r.detail)
	}
	for _, e := range errs {
		fmt.Fprintf(&b, "\nfailed: %s\n", e)
	}
	if len(errs) > 0 {
		return b.String(), fmt.Errorf("%d extra workloads failed", len(errs))
	}
	return b.String(), nil
}

// ------------------------------------------------------------ helpers

func procStatus(pid int) map[string]int64 {
	out := map[string]int64{}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return out
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.HasPrefix(k, "Vm") {
			f := strings.Fields(v)
			if len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				out[k] = n // kB
			}
		}
	}
	return out
}

func resetHWM(pid int) { os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0) }

func mib(kb int64) string { return fmt.Sprintf("%.1f MiB", float64(kb)/1024) }

var (
	reLat = regexp.MustCompile(`(?m)^\s+(50|75|90|99)%\s+([0-9.]+)(us|ms|s)\s*$`)
)

type latency struct {
	p   map[string]time.Duration
	rps float64
	err string
}

// wrkLatency runs wrk --latency against u (optionally with a Lua script).
func wrkLatency(u, auth, accept string, conns int, d time.Duration, script string) (latency, error) {
	args := []string{"-t1", "-c", strconv.Itoa(conns), "-d", d.String(), "--latency", "--timeout", "10s",
		"-H", "Authorization: " + auth, "-H", "Accept: " + accept}
	if script != "" {
		args = append(args, "-s", script)
	}
	out, err := exec.Command("wrk", append(args, u)...).CombinedOutput()
	if err != nil {
		return latency{}, fmt.Errorf("wrk: %v\n%s", err, out)
	}
	l := latency{p: map[string]time.Duration{}}
	for _, m := range reLat.FindAllSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(string(m[2]), 64)
		unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[string(m[3])]
		l.p[string(m[1])] = time.Duration(v * float64(unit))
	}
	if m := reRPS.FindSubmatch(out); m != nil {
		l.rps, _ = strconv.ParseFloat(string(m[1]), 64)
	}
	if m := reNon2xx.FindSubmatch(out); m != nil {
		l.err = "non-2xx: " + string(m[1])
	}
	if m := reSock.Find(out); m != nil {
		l.err = strings.TrimSpace(l.err + " " + string(m))
	}
	if len(l.p) < 4 {
		return l, fmt.Errorf("wrk printed no latency distribution:\n%s", out)
	}
	return l, nil
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
	}
}

func getWith(u, auth, accept string) (int, []byte, error) {
	req, _ := http.NewRequest("GET", u, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := plainClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

func makeWheels(dir, project string, n int, payload int64) ([]wheel, error) {
	var out []wheel
	for i := range n {
		v := fmt.Sprintf("1.0.%d", i)
		w := wheel{version: v, filename: wheelName(project, v)}
		w.path = filepath.Join(dir, w.filename)
		if err := writeWheel(w.path, project, v, payload); err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, nil
}

func uploadAll(ep, auth string, jobs []struct {
	project string
	w       wheel
}) error {
	ch := make(chan int)
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range ch {
				errs[i] = uploadTo(ep, auth, jobs[i].project, jobs[i].w)
			}
		}()
	}
	for i := range jobs {
		ch <- i
	}
	close(ch)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func countLines(path, substr string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.Contains(sc.Text(), substr) {
			n++
		}
	}
	return n
}

// ------------------------------------------------------------ upstream

// upstreamWorkload: a second wharf whose repository has the external
// connection public:pypi pointing at nginx's /upstream/simple/ (a static
// PEP 503 tree, access-logged). 200 concurrent requests for a project wharf
// has never seen; then the warm page of that project against a local
// project with the same files.
func (h *harness) upstreamWorkload() ([]extraRow, error) {
	const nfiles = 20
	const upProject, localProject = "up-project", "local-project"
	www := filepath.Join(h.dir, "www", "upstream")
	files := filepath.Join(www, "files")
	pdir := filepath.Join(www, "simple", upProject)
	for _, d := range []string{files, pdir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	upWheels, err := makeWheels(files, upProject, nfiles, 0)
	if err != nil {
		return nil, err
	}
	var page strings.Builder
	page.WriteString("<!DOCTYPE html>\n<html><body>\n")
	for _, w := range upWheels {
		sha, err := sha256File(w.path)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&page, "<a href=\"../../files/%s#sha256=%s\" data-requires-python=\"&gt;=3.8\">%s</a><br>\n", w.filename, sha, w.filename)
	}
	page.WriteString("</body></html>\n")
	if err := os.WriteFile(filepath.Join(pdir, "index.html"), []byte(page.String()), 0o644); err != nil {
		return nil, err
	}
	conn := h.nginxBase + "/upstream/simple/"
	w, err := h.newWharf("wharf-upstream", filepath.Join(h.dir, "wharf-upstream-data"),
		[]string{"WHARF_EXTERNAL_CONNECTIONS=public:pypi=" + conn})
	if err != nil {
		return nil, err
	}
	defer w.stop()
	ctx := context.Background()
	if err := w.cp.Do(ctx, "POST", "/v1/repository/external-connection",
		url.Values{"domain": {domain}, "repository": {repo}, "external-connection": {"public:pypi"}}, nil); err != nil {
		return nil, fmt.Errorf("AssociateExternalConnection: %w", err)
	}
	localDir := filepath.Join(h.dir, "local-wheels")
	os.MkdirAll(localDir, 0o755)
	localWheels, err := makeWheels(localDir, localProject, nfiles, 0)
	if err != nil {
		return nil, err
	}
	var jobs []struct {
		project string
		w       wheel
	}
	for _, lw := range localWheels {
		jobs = append(jobs, struct {
			project string
			w       wheel
		}{localProject, lw})
	}
	if err := uploadAll(w.ep, w.auth, jobs); err != nil {
		return nil, err
	}

	logPath := h.nginxLog
	pagePath := "/upstream/simple/" + upProject + "/"
	before := countLines(logPath, pagePath)
	upURL := w.ep + "simple/" + upProject + "/"
	const clients = 200
	var wg sync.WaitGroup
	start := make(chan struct{})
	statuses := make([]int, clients)
	lats := make([]time.Duration, clients)
	tr := &http.Transport{MaxIdleConnsPerHost: clients, DisableCompression: true}
	cl := &http.Client{Transport: tr, Timeout: time.Minute}
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("GET", upURL, nil)
			req.Header.Set("Authorization", w.auth)
			req.Header.Set("Accept", acceptJSON)
			<-start
			t0 := time.Now()
			resp, err := cl.Do(req)
			if err != nil {
				statuses[i] = -1
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses[i] = resp.StatusCode
			lats[i] = time.Since(t0)
		}()
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	wall := time.Since(t0)
	time.Sleep(200 * time.Millisecond) // nginx writes its log line after the response
	upstreamReqs := countLines(logPath, pagePath) - before
	ok := 0
	for _, s := range statuses {
		if s == 200 {
			ok++
		}
	}
	slices.Sort(lats)
	log.Printf("upstream: %d concurrent requests, %d answered 200 in %s; nginx saw %d requests for the page", clients, ok, wall.Round(time.Millisecond), upstreamReqs)
	_, upBody, _ := getWith(upURL, w.auth, acceptJSON)
	if n := strings.Count(string(upBody), ".whl\""); n < nfiles {
		log.Printf("upstream: page lists %d files, want %d", n, nfiles)
	}

	// Warm: wrk at low concurrency on each page, alternating, per round.
	localURL := w.ep + "simple/" + localProject + "/"
	var r50, r99, rrps []float64
	var lastUp, lastLocal latency
	for round := range *rounds {
		order := []string{upURL, localURL}
		if round%2 == 1 {
			slices.Reverse(order)
		}
		res := map[string]latency{}
		for _, u := range order {
			l, err := wrkLatency(u, w.auth, acceptJSON, 4, *duration, "")
			if err != nil {
				return nil, err
			}
			res[u] = l
		}
		lastUp, lastLocal = res[upURL], res[localURL]
		log.Printf("upstream round %d: upstream project p50 %s p99 %s %.0f req/s %s; local project p50 %s p99 %s %.0f req/s %s", round+1,
			fmtDur(lastUp.p["50"]), fmtDur(lastUp.p["99"]), lastUp.rps, lastUp.err, fmtDur(lastLocal.p["50"]), fmtDur(lastLocal.p["99"]), lastLocal.rps, lastLocal.err)
		r50 = append(r50, float64(lastUp.p["50"])/float64(lastLocal.p["50"]))
		r99 = append(r99, float64(lastUp.p["99"])/float64(lastLocal.p["99"]))
		rrps = append(rrps, lastLocal.rps/lastUp.rps)
	}
	upstreamAfter := countLines(logPath, pagePath) - before
	return []extraRow{
		{"upstream: 200 concurrent requests, one uncached project", "1 upstream request",
			fmt.Sprintf("**%d** upstream request(s) for the page; %d/200 answered 200 in %s (p50 %s, max %s)", upstreamReqs, ok, fmtDur(wall), fmtDur(lats[len(lats)/2]), fmtDur(lats[len(lats)-1])),
			"nginx access-log lines for /upstream/simple/up-project/ (static PEP 503, 20 files); wharf with `WHARF_EXTERNAL_CONNECTIONS=public:pypi=http://NGINX/upstream/simple/`"},
		{"upstream: warm page latency vs a local project (20 files each, JSON)", "≤ 1.2×",
			fmt.Sprintf("p50 **%.2f×** (%s), p99 %.2f× (%s), time per request (1/throughput) %.2f× (%s); last round: upstream p50 %s / p99 %s, local p50 %s / p99 %s; upstream page requests during the warm runs: %d",
				median(r50), fmtList(r50), median(r99), fmtList(r99), median(rrps), fmtList(rrps),
				fmtDur(lastUp.p["50"]), fmtDur(lastUp.p["99"]), fmtDur(lastLocal.p["50"]), fmtDur(lastLocal.p["99"]), upstreamAfter-upstreamReqs),
			fmt.Sprintf("wrk -t1 -c4 -d%s --latency, alternating order per round", *duration)},
	}, nil
}

// ------------------------------------------------------------ memory

// memoryWorkload uploads a large wheel and samples wharf's VmRSS every
// 100 ms while 4 clients download it at once.
func (h *harness) memoryWorkload() ([]extraRow, error) {
	dir := filepath.Join(h.dir, "huge")
	os.MkdirAll(dir, 0o755)
	const hugeProject = "bench-huge"
	w := wheel{version: "1.0", filename: wheelName(hugeProject, "1.0")}
	w.path = filepath.Join(dir, w.filename)
	t0 := time.Now()
	if err := writeWheel(w.path, hugeProject, "1.0", int64(*hugeMiB)<<20-4096); err != nil {
		return nil, err
	}
	st, _ := os.Stat(w.path)
	if err := h.upload(hugeProject, w); err != nil {
		return nil, err
	}
	os.Remove(w.path) // wharf holds the bytes now
	log.Printf("memory: wrote and uploaded a %.0f MiB wheel in %s", float64(st.Size())/(1<<20), time.Since(t0).Round(time.Millisecond))
	u := h.main.ep + "simple/" + hugeProject + "/1.0/" + w.filename
	idle := procStatus(h.wharfPID)["VmRSS"]
	resetHWM(h.wharfPID)

	var samples []int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				samples = append(samples, procStatus(h.wharfPID)["VmRSS"])
			}
		}
	}()
	cl := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	var wg sync.WaitGroup
	got := make([]int64, 4)
	errs := make([]error, 4)
	start := time.Now()
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("GET", u, nil)
			req.Header.Set("Authorization", h.auth)
			resp, err := cl.Do(req)
			if err != nil {
				errs[i] = err
				return
			}
			defer resp.Body.Close()
			got[i], errs[i] = io.Copy(io.Discard, resp.Body)
			if resp.StatusCode != 200 {
				errs[i] = fmt.Errorf("%s", resp.Status)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(stop)
	<-sampled
	for i := range 4 {
		if errs[i] != nil || got[i] != st.Size() {
			return nil, fmt.Errorf("download %d: %v, %d bytes of %d", i, errs[i], got[i], st.Size())
		}
	}
	if len(samples) == 0 {
		return nil, fmt.Errorf("no RSS samples")
	}
	lo, hi := slices.Min(samples), slices.Max(samples)
	hwm := procStatus(h.wharfPID)["VmHWM"]
	flat := float64(hi-lo) / float64(lo)
	log.Printf("memory: %d samples over %s: VmRSS %s–%s (%.1f%%), idle before %s, VmHWM %s", len(samples), elapsed.Round(time.Millisecond), mib(lo), mib(hi), flat*100, mib(idle), mib(hwm))
	return []extraRow{{
		fmt.Sprintf("memory: %d MiB file to 4 clients at once", *hugeMiB), "flat within 10%",
		fmt.Sprintf("VmRSS **%s–%s** (max/min − 1 = **%.1f%%**) over %d samples; idle before %s; VmHWM during %s; %.0f MiB/s total over %s",
			mib(lo), mib(hi), flat*100, len(samples), mib(idle), mib(hwm), float64(4*st.Size())/(1<<20)/elapsed.Seconds(), fmtDur(elapsed)),
		"/proc/PID/status VmRSS every 100 ms while 4 Go clients download it (peak reset before)",
	}}, nil
}

// ------------------------------------------------------------ upload

// uploadWorkload: a large wheel through real twine, against copying the
// same file to disk and hashing it, and against twine's own floor (the same
// upload to a server that only reads the body), side by side, per round.
func (h *harness) uploadWorkload() ([]extraRow, error) {
	if _, err := os.Stat(*twineBin); err != nil {
		return nil, fmt.Errorf("twine: %w", err)
	}
	dir := filepath.Join(h.dir, "upload")
	os.MkdirAll(dir, 0o755)
	const upProject = "bench-upload"
	env := append(os.Environ(), "PYTHON_KEYRING_BACKEND=keyring.backends.null.Keyring", "HOME="+dir)
	// twine's fixed cost: starting Python and importing twine.
	t0 := time.Now()
	if out, err := exec.Command(*twineBin, "--version").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("twine --version: %v: %s", err, out)
	}
	startup := time.Since(t0)
	pass := h.main.auth
	// the password is the token: decode aws:TOKEN from the header
	if dec, err := base64Decode(strings.TrimPrefix(pass, "Basic ")); err == nil {
		_, pass, _ = strings.Cut(dec, ":")
	}
	nullURL, stopNull, err := startNullUpload()
	if err != nil {
		return nil, err
	}
	defer stopNull()
	var ratios, ratiosCp []float64
	var twineTimes, goTimes, cpTimes, apiTimes, apiRatios []float64
	var nullTwineTimes, nullAPITimes, nullRatios, nullAPIRatios []float64
	var twineCPU, apiCPU []float64 // wharf's CPU seconds per upload
	before := procStatus(h.main.pid)["VmRSS"]
	resetHWM(h.main.pid)
	for round := range *rounds {
		v := fmt.Sprintf("1.0.%d", round)
		w := wheel{version: v, filename: wheelName(upProject, v)}
		w.path = filepath.Join(dir, w.filename)
		if err := writeWheel(w.path, upProject, v, int64(*uploadMiB)<<20-4096); err != nil {
			return nil, err
		}
		// Both sides read the source from the page cache.
		if _, err := sha256File(w.path); err != nil {
			return nil, err
		}
		twine := func(repoURL string) (time.Duration, error) {
			t := time.Now()
			cmd := exec.Command(*twineBin, "upload", "--non-interactive", "--disable-progress-bar",
				"--repository-url", repoURL, "-u", "aws", "-p", pass, w.path)
			cmd.Env = env
			out, err := cmd.CombinedOutput()
			if err != nil {
				return 0, fmt.Errorf("twine upload to %s: %v\n%s", repoURL, err, out)
			}
			return time.Since(t), nil
		}
		runGo := func() (time.Duration, error) {
			t := time.Now()
			err := copyHashSync(w.path, filepath.Join(dir, "copy-go"))
			return time.Since(t), err
		}
		runCp := func() (time.Duration, error) {
			t := time.Now()
			dst := filepath.Join(dir, "copy-cp")
			out, err := exec.Command("sh", "-c", `cp "$1" "$2" && sha256sum "$2" >/dev/null`, "sh", w.path, dst).CombinedOutput()
			if err != nil {
				return 0, fmt.Errorf("cp + sha256sum: %v: %s", err, out)
			}
			return time.Since(t), nil
		}
		// The same upload API without twine: wharf's own share of the time.
		gv := fmt.Sprintf("2.0.%d", round)
		gw := wheel{version: gv, filename: wheelName(upProject, gv)}
		gw.path = filepath.Join(dir, gw.filename)
		if err := writeWheel(gw.path, upProject, gv, int64(*uploadMiB)<<20-4096); err != nil {
			return nil, err
		}
		if _, err := sha256File(gw.path); err != nil {
			return nil, err
		}
		goClient := func(uploadURL string) (time.Duration, error) {
			t := time.Now()
			err := uploadTo(uploadURL, h.main.auth, upProject, gw) // hashes the file first, as twine does
			return time.Since(t), err
		}
		// wharf's CPU time (user + system) during an upload to it.
		withCPU := func(cpu *float64, run func() (time.Duration, error)) (time.Duration, error) {
			c0 := groupCPU(h.main.pid)
			d, err := run()
			*cpu = (groupCPU(h.main.pid) - c0).Seconds()
			return d, err
		}
		var tt, tg, tc, ta, tnt, tna time.Duration
		var ct, ca float64
		steps := []func() error{
			func() (e error) { tg, e = runGo(); return },
			func() (e error) { tc, e = runCp(); return },
			func() (e error) { tna, e = goClient(nullURL); return },
			func() (e error) {
				ta, e = withCPU(&ca, func() (time.Duration, error) { return goClient(h.main.ep) })
				return
			},
			func() (e error) { tnt, e = twine(nullURL); return },
			func() (e error) {
				tt, e = withCPU(&ct, func() (time.Duration, error) { return twine(h.main.ep) })
				return
			},
		}
		if round%2 == 1 {
			slices.Reverse(steps)
		}
		for _, st := range steps {
			if err = st(); err != nil {
				return nil, err
			}
		}
		os.Remove(gw.path)
		apiTimes = append(apiTimes, ta.Seconds())
		apiRatios = append(apiRatios, ta.Seconds()/tg.Seconds())
		os.Remove(filepath.Join(dir, "copy-go"))
		os.Remove(filepath.Join(dir, "copy-cp"))
		os.Remove(w.path)
		ratios = append(ratios, tt.Seconds()/tg.Seconds())
		ratiosCp = append(ratiosCp, tt.Seconds()/tc.Seconds())
		twineTimes = append(twineTimes, tt.Seconds())
		goTimes = append(goTimes, tg.Seconds())
		cpTimes = append(cpTimes, tc.Seconds())
		nullTwineTimes = append(nullTwineTimes, tnt.Seconds())
		nullAPITimes = append(nullAPITimes, tna.Seconds())
		nullRatios = append(nullRatios, tt.Seconds()/tnt.Seconds())
		nullAPIRatios = append(nullAPIRatios, ta.Seconds()/tna.Seconds())
		twineCPU = append(twineCPU, ct)
		apiCPU = append(apiCPU, ca)
		log.Printf("upload round %d: twine %s (to the null server %s), Go client on the upload API %s (null %s), Go copy+sha256+fsync %s, cp+sha256sum %s; wharf CPU: twine %.2f s, Go client %.2f s",
			round+1, fmtDur(tt), fmtDur(tnt), fmtDur(ta), fmtDur(tna), fmtDur(tg), fmtDur(tc), ct, ca)
	}
	hwm := procStatus(h.main.pid)["VmHWM"]
	if err := h.profileUpload(upProject, dir); err != nil {
		log.Printf("upload: no CPU profile: %v", err)
	}
	return []extraRow{{
		fmt.Sprintf("upload: %d MiB wheel through twine", *uploadMiB), "≤ 1.3× copy + sha256",
		fmt.Sprintf("twine %.2f s vs copy+sha256+fsync %.2f s: **%.2f×** (%s); vs `cp && sha256sum` %.2f s: %.2f× (%s); twine's own start-up (`twine --version`) %s; the same upload from a Go client (sha256 of the file, then multipart POST) %.2f s: %.2f× (%s)",
			median(twineTimes), median(goTimes), median(ratios), fmtList(ratios), median(cpTimes), median(ratiosCp), fmtList(ratiosCp), fmtDur(startup),
			median(apiTimes), median(apiRatios), fmtList(apiRatios)),
		"wall time of `/usr/bin/twine upload` (a new version each round) vs, on the same disk, Go io.Copy through sha256 into a file + fsync, and `cp` + `sha256sum`; order alternates per round",
	}, {
		fmt.Sprintf("upload: %d MiB wheel, wharf against a null server", *uploadMiB), "wharf's overhead over the client's own floor",
		fmt.Sprintf("twine → wharf %.2f s vs twine → null %.2f s: **%.2f×** (%s), +%.2f s; Go client → wharf %.2f s vs → null %.2f s: **%.2f×** (%s), +%.2f s; wharf's CPU per upload: %.2f s (twine: md5, sha256, blake2b declared), %.2f s (Go client: sha256 declared); wharf's VmHWM over all the uploads %s (VmRSS before %s)",
			median(twineTimes), median(nullTwineTimes), median(nullRatios), fmtList(nullRatios), median(twineTimes)-median(nullTwineTimes),
			median(apiTimes), median(nullAPITimes), median(nullAPIRatios), fmtList(nullAPIRatios), median(apiTimes)-median(nullAPITimes),
			median(twineCPU), median(apiCPU), mib(hwm), mib(before)),
		"the same clients and files, in the same rounds, against a Go net/http handler in the harness that reads the multipart body part by part, discards it and answers 200 (the least any upload server does); wharf's CPU from /proc/PID/stat (user + system) around each upload",
	}}, nil
}

// startNullUpload serves the floor of an upload: the multipart body read to
// the end and thrown away, then 200, as wharf's upload API answers. twine's
// time against it is twine's own (Python, its hashing, sending).
func startNullUpload() (url string, stop func(), err error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mr, err := r.MultipartReader()
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			io.Copy(io.Discard, part)
		}
		io.WriteString(w, "OK\n")
	})}
	go srv.Serve(l)
	return "http://" + l.Addr().String() + "/", func() { srv.Close() }, nil
}

// profileUpload records a CPU profile of wharf while a Go client uploads
// -upload-mib wheels back to back, into -cpuprofile's name with ".upload"
// before the extension (only with -cpuprofile, which turns on WHARF_PPROF).
func (h *harness) profileUpload(project, dir string) error {
	if *pprofOut == "" || h.pprofAddr == "" {
		return nil
	}
	ext := filepath.Ext(*pprofOut)
	out := strings.TrimSuffix(*pprofOut, ext) + ".upload" + ext
	// One file, sent again and again: a repeated upload is hashed and
	// written in full before it is found identical.
	w := wheel{version: "3.0", filename: wheelName(project, "3.0"), path: filepath.Join(dir, "profile.whl")}
	if err := writeWheel(w.path, project, w.version, int64(*uploadMiB)<<20-4096); err != nil {
		return err
	}
	defer os.Remove(w.path)
	const secs = 8
	type result struct {
		data []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", h.pprofAddr, secs))
		if err != nil {
			done <- result{err: err}
			return
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		done <- result{data, err}
	}()
	for i := 0; ; i++ {
		select {
		case r := <-done:
			if r.err != nil {
				return r.err
			}
			if err := os.WriteFile(out, r.data, 0o644); err != nil {
				return err
			}
			log.Printf("CPU profile of wharf under %d uploads of %d MiB: %s (go tool pprof -top %s %s)", i, *uploadMiB, out, *wharfBin, out)
			return nil
		default:
		}
		if err := uploadTo(h.main.ep, h.main.auth, project, w); err != nil {
			return err
		}
	}
}

func copyHashSync(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	defer out.Close()
	s := sha256.New()
	if _, err := io.Copy(io.MultiWriter(out, s), in); err != nil {
		return err
	}
	_ = hex.EncodeToString(s.Sum(nil))
	return out.Sync()
}

// ------------------------------------------------------------ pip

// pipWorkload: `pip download` of N small packages from wharf and from nginx
// serving wharf's own HTML pages (and PEP 658 metadata files) as a static
// PEP 503 tree.
func (h *harness) pipWorkload() ([]extraRow, error) {
	if _, err := os.Stat(*pipBin); err != nil {
		return nil, fmt.Errorf("pip: %w", err)
	}
	dir := filepath.Join(h.dir, "pip-wheels")
	os.MkdirAll(dir, 0o755)
	var names []string
	var jobs []struct {
		project string
		w       wheel
	}
	for i := range *pipPackages {
		name := fmt.Sprintf("pip-pkg-%02d", i)
		names = append(names, name)
		ws, err := makeWheels(dir, name, 1, 0)
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, struct {
			project string
			w       wheel
		}{name, ws[0]})
	}
	if err := uploadAll(h.main.ep, h.main.auth, jobs); err != nil {
		return nil, err
	}
	// The same pages (wharf's HTML bytes) and files at the same relative URLs.
	root := filepath.Join(h.dir, "www", "pip", "simple")
	reHref := regexp.MustCompile(`href="([^"#]+)`)
	for _, j := range jobs {
		pdir := filepath.Join(root, j.project)
		pageURL := h.main.ep + "simple/" + j.project + "/"
		code, body, err := getWith(pageURL, h.main.auth, acceptHTML)
		if err != nil || code != 200 {
			return nil, fmt.Errorf("%s: %d %v", pageURL, code, err)
		}
		if err := os.MkdirAll(pdir, 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(pdir, "index.html"), body, 0o644); err != nil {
			return nil, err
		}
		for _, m := range reHref.FindAllSubmatch(body, -1) {
			rel := string(m[1])
			if strings.Contains(rel, "://") || strings.HasPrefix(rel, "/") || strings.Contains(rel, "..") {
				return nil, fmt.Errorf("%s: href %q is not relative below the page", pageURL, rel)
			}
			dst := filepath.Join(pdir, filepath.FromSlash(rel))
			os.MkdirAll(filepath.Dir(dst), 0o755)
			if err := os.Link(j.w.path, dst); err != nil {
				return nil, err
			}
			// PEP 658: wharf advertises the metadata file; nginx serves it too.
			if code, md, err := getWith(pageURL+rel+".metadata", h.main.auth, ""); err == nil && code == 200 {
				os.WriteFile(dst+".metadata", md, 0o644)
			}
		}
	}
	pass := ""
	if dec, err := base64Decode(strings.TrimPrefix(h.auth, "Basic ")); err == nil {
		_, pass, _ = strings.Cut(dec, ":")
	}
	index := func(base string) string {
		u, _ := url.Parse(base)
		u.User = url.UserPassword("aws", pass)
		return u.String()
	}
	wharfIndex := index(h.main.ep + "simple/")
	nginxIndex := index(h.nginxBase + "/pip/simple/")
	run := func(idx string, n int) (time.Duration, error) {
		d := filepath.Join(h.dir, fmt.Sprintf("pip-dl-%d", n))
		os.RemoveAll(d)
		args := append([]string{"download", "--no-deps", "--no-input", "--disable-pip-version-check", "-q", "-d", d, "--index-url", idx}, names...)
		cmd := exec.Command(*pipBin, args...)
		cmd.Env = append(os.Environ(), "PIP_NO_CACHE_DIR=1", "PIP_CONFIG_FILE=/dev/null", "HOME="+h.dir)
		t := time.Now()
		out, err := cmd.CombinedOutput()
		el := time.Since(t)
		if err != nil {
			return 0, fmt.Errorf("pip download from %s: %v\n%s", idx, err, out)
		}
		ents, _ := os.ReadDir(d)
		if len(ents) != len(names) {
			return 0, fmt.Errorf("pip download: %d files, want %d", len(ents), len(names))
		}
		os.RemoveAll(d)
		return el, nil
	}
	// One unmeasured run each: the interpreter's own files into the page cache.
	if _, err := run(nginxIndex, 0); err != nil {
		return nil, err
	}
	if _, err := run(wharfIndex, 0); err != nil {
		return nil, err
	}
	var rs, tw, tn []float64
	n := 1
	for round := range *rounds {
		var dw, dn time.Duration
		var err error
		if round%2 == 0 {
			if dw, err = run(wharfIndex, n); err == nil {
				dn, err = run(nginxIndex, n+1)
			}
		} else {
			if dn, err = run(nginxIndex, n); err == nil {
				dw, err = run(wharfIndex, n+1)
			}
		}
		n += 2
		if err != nil {
			return nil, err
		}
		rs = append(rs, dw.Seconds()/dn.Seconds())
		tw = append(tw, dw.Seconds())
		tn = append(tn, dn.Seconds())
		log.Printf("pip round %d: wharf %s, nginx %s", round+1, fmtDur(dw), fmtDur(dn))
	}
	return []extraRow{{
		fmt.Sprintf("`pip download` of %d small packages", *pipPackages), "≤ 1.1× nginx",
		fmt.Sprintf("wharf %.2f s, nginx %.2f s: **%.2f×** (%s)", median(tw), median(tn), median(rs), fmtList(rs)),
		"pip 23.2.1 (Python 3.11.7), `--no-deps --index-url http://aws:TOKEN@.../simple/`, fresh `-d` per run, `PIP_NO_CACHE_DIR=1`; nginx serves wharf's HTML pages, the wheels and their PEP 658 `.metadata` files; order alternates per round",
	}}, nil
}

// ------------------------------------------------------------ scale

// scaleWorkload stops the main wharf, writes N projects × 10 files into its
// SQLite database with bench/scalegen (store.AddAsset, fake blobs), starts
// wharf again on that data directory and measures project pages and the
// root index.
func (h *harness) scaleWorkload() ([]extraRow, error) {
	if *scalegenBin == "" {
		return nil, fmt.Errorf("-scalegen is required (bench/run.sh builds it)")
	}
	h.main.stop()
	t0 := time.Now()
	cmd := exec.Command(*scalegenBin, "-db", filepath.Join(h.main.dataDir, "wharf.db"), "-projects", strconv.Itoa(*scaleProjects),
		"-files", "10", "-owner", accountID, "-domain", domain, "-repo", repo, "-template", project)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("scalegen: %w", err)
	}
	gen := time.Since(t0)
	dbSize := int64(0)
	for _, suf := range []string{"", "-wal"} {
		if st, err := os.Stat(filepath.Join(h.main.dataDir, "wharf.db"+suf)); err == nil {
			dbSize += st.Size()
		}
	}
	if err := h.startInst(h.main); err != nil {
		return nil, err
	}
	if err := h.main.token(); err != nil {
		return nil, err
	}
	w := h.main
	h.wharfPID = w.pid
	simple := w.ep + "simple/"
	name := func(i int) string { return fmt.Sprintf("scale-%06d", i) }

	// One never-rendered page: the first request renders it from SQLite.
	var cold []time.Duration
	for _, i := range []int{*scaleProjects / 3, *scaleProjects / 2, *scaleProjects - 1} {
		t := time.Now()
		code, body, err := getWith(simple+name(i)+"/", w.auth, acceptJSON)
		if err != nil || code != 200 {
			return nil, fmt.Errorf("%s: %d %v %.200s", name(i), code, err, body)
		}
		cold = append(cold, time.Since(t))
		if n := strings.Count(string(body), ".whl\""); n < 10 {
			return nil, fmt.Errorf("%s lists %d files", name(i), n)
		}
	}
	// Random projects across all N (mostly page-cache misses), and one hot page.
	script := filepath.Join(h.dir, "scale.lua")
	lua := fmt.Sprintf(`local prefix = %q
math.randomseed(7)
request = function()
  return wrk.format("GET", prefix .. string.format("scale-%%06d/", math.random(0, %d)))
end
`, strings.TrimPrefix(simple, w.base), *scaleProjects-1)
	if err := os.WriteFile(script, []byte(lua), 0o644); err != nil {
		return nil, err
	}
	var rows []extraRow
	for _, c := range []struct {
		label, u, script string
	}{
		{"random project of " + strconv.Itoa(*scaleProjects), w.base + "/", script},
		{"one project (cached page)", simple + name(*scaleProjects/2) + "/", ""},
	} {
		var p50, p99, rps []float64
		var errs string
		for range *rounds {
			l, err := wrkLatency(c.u, w.auth, acceptJSON, 4, *duration, c.script)
			if err != nil {
				return rows, err
			}
			p50 = append(p50, float64(l.p["50"]))
			p99 = append(p99, float64(l.p["99"]))
			rps = append(rps, l.rps)
			errs += l.err
			log.Printf("scale %s: p50 %s p99 %s %.0f req/s %s", c.label, fmtDur(l.p["50"]), fmtDur(l.p["99"]), l.rps, l.err)
		}
		res := fmt.Sprintf("p50 %s, p99 **%s** (rounds: %s); %.0f req/s", fmtDur(time.Duration(median(p50))), fmtDur(time.Duration(median(p99))), fmtDurList(p99), median(rps))
		if errs != "" {
			res += "; " + errs
		}
		rows = append(rows, extraRow{fmt.Sprintf("scale: %d projects × 10 files, JSON page, %s", *scaleProjects, c.label), "p99 ≤ 5 ms", res,
			fmt.Sprintf("wrk -t1 -c4 -d%s --latency, %d rounds, medians", *duration, *rounds)})
	}
	rows[0].detail += fmt.Sprintf("; first (uncached) render of 3 pages: %s; data written with bench/scalegen in %s, database %.0f MiB",
		fmtDurList([]float64{float64(cold[0]), float64(cold[1]), float64(cold[2])}), gen.Round(time.Second), float64(dbSize)/(1<<20))

	// Root index: bytes, time to first byte, total, and wharf's peak RSS.
	for _, accept := range []string{acceptHTML, acceptJSON} {
		before := procStatus(w.pid)["VmRSS"]
		resetHWM(w.pid)
		req, _ := http.NewRequest("GET", simple, nil)
		req.Header.Set("Authorization", w.auth)
		req.Header.Set("Accept", accept)
		t := time.Now()
		resp, err := plainClient.Do(req)
		if err != nil {
			return rows, err
		}
		ttfb := time.Since(t)
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		total := time.Since(t)
		if err != nil || resp.StatusCode != 200 {
			return rows, fmt.Errorf("root index: %s %v", resp.Status, err)
		}
		hwm := procStatus(w.pid)["VmHWM"]
		log.Printf("scale root index (%s): %d bytes, first byte %s, total %s, VmRSS before %s, VmHWM during %s", accept, n, fmtDur(ttfb), fmtDur(total), mib(before), mib(hwm))
		rows = append(rows, extraRow{fmt.Sprintf("scale: root index /simple/ (%s), %d+ projects", accept, *scaleProjects),
			"streamed, not held in memory",
			fmt.Sprintf("%.1f MiB in %s, first byte after %s; wharf VmRSS before %s, peak during **%s** (+%s)",
				float64(n)/(1<<20), fmtDur(total), fmtDur(ttfb), mib(before), mib(hwm), mib(hwm-before)),
			"one GET through Go's client, peak reset via /proc/PID/clear_refs"})
	}
	return rows, nil
}

func fmtDurList(xs []float64) string {
	var s []string
	for _, x := range xs {
		s = append(s, fmtDur(time.Duration(x)))
	}
	return strings.Join(s, ", ")
}

func base64Decode(s string) (string, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	return string(b), err
}
