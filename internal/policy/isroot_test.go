package policy

import (
	"strings"
	"testing"
)

func TestIsRootMatchesPattern(t *testing.T) {
	for _, p := range []string{
		"arn:aws:iam::123456789012:root", "arn:aws:iam::12345678901:root", "arn:aws:iam::1234567890123:root",
		"arn:aws:iam::12345678901a:root", "arn:aws:iam::123456789012:user/root", "arn:aws:iam::123456789012:user/x:root",
		"arn:aws:iam::123456789012:root ", "xarn:aws:iam::123456789012:root", "arn:aws:iam::123456789012:role/a/b", "", ":root",
	} {
		want := strings.HasSuffix(p, ":root") && AccountOf(p) != ""
		if got := IsRoot(p); got != want {
			t.Errorf("IsRoot(%q) = %v, want %v", p, got, want)
		}
	}
}
