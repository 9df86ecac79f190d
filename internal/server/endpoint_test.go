package server

import (
	"slices"
	"testing"
)

func FuzzMatchEndpoint(f *testing.F) {
	for _, s := range []string{
		"/my-domain-123456789012/pypi/my-repo/simple/requests/",
		"/my-domain-123456789012/pypi/my-repo",
		"/my-domain-123456789012/pypi/my-repo/",
		"/a1-123456789012/generic/r.x_y-z/ns/pkg/1.0/file",
		"/a-123456789012/pypi/r/", "/ab-12345678901/pypi/repo/", "/ab-1234567890123/pypi/repo/",
		"/-ab-123456789012/pypi/repo/", "/ab--123456789012/pypi/repo/", "/Ab-123456789012/pypi/repo/",
		"/ab-123456789012//repo/", "/ab-123456789012/PyPI/repo/", "/ab-123456789012/pypi/.repo/",
		"/ab-123456789012/pypi/repo/x\ny", "/ab-123456789012/pypi/re\npo", "/ab-123456789012/pypi/repo/\xff",
		"/ab-123456789012-123456789012/pypi/repo/", "", "/", "//", "/healthz",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		want := endpointPath.FindStringSubmatch(path)
		if got := matchEndpoint(path); !slices.Equal(got, want) {
			t.Fatalf("matchEndpoint(%q) = %q, the regexp says %q", path, got, want)
		}
	})
}
