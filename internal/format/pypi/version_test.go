package pypi

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// Expected forms come from packaging 21.3's str(Version(s)); "" = invalid.
func TestParseVersion(t *testing.T) {
	tests := []struct{ in, want string }{
		{"1.0dev", "1.0.dev0"},
		{"1.0.dev", "1.0.dev0"},
		{"1.0dev1", "1.0.dev1"},
		{"1.0-dev", "1.0.dev0"},
		{"1.0-dev1", "1.0.dev1"},
		{"1.0DEV", "1.0.dev0"},
		{"1.0.DEV1", "1.0.dev1"},
		{"1.0-DEV1", "1.0.dev1"},
		{"1.0a", "1.0a0"},
		{"1.0.a", "1.0a0"},
		{"1.0.a1", "1.0a1"},
		{"1.0-a", "1.0a0"},
		{"1.0-a1", "1.0a1"},
		{"1.0alpha", "1.0a0"},
		{"1.0.alpha1", "1.0a1"},
		{"1.0-alpha", "1.0a0"},
		{"1.0A", "1.0a0"},
		{"1.0ALPHA1", "1.0a1"},
		{"1.0b", "1.0b0"},
		{"1.0beta", "1.0b0"},
		{"1.0.beta2", "1.0b2"},
		{"1.0-BETA3", "1.0b3"},
		{"1.0c", "1.0rc0"},
		{"1.0c1", "1.0rc1"},
		{"1.0rc", "1.0rc0"},
		{"1.0.rc1", "1.0rc1"},
		{"1.0-RC2", "1.0rc2"},
		{"1.0pre", "1.0rc0"},
		{"1.0pre1", "1.0rc1"},
		{"1.0preview", "1.0rc0"},
		{"1.0-preview3", "1.0rc3"},
		{"1.0post", "1.0.post0"},
		{"1.0.post", "1.0.post0"},
		{"1.0post1", "1.0.post1"},
		{"1.0-post", "1.0.post0"},
		{"1.0-post1", "1.0.post1"},
		{"1.0POST", "1.0.post0"},
		{"1.0-1", "1.0.post1"},
		{"1.0r", "1.0.post0"},
		{"1.0rev", "1.0.post0"},
		{"1.0.rev1", "1.0.post1"},
		{"1.0-r4", "1.0.post4"},
		{"1.0_a_1", "1.0a1"},
		{"1.0_post_1", "1.0.post1"},
		{"1.0+ubuntu-1", "1.0+ubuntu.1"},
		{"1.0+ubuntu_1", "1.0+ubuntu.1"},
		{"1.0+Ubuntu.1", "1.0+ubuntu.1"},
		{"1.0+0001", "1.0+1"},
		{"1.0+abc.007", "1.0+abc.7"},
		{"v1.0", "1.0"},
		{"V1.0", "1.0"},
		{"1.0.0", "1.0.0"},
		{"1.0.0.0", "1.0.0.0"},
		{"00!1.0", "1.0"},
		{"1!01.0", "1!1.0"},
		{"01.2.003", "1.2.3"},
		{"1.0a01", "1.0a1"},
		{"1.0.post01", "1.0.post1"},
		{" 1.0 ", "1.0"},
		{"\t1.0", "1.0"},
		{"1.0b1-1", "1.0b1.post1"},
		{"1.0a1.dev", "1.0a1.dev0"},
		{"1.0rc1.post_1.dev_2", "1.0rc1.post1.dev2"},
		{"1.0-dev-2", "1.0.dev2"},
		{"1.0.0a1.post2.dev3+local.1", "1.0.0a1.post2.dev3+local.1"},
		{"1!2.0", "1!2.0"},
		{"2013.10.23", "2013.10.23"},
		{"1.0a1.post2", "1.0a1.post2"},
		{"1.0.post1.dev0", "1.0.post1.dev0"},
		{"0", "0"},
		{"french toast", ""},
		{"1.0+", ""},
		{"1.0++1", ""},
		{"1.0.", ""},
		{"1..0", ""},
		{"1.0-", ""},
		{"1.0a1a1", ""},
		{"1.0.post1.post2", ""},
		{"1.0.dev1.post1", ""},
		{"1.0+_foo", ""},
		{"1.0+foo_", ""},
		{"v", ""},
		{"1!", ""},
		{"!1.0", ""},
		{"1.0+1+1", ""},
		{"1.0-1-1", ""},
		{"1.0 a1", ""},
		{"1.0a-1", "1.0a1"},
		{"1.0a1-dev", "1.0a1.dev0"},
		{"1.0.post-1", "1.0.post1"},
		{".1.0", ""},
		{"1.0dev-", "1.0.dev0"},
		{"vv1.0", ""},
		{"1.0-a-1-1", "1.0a1.post1"},
		// Beyond packaging: numbers must fit in a uint64, ASCII only.
		{"18446744073709551615", "18446744073709551615"},
		{"18446744073709551616", ""},
		{"1.0a18446744073709551616", ""},
		{"1.0+18446744073709551616999", "1.0+18446744073709551616999"},
		{"1.0\u212a", ""}, // Kelvin sign, which (?i) would fold to k
		{"", ""},
		{"  ", ""},
	}
	for _, tt := range tests {
		got, err := NormalizeVersion(tt.in)
		if tt.want == "" {
			if err == nil || !errors.Is(err, ErrInvalid) {
				t.Errorf("NormalizeVersion(%q) = %q, %v; want an ErrInvalid error", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizeVersion(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestParseVersionSegmentLimit(t *testing.T) {
	ok := strings.Repeat("1.", MaxReleaseSegments-1) + "1"
	if _, err := ParseVersion(ok); err != nil {
		t.Errorf("%d segments: %v", MaxReleaseSegments, err)
	}
	if _, err := ParseVersion(ok + ".1"); !errors.Is(err, ErrInvalid) {
		t.Errorf("%d segments: err = %v, want ErrInvalid", MaxReleaseSegments+1, err)
	}
}

func TestIsPrerelease(t *testing.T) {
	for in, want := range map[string]bool{
		"1.0": false, "1.0.post1": false, "1.0+local": false,
		"1.0a1": true, "1.0rc1.post1": true, "1.0.dev0": true, "1.0.post1.dev0": true,
	} {
		if v, err := ParseVersion(in); err != nil || v.IsPrerelease() != want {
			t.Errorf("ParseVersion(%q).IsPrerelease() = %v (%v), want %v", in, v.IsPrerelease(), err, want)
		}
	}
}

// versionOrder is strictly increasing per packaging 21.3 (its test suite's
// list plus the cases from PEP 440 and local-version rules).
var versionOrder = []string{
	"0.1", "1.0.dev0", "1.0.dev456", "1.0a1.dev0", "1.0a1", "1.0a1.post1", "1.0a2.dev456", "1.0a12.dev456",
	"1.0a12", "1.0b1.dev456", "1.0b2", "1.0b2.post345.dev456", "1.0b2.post345", "1.0b2-346", "1.0c1.dev456",
	"1.0c1", "1.0rc2", "1.0c3", "1.0", "1.0.post1.dev0", "1.0.post1", "1.0.post456.dev34", "1.0.post456",
	"1.1.dev1", "1.2", "1.2+123abc", "1.2+123abc456", "1.2+a", "1.2+a.b", "1.2+abc", "1.2+abc123",
	"1.2+abc123def", "1.2+1", "1.2+1.a", "1.2+1.1", "1.2+1234.abc", "1.2+123456", "1.2.r32+123456",
	"1.2.rev33+123456", "1.9.9", "1.10", "2.0", "10.0", "1!1.0.dev456", "1!1.0a1", "1!1.0a2.dev456",
	"1!1.0a12.dev456", "1!1.0a12", "1!1.0b1.dev456", "1!1.0b2", "1!1.0b2.post345.dev456", "1!1.0b2.post345",
	"1!1.0b2-346", "1!1.0c1.dev456", "1!1.0c1", "1!1.0rc2", "1!1.0c3", "1!1.0", "1!1.0.post456.dev34",
	"1!1.0.post456", "1!1.1.dev1", "1!1.2+123abc", "1!1.2+123abc456", "1!1.2+abc", "1!1.2+abc123",
	"1!1.2+abc123def", "1!1.2+1234.abc", "1!1.2+123456", "1!1.2.r32+123456", "1!1.2.rev33+123456",
}

func TestCompareVersionsOrder(t *testing.T) {
	for i, a := range versionOrder {
		for j, b := range versionOrder {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := CompareVersionStrings(a, b); got != want {
				t.Errorf("CompareVersionStrings(%q, %q) = %d, want %d", a, b, got, want)
			}
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		shuffled := slices.Clone(versionOrder)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		slices.SortFunc(shuffled, CompareVersionStrings)
		if !slices.Equal(shuffled, versionOrder) {
			t.Fatalf("sorted = %q\nwant     %q", shuffled, versionOrder)
		}
	}
}

func TestCompareVersionsEqual(t *testing.T) {
	for _, p := range [][2]string{
		{"1.0", "1.0.0"}, {"1.0", "1.0.0.0"}, {"v1.0", "1.0"}, {"0!1.0", "1.0"}, {"1.0-1", "1.0.post1"},
		{"1.0+ubuntu-1", "1.0+UBUNTU.1"}, {"1.0+01", "1.0+1"}, {"1.0c1", "1.0rc1"}, {"1.0a", "1.0a0"},
	} {
		if got := CompareVersionStrings(p[0], p[1]); got != 0 {
			t.Errorf("CompareVersionStrings(%q, %q) = %d, want 0", p[0], p[1], got)
		}
	}
}

func TestCompareVersionStringsInvalid(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"junk", "0.0.dev0", -1},
		{"0.0.dev0", "junk", 1},
		{"a-junk", "b-junk", -1},
		{"junk", "junk", 0},
		{"", "1.0", -1},
	}
	for _, tt := range tests {
		if got := CompareVersionStrings(tt.a, tt.b); got != tt.want {
			t.Errorf("CompareVersionStrings(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func FuzzParseVersion(f *testing.F) {
	for _, s := range versionOrder {
		f.Add(s, "1.0")
	}
	f.Add("1!2.0rc1.post_1.dev_2+Ubuntu-01", " v1.0-1 ")
	f.Fuzz(func(t *testing.T, a, b string) {
		va, errA := ParseVersion(a)
		if errA == nil {
			canon := va.String()
			again, err := ParseVersion(canon)
			if err != nil {
				t.Fatalf("String() of %q = %q does not parse: %v", a, canon, err)
			}
			if again.String() != canon || CompareVersions(va, again) != 0 {
				t.Fatalf("%q -> %q -> %q: round trip changed the version", a, canon, again.String())
			}
		} else if !errors.Is(errA, ErrInvalid) {
			t.Fatalf("ParseVersion(%q) error %v does not wrap ErrInvalid", a, errA)
		}
		ab, ba := CompareVersionStrings(a, b), CompareVersionStrings(b, a)
		if ab != -ba {
			t.Fatalf("Compare(%q, %q) = %d but Compare(%q, %q) = %d", a, b, ab, b, a, ba)
		}
		if vb, errB := ParseVersion(b); errA == nil && errB == nil && va.String() == vb.String() && ab != 0 {
			t.Fatalf("%q and %q have the same normal form but compare %d", a, b, ab)
		}
	})
}
