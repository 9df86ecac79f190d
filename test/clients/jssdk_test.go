package clients

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// jsSDKDir is where scripts/test.sh installs the AWS SDK for JavaScript v3
// CodeArtifact client with npm ci from jssdk/package-lock.json (every
// package pinned): $WHARF_JS_SDK_DIR, else
// ~/.cache/wharf-test/aws-sdk-js-<the lock file's sha256, 12 digits>.
func jsSDKDir(t *testing.T) string {
	if d := os.Getenv("WHARF_JS_SDK_DIR"); d != "" {
		return d
	}
	lock, err := os.ReadFile(filepath.Join("jssdk", "package-lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	home, err := os.UserHomeDir()
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(lock)
	return filepath.Join(home, ".cache", "wharf-test", "aws-sdk-js-"+hex.EncodeToString(sum[:])[:12])
}

// TestJSSDKPublish: the JavaScript SDK signs PublishPackageVersion over the
// assetSHA256 it sends; a wrong one must be a ValidationException naming
// both hashes, not a forged signature, at every size.
func TestJSSDKPublish(t *testing.T) {
	t.Parallel()
	node := need(t, "node")
	dir := jsSDKDir(t)
	module := filepath.Join(dir, "node_modules", "@aws-sdk", "client-codeartifact")
	if _, err := os.Stat(filepath.Join(module, "package.json")); err != nil {
		t.Fatalf("the JavaScript SDK is missing (%v): run scripts/test.sh, which installs it into %s with npm ci from test/clients/jssdk", err, dir)
	}
	srv := startServer(t, serverConfig{})
	script := filepath.Join(t.TempDir(), "publish.js")
	writeFile(t, script, []byte(`
const ca = require(process.env.SDK);
const { createHash } = require("node:crypto");
const sha = (b) => createHash("sha256").update(b).digest("hex");
const c = new ca.CodeartifactClient({ endpoint: process.env.EP, region: "us-east-2", maxAttempts: 1,
  credentials: { accessKeyId: process.env.KEY, secretAccessKey: process.env.SECRET } });
(async () => {
  const out = {};
  await c.send(new ca.CreateDomainCommand({ domain: "jsdom" }));
  await c.send(new ca.CreateRepositoryCommand({ domain: "jsdom", repository: "repo" }));
  for (const size of [100, 2 << 20]) {
    const body = Buffer.alloc(size, "a");
    const publish = (version, hash) => c.send(new ca.PublishPackageVersionCommand({ domain: "jsdom", repository: "repo",
      format: "generic", namespace: "ns", package: "p", packageVersion: version, assetName: "a.bin", assetSHA256: hash, assetContent: body }));
    const r = await publish("right-" + size, sha(body));
    out["right-" + size] = { status: r.status, sha: r.asset.hashes["SHA-256"] };
    try {
      await publish("wrong-" + size, sha("another file"));
      out["wrong-" + size] = { accepted: true };
    } catch (e) {
      out["wrong-" + size] = { name: e.name, status: e.$metadata.httpStatusCode, message: e.message, requestId: e.$metadata.requestId };
    }
  }
  out.bodySHA = { small: sha(Buffer.alloc(100, "a")), large: sha(Buffer.alloc(2 << 20, "a")) };
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
`))
	cmd := exec.Command(node, script)
	cmd.Env = append(os.Environ(), "SDK="+module, "EP="+srv.URL, "KEY="+rootKeyID, "SECRET="+rootSecret)
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, raw)
	}
	var out map[string]map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	wrong := sha256hex([]byte("another file"))
	for size, sum := range map[string]any{"100": out["bodySHA"]["small"], "2097152": out["bodySHA"]["large"]} {
		if r := out["right-"+size]; r["status"] != "Published" || r["sha"] != sum {
			t.Errorf("size %s, right hash: %v", size, r)
		}
		w := out["wrong-"+size]
		msg, _ := w["message"].(string)
		id, _ := w["requestId"].(string)
		if w["name"] != "ValidationException" || w["status"] != 400.0 || !strings.Contains(msg, wrong) || !strings.Contains(msg, sum.(string)) || id == "" {
			t.Errorf("size %s, wrong hash: %v", size, w)
		}
	}
}
