package pypi

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestValidateFilename(t *testing.T) {
	tests := []struct {
		in      string
		wantErr string // substring; "" = valid
	}{
		{"proximal_core-1.0.tar.gz", ""},
		{"numpy-2.0.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", ""},
		{"", "empty"},
		{"a/b.whl", "'/'"},
		{`a\b.whl`, "'/'"},
		{".hidden.whl", "start with '.'"},
		{"a\x00b.whl", "control"},
		{"a\nb.whl", "control"},
		{"a\x7fb.whl", "control"},
		{"a\u0085b.whl", "control"},
		{"a\xffb.whl", "UTF-8"},
		{strings.Repeat("a", 256), "255"},
	}
	for _, tt := range tests {
		err := ValidateFilename(tt.in)
		checkErr(t, fmt.Sprintf("ValidateFilename(%q)", tt.in), err, tt.wantErr)
	}
}

func TestParseWheelFilename(t *testing.T) {
	tests := []struct {
		in      string
		want    WheelName
		wantErr string
	}{
		{"proximal_core-1.0-py3-none-any.whl", WheelName{"proximal_core", "1.0", "", "py3", "none", "any"}, ""},
		{"Foo.Bar-2.0rc1+local.1-7abc-py2.py3-none-any.whl", WheelName{"Foo.Bar", "2.0rc1+local.1", "7abc", "py2.py3", "none", "any"}, ""},
		{"numpy-2.0.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
			WheelName{"numpy", "2.0.0", "", "cp312", "cp312", "manylinux_2_17_x86_64.manylinux2014_x86_64"}, ""},
		{"x.whl", WheelName{}, `wheel filename "x.whl" must have 5 or 6 dash-separated parts: {name}-{version}(-{build})?-{python}-{abi}-{platform}.whl`},
		{"a-1.0-b-c-py3-none-any.whl", WheelName{}, "5 or 6"},
		{"proximal_core-1.0-py3-none-any.zip", WheelName{}, "must end with .whl"},
		{"proximal__core-1.0-py3-none-any.whl", WheelName{}, `project name part "proximal__core"`},
		{"_core-1.0-py3-none-any.whl", WheelName{}, "project name part"},
		{"core-one-py3-none-any.whl", WheelName{}, `version part "one"`},
		{"core-1.0-abc-py3-none-any.whl", WheelName{}, `build tag "abc" must start with a digit`},
		{"core-1.0--py3-none-any.whl", WheelName{}, "build tag"},
		{"core-1.0-py3-none-.whl", WheelName{}, "platform tag"},
		{"core-1.0-py3..py2-none-any.whl", WheelName{}, "python tag"},
		{"core-1.0-py3-no ne-any.whl", WheelName{}, "abi tag"},
		{"../core-1.0-py3-none-any.whl", WheelName{}, "'/'"},
	}
	for _, tt := range tests {
		got, err := ParseWheelFilename(tt.in)
		checkErr(t, fmt.Sprintf("ParseWheelFilename(%q)", tt.in), err, tt.wantErr)
		if err == nil && got != tt.want {
			t.Errorf("ParseWheelFilename(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestParseSdistFilename(t *testing.T) {
	tests := []struct {
		in      string
		want    SdistName
		wantErr string
	}{
		{"proximal_core-1.0.tar.gz", SdistName{"proximal_core", "1.0", ".tar.gz"}, ""},
		{"proximal-core-1.0.post1.zip", SdistName{"proximal-core", "1.0.post1", ".zip"}, ""},
		{"Django-1!2.0rc1.tar.gz", SdistName{"Django", "1!2.0rc1", ".tar.gz"}, ""},
		{"core-1.0.tar.bz2", SdistName{}, "must be .tar.gz or .zip"},
		{"core-1.0.tgz", SdistName{}, "must be .tar.gz or .zip"},
		{"core-1.0.TAR.GZ", SdistName{}, "must be .tar.gz or .zip"},
		{"core.tar.gz", SdistName{}, "must be {name}-{version}.tar.gz"},
		{"-1.0.tar.gz", SdistName{}, "project name part"},
		{"core-1.0-final.tar.gz", SdistName{}, `version part "final"`},
		{"core- 1.0.tar.gz", SdistName{}, "version part"},
		{"core-1.0.tar.gz\n", SdistName{}, "control"},
	}
	for _, tt := range tests {
		got, err := ParseSdistFilename(tt.in)
		checkErr(t, fmt.Sprintf("ParseSdistFilename(%q)", tt.in), err, tt.wantErr)
		if err == nil && got != tt.want {
			t.Errorf("ParseSdistFilename(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func FuzzParseWheelFilename(f *testing.F) {
	f.Add("proximal_core-1.0-1-py3-none-any.whl")
	f.Add("numpy-2.0.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl")
	f.Fuzz(func(t *testing.T, fn string) {
		w, err := ParseWheelFilename(fn)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		parts := []string{w.Name, w.Version, w.Build, w.PythonTag, w.ABITag, w.PlatformTag}
		if w.Build == "" {
			parts = append(parts[:2], parts[3:]...)
		}
		if got := strings.Join(parts, "-") + ".whl"; got != fn {
			t.Fatalf("parts %+v rebuild %q, not %q", w, got, fn)
		}
		if !ValidName(w.Name) || ValidateFilename(fn) != nil {
			t.Fatalf("accepted %q with an invalid name or filename", fn)
		}
		if _, err := ParseVersion(w.Version); err != nil {
			t.Fatalf("accepted %q with an invalid version", fn)
		}
	})
}

func FuzzParseSdistFilename(f *testing.F) {
	f.Add("proximal_core-1.0.tar.gz")
	f.Add("proximal-core-1.0.post1.zip")
	f.Fuzz(func(t *testing.T, fn string) {
		s, err := ParseSdistFilename(fn)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if got := s.Name + "-" + s.Version + s.Ext; got != fn {
			t.Fatalf("parts %+v rebuild %q, not %q", s, got, fn)
		}
		if !ValidName(s.Name) || strings.Contains(s.Version, "-") {
			t.Fatalf("accepted %q with an invalid name or version", fn)
		}
		if _, err := ParseVersion(s.Version); err != nil {
			t.Fatalf("accepted %q with an invalid version", fn)
		}
	})
}

// checkErr fails unless err is nil when wantErr is "", or wraps ErrInvalid
// and contains wantErr.
func checkErr(t *testing.T, call string, err error, wantErr string) {
	t.Helper()
	switch {
	case wantErr == "" && err != nil:
		t.Errorf("%s: unexpected error %v", call, err)
	case wantErr == "":
	case err == nil:
		t.Errorf("%s: no error, want one containing %q", call, wantErr)
	case !errors.Is(err, ErrInvalid):
		t.Errorf("%s: error %v does not wrap ErrInvalid", call, err)
	case !strings.Contains(err.Error(), wantErr):
		t.Errorf("%s: error %q does not contain %q", call, err, wantErr)
	}
}
