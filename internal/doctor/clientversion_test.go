package doctor

import "testing"

// The --version lines of the clients under test, as they print them.
func TestParseClientVersion(t *testing.T) {
	for _, tc := range []struct {
		tool, out, want string
		before15        bool
	}{
		{"poetry", "Poetry (version 1.3.2)\n", "1.3.2", true},
		{"poetry", "Poetry (version 2.5.1)\n", "2.5.1", false},
		{"pdm", "PDM, version 2.2.1\n", "2.2.1", false},
		{"pip", "pip 23.2.1 from /x/site-packages/pip (python 3.11)\n", "23.2.1", false},
		{"twine", "twine version 4.0.2 (importlib-metadata: 4.12.0, keyring: 23.9.3)\n", "4.0.2", false},
		{"poetry", "1.4", "1.4", true},
	} {
		v, err := ParseClientVersion(tc.tool, tc.out)
		if err != nil || v.Version != tc.want || v.Before(1, 5) != tc.before15 {
			t.Errorf("ParseClientVersion(%q) = %+v, %v; want %s, Before(1, 5) = %v", tc.out, v, err, tc.want, tc.before15)
		}
	}
	if _, err := ParseClientVersion("pdm", "command not found"); err == nil {
		t.Error("want an error for text without a version")
	}
	if v, _ := ParseClientVersion("pdm", "2.4.9"); PDMReadsStoredCredentials(v) {
		t.Error("pdm 2.4.9 does not merge [pypi.NAME] into the project's sources")
	}
}
