package pypi

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strings"
	"testing"
)

// member is one archive entry for the builders below. link makes a tar
// symlink; raw makes a zip entry whose declared size is a lie.
type member struct {
	name, body, link string
	raw              bool
}

func pkgInfo(name, version string) string {
	return "Metadata-Version: 2.1\nName: " + name + "\nVersion: " + version + "\nSummary: test\n\nReadme.\n"
}

func buildZip(t testing.TB, members ...member) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range members {
		if m.raw {
			var comp bytes.Buffer
			fw, _ := flate.NewWriter(&comp, flate.BestSpeed)
			fw.Write([]byte(m.body))
			fw.Close()
			w, err := zw.CreateRaw(&zip.FileHeader{Name: m.name, Method: zip.Deflate,
				CRC32: crc32.ChecksumIEEE([]byte(m.body)), CompressedSize64: uint64(comp.Len()), UncompressedSize64: 10})
			if err != nil {
				t.Fatal(err)
			}
			w.Write(comp.Bytes())
			continue
		}
		w, err := zw.Create(m.name)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, m.body)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func buildTarGz(t testing.TB, members ...member) []byte {
	t.Helper()
	var buf bytes.Buffer
	gw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gw)
	for _, m := range members {
		h := &tar.Header{Name: m.name, Mode: 0o644, Size: int64(len(m.body)), Typeflag: tar.TypeReg}
		switch {
		case m.link != "":
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, m.link, 0
		case m.name == "pax_global_header":
			h = &tar.Header{Typeflag: tar.TypeXGlobalHeader, PAXRecords: map[string]string{"comment": "abc"}}
		case strings.HasSuffix(m.name, "/"):
			h.Typeflag, h.Mode = tar.TypeDir, 0o755
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, m.body)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	gw.Close()
	return buf.Bytes()
}

func wheelMembers(dir, name, version string, extra ...member) []member {
	return append([]member{
		{name: "proximal_core/__init__.py", body: "x = 1\n"},
		{name: dir + "/METADATA", body: pkgInfo(name, version)},
		{name: dir + "/WHEEL", body: "Wheel-Version: 1.0\n"},
		{name: dir + "/RECORD", body: ""},
	}, extra...)
}

func TestWheelMetadata(t *testing.T) {
	const dir = "proximal_core-1.0.dist-info"
	big := strings.Repeat("a", MaxMetadataSize+1)
	tests := []struct {
		name     string
		filename string
		members  []member
		wantErr  string
	}{
		{"ok", "proximal_core-1.0-py3-none-any.whl", wheelMembers(dir, "proximal-core", "1.0"), ""},
		{"escaped and unnormalized spellings", "Proximal.Core-1.0.0a1-py3-none-any.whl",
			wheelMembers("Proximal.Core-1.0.0a1.dist-info", "PROXIMAL_core", "1.0.0alpha1"), ""},
		{"no metadata", "proximal_core-1.0-py3-none-any.whl",
			[]member{{name: dir + "/WHEEL", body: "x"}},
			"the wheel has no proximal_core-1.0.dist-info/METADATA file; was it built with a standard build backend?"},
		{"metadata not at top", "proximal_core-1.0-py3-none-any.whl",
			[]member{{name: "sub/" + dir + "/METADATA", body: pkgInfo("proximal_core", "1.0")}}, "has no"},
		{"two dist-info", "proximal_core-1.0-py3-none-any.whl",
			wheelMembers(dir, "proximal_core", "1.0", member{name: "other-2.0.dist-info/METADATA", body: pkgInfo("other", "2.0")}),
			"more than one .dist-info directory"},
		{"duplicate metadata", "proximal_core-1.0-py3-none-any.whl",
			wheelMembers(dir, "proximal_core", "1.0", member{name: dir + "/METADATA", body: pkgInfo("proximal_core", "1.0")}),
			"2 entries named"},
		{"dist-info of another project", "proximal_core-1.0-py3-none-any.whl",
			wheelMembers("other-1.0.dist-info", "proximal_core", "1.0"), "does not match the filename: expected proximal_core-1.0.dist-info"},
		{"dist-info of another version", "proximal_core-1.0-py3-none-any.whl",
			wheelMembers("proximal_core-1.1.dist-info", "proximal_core", "1.0"), "does not match"},
		{"metadata name mismatch", "proximal_core-1.0-py3-none-any.whl",
			wheelMembers(dir, "distal_core", "1.0"), "says Name: distal_core but the filename says proximal_core"},
		{"metadata version mismatch", "proximal_core-1.0-py3-none-any.whl",
			wheelMembers(dir, "proximal_core", "1.0.1"), "says Version: 1.0.1"},
		{"metadata version spelled differently", "proximal_core-1.0-py3-none-any.whl",
			wheelMembers(dir, "proximal_core", "1.0.0"), ""},
		{"metadata invalid", "proximal_core-1.0-py3-none-any.whl",
			[]member{{name: dir + "/METADATA", body: "Name: proximal_core\n"}}, "METADATA: the core metadata has no Metadata-Version"},
		{"traversal", "proximal_core-1.0-py3-none-any.whl",
			wheelMembers(dir, "proximal_core", "1.0", member{name: "../../etc/cron.d/x", body: "x"}), `unsafe path "../../etc/cron.d/x"`},
		{"inner traversal", "proximal_core-1.0-py3-none-any.whl",
			wheelMembers(dir, "proximal_core", "1.0", member{name: "proximal_core/../../x", body: "x"}), "unsafe path"},
		{"absolute", "proximal_core-1.0-py3-none-any.whl",
			wheelMembers(dir, "proximal_core", "1.0", member{name: "/etc/passwd", body: "x"}), "unsafe path"},
		{"backslash", "proximal_core-1.0-py3-none-any.whl",
			wheelMembers(dir, "proximal_core", "1.0", member{name: `..\x`, body: "x"}), "unsafe path"},
		{"drive letter", "proximal_core-1.0-py3-none-any.whl",
			wheelMembers(dir, "proximal_core", "1.0", member{name: "C:/x", body: "x"}), "unsafe path"},
		{"nul", "proximal_core-1.0-py3-none-any.whl",
			wheelMembers(dir, "proximal_core", "1.0", member{name: "a\x00b", body: "x"}), "unsafe path"},
		{"bomb", "proximal_core-1.0-py3-none-any.whl",
			[]member{{name: dir + "/METADATA", body: big}}, "larger than 16 MiB"},
		{"lying size", "proximal_core-1.0-py3-none-any.whl",
			[]member{{name: dir + "/METADATA", body: big, raw: true}}, "the archive is corrupt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := ParseWheelFilename(tt.filename)
			if err != nil {
				t.Fatal(err)
			}
			data := buildZip(t, tt.members...)
			raw, md, err := WheelMetadata(bytes.NewReader(data), int64(len(data)), w)
			checkErr(t, "WheelMetadata", err, tt.wantErr)
			if err != nil {
				return
			}
			if want := metadataBody(tt.members); string(raw) != want {
				t.Errorf("raw = %q, want the exact METADATA bytes %q", raw, want)
			}
			if NormalizeName(md.Name) != NormalizeName(w.Name) {
				t.Errorf("md.Name = %q", md.Name)
			}
		})
	}
}

func metadataBody(members []member) string {
	for _, m := range members {
		if strings.HasSuffix(m.name, "/METADATA") || strings.HasSuffix(m.name, "/PKG-INFO") {
			return m.body
		}
	}
	return ""
}

func TestWheelMetadataNotZip(t *testing.T) {
	w, _ := ParseWheelFilename("a-1-py3-none-any.whl")
	for _, data := range [][]byte{nil, []byte("PK\x03\x04 not really"), bytes.Repeat([]byte("PK\x05\x06"), 20)} {
		_, _, err := WheelMetadata(bytes.NewReader(data), int64(len(data)), w)
		checkErr(t, fmt.Sprintf("WheelMetadata(%q)", data), err, "not a valid zip archive")
	}
}

func TestWheelMetadataTooManyEntries(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 100k-entry zip")
	}
	members := wheelMembers("a-1.dist-info", "a", "1")
	for i := len(members); i <= MaxArchiveEntries; i++ {
		members = append(members, member{name: fmt.Sprintf("a/%d", i)})
	}
	data := buildZip(t, members...)
	if n, ok := zipDeclaredEntries(bytes.NewReader(data), int64(len(data))); !ok || n != MaxArchiveEntries+1 {
		t.Errorf("zipDeclaredEntries = %d, %v; want %d (zip64 record)", n, ok, MaxArchiveEntries+1)
	}
	w, _ := ParseWheelFilename("a-1-py3-none-any.whl")
	_, _, err := WheelMetadata(bytes.NewReader(data), int64(len(data)), w)
	checkErr(t, "WheelMetadata", err, "entries; the limit is 100000")
}

type failingReaderAt struct{}

func (failingReaderAt) ReadAt([]byte, int64) (int, error) { return 0, errors.New("disk on fire") }

func TestArchiveStorageErrorIsNotInvalid(t *testing.T) {
	w, _ := ParseWheelFilename("a-1-py3-none-any.whl")
	s, _ := ParseSdistFilename("a-1.tar.gz")
	_, _, err1 := WheelMetadata(failingReaderAt{}, 1000, w)
	_, _, err2 := SdistMetadata(failingReaderAt{}, 1000, s)
	for _, err := range []error{err1, err2} {
		if err == nil || errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "disk on fire") {
			t.Errorf("err = %v; want the storage error, not ErrInvalid", err)
		}
	}
}

func sdistMembers(top, name, version string, extra ...member) []member {
	return append([]member{
		{name: top + "/"},
		{name: top + "/PKG-INFO", body: pkgInfo(name, version)},
		{name: top + "/pyproject.toml", body: "[project]\n"},
	}, extra...)
}

func TestSdistMetadata(t *testing.T) {
	const top = "proximal_core-1.0"
	tests := []struct {
		name     string
		filename string
		members  []member
		wantErr  string
		tarOnly  bool
	}{
		{"ok", "proximal_core-1.0.tar.gz", sdistMembers(top, "proximal_core", "1.0"), "", false},
		{"legacy dashed name", "Proximal-Core-1.0.tar.gz", sdistMembers("Proximal-Core-1.0", "proximal.core", "v1.0.0"), "", false},
		{"dot slash and global header", "proximal_core-1.0.tar.gz",
			append([]member{{name: "pax_global_header"}}, sdistMembers("./"+top, "proximal_core", "1.0")...), "", true},
		{"symlink inside the tree", "proximal_core-1.0.tar.gz",
			append([]member{{name: top + "/docs/README", link: "../README.md"}}, sdistMembers(top, "proximal_core", "1.0")...), "", true},
		{"no pkg-info", "proximal_core-1.0.tar.gz",
			[]member{{name: top + "/src/proximal_core.egg-info/PKG-INFO", body: pkgInfo("proximal_core", "1.0")}},
			"the sdist has no proximal_core-1.0/PKG-INFO file", false},
		{"pkg-info at the root", "proximal_core-1.0.tar.gz",
			[]member{{name: "PKG-INFO", body: pkgInfo("proximal_core", "1.0")}}, "does not match the filename", false},
		{"two top-level dirs", "proximal_core-1.0.tar.gz",
			append([]member{{name: top + "/setup.py"}, {name: "other/x"}}, sdistMembers(top, "proximal_core", "1.0")...), "more than one top-level entry", false},
		{"top dir of another project", "proximal_core-1.0.tar.gz",
			sdistMembers("other-1.0", "proximal_core", "1.0"), "top-level directory other-1.0 does not match the filename: expected proximal_core-1.0", false},
		{"top dir of another version", "proximal_core-1.0.tar.gz",
			sdistMembers("proximal_core-2.0", "proximal_core", "1.0"), "does not match", false},
		{"name mismatch", "proximal_core-1.0.tar.gz", sdistMembers(top, "distal", "1.0"), "PKG-INFO says Name: distal", false},
		{"version mismatch", "proximal_core-1.0.tar.gz", sdistMembers(top, "proximal_core", "1.0rc1"), "says Version: 1.0rc1", false},
		{"traversal", "proximal_core-1.0.tar.gz",
			append([]member{{name: top + "/../../evil", body: "x"}}, sdistMembers(top, "proximal_core", "1.0")...), "unsafe path", false},
		{"absolute", "proximal_core-1.0.tar.gz",
			append([]member{{name: "/etc/evil", body: "x"}}, sdistMembers(top, "proximal_core", "1.0")...), "unsafe path", false},
		{"symlink out", "proximal_core-1.0.tar.gz",
			append([]member{{name: top + "/x", link: "../../etc/passwd"}}, sdistMembers(top, "proximal_core", "1.0")...), "outside the archive", true},
		{"absolute symlink", "proximal_core-1.0.tar.gz",
			append([]member{{name: top + "/x", link: "/etc/passwd"}}, sdistMembers(top, "proximal_core", "1.0")...), "outside the archive", true},
		{"pkg-info symlink", "proximal_core-1.0.tar.gz",
			[]member{{name: top + "/PKG-INFO", link: "setup.cfg"}}, "not a regular file", true},
		{"bomb", "proximal_core-1.0.tar.gz",
			[]member{{name: top + "/PKG-INFO", body: strings.Repeat("a", MaxMetadataSize+1)}}, "larger than 16 MiB", false},
	}
	for _, tt := range tests {
		for _, ext := range []string{".tar.gz", ".zip"} {
			if ext == ".zip" && tt.tarOnly {
				continue
			}
			t.Run(tt.name+ext, func(t *testing.T) {
				s, err := ParseSdistFilename(strings.TrimSuffix(tt.filename, ".tar.gz") + ext)
				if err != nil {
					t.Fatal(err)
				}
				var data []byte
				if ext == ".zip" {
					data = buildZip(t, tt.members...)
				} else {
					data = buildTarGz(t, tt.members...)
				}
				raw, md, err := SdistMetadata(bytes.NewReader(data), int64(len(data)), s)
				checkErr(t, "SdistMetadata", err, tt.wantErr)
				if err == nil && (string(raw) != metadataBody(tt.members) || NormalizeName(md.Name) != NormalizeName(s.Name)) {
					t.Errorf("raw = %q, md = %+v", raw, md)
				}
			})
		}
	}
}

func TestSdistMetadataScanBudget(t *testing.T) {
	defer func(old int64) { sdistScanBudget = old }(sdistScanBudget)
	sdistScanBudget = 1 << 20
	s, _ := ParseSdistFilename("a-1.tar.gz")
	for name, members := range map[string][]member{
		"before PKG-INFO": append([]member{{name: "a-1/big", body: strings.Repeat("\x00", 2<<20)}}, sdistMembers("a-1", "a", "1")...),
		"in PKG-INFO":     {{name: "a-1/PKG-INFO", body: pkgInfo("a", "1") + strings.Repeat("\x00", 2<<20)}},
	} {
		data := buildTarGz(t, members...)
		_, _, err := SdistMetadata(bytes.NewReader(data), int64(len(data)), s)
		checkErr(t, name, err, "decompresses to more than")
	}
}

func TestSdistMetadataNotArchive(t *testing.T) {
	for _, fn := range []string{"a-1.tar.gz", "a-1.zip"} {
		s, _ := ParseSdistFilename(fn)
		data := []byte("\x1f\x8b not really")
		_, _, err := SdistMetadata(bytes.NewReader(data), int64(len(data)), s)
		checkErr(t, fn, err, "not a valid")
	}
	// A valid gzip stream around something that is not a tar.
	var buf bytes.Buffer
	gw := gzip.NewWriter(&buf)
	gw.Write(bytes.Repeat([]byte("x"), 1024))
	gw.Close()
	s, _ := ParseSdistFilename("a-1.tar.gz")
	_, _, err := SdistMetadata(bytes.NewReader(buf.Bytes()), int64(buf.Len()), s)
	checkErr(t, "gzip of junk", err, "not a valid .tar.gz")
}

func FuzzWheelMetadata(f *testing.F) {
	const dir = "proximal_core-1.0.dist-info"
	f.Add(buildZip(f, wheelMembers(dir, "proximal_core", "1.0")...))
	f.Add(buildZip(f, member{name: dir + "/METADATA", body: "Metadata-Version: 2.1\nName: proximal_core\nVersion: 1.0\n"}))
	f.Add(buildZip(f, member{name: "../x"}))
	f.Add([]byte("PK\x05\x06\x00\x00\x00\x00\xff\xff\xff\xff\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"))
	w := WheelName{Name: "proximal_core", Version: "1.0", PythonTag: "py3", ABITag: "none", PlatformTag: "any"}
	f.Fuzz(func(t *testing.T, data []byte) {
		raw, md, err := WheelMetadata(bytes.NewReader(data), int64(len(data)), w)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if len(raw) > MaxMetadataSize || NormalizeName(md.Name) != "proximal-core" {
			t.Fatalf("accepted %d bytes of metadata for %q", len(raw), md.Name)
		}
	})
}

func FuzzSdistMetadata(f *testing.F) {
	members := sdistMembers("proximal_core-1.0", "proximal_core", "1.0")
	f.Add(buildTarGz(f, members...), false)
	f.Add(buildZip(f, members...), true)
	f.Add(buildTarGz(f, member{name: "proximal_core-1.0/x", link: "../../y"}), false)
	f.Add([]byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"), false)
	f.Fuzz(func(t *testing.T, data []byte, isZip bool) {
		s := SdistName{Name: "proximal_core", Version: "1.0", Ext: ".tar.gz"}
		if isZip {
			s.Ext = ".zip"
		}
		raw, md, err := SdistMetadata(bytes.NewReader(data), int64(len(data)), s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if len(raw) > MaxMetadataSize || NormalizeName(md.Name) != "proximal-core" {
			t.Fatalf("accepted %d bytes of metadata for %q", len(raw), md.Name)
		}
	})
}
