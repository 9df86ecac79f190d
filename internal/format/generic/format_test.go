package generic

import (
	"slices"
	"strings"
	"testing"
)

func TestCompareVersions(t *testing.T) {
	ordered := []string{"0.9", "1", "1.0", "1.0.1", "1.2", "1.10", "1.10a", "1.10b", "2", "10", "a", "b1", "b10"}
	got := slices.Clone(ordered)
	slices.Reverse(got)
	slices.SortFunc(got, Format{}.CompareVersions)
	if !slices.Equal(got, ordered) {
		t.Fatalf("natural order:\n got %v\nwant %v", got, ordered)
	}
	// Only identical strings are equal, so spellings never merge.
	if (Format{}).CompareVersions("01", "1") == 0 || (Format{}).CompareVersions("1.0", "1.0") != 0 {
		t.Fatal("equality must be string identity")
	}
}

func FuzzCompareVersions(f *testing.F) {
	for _, s := range []string{"1.0", "1.00", "01", "a1b2", "", "1.0-rc1", "1.0+x"} {
		f.Add(s, "1.0")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ab, ba := Format{}.CompareVersions(a, b), Format{}.CompareVersions(b, a)
		if ab != -ba || (ab == 0) != (a == b) {
			t.Fatalf("Compare(%q,%q)=%d, Compare(%q,%q)=%d", a, b, ab, b, a, ba)
		}
	})
}

func TestNames(t *testing.T) {
	f := Format{}
	if ns, n, err := f.NormalizeName("My-Team", "Tool.CLI"); err != nil || ns != "My-Team" || n != "Tool.CLI" {
		t.Fatalf("names are kept as written: %q %q %v", ns, n, err)
	}
	for _, c := range [][2]string{{"", "p"}, {"ns", ".."}, {"a/b", "p"}, {"ns", "p q"}, {"ns", "p#1"}, {"ns", "p\x7f"}} {
		if _, _, err := f.NormalizeName(c[0], c[1]); err == nil {
			t.Errorf("NormalizeName(%q, %q) must fail", c[0], c[1])
		}
	}
	if _, _, err := f.NormalizeName("", "p"); err == nil || !strings.Contains(err.Error(), "--namespace") {
		t.Errorf("a missing namespace must say how to give one: %v", err)
	}
	for _, v := range []string{"1.0", "2024-01-01", "v1.0+build.7", "latest"} {
		if got, err := f.NormalizeVersion(v); err != nil || got != v {
			t.Errorf("NormalizeVersion(%q) = %q, %v", v, got, err)
		}
	}
	for _, v := range []string{".", "..", "1/2", "1 2"} {
		if _, err := f.NormalizeVersion(v); err == nil {
			t.Errorf("NormalizeVersion(%q) must fail", v)
		}
	}
	for _, a := range []string{"f.bin", "model-v2_final(1).tar.gz", "naïve.txt", "数据.csv", "a~b!c@d^e&f+g[h]{i};j,k`l"} {
		if err := f.ValidateAssetName(a); err != nil {
			t.Errorf("ValidateAssetName(%q): %v", a, err)
		}
	}
	for _, a := range []string{"a/b", "a\\b", "..", ".", "a b", "a\tb", "a?b", "a#b", "a%2Fb"} {
		if err := f.ValidateAssetName(a); err == nil {
			t.Errorf("ValidateAssetName(%q) must fail", a)
		}
	}
}
