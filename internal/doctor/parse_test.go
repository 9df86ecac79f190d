package doctor

import (
	"strings"
	"testing"
)

func TestParseINI(t *testing.T) {
	f := parseINI([]byte("\ufeff# comment\n[global]\nIndex_URL = http://a/simple/\nextra-index-url =\n    http://b/\n    http://c/\n; x\n[install]\ntimeout: 5\r\n"), "=:", true)
	if v, _, _ := f.Get("global", "index-url"); v != "http://a/simple/" {
		t.Errorf("index-url = %q", v)
	}
	if v, _, _ := f.Get("global", "extra-index-url"); v != "http://b/\nhttp://c/" {
		t.Errorf("extra-index-url = %q", v)
	}
	if v, line, _ := f.Get("install", "timeout"); v != "5" || line != 9 {
		t.Errorf("timeout = %q line %d", v, line)
	}
	n := parseINI([]byte("registry=http://r/\n//r/:_authToken=abc\n"), "=", false)
	if v, _, _ := n.Get("", "//r/:_authToken"); v != "abc" {
		t.Errorf("npmrc token = %q", v)
	}
}

func TestParseNetrc(t *testing.T) {
	e := parseNetrc([]byte("# c\nmachine a.example login u1 password p1\nmacdef init\ncd /\nput x\n\nmachine b login u2\n  password p2 account z\ndefault login d password dp\n"))
	if len(e) != 3 || e[0].Password != "p1" || e[1].Login != "u2" || e[1].Password != "p2" || e[2].Machine != "" {
		t.Fatalf("entries %+v", e)
	}
	if got, _ := netrcFor(e, "B"); got.Login != "u2" {
		t.Errorf("case-insensitive machine: %+v", got)
	}
	if got, _ := netrcFor(e, "other"); got.Login != "d" {
		t.Errorf("default: %+v", got)
	}
}

func TestSplitURL(t *testing.T) {
	for _, c := range []struct{ in, clean, ui string }{
		{"http://h/simple/", "http://h/simple/", ""},
		{"http://aws:tok@h:1/p/simple/", "http://h:1/p/simple/", "aws:tok"},
		{`https://aws:{"a": "b@c"}@h/p/`, "https://h/p/", `aws:{"a": "b@c"}`},
	} {
		clean, ui, _ := splitURL(c.in)
		if clean != c.clean || ui != c.ui {
			t.Errorf("splitURL(%q) = %q, %q", c.in, clean, ui)
		}
	}
}

func FuzzParseINI(f *testing.F) {
	f.Add([]byte("[global]\nindex-url = x\n  y\n"), true)
	f.Add([]byte("registry=x\n//h/:_authToken=t\n["), false)
	f.Fuzz(func(t *testing.T, data []byte, pip bool) {
		delims := "="
		if pip {
			delims = "=:"
		}
		for _, s := range parseINI(data, delims, pip).Sections {
			for _, k := range s.Keys {
				if k.Name == "" || k.Line < 1 {
					t.Fatalf("bad key %+v", k)
				}
			}
		}
	})
}

func FuzzParseNetrc(f *testing.F) {
	f.Add([]byte("machine h login aws password p\ndefault login x"))
	f.Add([]byte("macdef m\nbody\n\nmachine"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, e := range parseNetrc(data) {
			if strings.ContainsAny(e.Login+e.Password, " \t\n") {
				t.Fatalf("whitespace in a token: %+v", e)
			}
		}
	})
}

func FuzzURL(f *testing.F) {
	f.Add("http://aws:t@h/p/simple/")
	f.Add("https://h.d.codeartifact.us-east-1.amazonaws.com/pypi/r/simple/")
	f.Add("http://h/dom-123456789012/pypi/repo/simple/")
	f.Fuzz(func(t *testing.T, raw string) {
		clean, ui, has := splitURL(raw)
		if has && strings.Contains(clean, ui+"@") && ui != "" {
			t.Fatalf("userinfo left in %q", clean)
		}
		parseTarget(raw)
		UVEnvName(raw)
	})
}
