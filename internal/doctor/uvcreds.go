package doctor

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// uvIndex builds one uv index with the credentials uv 0.13.9 sends (each
// rule was seen in test/clients TestUVHelp):
//   - the URL has user:password@: uv sends those for the index pages, and
//     UV_INDEX_<NAME>_USERNAME/_PASSWORD, when set, for the files it then
//     fetches from the index (metadata, wheels): a second entry, so that
//     both get checked;
//   - the URL has only user@: the password comes from
//     UV_INDEX_<NAME>_PASSWORD only when UV_INDEX_<NAME>_USERNAME names the
//     same user, else from uv's credentials store for that user, else from
//     the keyring (keyring-provider subprocess), else uv sends an empty
//     password;
//   - no userinfo: UV_INDEX_<NAME>_USERNAME/_PASSWORD; without a password
//     there, the store's entry for the index (for that username, if set).
func (d *doctor) uvIndex(name, raw, from string, set uvSettings) []*index {
	ix := newUVIndex(name, from)
	ix.url = d.urlCredentials(ix, raw, from)
	user, hasUser, pass, hasPass := uvEnvCredentials(name)
	n := "UV_INDEX_" + UVEnvName(name)
	switch {
	case ix.hasPass && (hasUser || hasPass):
		files := newUVIndex(name, from)
		files.url, files.role = ix.url, ", for its files"
		files.user, files.hasUser, files.userFrom = user, hasUser, n+"_USERNAME"
		files.pass, files.hasPass, files.passFrom = pass, hasPass, n+"_PASSWORD"
		d.add(Finding{Severity: Warn, Code: "mixed-credentials", Source: from, Index: ix.label(),
			Message: "the index URL carries credentials and " + n + "_USERNAME/_PASSWORD are set too: uv sends the URL's for the index pages and the variables' for the files (metadata, wheels) it fetches from the index, so both must be right",
			Fix:     "keep one: take the credentials out of the URL (the variables keep the token out of the file)"})
		return []*index{ix, files}
	case ix.hasPass:
	case ix.hasUser && hasUser && hasPass && user == ix.user:
		ix.pass, ix.hasPass, ix.passFrom = pass, true, n+"_PASSWORD"
	case ix.hasUser && d.uvFromStore(ix, set, ix.user):
	case ix.hasUser:
		if hasPass {
			d.add(Finding{Severity: Warn, Code: "password-unused", Source: n + "_PASSWORD", Index: ix.label(),
				Message: fmt.Sprintf("%s_PASSWORD is set, but the index URL names the user, and uv takes the password from the variable only when %s_USERNAME names the same user", n, n),
				Fix:     "export " + n + "_USERNAME=" + ix.user + ", or take the user out of the URL"})
		}
		if set.keyring == "subprocess" {
			d.uvKeyring(ix, set)
		}
	default:
		ix.user, ix.hasUser, ix.userFrom = user, hasUser, n+"_USERNAME"
		ix.pass, ix.hasPass, ix.passFrom = pass, hasPass, n+"_PASSWORD"
		if !hasPass && d.uvFromStore(ix, set, user) {
			break
		}
		if !hasUser && !hasPass && set.keyring == "subprocess" && parseTarget(ix.url).kind != "other" {
			d.add(Finding{Severity: Info, Code: "keyring-skipped", Source: set.keyringFrom, Index: ix.label(),
				Message: "keyring-provider is subprocess, but uv asks the keyring only when the index URL carries a username (it says so only with -v: \"Skipping keyring fetch ... without username\")",
				Fix:     "put the username in the URL (http://aws@HOST/...) to have uv ask the keyring"})
		}
	}
	return []*index{ix}
}

// uvFromStore takes the credentials from uv's store, if it has some for
// the index (and user, if not "").
func (d *doctor) uvFromStore(ix *index, set uvSettings, user string) bool {
	s, ok := uvStoredFor(set.stored, ix.url, user)
	if !ok {
		return false
	}
	from := d.rel(set.storeAt) + " (uv auth login)"
	ix.user, ix.hasUser, ix.userFrom = s.user, true, from
	ix.pass, ix.hasPass, ix.passFrom, ix.bearer = s.pass, true, from, s.bearer
	return true
}

// uvEnvCredentials reads UV_INDEX_<NAME>_USERNAME/_PASSWORD.
func uvEnvCredentials(name string) (user string, hasUser bool, pass string, hasPass bool) {
	if name == "" {
		return
	}
	n := "UV_INDEX_" + UVEnvName(name)
	user, hasUser = env(n + "_USERNAME")
	pass, hasPass = env(n + "_PASSWORD")
	return
}

func newUVIndex(name, from string) *index {
	ix := &index{client: "uv", name: name, from: from}
	ix.fix = func(what string, t target) string {
		if name == "" {
			return "give the index a name (UV_INDEX=\"NAME=URL\" or [[tool.uv.index]] name = ...) and set UV_INDEX_<NAME>_USERNAME=aws and UV_INDEX_<NAME>_PASSWORD=\"$(" + tokenCmd(t) + ")\""
		}
		n := "UV_INDEX_" + UVEnvName(name)
		if strings.HasPrefix(ix.userFrom, "URL") || strings.HasPrefix(ix.passFrom, "URL") {
			// The URL's credentials win over the variables (for the pages),
			// and a user@ URL takes only a password for the same user.
			return "take the credentials out of the URL and export " + n + "_USERNAME=aws " + n + "_PASSWORD=\"$(" + tokenCmd(t) + ")\""
		}
		switch what {
		case "username":
			return "export " + n + "_USERNAME=aws"
		case "password":
			return "export " + n + "_PASSWORD=\"$(" + tokenCmd(t) + ")\""
		}
		return "export " + n + "_USERNAME=aws " + n + "_PASSWORD=\"$(" + tokenCmd(t) + ")\" (or run `wharf login --tool uv`)"
	}
	return ix
}

// uvKeyring asks the keyring as uv does with keyring-provider subprocess:
// `keyring get <index URL> <username>` (the command line uv 0.13.9 ran),
// the first line of its output being the password.
func (d *doctor) uvKeyring(ix *index, set uvSettings) {
	bin, err := exec.LookPath("keyring")
	if err != nil {
		d.add(Finding{Severity: Warn, Code: "keyring-missing", Source: set.keyringFrom, Index: ix.label(),
			Message: "keyring-provider is subprocess, but there is no `keyring` command on PATH: uv sends the username with an empty password (it says why only with -v: \"Failure running `keyring` command: No such file or directory\")",
			Fix:     "install keyring (`uv tool install keyring`) and store the token with `keyring set " + ix.url + " " + ix.user + "`, or set UV_INDEX_" + UVEnvName(orStr(ix.name, "NAME")) + "_USERNAME/_PASSWORD"})
		return
	}
	ctx, cancel := context.WithTimeout(d.ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "get", ix.url, ix.user).Output()
	first, _, _ := strings.Cut(string(out), "\n")
	first = strings.TrimRight(first, "\r")
	if err != nil || first == "" {
		d.add(Finding{Severity: Warn, Code: "keyring-empty", Source: set.keyringFrom, Index: ix.label(),
			Message: "`keyring get " + ix.url + " " + ix.user + "` gives no password, so uv sends the username with an empty password",
			Fix:     "store the token with `keyring set " + ix.url + " " + ix.user + "`"})
		return
	}
	ix.pass, ix.hasPass, ix.passFrom = first, true, "`keyring get`"
}
