package upstream

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

const (
	testPassword = "PASSWORD-8fQ2"
	testToken    = "TOKEN-k3Lw"
)

// TestURLNeverPrintsItsSecrets: every way Go shows a value shows the
// redacted form.
func TestURLNeverPrintsItsSecrets(t *testing.T) {
	u := mustURL(t, "https://user:"+testPassword+"@mirror.example:8443/simple/?token="+testToken+"&"+testToken+"&x=")
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("m", "url", u)
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("m", "url", u)
	js, _ := json.Marshal(struct{ U URL }{u})
	for _, shown := range []string{u.String(), fmt.Sprint(u), fmt.Sprintf("%v %+v %#v %s %q", u, u, u, u, u), logged.String(), string(js),
		(&Error{URL: u, Status: 500}).Error(), Redact(u.raw())} {
		if strings.Contains(shown, testPassword) || strings.Contains(shown, testToken) {
			t.Errorf("shows a secret: %s", shown)
		}
		if !strings.Contains(shown, "mirror.example:8443/simple/") {
			t.Errorf("does not say where: %s", shown)
		}
	}
	if got, want := u.String(), "https://REDACTED@mirror.example:8443/simple/?token=REDACTED&REDACTED&x=REDACTED"; got != want {
		t.Errorf("String() = %s, want %s", got, want)
	}
	if got := u.Public(); got != "https://user:"+testPassword+"@mirror.example:8443/simple/" && got != "https://mirror.example:8443/simple/" {
		t.Errorf("Public() = %s", got)
	}
	if strings.Contains(u.Public(), testPassword) {
		t.Errorf("Public() keeps the userinfo: %s", u.Public())
	}
	if _, err := ParseURL("http://u:" + testPassword + "@h:99999999999/%zz?token=" + testToken); err == nil ||
		strings.Contains(err.Error(), testPassword) || strings.Contains(err.Error(), testToken) {
		t.Errorf("a URL that does not parse is refused without quoting it: %v", err)
	}
}

// TestConnectionSecretsStayOut: userinfo becomes credentials, the query
// token rides on every page request, and no error or log line of a failing
// upstream (500, timeout, unreachable) carries either, though net/http's
// own errors quote the request URL.
func TestConnectionSecretsStayOut(t *testing.T) {
	var gotAuth, gotToken []string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth = append(gotAuth, r.Header.Get("Authorization"))
		gotToken = append(gotToken, r.URL.Query().Get("token"))
		switch {
		case strings.HasSuffix(r.URL.Path, "/slow/"):
			select {
			case <-time.After(3 * time.Second):
			case <-r.Context().Done():
			}
		case strings.HasSuffix(r.URL.Path, "/ok/"):
			io.WriteString(w, "page")
		default:
			http.Error(w, "boom", 500)
		}
	}))
	defer up.Close()
	raw := strings.Replace(up.URL, "http://", "http://mirror:"+testPassword+"@", 1) + "/simple/?token=" + testToken
	conn, err := ParseConnection(raw, Credentials{})
	if err != nil {
		t.Fatal(err)
	}
	if conn.Auth.Username != "mirror" || conn.Auth.Password != testPassword || strings.Contains(conn.URL.raw(), testPassword) {
		t.Fatalf("userinfo must move into the credentials: %#v %#v", conn.URL, conn.Auth)
	}
	if _, err := ParseConnection(raw, Credentials{Header: "X-Key", Value: "v"}); err == nil || strings.Contains(err.Error(), testPassword) {
		t.Errorf("credentials given twice: %v", err)
	}
	var logged bytes.Buffer
	c := newClient(t, Config{Timeout: 300 * time.Millisecond})
	c.log = slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if err := c.Authenticate(conn); err != nil {
		t.Fatal(err)
	}
	page := func(name string) (Page, error) {
		u, err := conn.URL.WithPage(conn.URL.Public() + name + "/")
		if err != nil {
			t.Fatal(err)
		}
		return c.Page(context.Background(), PageRequest{URL: u, Accept: "text/html", Parse: identity})
	}
	var errs []string
	if p, err := page("ok"); err != nil || string(p.Body) != "page" {
		t.Fatalf("ok page: %q %v", p.Body, err)
	}
	for _, name := range []string{"broken", "slow"} {
		_, err := page(name)
		if err == nil {
			t.Fatalf("%s: no error", name)
		}
		errs = append(errs, err.Error())
	}
	up.Close() // unreachable now
	if _, err := page("gone"); err == nil {
		t.Fatal("unreachable: no error")
	} else {
		errs = append(errs, err.Error())
	}
	fu, _ := ParseURL(up.URL + "/files/x.whl?token=" + testToken)
	if _, err := c.Fetch(context.Background(), "k", fu, notYet, nil); err == nil {
		t.Fatal("unreachable file: no error")
	} else {
		errs = append(errs, err.Error())
	}
	for _, shown := range append(errs, logged.String()) {
		if strings.Contains(shown, testPassword) || strings.Contains(shown, testToken) {
			t.Errorf("shows a secret:\n%s", shown)
		}
	}
	if !strings.Contains(errs[1], "did not answer in time") || !strings.Contains(errs[2], "could not be reached") {
		t.Errorf("errors must still say what happened: %q", errs)
	}
	for i := range gotAuth {
		if gotAuth[i] == "" || gotToken[i] != testToken {
			t.Errorf("request %d reached the upstream without the connection's credentials (auth %q, token %q)", i, gotAuth[i], gotToken[i])
		}
	}
	if len(gotAuth) != 3 {
		t.Errorf("the upstream saw %d requests, want 3", len(gotAuth))
	}
}

// TestCredentialsOnlyToTheirOrigin: a redirect to another origin is
// followed without the connection's header (net/http forwards custom
// headers set on a request to any host it is redirected to).
func TestCredentialsOnlyToTheirOrigin(t *testing.T) {
	var elsewhere []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere = append(elsewhere, r.Header.Get("X-Api-Key")+"|"+r.Header.Get("Authorization"))
		io.WriteString(w, "moved page")
	}))
	defer other.Close()
	var mirror []string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mirror = append(mirror, r.Header.Get("X-Api-Key"))
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusFound)
	}))
	defer up.Close()
	cr, err := ParseHeader("x-api-key: " + testToken)
	if err != nil || cr.Header != "X-Api-Key" {
		t.Fatalf("ParseHeader: %#v %v", cr, err)
	}
	conn, err := ParseConnection(up.URL+"/simple/", cr)
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, Config{})
	if err := c.Authenticate(conn); err != nil {
		t.Fatal(err)
	}
	if err := c.Authenticate(Connection{URL: conn.URL, Auth: Credentials{Username: "x"}}); err == nil {
		t.Error("two connections on one origin with different credentials must be refused")
	}
	if p, err := c.Page(context.Background(), req(t, up.URL+"/simple/a/")); err != nil || string(p.Body) != "moved page" {
		t.Fatalf("%q %v", p.Body, err)
	}
	if len(mirror) != 1 || mirror[0] != testToken {
		t.Errorf("the mirror must get its header: %q", mirror)
	}
	if len(elsewhere) != 1 || elsewhere[0] != "|" {
		t.Errorf("another origin must get no credentials: %q", elsewhere)
	}
	for _, bad := range []string{"no colon " + testToken, ": " + testToken, "Bad Name: " + testToken, "X: " + testToken + "\nb"} {
		if _, err := ParseHeader(bad); err == nil || strings.Contains(err.Error(), testToken) {
			t.Errorf("ParseHeader(%q) = %v", bad, err)
		}
	}
}

// FuzzRedact: whatever URL an upstream page or a configuration holds, its
// redacted form has no userinfo but REDACTED and no query value but
// REDACTED (query names stay, to say what was there).
func FuzzRedact(f *testing.F) {
	f.Add("https://user:" + testPassword + "@mirror.example:8443/simple/?token=" + testToken + "&x")
	f.Add("http://h/p?a=1&&b=%zz#frag?c=d")
	f.Add("http://[::1]:80/?;a=b;c")
	f.Fuzz(func(t *testing.T, s string) {
		shown := Redact(s)
		if _, err := url.Parse(strings.TrimSpace(s)); err != nil {
			if shown != "(a URL that does not parse)" {
				t.Fatalf("Redact(%q) = %q", s, shown)
			}
			return
		}
		u, err := url.Parse(shown)
		if err != nil {
			t.Fatalf("Redact(%q) = %q does not parse: %v", s, shown, err)
		}
		if u.User != nil && u.User.String() != redacted {
			t.Fatalf("Redact(%q) = %q shows userinfo", s, shown)
		}
		for _, kv := range strings.Split(u.RawQuery, "&") {
			if _, v, ok := strings.Cut(kv, "="); ok && v != redacted || !ok && kv != "" && kv != redacted {
				t.Fatalf("Redact(%q) = %q shows the query part %q", s, shown, kv)
			}
		}
		if pu, err := ParseURL(s); err == nil && pu.String() != shown {
			t.Fatalf("URL.String() = %q, Redact = %q", pu.String(), shown)
		}
	})
}
