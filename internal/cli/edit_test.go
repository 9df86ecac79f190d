package cli

import (
	"strings"
	"testing"
)

func TestSetINI(t *testing.T) {
	in := "# mine\n[global]\ntimeout = 5\nindex_url = http://old/\n    cont\n\n[install]\nuser = true\n"
	got := setINI(in, "global", "index-url", "http://new/", pipKey("index-url"))
	want := "# mine\n[global]\ntimeout = 5\nindex-url = http://new/\n\n[install]\nuser = true\n"
	if got != want {
		t.Errorf("replace:\n%s\nwant:\n%s", got, want)
	}
	got = setINI(in, "global", "extra-index-url", "a\nb", pipKey("extra-index-url"))
	if !strings.Contains(got, "    cont\nextra-index-url = a\n    b\n\n[install]") {
		t.Errorf("add after the last key:\n%s", got)
	}
	if got := setINI("", "codeartifact", "username", "aws", exactKey("username")); got != "[codeartifact]\nusername = aws\n" {
		t.Errorf("new section: %q", got)
	}
	if got := setINI("a=1\n//h/:_authToken=old\n", "", "//h/:_authToken", "new", exactKey("//h/:_authToken")); got != "a=1\n//h/:_authToken=new\n" {
		t.Errorf("npmrc: %q", got)
	}
	if v, _ := getINI(in, "global", pipKey("index-url")); v != "http://old/\ncont" {
		t.Errorf("getINI = %q", v)
	}
}

func TestUpsertTOMLTable(t *testing.T) {
	in := "[project]\nname = \"x\"\n\n[[tool.uv.index]]\nname = \"hub\"\nurl = \"old\"\n\n# keep\n[[tool.uv.index]]\nname = \"pypi\"\nurl = \"p\"\n"
	block := "[[tool.uv.index]]\nname = \"hub\"\nurl = \"new\"\nexplicit = true\n"
	got := upsertTOMLTable(in, "tool.uv.index", "hub", block)
	want := "[project]\nname = \"x\"\n\n" + block + "\n# keep\n[[tool.uv.index]]\nname = \"pypi\"\nurl = \"p\"\n"
	if got != want {
		t.Errorf("replace:\n%s\nwant:\n%s", got, want)
	}
	if got := upsertTOMLTable("[project]\n", "tool.uv.index", "new", block); got != "[project]\n\n"+block {
		t.Errorf("append: %q", got)
	}
	if got := replaceTOMLTable("[http-basic.a]\nusername = \"x\"\n\n[http-basic.b]\n", "http-basic.a", "[http-basic.a]\nusername = \"aws\"\n"); got != "[http-basic.a]\nusername = \"aws\"\n\n[http-basic.b]\n" {
		t.Errorf("replaceTOMLTable: %q", got)
	}
}
