package pypi

import (
	"strings"
	"testing"
)

func TestNormalizeName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Django", "django"},
		{"zope.interface", "zope-interface"},
		{"Proximal_Core", "proximal-core"},
		{"a-_.-b", "a-b"},
		{"a__b", "a-b"},
		{"friendly-bard", "friendly-bard"},
		{"FRIENDLY.._BARD", "friendly-bard"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := NormalizeName(tt.in); got != tt.want {
			t.Errorf("NormalizeName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestValidName(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"a", true}, {"A", true}, {"9", true}, {"requests", true}, {"zope.interface", true},
		{"proximal_core", true}, {"Foo-Bar_baz.9", true}, {"a__b", true},
		{"", false}, {"-a", false}, {"a-", false}, {".a", false}, {"a_", false},
		{"a b", false}, {"a/b", false}, {"café", false}, {"a+b", false}, {"a\x00", false},
	}
	for _, tt := range tests {
		if got := ValidName(tt.in); got != tt.want {
			t.Errorf("ValidName(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// TestNameLengthBound: a name too long for any distribution filename is
// refused with a message that says so and does not quote all of it.
func TestNameLengthBound(t *testing.T) {
	longest := strings.Repeat("a", MaxNameLength)
	if !ValidName(longest) || CheckName(longest) != nil {
		t.Errorf("a %d-byte name is valid", MaxNameLength)
	}
	if _, err := ParseSdistFilename(longest + "-0.tar.gz"); err != nil {
		t.Errorf("the longest name still fits an sdist filename: %v", err)
	}
	tooLong := longest + "a"
	err := CheckName(tooLong)
	if ValidName(tooLong) || err == nil || !strings.Contains(err.Error(), "at most 246") || len(err.Error()) > 200 {
		t.Errorf("CheckName(%d bytes) = %v", len(tooLong), err)
	}
	if _, _, err := (Format{}).NormalizeName("", strings.Repeat("x", 8<<10)); err == nil || len(err.Error()) > 200 {
		t.Errorf("NormalizeName of 8 KB: %v", err)
	}
}
