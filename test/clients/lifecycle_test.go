package clients

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGenericPublishAndDownload drives the generic format as its docs tell
// users to: publish-package-version of a real file with the aws CLI (the
// first asset --unfinished, the last one finishing the version), then
// get-package-version-asset and the plain-HTTP endpoint. The server must
// stream, never hold the file in memory.
func TestGenericPublishAndDownload(t *testing.T) {
	t.Parallel()
	const domain, repo, size = "generic-dom", "files", 128 << 20
	srv := startServer(t, serverConfig{})
	c := newClientEnv(t, srv)
	c.createDomainAndRepo(domain, repo)

	big := filepath.Join(c.Work, "model.bin")
	bigSHA := writeRandomFile(t, big, size)
	notes := filepath.Join(c.Work, "notes.txt")
	writeFile(t, notes, []byte("release notes\n"))
	pkg := []string{"--domain", domain, "--repository", repo, "--format", "generic", "--namespace", "ml-team", "--package", "model"}
	publish := func(version, file, sha string, extra ...string) result {
		args := append([]string{"publish-package-version"}, pkg...)
		args = append(args, "--package-version", version, "--asset-content", file, "--asset-name", filepath.Base(file), "--asset-sha256", sha, "--output", "json")
		return c.aws(nil, append(args, extra...)...)
	}
	type published struct {
		Format, Namespace, Package, Version, VersionRevision, Status string
		Asset                                                        assetSummaryJSON
	}
	decode := func(r result, out any) {
		t.Helper()
		if r.Code != 0 {
			t.Fatalf("aws failed:\n%s", r)
		}
		if err := json.Unmarshal([]byte(r.Stdout), out); err != nil {
			t.Fatalf("%v:\n%s", err, r)
		}
	}

	var first published
	decode(publish("1.0", big, bigSHA, "--unfinished"), &first)
	if first.Status != "Unfinished" || first.Format != "generic" || first.Namespace != "ml-team" || first.Package != "model" || first.Version != "1.0" ||
		first.Asset.Name != "model.bin" || first.Asset.Size != size || first.Asset.Hashes["SHA-256"] != bigSHA || len(first.Asset.Hashes) != 4 {
		t.Fatalf("publish --unfinished answered %+v", first)
	}
	get := func(version, asset, out string) result {
		args := append([]string{"get-package-version-asset"}, pkg...)
		return c.aws(nil, append(args, "--package-version", version, "--asset", asset, out, "--output", "json")...)
	}
	if r := get("1.0", "model.bin", filepath.Join(c.Work, "early.bin")); r.Code == 0 || !strings.Contains(r.Stderr, "Unfinished") {
		t.Errorf("an Unfinished version must not be downloadable, with a reason:\n%s", r)
	}
	var last published
	decode(publish("1.0", notes, sha256hex([]byte("release notes\n"))), &last)
	if last.Status != "Published" || last.VersionRevision == first.VersionRevision {
		t.Fatalf("the last publish without --unfinished must publish the version with a new revision: %+v", last)
	}
	if r := publish("1.0", notes, sha256hex([]byte("release notes\n"))); r.Code != 0 {
		t.Errorf("re-publishing an identical asset must succeed:\n%s", r)
	}
	late := filepath.Join(c.Work, "late.txt")
	writeFile(t, late, []byte("late"))
	if r := publish("1.0", late, sha256hex([]byte("late"))); r.Code == 0 || !strings.Contains(r.Stderr, "ConflictException") || !strings.Contains(r.Stderr, "--unfinished") {
		t.Errorf("adding an asset to a Published generic version must be a conflict that explains --unfinished:\n%s", r)
	}
	if r := publish("2.0", big, sha256hex([]byte("another file"))); r.Code == 0 || !strings.Contains(r.Stderr, "ValidationException") || !strings.Contains(r.Stderr, "SHA-256") {
		t.Errorf("a streamed body that does not match --asset-sha256 must be refused:\n%s", r)
	}
	// A small one too: a wrong --asset-sha256 is the caller's mistake, named
	// with both hashes, never a forged signature (the CLI signs the hash it states).
	small := filepath.Join(c.Work, "small.txt")
	writeFile(t, small, []byte("small asset"))
	if r := publish("2.0", small, sha256hex([]byte("another file"))); r.Code == 0 || !strings.Contains(r.Stderr, "ValidationException") ||
		!strings.Contains(r.Stderr, sha256hex([]byte("another file"))) || !strings.Contains(r.Stderr, sha256hex([]byte("small asset"))) {
		t.Errorf("a small body that does not match --asset-sha256 must be a ValidationException naming both hashes:\n%s", r)
	}
	if r := c.aws(nil, "describe-package-version", "--domain", domain, "--repository", repo, "--format", "generic", "--namespace", "ml-team", "--package", "model", "--package-version", "2.0"); !strings.Contains(r.Stderr, "ResourceNotFoundException") {
		t.Errorf("a refused publish must leave no version behind:\n%s", r)
	}
	c.awsFails(nil, "ValidationException", "publish-package-version", "--domain", domain, "--repository", repo, "--format", "generic", "--package", "model",
		"--package-version", "3.0", "--asset-content", notes, "--asset-name", "notes.txt", "--asset-sha256", sha256hex([]byte("release notes\n")))
	if r := c.awsFails(nil, "ValidationException", "publish-package-version", "--domain", domain, "--repository", repo, "--format", "pypi", "--package", "model",
		"--package-version", "3.0", "--asset-content", notes, "--asset-name", "notes.txt", "--asset-sha256", sha256hex([]byte("release notes\n"))); !strings.Contains(r.Stderr, "generic packages only") {
		t.Errorf("publish-package-version of pypi must say why not:\n%s", r)
	}

	// Download through the control plane: the headers the model defines.
	out := filepath.Join(c.Work, "downloaded.bin")
	var hdr struct{ AssetName, PackageVersion, PackageVersionRevision string }
	decode(get("1.0", "model.bin", out), &hdr)
	if got := fileSHA(t, out); got != bigSHA {
		t.Fatalf("get-package-version-asset wrote other bytes (sha256 %s, want %s)", got, bigSHA)
	}
	if hdr.AssetName != "model.bin" || hdr.PackageVersion != "1.0" || hdr.PackageVersionRevision != last.VersionRevision {
		t.Errorf("get-package-version-asset headers: %+v (want revision %s)", hdr, last.VersionRevision)
	}
	os.Remove(out)

	// Download through the data plane, with Range and ETag.
	endpoint := c.awsText("get-repository-endpoint", "--domain", domain, "--repository", repo, "--format", "generic", "--query", "repositoryEndpoint")
	if want := fmt.Sprintf("%s/%s-%s/generic/%s/", srv.URL, domain, accountID, repo); endpoint != want {
		t.Fatalf("generic endpoint %q, want %q", endpoint, want)
	}
	auth := basic("aws", c.token(domain))
	url := endpoint + "ml-team/model/1.0/model.bin"
	resp := streamGet(t, url, auth)
	if resp.status != 200 || resp.sha != bigSHA || resp.header.Get("ETag") != `"`+bigSHA+`"` {
		t.Fatalf("GET %s: status %d, sha256 %s, ETag %s", url, resp.status, resp.sha, resp.header.Get("ETag"))
	}
	r := fetch(t, "GET", url, nil, auth, "Range: bytes=10-19")
	if r.Status != 206 || r.Header.Get("Content-Range") != fmt.Sprintf("bytes 10-19/%d", size) || len(r.Body) != 10 {
		t.Errorf("range request:\n%s", r)
	}
	mustStatus(t, fetch(t, "GET", url, nil, auth, `If-None-Match: "`+bigSHA+`"`), 304)
	mustStatus(t, fetch(t, "GET", url, nil), 401)
	mustStatus(t, fetch(t, "GET", endpoint+"ml-team/model/1.0/missing.bin", nil, auth), 404)

	peak := peakRSS(t, srv.cmd.Process.Pid)
	t.Logf("server peak RSS %d MiB after publishing and downloading a %d MiB asset", peak>>20, size>>20)
	if peak > 64<<20 {
		t.Errorf("server peak RSS %d MiB for a %d MiB asset: publish and download must stream", peak>>20, size>>20)
	}
}

type assetSummaryJSON struct {
	Name   string
	Size   int64
	Hashes map[string]string
}

// writeRandomFile writes size pseudo-random bytes (incompressible, and
// reproducible) and returns their sha256.
func writeRandomFile(t *testing.T, path string, size int64) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	rng := rand.NewChaCha8([32]byte{'w', 'h', 'a', 'r', 'f'})
	if _, err := io.CopyN(io.MultiWriter(f, h), rng, size); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func fileSHA(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

type streamed struct {
	status int
	header http.Header
	sha    string
}

// streamGet downloads url hashing the body, without holding it in memory.
func streamGet(t *testing.T, url string, headers ...string) streamed {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	h := sha256.New()
	if _, err := io.Copy(h, resp.Body); err != nil {
		t.Fatal(err)
	}
	return streamed{status: resp.StatusCode, header: resp.Header, sha: hex.EncodeToString(h.Sum(nil))}
}

// pyResult is what the boto3 steps print: an operation's output, or the
// error code and message boto3 parsed.
type pyResult struct {
	Error, Message string
	Successful     map[string]struct{ Revision, Status string }        `json:"successfulVersions"`
	Failed         map[string]struct{ ErrorCode, ErrorMessage string } `json:"failedVersions"`
	DeletedPackage *struct {
		Format, Namespace, Package string
		OriginConfiguration        struct {
			Restrictions struct{ Publish, Upstream string }
		}
	}
	Readme          *string
	Version         string
	VersionRevision string
	Status          string
	PackageVersion  json.RawMessage // a structure (describe) or a string (asset headers)
	AssetName       string
	Body            string // sha256 of a streamed asset
}

// boto3Call evaluates one call of client ca (ca.some_operation(...)) in boto3, which parses the answer with
// the real service model (so a wrong shape fails here).
func (c *clientEnv) boto3Call(call string) pyResult {
	c.t.Helper()
	r := c.boto3(`import hashlib
try:
    out = ` + call + `
    out.pop('ResponseMetadata', None)
    if 'asset' in out and hasattr(out['asset'], 'read'):
        out['body'] = hashlib.sha256(out.pop('asset').read()).hexdigest()
except ca.exceptions.ClientError as e:
    out = {'error': e.response['Error']['Code'], 'message': e.response['Error']['Message']}
print(json.dumps(out, default=str))
`)
	var out pyResult
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
		c.t.Fatalf("boto3 %s: %v\n%s", call, err, r)
	}
	return out
}

func wantBatch(t *testing.T, what string, got pyResult, ok map[string]string, failed map[string]string) {
	t.Helper()
	if got.Error != "" {
		t.Fatalf("%s: %s: %s", what, got.Error, got.Message)
	}
	if len(got.Successful) != len(ok) || len(got.Failed) != len(failed) {
		t.Fatalf("%s: got %+v / %+v, want successes %v and failures %v", what, got.Successful, got.Failed, ok, failed)
	}
	for v, st := range ok {
		if s := got.Successful[v]; s.Status != st || s.Revision == "" {
			t.Errorf("%s: %s is %+v, want %s with a revision", what, v, s, st)
		}
	}
	for v, code := range failed {
		if f := got.Failed[v]; f.ErrorCode != code || f.ErrorMessage == "" {
			t.Errorf("%s: %s failed with %+v, want %s and a message", what, v, f, code)
		}
	}
}

// TestLifecycleWithBoto3 walks version statuses, dispose, copy and delete
// through boto3, and checks what the data plane and the disk show after
// each step.
func TestLifecycleWithBoto3(t *testing.T) {
	t.Parallel()
	const domain = "life"
	srv := startServer(t, serverConfig{})
	c := newClientEnv(t, srv)
	c.createDomainAndRepo(domain, "main")
	for _, repo := range []string{"copies", "mirror"} {
		c.must(nil, need(t, "aws"), "codeartifact", "create-repository", "--domain", domain, "--repository", repo, "--endpoint-url", srv.URL, "--region", region)
	}
	c.must(nil, need(t, "aws"), "codeartifact", "update-repository", "--domain", domain, "--repository", "mirror", "--upstreams", "repositoryName=main", "--endpoint-url", srv.URL, "--region", region)
	token := c.token(domain)
	auth := basic("aws", token)
	const pkg = `domain='life', repository='main', format='generic', namespace='ns', package='p'`
	contents := map[string]string{"1.0": "one", "1.1": "one.one", "2.0": "two", "3.0": "three"}
	for _, v := range []string{"1.0", "1.1", "2.0", "3.0"} {
		res := c.boto3Call(fmt.Sprintf(`ca.publish_package_version(%s, packageVersion=%q, assetName='f.bin', assetContent=%q.encode(), assetSHA256=%q)`,
			pkg, v, contents[v], sha256hex([]byte(contents[v]))))
		if res.Error != "" || res.Status != "Published" {
			t.Fatalf("publish %s: %+v", v, res)
		}
	}
	blobPath := func(content string) string {
		sha := sha256hex([]byte(content))
		return filepath.Join(srv.DataDir, "blobs", accountID, domain, sha[:2], sha)
	}
	onDisk := func(content string) bool { _, err := os.Stat(blobPath(content)); return err == nil }
	download := func(repo, version string) reply {
		return fetch(t, "GET", fmt.Sprintf("%s/%s-%s/generic/%s/ns/p/%s/f.bin", srv.URL, domain, accountID, repo, version), nil, auth)
	}
	update := func(kwargs string) pyResult {
		return c.boto3Call("ca.update_package_versions_status(" + pkg + ", " + kwargs + ")")
	}

	wantBatch(t, "archive", update(`versions=['1.0', '1.1', '9.9'], targetStatus='Archived'`),
		map[string]string{"1.0": "Archived", "1.1": "Archived"}, map[string]string{"9.9": "NOT_FOUND"})
	wantBatch(t, "archive again", update(`versions=['1.0'], targetStatus='Archived'`), nil, map[string]string{"1.0": "SKIPPED"})
	wantBatch(t, "expected status", update(`versions=['1.0', '2.0'], expectedStatus='Published', targetStatus='Unlisted'`),
		map[string]string{"2.0": "Unlisted"}, map[string]string{"1.0": "MISMATCHED_STATUS"})
	wantBatch(t, "stale revision", update(`versions=[], versionRevisions={'1.1': 'stale-revision'}, targetStatus='Published'`),
		nil, map[string]string{"1.1": "MISMATCHED_REVISION"})
	var cur struct{ Revision, Status string }
	if err := json.Unmarshal(c.boto3Call("ca.describe_package_version("+pkg+", packageVersion='1.1')").PackageVersion, &cur); err != nil || cur.Revision == "" {
		t.Fatalf("describe_package_version: %+v %v", cur, err)
	}
	restored := update(fmt.Sprintf(`versions=['1.1'], versionRevisions={'1.1': %q}, targetStatus='Published'`, cur.Revision))
	wantBatch(t, "current revision", restored, map[string]string{"1.1": "Published"}, nil)
	if restored.Successful["1.1"].Revision == cur.Revision {
		t.Error("a status change must change the revision")
	}
	if r := update(`versions=['1.0'], targetStatus='Disposed'`); r.Error != "ValidationException" || !strings.Contains(r.Message, "dispose-package-versions") {
		t.Errorf("targetStatus Disposed must point to dispose: %+v", r)
	}

	// The data plane honours statuses: Archived refused with the reason,
	// Unlisted still downloadable.
	if r := download("main", "1.0"); r.Status != 410 || !strings.Contains(string(r.Body), "Archived") || !strings.Contains(string(r.Body), "update-package-versions-status") {
		t.Errorf("an Archived asset must be refused with a reason:\n%s", r)
	}
	if r := download("main", "2.0"); r.Status != 200 || string(r.Body) != "two" {
		t.Errorf("an Unlisted asset stays downloadable:\n%s", r)
	}
	if r := c.boto3Call("ca.get_package_version_asset(" + pkg + ", packageVersion='1.0', asset='f.bin')"); r.Error != "ConflictException" || !strings.Contains(r.Message, "Archived") {
		t.Errorf("get_package_version_asset of an Archived version: %+v", r)
	}
	if r := c.boto3Call("ca.get_package_version_asset(" + pkg + ", packageVersion='2.0', asset='f.bin')"); r.Error != "" || r.Body != sha256hex([]byte("two")) ||
		r.AssetName != "f.bin" || string(r.PackageVersion) != `"2.0"` {
		t.Errorf("get_package_version_asset of an Unlisted version: %+v", r)
	}

	// Dispose: assets gone, bytes gone from disk, status final.
	if !onDisk("three") {
		t.Fatalf("the blob of 3.0 should be at %s", blobPath("three"))
	}
	wantBatch(t, "dispose", c.boto3Call("ca.dispose_package_versions("+pkg+", versions=['3.0', '9.9'])"),
		map[string]string{"3.0": "Disposed"}, map[string]string{"9.9": "NOT_FOUND"})
	if onDisk("three") {
		t.Error("a disposed version's bytes must leave the blob store")
	}
	if r := download("main", "3.0"); r.Status != 410 || !strings.Contains(string(r.Body), "disposed") {
		t.Errorf("a disposed asset must be refused with a reason:\n%s", r)
	}
	wantBatch(t, "restore disposed", update(`versions=['3.0'], targetStatus='Published'`), nil, map[string]string{"3.0": "NOT_ALLOWED"})
	if r := c.boto3Call("ca.list_package_versions(" + pkg + ", status='Disposed')"); r.Error != "" {
		t.Errorf("list_package_versions: %+v", r)
	}

	// Copy: metadata only, idempotent, allowOverwrite, includeFromUpstream.
	const copyArgs = `domain='life', sourceRepository='main', destinationRepository='copies', format='generic', namespace='ns', package='p'`
	wantBatch(t, "copy", c.boto3Call("ca.copy_package_versions("+copyArgs+", versions=['2.0', '1.1', '9.9'])"),
		map[string]string{"2.0": "Unlisted", "1.1": "Published"}, map[string]string{"9.9": "NOT_FOUND"})
	wantBatch(t, "copy again", c.boto3Call("ca.copy_package_versions("+copyArgs+", versions=['2.0'])"), map[string]string{"2.0": "Unlisted"}, nil)
	if r := download("copies", "1.1"); r.Status != 200 || string(r.Body) != "one.one" {
		t.Errorf("a copied version downloads from the destination:\n%s", r)
	}
	c.boto3Call(fmt.Sprintf(`ca.publish_package_version(domain='life', repository='copies', format='generic', namespace='ns', package='p', packageVersion='4.0', assetName='f.bin', assetContent=b'copies four', assetSHA256=%q)`, sha256hex([]byte("copies four"))))
	c.boto3Call(fmt.Sprintf(`ca.publish_package_version(%s, packageVersion='4.0', assetName='f.bin', assetContent=b'main four', assetSHA256=%q)`, pkg, sha256hex([]byte("main four"))))
	wantBatch(t, "copy over other content", c.boto3Call("ca.copy_package_versions("+copyArgs+", versions=['4.0'])"), nil, map[string]string{"4.0": "ALREADY_EXISTS"})
	wantBatch(t, "copy with allowOverwrite", c.boto3Call("ca.copy_package_versions("+copyArgs+", versions=['4.0'], allowOverwrite=True)"), map[string]string{"4.0": "Published"}, nil)
	if onDisk("copies four") {
		t.Error("the overwritten destination's bytes must leave the blob store")
	}
	wantBatch(t, "copy stale revision", c.boto3Call("ca.copy_package_versions("+copyArgs+", versionRevisions={'1.1': 'stale-revision'})"), nil, map[string]string{"1.1": "MISMATCHED_REVISION"})
	if r := c.boto3Call("ca.copy_package_versions(" + copyArgs + ", versions=['1.1'], versionRevisions={'1.1': 'x'})"); r.Error != "ValidationException" {
		t.Errorf("versions and versionRevisions together must be refused: %+v", r)
	}
	const fromMirror = `domain='life', sourceRepository='mirror', destinationRepository='copies', format='generic', namespace='ns', package='p'`
	if r := c.boto3Call("ca.copy_package_versions(" + fromMirror + ", versions=['1.1'])"); r.Error != "ResourceNotFoundException" {
		t.Errorf("without includeFromUpstream, mirror has no such package: %+v", r)
	}
	wantBatch(t, "copy includeFromUpstream", c.boto3Call("ca.copy_package_versions("+fromMirror+", versions=['1.1'], includeFromUpstream=True)"),
		map[string]string{"1.1": "Published"}, nil)

	// Delete versions, then the package; bytes the copies still use stay.
	c.boto3Call(fmt.Sprintf(`ca.publish_package_version(%s, packageVersion='5.0', assetName='f.bin', assetContent=b'only in main', assetSHA256=%q)`, pkg, sha256hex([]byte("only in main"))))
	wantBatch(t, "delete versions", c.boto3Call("ca.delete_package_versions("+pkg+", versions=['1.0', '9.9'])"),
		map[string]string{"1.0": "Deleted"}, map[string]string{"9.9": "NOT_FOUND"})
	if r := c.boto3Call("ca.describe_package_version(" + pkg + ", packageVersion='1.0')"); r.Error != "ResourceNotFoundException" {
		t.Errorf("a deleted version is gone: %+v", r)
	}
	if onDisk("one") {
		t.Error("a deleted version's bytes must leave the blob store")
	}
	wantBatch(t, "delete with expected status", c.boto3Call("ca.delete_package_versions("+pkg+", versions=['2.0'], expectedStatus='Archived')"),
		nil, map[string]string{"2.0": "MISMATCHED_STATUS"})
	del := c.boto3Call("ca.delete_package(" + pkg + ")")
	if d := del.DeletedPackage; d == nil || d.Format != "generic" || d.Namespace != "ns" || d.Package != "p" || d.OriginConfiguration.Restrictions.Publish != "ALLOW" {
		t.Fatalf("delete_package: %+v", del)
	}
	if r := c.boto3Call("ca.describe_package(" + pkg + ")"); r.Error != "ResourceNotFoundException" {
		t.Errorf("a deleted package is gone: %+v", r)
	}
	if onDisk("only in main") || !onDisk("main four") || !onDisk("one.one") || !onDisk("two") {
		t.Error("deleting a package deletes its bytes except those another repository still uses")
	}
	if r := download("copies", "2.0"); r.Status != 200 || string(r.Body) != "two" {
		t.Errorf("copies survive the deletion of their source:\n%s", r)
	}
}

// TestLifecyclePypiStatusesWithPip checks that pip sees statuses as users
// expect: an Unlisted version installs only by exact pin, an Archived one
// not at all; and that get-package-version-readme returns the description
// from core metadata.
func TestLifecyclePypiStatusesWithPip(t *testing.T) {
	t.Parallel()
	const domain, repo = "pipstat", "py"
	srv := startServer(t, serverConfig{})
	c := newClientEnv(t, srv)
	c.createDomainAndRepo(domain, repo)
	token := c.token(domain)
	for _, v := range []string{"1.0", "2.0"} {
		mustStatus(t, upload(t, srv.Endpoint(domain, repo), wheelWithReadme(t, "lc-demo", v, "# lc-demo "+v+"\n\nThe long description.\n"), basic("aws", token)), 200, 201)
	}
	index := strings.Replace(srv.Endpoint(domain, repo), "http://", "http://aws:"+token+"@", 1) + "simple/"
	install := func(spec string) result {
		return c.run(nil, need(t, "pip"), "install", "--no-deps", "--target", t.TempDir(), "--index-url", index, spec)
	}
	var readme struct{ Readme, Version, VersionRevision string }
	c.awsJSON(&readme, "get-package-version-readme", "--domain", domain, "--repository", repo, "--format", "pypi", "--package", "lc-demo", "--package-version", "1.0")
	if readme.Readme != "# lc-demo 1.0\n\nThe long description.\n" || readme.Version != "1.0" || readme.VersionRevision == "" {
		t.Errorf("get-package-version-readme: %+v", readme)
	}

	c.awsText("update-package-versions-status", "--domain", domain, "--repository", repo, "--format", "pypi", "--package", "lc-demo",
		"--versions", "2.0", "--target-status", "Unlisted", "--query", "successfulVersions")
	if r := install("lc-demo"); r.Code != 0 || !strings.Contains(r.Stdout, "Successfully installed lc-demo-1.0") {
		t.Errorf("with 2.0 Unlisted, `pip install lc-demo` must pick 1.0:\n%s", r)
	}
	if r := install("lc-demo==2.0"); r.Code != 0 || !strings.Contains(r.Stdout, "Successfully installed lc-demo-2.0") {
		t.Errorf("an Unlisted version must install by exact pin:\n%s", r)
	}
	c.awsText("update-package-versions-status", "--domain", domain, "--repository", repo, "--format", "pypi", "--package", "lc-demo",
		"--versions", "2.0", "--target-status", "Archived", "--query", "successfulVersions")
	if r := install("lc-demo==2.0"); r.Code == 0 || !strings.Contains(r.Output(), "No matching distribution") {
		t.Errorf("an Archived version must not install:\n%s", r)
	}
	r := fetch(t, "GET", srv.Endpoint(domain, repo)+"simple/lc-demo/2.0/lc_demo-2.0-py3-none-any.whl", nil, basic("aws", token))
	if r.Status != 410 || !strings.Contains(string(r.Body), "Archived") {
		t.Errorf("the Archived file's URL must answer 410 Gone with the reason:\n%s", r)
	}
}

// wheelWithReadme is a minimal wheel whose METADATA carries a long
// description (the body after the headers).
func wheelWithReadme(t *testing.T, name, version, readme string) dist {
	t.Helper()
	under := strings.ReplaceAll(name, "-", "_")
	di := fmt.Sprintf("%s-%s.dist-info", under, version)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for file, body := range map[string]string{
		under + "/__init__.py": fmt.Sprintf("VERSION = %q\n", version),
		di + "/METADATA":       fmt.Sprintf("Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: lifecycle test\nDescription-Content-Type: text/markdown\n\n%s", name, version, readme),
		di + "/WHEEL":          "Wheel-Version: 1.0\nGenerator: wharf-e2e\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
		di + "/RECORD":         "",
	} {
		w, err := zw.Create(file)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, body)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return dist{Name: name, Version: version, Filetype: "bdist_wheel", Filename: fmt.Sprintf("%s-%s-py3-none-any.whl", under, version), Data: buf.Bytes()}
}
