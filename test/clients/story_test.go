package clients

import (
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// with rebinds the environment to a subtest, so failures stop the right test.
func (c *clientEnv) with(t *testing.T) *clientEnv {
	cc := *c
	cc.t = t
	return &cc
}

// simpleProject is a PEP 691 project page.
type simpleProject struct {
	Meta struct {
		APIVersion string `json:"api-version"`
	} `json:"meta"`
	Name     string   `json:"name"`
	Versions []string `json:"versions"`
	Files    []struct {
		Filename       string            `json:"filename"`
		URL            string            `json:"url"`
		Hashes         map[string]string `json:"hashes"`
		RequiresPython *string           `json:"requires-python"`
		CoreMetadata   json.RawMessage   `json:"core-metadata"`
		Yanked         json.RawMessage   `json:"yanked"`
		Size           int64             `json:"size"`
		UploadTime     string            `json:"upload-time"`
	} `json:"files"`
}

// TestProximalStory replays the story of issue #2 with the real clients:
// domain and repository via the aws CLI, twine uploads of real builds, pip
// installs resolving a dependency from wharf, then the wire details pip and
// uv depend on. Steps run in order; a failed step that later steps depend on
// stops the story.
func TestProximalStory(t *testing.T) {
	t.Parallel()
	const domain, repo = "proximal-code-artifact-domain", "proximal-hub"
	const description = "Proximal's internal packages"
	srv := startServer(t, serverConfig{})
	base := newClientEnv(t, srv)
	endpoint := srv.Endpoint(domain, repo)
	simple := endpoint + "simple/"

	step := func(name string, critical bool, fn func(t *testing.T, c *clientEnv)) {
		ok := t.Run(name, func(t *testing.T) { fn(t, base.with(t)) })
		if !ok && critical {
			t.Fatalf("step %q failed; the rest of the story depends on it", name)
		}
	}

	var coreWheel, coreSdist, conflictWheel, appDir string
	step("build-real-dists", true, func(t *testing.T, c *clientEnv) {
		dist := buildProject(t, c, filepath.Join(c.Work, "core"), proximalCore("42"))
		coreWheel = filepath.Join(dist, "proximal_core-1.0.0-py3-none-any.whl")
		files := distFiles(t, dist)
		for _, f := range files {
			if strings.HasSuffix(f, ".tar.gz") {
				coreSdist = f
			}
		}
		if !slices.Contains(files, coreWheel) || coreSdist == "" {
			t.Fatalf("unexpected build output %v", files)
		}
		// Same filename, different bytes: the conflicting upload.
		cdist := buildProject(t, c, filepath.Join(c.Work, "core-conflict"), proximalCore("43"))
		conflictWheel = filepath.Join(cdist, "proximal_core-1.0.0-py3-none-any.whl")
		appDir = buildProject(t, c, filepath.Join(c.Work, "app"), proximalApp)
		distFiles(t, appDir)
	})

	domainARN := regexp.MustCompile(`^arn:aws:codeartifact:[a-z0-9-]+:` + accountID + `:domain/` + domain + `$`)
	repoARN := regexp.MustCompile(`^arn:aws:codeartifact:[a-z0-9-]+:` + accountID + `:repository/` + domain + `/` + repo + `$`)

	step("create-domain", true, func(t *testing.T, c *clientEnv) {
		var out struct{ Domain map[string]any }
		c.awsJSON(&out, "create-domain", "--domain", domain)
		d := out.Domain
		if d["name"] != domain || d["owner"] != accountID || d["status"] != "Active" || !domainARN.MatchString(fmt.Sprint(d["arn"])) {
			t.Errorf("create-domain returned %v; want name %s, owner %s, status Active, arn like %s", d, domain, accountID, domainARN)
		}
	})

	step("create-repository", true, func(t *testing.T, c *clientEnv) {
		var out struct{ Repository map[string]any }
		c.awsJSON(&out, "create-repository", "--domain", domain, "--domain-owner", accountID,
			"--repository", repo, "--description", description)
		r := out.Repository
		if r["name"] != repo || r["domainName"] != domain || r["domainOwner"] != accountID ||
			r["description"] != description || !repoARN.MatchString(fmt.Sprint(r["arn"])) {
			t.Errorf("create-repository returned %v; want name, domainName, domainOwner, description and arn like %s", r, repoARN)
		}
	})

	step("describe-and-list", false, func(t *testing.T, c *clientEnv) {
		if got := c.awsText("describe-domain", "--domain", domain, "--domain-owner", accountID, "--query", "domain.arn"); !domainARN.MatchString(got) {
			t.Errorf("describe-domain domain.arn = %q, want %s", got, domainARN)
		}
		if got := c.awsText("describe-domain", "--domain", domain, "--query", "domain.repositoryCount"); got != "1" {
			t.Errorf("describe-domain domain.repositoryCount = %q, want 1", got)
		}
		if got := c.awsText("describe-repository", "--domain", domain, "--repository", repo, "--query", "repository.[name,description,domainOwner]"); got != repo+"\t"+description+"\t"+accountID {
			t.Errorf("describe-repository [name,description,domainOwner] = %q", got)
		}
		if got := c.awsText("describe-repository", "--domain", domain, "--repository", repo, "--query", "repository.arn"); !repoARN.MatchString(got) {
			t.Errorf("describe-repository repository.arn = %q, want %s", got, repoARN)
		}
		if got := c.awsText("list-domains", "--query", fmt.Sprintf("domains[?name=='%s'].owner | [0]", domain)); got != accountID {
			t.Errorf("list-domains owner of %s = %q, want %s", domain, got, accountID)
		}
		if got := c.awsText("list-repositories-in-domain", "--domain", domain, "--query", "repositories[].[name,domainName,description]"); got != repo+"\t"+domain+"\t"+description {
			t.Errorf("list-repositories-in-domain = %q", got)
		}
		if got := c.awsText("list-repositories", "--query", fmt.Sprintf("repositories[?domainName=='%s'].arn", domain)); !repoARN.MatchString(got) {
			t.Errorf("list-repositories arn = %q, want %s", got, repoARN)
		}
	})

	step("get-repository-endpoint", true, func(t *testing.T, c *clientEnv) {
		got := c.awsText("get-repository-endpoint", "--domain", domain, "--domain-owner", accountID,
			"--repository", repo, "--format", "pypi", "--query", "repositoryEndpoint")
		if got != endpoint {
			t.Fatalf("repositoryEndpoint = %q, want %q", got, endpoint)
		}
	})

	step("login-twine", true, func(t *testing.T, c *clientEnv) {
		r := c.aws(nil, "login", "--tool", "twine", "--domain", domain, "--domain-owner", accountID, "--repository", repo)
		if r.Code != 0 || !strings.Contains(r.Stdout, "Successfully configured twine") {
			t.Fatalf("aws codeartifact login --tool twine:\n%s", r)
		}
		rc := string(readFile(t, filepath.Join(c.Home, ".pypirc")))
		if !strings.Contains(rc, "[codeartifact]") || !strings.Contains(rc, "repository = "+endpoint) || !strings.Contains(rc, "username = aws") {
			t.Fatalf("~/.pypirc lacks the codeartifact section for %s:\n%s", endpoint, rc)
		}
	})

	twine := func(c *clientEnv, files ...string) result {
		args := append([]string{"upload", "--verbose", "--disable-progress-bar", "-r", "codeartifact"}, files...)
		return c.run(nil, need(c.t, "twine"), args...)
	}

	step("twine-upload", true, func(t *testing.T, c *clientEnv) {
		if r := twine(c, coreWheel, coreSdist); r.Code != 0 {
			t.Fatalf("twine upload of a wheel and an sdist built by setuptools:\n%s", r)
		}
		if r := twine(c, filepath.Join(appDir, "*")); r.Code != 0 {
			// twine expands globs itself, as with `twine upload dist/*` in a shell.
			t.Fatalf("twine upload of the flit-built app:\n%s", r)
		}
	})

	step("twine-reupload-identical-succeeds", false, func(t *testing.T, c *clientEnv) {
		if r := twine(c, coreWheel, coreSdist); r.Code != 0 {
			t.Fatalf("re-uploading identical files must succeed (no --skip-existing):\n%s", r)
		}
	})

	step("twine-conflicting-upload-fails", false, func(t *testing.T, c *clientEnv) {
		r := twine(c, conflictWheel)
		if r.Code == 0 || !strings.Contains(r.Output(), "File already exists") || !regexp.MustCompile(`\b(409|400)\b`).MatchString(r.Output()) {
			t.Fatalf("uploading different bytes under an existing filename must fail with 409/400 and 'File already exists':\n%s", r)
		}
	})

	step("control-plane-lists-packages", false, func(t *testing.T, c *clientEnv) {
		if got := c.awsText("list-packages", "--domain", domain, "--repository", repo, "--query", "sort(packages[].[format,package][])"); got != "proximal-app\tproximal-core\tpypi\tpypi" {
			t.Errorf("list-packages [format,package] (sorted, flattened) = %q", got)
		}
		if got := c.awsText("list-package-versions", "--domain", domain, "--repository", repo, "--format", "pypi", "--package", "proximal-core", "--query", "versions[].[version,status]"); got != "1.0.0\tPublished" {
			t.Errorf("list-package-versions = %q, want 1.0.0 Published", got)
		}
		var assets struct {
			Assets []struct {
				Name   string
				Size   int64
				Hashes map[string]string
			}
		}
		c.awsJSON(&assets, "list-package-version-assets", "--domain", domain, "--repository", repo, "--format", "pypi",
			"--package", "proximal-core", "--package-version", "1.0.0")
		want := map[string][]byte{filepath.Base(coreWheel): readFile(t, coreWheel), filepath.Base(coreSdist): readFile(t, coreSdist)}
		if len(assets.Assets) != len(want) {
			t.Errorf("list-package-version-assets = %+v, want %d assets", assets, len(want))
		}
		for _, a := range assets.Assets {
			b, ok := want[a.Name]
			if !ok || a.Size != int64(len(b)) || a.Hashes["SHA-256"] != sha256hex(b) {
				t.Errorf("asset %+v does not match an uploaded file (sizes/sha256 of %v)", a, filepath.Base(coreWheel))
			}
		}
	})

	step("login-pip", true, func(t *testing.T, c *clientEnv) {
		r := c.aws(nil, "login", "--tool", "pip", "--domain", domain, "--domain-owner", accountID, "--repository", repo)
		if r.Code != 0 || !strings.Contains(r.Stdout, "Successfully configured pip") {
			t.Fatalf("aws codeartifact login --tool pip:\n%s", r)
		}
		conf := c.must(nil, need(t, "pip"), "config", "list").Stdout
		u, _ := url.Parse(endpoint)
		want := fmt.Sprintf("global.index-url='%s://aws:", u.Scheme)
		if !strings.Contains(conf, want) || !strings.Contains(conf, "@"+u.Host+u.Path+"simple/'") {
			t.Fatalf("pip config after login should hold %s<token>@%s%ssimple/:\n%s", want, u.Host, u.Path, conf)
		}
	})

	step("pip-install-resolves-dependency", false, func(t *testing.T, c *clientEnv) {
		target := filepath.Join(c.Work, "site")
		r := c.must(nil, need(t, "pip"), "install", "--target", target, "proximal-app")
		if !strings.Contains(r.Stdout, "Successfully installed proximal-app-0.2.0 proximal-core-1.0.0") {
			t.Fatalf("pip should install proximal-app and its dependency proximal-core from wharf:\n%s", r)
		}
		r = c.must([]string{"PYTHONPATH=" + target}, need(t, "python3"), "-c", "import proximal_app; print(proximal_app.VALUE)")
		if strings.TrimSpace(r.Stdout) != "42" {
			t.Fatalf("installed proximal_core has VALUE %q, want 42 (the first upload, not the conflicting one)", r.Stdout)
		}
	})

	step("pip-download-same-bytes", false, func(t *testing.T, c *clientEnv) {
		dest := filepath.Join(c.Work, "download")
		c.must(nil, need(t, "pip"), "download", "--no-deps", "--dest", dest, "proximal-core==1.0.0")
		got := readFile(t, filepath.Join(dest, filepath.Base(coreWheel)))
		if want := readFile(t, coreWheel); sha256hex(got) != sha256hex(want) {
			t.Fatalf("pip downloaded %d bytes (sha256 %s), uploaded %d bytes (sha256 %s)", len(got), sha256hex(got), len(want), sha256hex(want))
		}
	})

	var token string
	step("token-and-curl", true, func(t *testing.T, c *clientEnv) {
		token = c.token(domain)
		// Exactly what users type, shell and all.
		script := fmt.Sprintf(`set -e
TOKEN=$(aws codeartifact get-authorization-token --domain %s --domain-owner %s --query authorizationToken --output text --endpoint-url %s --region %s)
curl -fsS -u "aws:$TOKEN" -H 'Accept: application/vnd.pypi.simple.v1+json' '%sproximal-core/'`, domain, accountID, srv.URL, region, simple)
		need(t, "curl")
		need(t, "aws")
		r := c.must(nil, "/bin/bash", "-c", script)
		if !strings.Contains(r.Stdout, `"proximal-core"`) {
			t.Fatalf("curl with the token should get the JSON project page:\n%s", r)
		}
	})
	auth := basic("aws", token)

	var page simpleProject
	pageURL := simple + "proximal-core/"
	step("simple-json", true, func(t *testing.T, c *clientEnv) {
		for _, accept := range []string{acceptJSON, pipAccept} {
			r := fetch(t, "GET", pageURL, nil, auth, accept)
			mustStatus(t, r, 200)
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/vnd.pypi.simple.v1+json") {
				t.Errorf("Content-Type %q for %s", ct, accept)
			}
			if !varyAccept(r) {
				t.Errorf("missing Vary: Accept:\n%s", r)
			}
			if strings.Contains(string(r.Body), "dist-info-metadata") {
				t.Errorf("JSON must never carry dist-info-metadata (older pip hard-fails):\n%s", r)
			}
			if err := json.Unmarshal(r.Body, &page); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, r)
			}
		}
		if !apiVersionAtLeast(page.Meta.APIVersion, 1, 1) || page.Name != "proximal-core" || !slices.Equal(page.Versions, []string{"1.0.0"}) {
			t.Errorf("meta.api-version %q (want >= 1.1), name %q, versions %v", page.Meta.APIVersion, page.Name, page.Versions)
		}
		want := map[string]string{filepath.Base(coreWheel): coreWheel, filepath.Base(coreSdist): coreSdist}
		if len(page.Files) != 2 {
			t.Fatalf("want 2 files, got %+v", page.Files)
		}
		uploadTime := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$`)
		for _, f := range page.Files {
			b := readFile(t, want[f.Filename])
			if f.Hashes["sha256"] != sha256hex(b) || f.Size != int64(len(b)) {
				t.Errorf("%s: hashes %v size %d, want sha256 %s size %d", f.Filename, f.Hashes, f.Size, sha256hex(b), len(b))
			}
			if f.RequiresPython == nil || *f.RequiresPython != ">=3.8" {
				t.Errorf("%s: requires-python %v, want >=3.8", f.Filename, f.RequiresPython)
			}
			if string(f.Yanked) != "false" {
				t.Errorf("%s: yanked %s, want false", f.Filename, f.Yanked)
			}
			if !uploadTime.MatchString(f.UploadTime) {
				t.Errorf("%s: upload-time %q", f.Filename, f.UploadTime)
			}
			wantMeta := "false"
			if strings.HasSuffix(f.Filename, ".whl") {
				wantMeta = fmt.Sprintf(`{"sha256":%q}`, sha256hex(wheelMetadata(t, b)))
			}
			if compactJSON(f.CoreMetadata) != wantMeta {
				t.Errorf("%s: core-metadata %s, want %s", f.Filename, f.CoreMetadata, wantMeta)
			}
			// uv sends credentials only below the index root (the URL minus "simple/").
			if abs := resolve(t, pageURL, f.URL); !strings.HasPrefix(abs, endpoint) {
				t.Errorf("%s: file URL %s is outside the index root %s", f.Filename, abs, endpoint)
			}
		}
	})

	step("simple-html", false, func(t *testing.T, c *clientEnv) {
		for _, accept := range []string{"", "Accept: text/html", "Accept: application/vnd.pypi.simple.v1+html"} {
			hdrs := []string{auth}
			if accept != "" {
				hdrs = append(hdrs, accept)
			}
			r := fetch(t, "GET", pageURL, nil, hdrs...)
			mustStatus(t, r, 200)
			ct := r.Header.Get("Content-Type")
			if !strings.HasPrefix(ct, "text/html") && !strings.HasPrefix(ct, "application/vnd.pypi.simple.v1+html") {
				t.Errorf("Accept %q: Content-Type %q", accept, ct)
			}
			if accept == "" && !strings.HasPrefix(ct, "text/html") {
				t.Errorf("no Accept must give text/html, got %q", ct)
			}
			if !varyAccept(r) {
				t.Errorf("missing Vary: Accept:\n%s", r)
			}
			html := string(r.Body)
			if !regexp.MustCompile(`<meta name="pypi:repository-version" content="1\.([1-9]|\d\d)"`).MatchString(html) {
				t.Errorf("no pypi:repository-version >= 1.1 meta:\n%s", r)
			}
			for _, p := range []string{coreWheel, coreSdist} {
				b := readFile(t, p)
				anchor := regexp.MustCompile(`<a [^>]*href="[^"]*` + regexp.QuoteMeta(filepath.Base(p)) + `#sha256=` + sha256hex(b) + `"[^>]*>` + regexp.QuoteMeta(filepath.Base(p)) + `</a>`)
				a := anchor.FindString(html)
				if a == "" {
					t.Errorf("no anchor for %s with #sha256 fragment:\n%s", filepath.Base(p), html)
					continue
				}
				if !strings.Contains(a, `data-requires-python="&gt;=3.8"`) {
					t.Errorf("anchor lacks escaped data-requires-python: %s", a)
				}
				if strings.HasSuffix(p, ".whl") {
					m := "sha256=" + sha256hex(wheelMetadata(t, b))
					if !strings.Contains(a, `data-core-metadata="`+m+`"`) || !strings.Contains(a, `data-dist-info-metadata="`+m+`"`) {
						t.Errorf("wheel anchor lacks data-core-metadata/data-dist-info-metadata=%q: %s", m, a)
					}
				}
			}
		}
	})

	step("simple-root-index", false, func(t *testing.T, c *clientEnv) {
		r := fetch(t, "GET", simple, nil, auth, acceptJSON)
		mustStatus(t, r, 200)
		var idx struct {
			Meta struct {
				APIVersion string `json:"api-version"`
			}
			Projects []struct{ Name string }
		}
		if err := json.Unmarshal(r.Body, &idx); err != nil {
			t.Fatalf("root index is not JSON: %v\n%s", err, r)
		}
		var names []string
		for _, p := range idx.Projects {
			names = append(names, p.Name)
		}
		slices.Sort(names)
		if !slices.Equal(names, []string{"proximal-app", "proximal-core"}) {
			t.Errorf("root index projects %v:\n%s", names, r)
		}
		r = fetch(t, "GET", simple, nil, auth)
		mustStatus(t, r, 200)
		if !strings.Contains(string(r.Body), "proximal-core/") || !varyAccept(r) {
			t.Errorf("root HTML index should link proximal-core/ and vary on Accept:\n%s", r)
		}
	})

	fileURL := func(t *testing.T, name string) string {
		for _, f := range page.Files {
			if f.Filename == name {
				return resolve(t, pageURL, f.URL)
			}
		}
		t.Fatalf("no %s on the project page", name)
		return ""
	}

	step("core-metadata-file", false, func(t *testing.T, c *clientEnv) {
		r := fetch(t, "GET", stripFragment(fileURL(t, filepath.Base(coreWheel)))+".metadata", nil, auth)
		mustStatus(t, r, 200)
		want := wheelMetadata(t, readFile(t, coreWheel))
		if string(r.Body) != string(want) {
			t.Errorf(".metadata must be the wheel's exact METADATA bytes:\nwant %q\n%s", want, r)
		}
	})

	step("file-download-head-range-etag", false, func(t *testing.T, c *clientEnv) {
		for _, p := range []string{coreWheel, coreSdist} {
			u := stripFragment(fileURL(t, filepath.Base(p)))
			want := readFile(t, p)
			r := fetch(t, "GET", u, nil, auth)
			mustStatus(t, r, 200)
			if sha256hex(r.Body) != sha256hex(want) {
				t.Errorf("GET %s: body differs from the uploaded file", u)
			}
			etag := r.Header.Get("ETag")
			h := fetch(t, "HEAD", u, nil, auth)
			mustStatus(t, h, 200)
			if h.Header.Get("Content-Length") != strconv.Itoa(len(want)) || len(h.Body) != 0 {
				t.Errorf("HEAD must give Content-Length %d and no body:\n%s", len(want), h)
			}
			g := fetch(t, "GET", u, nil, auth, "Range: bytes=10-19")
			mustStatus(t, g, 206)
			if string(g.Body) != string(want[10:20]) || !strings.HasPrefix(g.Header.Get("Content-Range"), fmt.Sprintf("bytes 10-19/%d", len(want))) {
				t.Errorf("Range bytes=10-19 wrong:\n%s", g)
			}
			if etag == "" {
				t.Errorf("no ETag on %s:\n%s", u, r)
				continue
			}
			nm := fetch(t, "GET", u, nil, auth, "If-None-Match: "+etag)
			mustStatus(t, nm, 304)
		}
	})

	step("name-normalization-redirects", false, func(t *testing.T, c *clientEnv) {
		for _, name := range []string{"Proximal_Core", "proximal.core", "PROXIMAL--core"} {
			r := fetch(t, "GET", simple+name+"/", nil, auth, acceptJSON)
			mustStatus(t, r, 301)
			if loc := resolve(t, simple, r.Header.Get("Location")); loc != pageURL {
				t.Errorf("%s redirects to %q, want %s", name, loc, pageURL)
			}
		}
		r := fetch(t, "GET", strings.TrimSuffix(pageURL, "/"), nil, auth)
		if r.Status < 300 || r.Status > 308 || resolve(t, simple, r.Header.Get("Location")) != pageURL {
			t.Errorf("missing trailing slash must redirect to %s:\n%s", pageURL, r)
		}
		r = fetch(t, "GET", simple+"no-such-project/", nil, auth, acceptJSON)
		mustStatus(t, r, 404)
	})

	step("boto3", false, func(t *testing.T, c *clientEnv) {
		r := c.boto3(fmt.Sprintf(`
d, r = %q, %q
print(json.dumps({
  "endpoint": ca.get_repository_endpoint(domain=d, repository=r, format="pypi")["repositoryEndpoint"],
  "repo": ca.describe_repository(domain=d, repository=r)["repository"]["name"],
  "versions": [v["version"] for v in ca.list_package_versions(domain=d, repository=r, format="pypi", package="proximal-app")["versions"]],
  "token_ok": bool(ca.get_authorization_token(domain=d, durationSeconds=900)["authorizationToken"]),
}))`, domain, repo))
		var out struct {
			Endpoint, Repo string
			Versions       []string
			TokenOK        bool `json:"token_ok"`
		}
		if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
			t.Fatalf("%v\n%s", err, r)
		}
		if out.Endpoint != endpoint || out.Repo != repo || !slices.Equal(out.Versions, []string{"0.2.0"}) || !out.TokenOK {
			t.Errorf("boto3 saw %+v", out)
		}
	})
}

func varyAccept(r reply) bool {
	for _, v := range r.Header.Values("Vary") {
		for _, f := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), "Accept") {
				return true
			}
		}
	}
	return false
}

func apiVersionAtLeast(v string, major, minor int) bool {
	a, b, ok := strings.Cut(v, ".")
	ma, err1 := strconv.Atoi(a)
	mi, err2 := strconv.Atoi(b)
	return ok && err1 == nil && err2 == nil && (ma > major || ma == major && mi >= minor)
}

func compactJSON(raw json.RawMessage) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func resolve(t *testing.T, base, ref string) string {
	t.Helper()
	b, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	r, err := url.Parse(ref)
	if err != nil {
		t.Fatalf("bad URL %q: %v", ref, err)
	}
	return b.ResolveReference(r).String()
}

func stripFragment(u string) string {
	s, _, _ := strings.Cut(u, "#")
	return s
}
