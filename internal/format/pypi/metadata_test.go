package pypi

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseMetadata(t *testing.T) {
	full := "Metadata-Version: 2.4\n" +
		"Name: proximal_core\n" +
		"Version: 1.0\n" +
		"Summary: A  summary\n" +
		"  continued\n" +
		"Home-page: https://example.com\n" +
		"Author: Ada\n" +
		"Author-email: Ada <ada@example.com>\n" +
		"License-Expression: MIT\n" +
		"License-File: LICENSE\n" +
		"License-File: NOTICE\n" +
		"Keywords: a,b\n" +
		"Classifier: Programming Language :: Python :: 3\n" +
		"Classifier: License :: OSI Approved :: MIT License\n" +
		"Requires-Python: >=3.9\n" +
		"Requires-Dist: requests>=2\n" +
		"Requires-Dist: rich; extra == \"cli\"\n" +
		"Provides-Extra: cli\n" +
		"Project-URL: Source, https://example.com/src\n" +
		"Platform: any\n" +
		"Dynamic: license-file\n" +
		"Description-Content-Type: text/markdown\n" +
		"X-Unknown: ignored\n" +
		"\n" +
		"# Proximal\n\nBody text.\n"
	md, err := ParseMetadata([]byte(full))
	if err != nil {
		t.Fatal(err)
	}
	want := &Metadata{
		MetadataVersion: "2.4", Name: "proximal_core", Version: "1.0", Summary: "A  summary continued",
		Description: "# Proximal\n\nBody text.\n", DescriptionContentType: "text/markdown",
		HomePage: "https://example.com", LicenseExpression: "MIT", RequiresPython: ">=3.9",
		Author: "Ada", AuthorEmail: "Ada <ada@example.com>", Keywords: "a,b",
		Classifiers:   []string{"Programming Language :: Python :: 3", "License :: OSI Approved :: MIT License"},
		RequiresDist:  []string{"requests>=2", `rich; extra == "cli"`},
		ProvidesExtra: []string{"cli"}, ProjectURLs: []string{"Source, https://example.com/src"},
		Platforms: []string{"any"}, LicenseFiles: []string{"LICENSE", "NOTICE"}, Dynamic: []string{"license-file"},
	}
	if !reflect.DeepEqual(md, want) {
		t.Errorf("ParseMetadata =\n%+v\nwant\n%+v", md, want)
	}
}

func TestParseMetadataDescription(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"setuptools pipe", "Metadata-Version: 2.1\nName: a\nVersion: 1\nDescription: first\n       |  indented\n       |\n       |last\n", "first\n  indented\n\nlast"},
		{"eight spaces pipe", "Metadata-Version: 2.1\nName: a\nVersion: 1\nDescription: first\n        |second\n", "first\nsecond"},
		{"distutils eight spaces", "Metadata-Version: 1.0\nName: a\nVersion: 1\nDescription: first\n          second\n        third\n", "first\n  second\nthird"},
		{"crlf", "Metadata-Version: 2.1\r\nName: a\r\nVersion: 1\r\nDescription: header\r\n\r\nbody\r\nline\r\n", "body\nline\n"},
		{"body wins", "Metadata-Version: 2.1\nName: a\nVersion: 1\nDescription: header\n\nbody", "body"},
		{"empty body keeps header", "Metadata-Version: 2.1\nName: a\nVersion: 1\nDescription: header\n\n\n", "header"},
		{"non-header line starts body", "Metadata-Version: 2.1\nName: a\nVersion: 1\nnot a header\nmore", "not a header\nmore"},
	}
	for _, tt := range tests {
		md, err := ParseMetadata([]byte(tt.in))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if md.Description != tt.want {
			t.Errorf("%s: Description = %q, want %q", tt.name, md.Description, tt.want)
		}
	}
}

func TestParseMetadataErrors(t *testing.T) {
	tests := []struct{ name, in, wantErr string }{
		{"no metadata version", "Name: a\nVersion: 1\n", "no Metadata-Version field"},
		{"no name", "Metadata-Version: 2.1\nVersion: 1\n", "no Name field"},
		{"no version", "Metadata-Version: 2.1\nName: a\n", "no Version field"},
		{"name in body", "Metadata-Version: 2.1\nVersion: 1\n\nName: a\n", "no Name field"},
		{"bad name", "Metadata-Version: 2.1\nName: -a\nVersion: 1\n", "not a valid project name"},
		{"bad version", "Metadata-Version: 2.1\nName: a\nVersion: one\n", "not a valid PEP 440 version"},
		{"two names", "Metadata-Version: 2.1\nName: a\nName: b\nVersion: 1\n", "more than one Name"},
		{"future major", "Metadata-Version: 3.0\nName: a\nVersion: 1\n", "not supported"},
		{"junk metadata version", "Metadata-Version: two\nName: a\nVersion: 1\n", "such as 2.1"},
		{"not utf-8", "Metadata-Version: 2.1\nName: a\nVersion: 1\nSummary: \xff\n", "UTF-8"},
		{"too large", "Metadata-Version: 2.1\nName: a\nVersion: 1\n\n" + strings.Repeat("x", MaxMetadataSize), "limit"},
		{"empty", "", "no Metadata-Version"},
	}
	for _, tt := range tests {
		_, err := ParseMetadata([]byte(tt.in))
		checkErr(t, tt.name, err, tt.wantErr)
	}
}

func FuzzParseMetadata(f *testing.F) {
	f.Add([]byte("Metadata-Version: 2.1\nName: a\nVersion: 1\nDescription: x\n       |y\n\nbody"))
	f.Add([]byte("Metadata-Version: 2.1\r\nName: a\r\n\tb\r\nVersion: 1\r\nClassifier: c\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		md, err := ParseMetadata(b)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if !ValidName(md.Name) || md.MetadataVersion == "" {
			t.Fatalf("accepted invalid metadata: %+v", md)
		}
		if _, err := ParseVersion(md.Version); err != nil {
			t.Fatalf("accepted invalid version %q", md.Version)
		}
	})
}
