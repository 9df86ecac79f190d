// Package doctor reads what the Python and npm clients would read — project
// and user config files, environment variables, .netrc — and says, for every
// index it finds, what the client will send and why it will fail. It asks the
// server what it makes of the credentials (token-info, then a probe of the
// index) and reports the server's own words. It never prints a secret.
package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/wharfhq/wharf/internal/auth"
)

// Severity orders findings. Only errors make doctor fail.
type Severity string

const (
	Error Severity = "error"
	Warn  Severity = "warn"
	Info  Severity = "info"
	OK    Severity = "ok"
)

// Finding is one thing doctor found: where (a file, a variable), what is
// wrong or fine, and what to do. Code is stable, for machines and tests.
type Finding struct {
	Severity Severity `json:"severity"`
	Code     string   `json:"code"`
	Source   string   `json:"source"`
	Index    string   `json:"index,omitempty"`
	Message  string   `json:"message"`
	Fix      string   `json:"fix,omitempty"`
	Detail   string   `json:"detail,omitempty"` // the server's own explanation
}

// Index is one package index a client is configured to use.
type Index struct {
	Label  string `json:"label"` // findings about this index carry it in Index
	Client string `json:"client"`
	// The client version doctor checked against, where what the client
	// reads depends on it (poetry, pdm): "poetry 1.3.2 (/usr/bin/poetry)".
	ClientVersion string `json:"clientVersion,omitempty"`
	Name          string `json:"name,omitempty"`
	URL           string `json:"url"` // without credentials
	Source        string `json:"source"`
	Sends         string `json:"sends"` // what the client sends, secrets named, not shown
}

// Report is doctor's answer.
type Report struct {
	Indexes  []Index   `json:"indexes"`
	Findings []Finding `json:"findings"`
	OK       bool      `json:"ok"`
	secrets  []string
}

// Options say where to look. Zero values mean: the process environment,
// the current directory (if it has a pyproject.toml), a 10 s HTTP client.
type Options struct {
	Project string // project directory; "" = the working directory
	Offline bool   // do not ask the servers
	HTTP    *http.Client
	Now     time.Time
	// Versions are client versions to check against ("poetry": "1.3.2")
	// instead of asking the client first on PATH with --version.
	Versions map[string]string
}

type doctor struct {
	opt     Options
	home    string
	report  *Report
	netrc   []netrcEntry
	netrcAt string
	ctx     context.Context
}

// Run examines the configuration and returns the report.
func Run(ctx context.Context, opt Options) *Report {
	if opt.HTTP == nil {
		opt.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	if opt.Project == "" {
		if wd, err := os.Getwd(); err == nil {
			opt.Project = wd
		}
	}
	home, _ := os.UserHomeDir()
	d := &doctor{opt: opt, home: home, report: &Report{Indexes: []Index{}, Findings: []Finding{}}, ctx: ctx}
	d.loadNetrc()
	var ixs []*index
	ixs = append(ixs, d.uvIndexes()...)
	ixs = append(ixs, d.pipIndexes()...)
	ixs = append(ixs, d.poetryIndexes()...)
	ixs = append(ixs, d.pdmIndexes()...)
	ixs = append(ixs, d.twineIndexes()...)
	ixs = append(ixs, d.npmIndexes()...)
	for _, ix := range ixs {
		d.check(ix)
	}
	if len(ixs) == 0 {
		d.add(Finding{Severity: Info, Code: "no-index", Source: d.rel(opt.Project),
			Message: "no package index is configured for uv, pip, poetry, pdm, twine or npm (in the project, the user's config files or the environment)",
			Fix:     "configure one with `wharf login --tool uv|pip|poetry|pdm|twine|npm --domain D --repository R`"})
	}
	d.report.OK = true
	for _, f := range d.report.Findings {
		if f.Severity == Error {
			d.report.OK = false
		}
	}
	return d.report
}

func (d *doctor) add(f Finding) { d.report.Findings = append(d.report.Findings, f) }

// version is the version of tool that doctor checks against: Options.Versions,
// else the one first on PATH. ok is false when neither tells; doctor then
// checks against the newest behaviour.
func (d *doctor) version(tool string) (ClientVersion, bool) {
	if s, ok := d.opt.Versions[tool]; ok {
		v, err := ParseClientVersion(tool, s)
		return v, err == nil
	}
	v, err := InstalledVersion(d.ctx, tool)
	return v, err == nil
}

func (d *doctor) secret(s string) {
	if len(s) >= 4 {
		d.report.secrets = append(d.report.secrets, s)
	}
}

// rel shortens paths under HOME to ~/..., as users write them.
func (d *doctor) rel(p string) string {
	if wd, err := os.Getwd(); err == nil && strings.HasPrefix(p, wd+string(filepath.Separator)) {
		return p[len(wd)+1:]
	}
	if d.home != "" && strings.HasPrefix(p, d.home+string(filepath.Separator)) {
		return "~" + p[len(d.home):]
	}
	return p
}

func env(name string) (string, bool) { return os.LookupEnv(name) }

func readFile(p string) ([]byte, bool) {
	b, err := os.ReadFile(p)
	return b, err == nil
}

// index is one configured index and the credentials its client will send.
type index struct {
	client, name, url, from string
	user, pass              string
	userFrom, passFrom      string
	hasUser, hasPass        bool
	bearer                  bool // npm: the password is a Bearer token
	upload                  bool // twine: url is the upload endpoint
	explicit, pinned        bool // uv
	isDefault               bool // uv: replaces PyPI, so it hides nothing
	strategy                string
	role                    string                             // uv: set on the second entry of an index whose files get other credentials than its pages
	fix                     func(what string, t target) string // how to set credentials right for this client
	version                 string                             // ClientVersion.String(), where it matters
	unsetVars               []string                           // pdm: ${VAR}s in the URL that are not set
}

func (ix *index) label() string {
	if ix.name != "" {
		return fmt.Sprintf("%s index %q (%s)%s", ix.client, ix.name, shownURL(ix.url), ix.role)
	}
	return fmt.Sprintf("%s index %s%s", ix.client, shownURL(ix.url), ix.role)
}

// tokenCmd is the command that prints a token for t; it names the server
// unless the environment already does.
func tokenCmd(t target) string {
	s := "wharf token --domain " + orStr(t.domain, "DOMAIN") + " --domain-owner " + orStr(t.owner, "OWNER")
	if t.kind == "wharf" && os.Getenv("WHARF_ENDPOINT_URL")+os.Getenv("AWS_ENDPOINT_URL_CODEARTIFACT")+os.Getenv("AWS_ENDPOINT_URL") == "" {
		s += " --endpoint-url " + t.base
	}
	return s
}

// check runs every check on one index: where its credentials come from,
// their shape, what the server says about the token, and a probe.
func (d *doctor) check(ix *index) {
	t := parseTarget(ix.url)
	private := t.kind != "other" || ix.hasUser || ix.hasPass
	host := t.host
	if ne, ok := netrcFor(d.netrc, hostOnly(host)); ok && private {
		d.secret(ne.Password)
		where := d.rel(d.netrcAt)
		if !ix.hasPass {
			ix.user, ix.pass, ix.hasUser, ix.hasPass = ne.Login, ne.Password, ne.Login != "", ne.HasPassword
			ix.userFrom, ix.passFrom = where, where
			d.add(Finding{Severity: Warn, Code: "netrc-used", Source: where, Index: ix.label(),
				Message: fmt.Sprintf("%s has no password configured, so %s silently sends the %s entry for %s instead", ix.label(), ix.client, where, hostOnly(host)),
				Fix:     "if that is not what you meant, configure the credentials for this index (wharf login --tool " + ix.client + ") or remove the entry from " + where})
		} else {
			d.add(Finding{Severity: Warn, Code: "netrc-shadow", Source: where, Index: ix.label(),
				Message: fmt.Sprintf("%s also has credentials for %s (login %q): %s uses them whenever the configured ones go missing (an unset or misnamed variable), and curl, requests-based scripts and other tools send them silently", where, hostOnly(host), ne.Login, ix.client),
				Fix:     "keep one source of credentials: remove the " + hostOnly(host) + " entry from " + where + ", or keep it current"})
			d.netrcShape(ix, t, ne, where)
		}
	}
	for _, v := range queryValues(ix.url) {
		d.secret(v)
	}
	d.report.Indexes = append(d.report.Indexes, Index{Label: ix.label(), Client: ix.client, ClientVersion: ix.version, Name: ix.name, URL: shownURL(ix.url), Source: ix.from, Sends: ix.sends()})
	d.secret(ix.pass)

	switch {
	case !ix.hasUser && !ix.hasPass:
		if private {
			d.add(Finding{Severity: Error, Code: "no-credentials", Source: ix.from, Index: ix.label(),
				Message: ix.client + " sends no credentials to this private index, and the server will answer 401",
				Fix:     ix.fix("both", t)})
		}
	case !ix.hasPass || ix.pass == "":
		d.add(Finding{Severity: Error, Code: "no-password", Source: orStr(ix.userFrom, ix.from), Index: ix.label(),
			Message: "a username is configured without a password (or the password is empty)",
			Fix:     ix.fix("password", t)})
	case !ix.bearer && (!ix.hasUser || ix.user == "") && t.kind != "other":
		d.add(Finding{Severity: Error, Code: "no-username", Source: orStr(ix.passFrom, ix.from), Index: ix.label(),
			Message: "a password is configured without a username, so " + ix.client + " sends an empty username",
			Fix:     ix.fix("username", t)})
	}
	if ix.hasUser && ix.user != "" && !ix.bearer && t.kind != "other" && ix.user != "aws" && ix.user != "__token__" {
		msg := "the username must be `aws` (it is something else)"
		switch {
		case strings.EqualFold(ix.user, "aws"):
			msg = "the username must be `aws` in lower case"
		case strings.TrimSpace(ix.user) == "aws":
			msg = "the username `aws` has whitespace around it"
		case strings.HasPrefix(ix.user, "wharf1.") || strings.HasPrefix(ix.user, "eyJ"):
			msg = "the username holds a token: the username must be `aws` and the token goes in the password"
			d.secret(ix.user)
		}
		d.add(Finding{Severity: Error, Code: "bad-username", Source: orStr(ix.userFrom, ix.from), Index: ix.label(), Message: msg, Fix: ix.fix("username", t)})
	}
	shapeFailed := false
	if len(ix.unsetVars) > 0 {
		shapeFailed = true
		d.add(Finding{Severity: Error, Code: "unset-variable", Source: ix.from, Index: ix.label(),
			Message: fmt.Sprintf("the URL names %s, which is not set, so %s sends the text ${%s} itself", strings.Join(ix.unsetVars, ", "), ix.client, ix.unsetVars[0]),
			Fix:     "export " + ix.unsetVars[0] + "=\"$(" + tokenCmd(t) + ")\" (or run `" + loginCmd(ix.client, t, "") + "` and the export line it prints)"})
	} else if ix.hasPass && ix.pass != "" {
		shapeFailed = d.shape(ix, t, ix.pass, orStr(ix.passFrom, ix.from))
	}
	if d.opt.Offline || t.kind == "other" && !ix.hasPass {
		return
	}
	if !shapeFailed && t.kind == "wharf" && strings.HasPrefix(ix.pass, "wharf1.") {
		d.tokenInfo(ix, t)
	}
	known := false // the probe's refusal only confirms what was found above
	for _, f := range d.report.Findings {
		known = known || f.Index == ix.label() && f.Severity == Error
	}
	d.probe(ix, t, known)
}

// netrcShape checks a .netrc password the client does not send: with
// credentials of its own configured, pip, uv, poetry, pdm and twine never
// read .netrc for this index (pip's own code: URL, then index-url
// credentials, then .netrc). What is wrong with it fails no client here, so
// it is a warning, and the fix is the entry, not the client's credentials.
// (The token's validity is not asked: the server would only say what the
// client never meets.)
func (d *doctor) netrcShape(ix *index, t target, ne netrcEntry, where string) {
	n := len(d.report.Findings)
	d.shape(ix, t, ne.Password, where)
	for i := n; i < len(d.report.Findings); i++ {
		f := &d.report.Findings[i]
		f.Severity = Warn
		f.Message = "the " + where + " entry for " + hostOnly(t.host) + " (which " + ix.client + " does not send while its own credentials are set): " + f.Message
		f.Fix = "remove the " + hostOnly(t.host) + " entry from " + where + ", or put a current token in it: curl, requests-based scripts and this client (once its own credentials go missing) send it"
	}
}

func (ix *index) sends() string {
	if !ix.hasUser && !ix.hasPass {
		return "no credentials"
	}
	if ix.bearer {
		return "Authorization: Bearer <token from " + ix.passFrom + ">"
	}
	u := "(no username)"
	if ix.hasUser {
		u = fmt.Sprintf("username %q from %s", ix.user, ix.userFrom)
		if ix.user != "aws" && ix.user != "__token__" {
			u = "a username from " + ix.userFrom
		}
	}
	p := "no password"
	if ix.hasPass {
		p = "the password from " + ix.passFrom
	}
	return u + " and " + p
}

func hostOnly(h string) string {
	if i := strings.LastIndex(h, ":"); i >= 0 && !strings.Contains(h[i:], "]") {
		return h[:i]
	}
	return h
}

func orStr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// tokenInfoPath is the server's token-describing endpoint
// (internal/server.TokenInfoPath; doctor does not import the server).
const tokenInfoPath = "/wharf/v1/token-info"

// tokenInfo asks the wharf server behind the index what the token is. Only a
// verified token gets an answer; for anything else the probe reports the
// server's refusal.
func (d *doctor) tokenInfo(ix *index, t target) {
	req, err := http.NewRequestWithContext(d.ctx, http.MethodGet, t.base+tokenInfoPath+"?domain="+t.domain+"&domain-owner="+t.owner+"&repository="+url.QueryEscape(t.repo), nil)
	if err != nil {
		return
	}
	ix.authorize(req)
	resp, err := d.opt.HTTP.Do(req)
	if err != nil {
		return // the probe reports unreachable servers
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return
	}
	var info struct {
		Domain      string    `json:"domain"`
		DomainOwner string    `json:"domainOwner"`
		Expiration  time.Time `json:"expiration"`
		Expired     bool      `json:"expired"`
		// Set when the token may read the repository and its search order
		// puts an external connection before internal packages.
		SearchOrderWarnings []string `json:"searchOrderWarnings"`
	}
	if json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&info) != nil {
		return
	}
	src := orStr(ix.passFrom, ix.from)
	now := d.opt.Now
	switch {
	case info.Expired || !now.Before(info.Expiration):
		d.add(Finding{Severity: Error, Code: "expired", Source: src, Index: ix.label(),
			Message: fmt.Sprintf("the token expired at %s (%s ago); tokens last 12 hours unless requested otherwise", info.Expiration.UTC().Format(time.RFC3339), auth.HumanDuration(now.Sub(info.Expiration))),
			Fix:     ix.fix("password", t)})
	case info.Domain != t.domain || info.DomainOwner != t.owner:
		d.add(Finding{Severity: Error, Code: "wrong-domain", Source: src, Index: ix.label(),
			Message: fmt.Sprintf("the token is for domain %q (owner %s), but this index belongs to domain %q (owner %s)", info.Domain, info.DomainOwner, t.domain, t.owner),
			Fix:     ix.fix("password", t)})
	default:
		sev, msg := OK, fmt.Sprintf("the token is valid for domain %q until %s (%s left)", info.Domain, info.Expiration.UTC().Format(time.RFC3339), auth.HumanDuration(info.Expiration.Sub(now)))
		if info.Expiration.Sub(now) < time.Hour {
			sev, msg = Warn, msg+": it expires soon"
		}
		d.add(Finding{Severity: sev, Code: "token-valid", Source: src, Index: ix.label(), Message: msg})
	}
	for _, w := range info.SearchOrderWarnings {
		d.add(Finding{Severity: Warn, Code: "dependency-confusion", Source: "repository " + t.repo, Index: ix.label(), Message: w})
	}
}

func (ix *index) authorize(req *http.Request) {
	switch {
	case ix.bearer && ix.hasPass:
		req.Header.Set("Authorization", "Bearer "+ix.pass)
	case ix.hasUser || ix.hasPass:
		req.SetBasicAuth(ix.user, ix.pass)
	}
}

// probe fetches the index (or, for twine, the upload endpoint) with the
// credentials found. Wharf checks credentials before anything else, so any
// answer but 401 means they were accepted.
func (d *doctor) probe(ix *index, t target, known bool) {
	req, err := http.NewRequestWithContext(d.ctx, http.MethodGet, ix.url, nil)
	if err != nil {
		return
	}
	ix.authorize(req)
	req.Header.Set("Accept", "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01")
	req.Header.Set("User-Agent", "wharf-doctor")
	resp, err := d.opt.HTTP.Do(req)
	if err != nil {
		d.unreachable(ix, t, err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<10))
	detail := strings.TrimSpace(string(body))
	if t.kind != "wharf" && len(detail) > 600 {
		detail = detail[:600] + "..."
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		first, _, _ := strings.Cut(detail, "\n")
		if known { // already reported above; the server's words may add to it
			d.add(Finding{Severity: Info, Code: "refused", Source: orStr(ix.passFrom, ix.from), Index: ix.label(),
				Message: fmt.Sprintf("the server refuses it too (%s)", resp.Status), Detail: detail})
			return
		}
		d.add(Finding{Severity: Error, Code: "refused", Source: orStr(ix.passFrom, ix.from), Index: ix.label(),
			Message: fmt.Sprintf("the server refuses what %s sends (%s): %s", ix.client, resp.Status, orStr(first, "no reason given")),
			Fix:     ix.fix("password", t), Detail: detail})
	case ix.upload && resp.StatusCode < 500, resp.StatusCode/100 == 2:
		d.add(Finding{Severity: OK, Code: "accepted", Source: ix.from, Index: ix.label(),
			Message: fmt.Sprintf("the server accepts what %s sends (%s)", ix.client, resp.Status)})
	case t.kind == "wharf" && resp.StatusCode == http.StatusNotFound && strings.Contains(detail, "does not serve"):
		d.add(Finding{Severity: Warn, Code: "format-not-served", Source: ix.from, Index: ix.label(),
			Message: "the credentials are accepted, but this wharf does not serve the " + t.format + " format yet"})
	case t.kind == "wharf" && resp.StatusCode == http.StatusNotFound:
		first, _, _ := strings.Cut(detail, "\n")
		d.add(Finding{Severity: Error, Code: "not-found", Source: ix.from, Index: ix.label(),
			Message: "the credentials are accepted, but the index is not there (404): " + first,
			Fix:     "check the URL: get it with `aws codeartifact get-repository-endpoint` or `wharf login`", Detail: detail})
	default:
		d.add(Finding{Severity: Warn, Code: "probe-status", Source: ix.from, Index: ix.label(),
			Message: fmt.Sprintf("the index answered %s", resp.Status), Detail: detail})
	}
}

// unreachable: the client will fail exactly as doctor did, before any
// credentials matter.
func (d *doctor) unreachable(ix *index, t target, err error) {
	cause := err
	if ue, ok := err.(*url.Error); ok {
		cause = ue.Err // the URL is in the message already
	}
	what := "is the server running and listening there? Is the host, port and scheme (http/https) right?"
	if t.kind == "wharf" {
		what = "is `wharf serve` running and listening at " + t.base + "? Are host, port and scheme (http/https) right? The URL to use is printed by `wharf login` and `aws codeartifact get-repository-endpoint`"
	}
	d.add(Finding{Severity: Error, Code: "unreachable", Source: ix.from, Index: ix.label(),
		Message: fmt.Sprintf("%s cannot reach %s: %s", ix.client, shownURL(ix.url), sanitizeErr(cause, ix.pass)),
		Fix:     "check the server and the URL: " + what})
}

func sanitizeErr(err error, secret string) string {
	s := err.Error()
	if secret != "" {
		s = strings.ReplaceAll(s, secret, "****")
	}
	return s
}

// WriteText prints each index with what its client sends and, below it,
// one line per finding (the server's explanation, if any, indented under
// it); findings about no particular index come first.
func (r *Report) WriteText(w io.Writer) {
	var b strings.Builder
	counts := map[Severity]int{}
	line := func(f Finding, pad string) {
		counts[f.Severity]++
		l := fmt.Sprintf("%s%-5s  %s: %s", pad, strings.ToUpper(string(f.Severity)), f.Source, f.Message)
		if f.Fix != "" {
			l = strings.TrimRight(l, ".") + ". Fix: " + f.Fix
		}
		b.WriteString(l + "\n")
		if f.Detail != "" {
			for _, dl := range strings.Split(f.Detail, "\n") {
				b.WriteString(pad + "       | " + dl + "\n")
			}
		}
	}
	known := map[string]bool{}
	for _, ix := range r.Indexes {
		known[ix.Label] = true
	}
	for _, f := range r.Findings {
		if !known[f.Index] {
			line(f, "")
		}
	}
	for _, ix := range r.Indexes {
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%s, from %s\n", ix.Label, ix.Source)
		if ix.ClientVersion != "" {
			fmt.Fprintf(&b, "  as read by %s\n", ix.ClientVersion)
		}
		fmt.Fprintf(&b, "  sends %s\n", ix.Sends)
		for _, f := range r.Findings {
			if f.Index == ix.Label {
				line(f, "  ")
			}
		}
	}
	status := "nothing here will make a client fail"
	if !r.OK {
		status = "fix the errors above"
	}
	fmt.Fprintf(&b, "\n%d error(s), %d warning(s): %s\n", counts[Error], counts[Warn], status)
	io.WriteString(w, r.mask(b.String()))
}

// WriteJSON prints the report for machines.
func (r *Report) WriteJSON(w io.Writer) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, r.mask(string(b))+"\n")
	return err
}

// mask is the last line of defence: no message is built from a secret, but
// a server's words or a file path might still contain one.
func (r *Report) mask(s string) string {
	sec := append([]string(nil), r.secrets...)
	sort.Slice(sec, func(i, j int) bool { return len(sec[i]) > len(sec[j]) })
	for _, x := range sec {
		if len(x) >= 8 {
			s = strings.ReplaceAll(s, x, "****")
			if q, err := json.Marshal(x); err == nil {
				s = strings.ReplaceAll(s, string(q[1:len(q)-1]), "****")
			}
		}
	}
	return s
}
