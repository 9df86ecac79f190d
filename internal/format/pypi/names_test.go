package pypi

import "testing"

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
