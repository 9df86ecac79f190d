package clients

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wharfhq/wharf/internal/auth"
	"github.com/wharfhq/wharf/internal/store/sqlite"
)

// What one cell of the compatibility matrix holds, and how it is read off a
// client's output so that it comes out the same on every run.

// cell is the verdict ("ok", "ok: 1.0", "refused: exit 1") and the one line
// the client showed that carries wharf's reason.
type cell struct{ Verdict, Shown string }

// reasonNotShown marks a refusal whose reason the client kept to itself.
const reasonNotShown = "reason not shown"

// judge turns a client run into a cell. reason is what wharf said (the body
// of its answer, or the yank reason on the simple page); got, when not
// empty, is what a successful run produced ("1.0").
func judge(r result, reason, got string) cell {
	c := cell{Verdict: "ok"}
	if r.Code != 0 {
		c.Verdict = fmt.Sprintf("refused: exit %d", r.Code)
	} else if got != "" {
		c.Verdict = "ok: " + got
	}
	if reason == "" {
		if r.Code != 0 { // a refusal nobody expected: show why
			c.Shown = firstComplaint(r.Output())
		}
		return c
	}
	if line := lineWith(r.Output(), reasonKey(reason)); line != "" {
		c.Shown = line
		return c
	}
	c.Shown = reasonNotShown
	if line := firstComplaint(r.Output()); line != "" && r.Code != 0 {
		c.Shown += "; shows: " + line
	}
	return c
}

// reasonKey is the start of wharf's message that a client must repeat to
// have shown it: the first line up to its first digit, quote or backquote
// (dates, names and commands may be rewritten), at most 24 characters.
func reasonKey(reason string) string {
	first, _, _ := strings.Cut(strings.TrimSpace(reason), "\n")
	if i := strings.IndexAny(first, "0123456789\"'`"); i >= 0 {
		first = first[:i]
	}
	first = strings.TrimSpace(first)
	if len(first) > 24 {
		first = first[:24]
	}
	return first
}

// lineWith returns the first line of out (normalized) that contains key,
// after collapsing the whitespace clients insert when they wrap or indent.
func lineWith(out, key string) string {
	if key == "" {
		return ""
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(collapseSpace(line), key) {
			return normalizeShown(line)
		}
	}
	return ""
}

// complaints find the line of a failed run that says what went wrong when
// wharf's reason is not among them: the first line naming the HTTP answer,
// else one about credentials, else the first error, else the first line
// saying something failed.
var complaints = []*regexp.Regexp{
	regexp.MustCompile(`(?i)\b(40[0-9]|unauthori[sz]ed|forbidden|conflict|yanked)\b`),
	regexp.MustCompile(`(?i)\b(credentials?|authori[sz]ation)\b`),
	regexp.MustCompile(`(?i)\b(error|no matching|not found|could not|cannot|unable)\b`),
	regexp.MustCompile(`(?i)\b(failed|denied|invalid)\b`),
}

func firstComplaint(out string) string {
	lines := strings.Split(out, "\n")
	for _, re := range complaints {
		for _, line := range lines {
			if re.MatchString(line) {
				return normalizeShown(line)
			}
		}
	}
	return ""
}

var (
	spaceRun   = regexp.MustCompile(`\s+`)
	hostPort   = regexp.MustCompile(`(127\.0\.0\.1|localhost):[0-9]+`)
	tokenLike  = regexp.MustCompile(`wharf1\.[A-Za-z0-9_.-]+`)
	tempPath   = regexp.MustCompile(`(/tmp|/var/tmp|` + regexp.QuoteMeta(os.TempDir()) + `)/[^\s'"),:]*`)
	daysAgo    = regexp.MustCompile(`\(\d+ days ago\)`)
	timestamp  = regexp.MustCompile(`\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)`) // "valid until ..." moves with the clock
	ansiEscape = regexp.MustCompile(`\x1b\[[0-9;]*[A-Za-z]`)
	elapsed    = regexp.MustCompile(`\b\d+(\.\d+)?m?s\b`) // uv's "in 12ms", "after 0.3s"
	// Digests change with the bytes of a build (and Go's deflate), not
	// with what a client shows.
	digest = regexp.MustCompile(`\b[0-9a-f]{32,}\b`)
)

func collapseSpace(s string) string {
	return strings.TrimSpace(spaceRun.ReplaceAllString(ansiEscape.ReplaceAllString(s, ""), " "))
}

// normalizeShown makes a client's line the same on every run and safe to
// publish: no ports, temporary paths, tokens or elapsed times; clipped.
func normalizeShown(line string) string {
	s := collapseSpace(line)
	s = hostPort.ReplaceAllString(s, "HOST")
	s = tokenLike.ReplaceAllString(s, "wharf1.****")
	s = tempPath.ReplaceAllString(s, "TMP")
	s = daysAgo.ReplaceAllString(s, "(N days ago)")
	s = timestamp.ReplaceAllString(s, "TIME")
	s = elapsed.ReplaceAllString(s, "Ns")
	s = digest.ReplaceAllString(s, "SHA256")
	s = strings.ReplaceAll(s, accountID, "OWNER")
	if len(s) > 180 {
		s = s[:177] + "..."
	}
	return s
}

// expiredAt is when the matrix's expired tokens expired: a fixed instant, so
// the refusal ("The token expired at 2020-01-01T12:00:00Z") reads the same
// on every run.
var expiredAt = time.Date(2020, 1, 1, 12, 0, 0, 0, time.UTC)

// serverKeyring is the server's own token signing key, read from the data
// directory's database as only a test may, to mint tokens the server would
// not (expired ones).
func serverKeyring(t *testing.T, srv *server) *auth.Keyring {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(srv.DataDir, "wharf.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	stored, err := st.GetSetting(context.Background(), "token-signing-key") // "<kid>:<hex key>", see internal/server/identity.go
	if err != nil {
		t.Fatal(err)
	}
	kid, hexKey, _ := strings.Cut(stored, ":")
	key, err := hex.DecodeString(hexKey)
	if err != nil {
		t.Fatalf("the stored signing key: %v", err)
	}
	ring, err := auth.NewKeyring(kid, map[string][]byte{kid: key})
	if err != nil {
		t.Fatal(err)
	}
	return ring
}

// expiredToken re-signs fresh claiming to have expired at expiredAt:
// everything else about it is as issued.
func expiredToken(t *testing.T, ring *auth.Keyring, fresh string) string {
	t.Helper()
	claims, err := ring.Verify(fresh)
	if err != nil {
		t.Fatalf("the fresh token does not verify with the stored key: %v", err)
	}
	claims.IssuedAt, claims.ExpiresAt = expiredAt.Add(-12*time.Hour), expiredAt
	tok, err := ring.Mint(claims)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// clientVersion reads a Python client's version from its installed
// metadata, found from the executable's path: a virtual environment's
// lib/python3.*/site-packages, or Debian's /usr/lib/python3/dist-packages.
func clientVersion(t *testing.T, exe, dist string) string {
	t.Helper()
	root := filepath.Dir(filepath.Dir(exe))
	for _, pattern := range []string{
		filepath.Join(root, "lib", "python3*", "site-packages", dist+"-*.dist-info"),
		filepath.Join(root, "lib", "python3", "dist-packages", dist+"-*.*-info"),
	} {
		if m, _ := filepath.Glob(pattern); len(m) == 1 {
			v := strings.TrimPrefix(filepath.Base(m[0]), dist+"-")
			return strings.TrimSuffix(strings.TrimSuffix(v, ".dist-info"), ".egg-info")
		}
	}
	t.Fatalf("cannot tell the version of %s (%s): no single %s-*.dist-info beside it", dist, exe, dist)
	return ""
}
