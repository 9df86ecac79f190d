package pypi

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
)

const (
	// MaxArchiveEntries bounds the members of a wheel or sdist. The largest
	// real wheels hold tens of thousands of files.
	MaxArchiveEntries = 100_000
	// MaxSdistScanBytes bounds how much of a .tar.gz sdist is decompressed
	// while looking for PKG-INFO, which tools write first or nearly so.
	MaxSdistScanBytes = 512 << 20
)

// WheelMetadata returns the exact bytes of the wheel's
// {name}-{version}.dist-info/METADATA (served as the PEP 658 .metadata file)
// and its parsed form, after checking that the archive is safe to install
// and describes the project and version its filename names.
func WheelMetadata(r io.ReaderAt, size int64, w WheelName) (raw []byte, md *Metadata, err error) {
	tr := &trackingReaderAt{r: r, size: size}
	defer func() { err = tr.realError(err) }()
	want := w.Name + "-" + w.Version + ".dist-info"
	zr, err := openZip(tr, size, "wheel")
	if err != nil {
		return nil, nil, err
	}
	var distInfo []string
	var meta []*zip.File
	for _, f := range zr.File {
		if err := checkMemberName(f.Name); err != nil {
			return nil, nil, err
		}
		top, rest, _ := strings.Cut(f.Name, "/")
		if !strings.HasSuffix(top, ".dist-info") {
			continue
		}
		// Three names make the error message; more would only cost time.
		if len(distInfo) < 3 && !slices.Contains(distInfo, top) {
			distInfo = append(distInfo, top)
		}
		if rest == "METADATA" {
			meta = append(meta, f)
		}
	}
	switch {
	case len(distInfo) > 1:
		return nil, nil, invalidf("the wheel has more than one .dist-info directory (%s); it must have exactly one, %s", strings.Join(distInfo, ", "), want)
	case len(meta) == 0:
		return nil, nil, invalidf("the wheel has no %s/METADATA file; was it built with a standard build backend?", want)
	case len(meta) > 1:
		return nil, nil, invalidf("the wheel has %d entries named %s; it must have exactly one", len(meta), meta[0].Name)
	}
	if err := matchNameVersion("the wheel's metadata directory "+distInfo[0], strings.TrimSuffix(distInfo[0], ".dist-info"), w.Name, w.Version, want); err != nil {
		return nil, nil, err
	}
	rc, err := meta[0].Open()
	if err != nil {
		return nil, nil, invalidf("cannot read %s from the wheel: %w", meta[0].Name, err)
	}
	defer rc.Close()
	return readMetadata(rc, meta[0].Name, w.Name, w.Version)
}

// SdistMetadata returns the exact bytes of {name}-{version}/PKG-INFO and its
// parsed form. A .tar.gz is streamed and only read up to PKG-INFO, within
// MaxSdistScanBytes of decompressed data.
func SdistMetadata(r io.ReaderAt, size int64, s SdistName) (raw []byte, md *Metadata, err error) {
	tr := &trackingReaderAt{r: r, size: size}
	defer func() { err = tr.realError(err) }()
	if s.Ext == ".zip" {
		return zipSdistMetadata(tr, size, s)
	}
	gz, err := gzip.NewReader(io.NewSectionReader(tr, 0, size))
	if err != nil {
		return nil, nil, invalidf("the sdist is not a valid .tar.gz file: %w", err)
	}
	budget := &budgetReader{r: gz, left: sdistScanBudget}
	tarr := tar.NewReader(budget)
	top := ""
	for entries := 0; ; entries++ {
		if entries >= MaxArchiveEntries {
			return nil, nil, invalidf("the sdist has more than %d entries before its PKG-INFO", MaxArchiveEntries)
		}
		hdr, err := tarr.Next()
		switch {
		case err == io.EOF:
			return nil, nil, invalidf("the sdist has no %s-%s/PKG-INFO file; was it built with a standard build backend (python -m build --sdist)?", s.Name, s.Version)
		case errors.Is(err, errBudget):
			return nil, nil, invalidf("the sdist decompresses to more than %d MiB before its PKG-INFO; put PKG-INFO near the start of the archive (standard build backends do)", sdistScanBudget>>20)
		case err != nil:
			return nil, nil, invalidf("the sdist is not a valid .tar.gz file: %w", err)
		}
		if hdr.Typeflag == tar.TypeXGlobalHeader { // git archive writes one; not a member
			continue
		}
		name := strings.TrimPrefix(hdr.Name, "./")
		if name == "" || name == "." {
			continue
		}
		if err := checkMemberName(name); err != nil {
			return nil, nil, err
		}
		if err := checkLink(hdr, name); err != nil {
			return nil, nil, err
		}
		first, rest, _ := strings.Cut(name, "/")
		if top == "" {
			top = first
			if err := matchNameVersion("the sdist's top-level directory "+top, top, s.Name, s.Version, s.Name+"-"+s.Version); err != nil {
				return nil, nil, err
			}
		} else if first != top {
			return nil, nil, invalidf("the sdist has more than one top-level entry (%s, %s); it must contain a single %s-%s/ directory", top, first, s.Name, s.Version)
		}
		if rest != "PKG-INFO" {
			continue
		}
		if hdr.Typeflag != tar.TypeReg && hdr.Typeflag != tar.TypeRegA {
			return nil, nil, invalidf("%s in the sdist is not a regular file", name)
		}
		raw, md, err := readMetadata(tarr, name, s.Name, s.Version)
		if errors.Is(err, errBudget) {
			err = invalidf("the sdist decompresses to more than %d MiB before the end of its PKG-INFO", sdistScanBudget>>20)
		}
		return raw, md, err
	}
}

func zipSdistMetadata(r io.ReaderAt, size int64, s SdistName) ([]byte, *Metadata, error) {
	want := s.Name + "-" + s.Version
	zr, err := openZip(r, size, "sdist")
	if err != nil {
		return nil, nil, err
	}
	top := ""
	var meta []*zip.File
	for _, f := range zr.File {
		if err := checkMemberName(f.Name); err != nil {
			return nil, nil, err
		}
		first, rest, _ := strings.Cut(f.Name, "/")
		if top == "" {
			top = first
		} else if first != top {
			return nil, nil, invalidf("the sdist has more than one top-level entry (%s, %s); it must contain a single %s/ directory", top, first, want)
		}
		if rest == "PKG-INFO" {
			meta = append(meta, f)
		}
	}
	if top != "" {
		if err := matchNameVersion("the sdist's top-level directory "+top, top, s.Name, s.Version, want); err != nil {
			return nil, nil, err
		}
	}
	switch {
	case len(meta) == 0:
		return nil, nil, invalidf("the sdist has no %s/PKG-INFO file; was it built with a standard build backend (python -m build --sdist)?", want)
	case len(meta) > 1:
		return nil, nil, invalidf("the sdist has %d entries named %s; it must have exactly one", len(meta), meta[0].Name)
	}
	rc, err := meta[0].Open()
	if err != nil {
		return nil, nil, invalidf("cannot read %s from the sdist: %w", meta[0].Name, err)
	}
	defer rc.Close()
	return readMetadata(rc, meta[0].Name, s.Name, s.Version)
}

// readMetadata reads at most MaxMetadataSize bytes whatever the archive
// declares, parses them, and checks they describe the file's project.
func readMetadata(r io.Reader, member, name, version string) ([]byte, *Metadata, error) {
	raw, err := io.ReadAll(io.LimitReader(r, MaxMetadataSize+1))
	if errors.Is(err, errBudget) {
		return nil, nil, err
	}
	if err != nil {
		return nil, nil, invalidf("cannot read %s: the archive is corrupt (%w)", member, err)
	}
	if len(raw) > MaxMetadataSize {
		return nil, nil, invalidf("%s is larger than %d MiB uncompressed", member, MaxMetadataSize>>20)
	}
	md, err := ParseMetadata(raw)
	if err != nil {
		return nil, nil, invalidf("%s: %w", member, err)
	}
	if NormalizeName(md.Name) != NormalizeName(name) {
		return nil, nil, invalidf("%s says Name: %s but the filename says %s; the file was renamed or built from another project", member, md.Name, name)
	}
	if !sameVersion(md.Version, version) {
		return nil, nil, invalidf("%s says Version: %s but the filename says %s; the file was renamed or the version was changed after the build", member, md.Version, version)
	}
	return raw, md, nil
}

// matchNameVersion checks that an archive directory named {name}-{version}
// (with the escaping build tools apply) belongs to the file's project.
func matchNameVersion(what, dir, name, version, want string) error {
	n, v, ok := cutLast(dir, "-")
	if !ok || NormalizeName(n) != NormalizeName(name) || !sameVersion(v, version) {
		return invalidf("%s does not match the filename: expected %s", what, want)
	}
	return nil
}

// sameVersion is PEP 440 equality, as packaging's Version.__eq__: build
// tools may write 1.0 in one place and 1.0.0 in another.
func sameVersion(a, b string) bool {
	va, errA := ParseVersion(a)
	vb, errB := ParseVersion(b)
	return errA == nil && errB == nil && CompareVersions(va, vb) == 0
}

// checkMemberName refuses names an installer would write outside its target
// directory, or that mean different files on different systems.
func checkMemberName(name string) error {
	bad := name == "" || strings.ContainsAny(name, "\\\x00") || name[0] == '/' ||
		len(name) >= 2 && name[1] == ':' // a Windows drive letter
	for _, seg := range strings.Split(name, "/") {
		bad = bad || seg == ".."
	}
	if bad {
		return invalidf("the archive contains the unsafe path %q (absolute, containing '..', a backslash or NUL); installing it would write outside the target directory", name)
	}
	return nil
}

// checkLink refuses links whose target leaves the archive's tree.
func checkLink(hdr *tar.Header, name string) error {
	link := hdr.Linkname
	var target string
	switch hdr.Typeflag {
	case tar.TypeSymlink: // relative to the link's own directory
		target = path.Join(path.Dir(name), link)
	case tar.TypeLink: // relative to the archive root
		target = path.Clean(link)
	default:
		return nil
	}
	if link == "" || link[0] == '/' || strings.ContainsAny(link, "\\\x00") || len(link) >= 2 && link[1] == ':' ||
		target == ".." || strings.HasPrefix(target, "../") {
		return invalidf("the archive entry %q links to %q, outside the archive", name, link)
	}
	return nil
}

// openZip checks the entry count the archive declares before archive/zip
// allocates a File for each entry.
func openZip(r io.ReaderAt, size int64, kind string) (*zip.Reader, error) {
	if n, ok := zipDeclaredEntries(r, size); ok && n > MaxArchiveEntries {
		return nil, invalidf("the %s has %d entries; the limit is %d", kind, n, MaxArchiveEntries)
	}
	zr, err := zip.NewReader(r, size)
	// ErrInsecurePath comes with a usable reader; checkMemberName reports
	// the offending name with a better message.
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, invalidf("the %s is not a valid zip archive: %w", kind, err)
	}
	if len(zr.File) > MaxArchiveEntries {
		return nil, invalidf("the %s has %d entries; the limit is %d", kind, len(zr.File), MaxArchiveEntries)
	}
	return zr, nil
}

// zipDeclaredEntries reads the entry count from the end of central directory
// record (or its zip64 form). ok is false when there is none to read; then
// zip.NewReader reports the problem.
func zipDeclaredEntries(r io.ReaderAt, size int64) (n uint64, ok bool) {
	const eocdLen, maxComment = 22, 65535
	tail := min(size, eocdLen+maxComment)
	if tail < eocdLen {
		return 0, false
	}
	buf := make([]byte, tail)
	if _, err := r.ReadAt(buf, size-tail); err != nil && err != io.EOF {
		return 0, false
	}
	i := bytes.LastIndex(buf, []byte("PK\x05\x06"))
	if i < 0 || len(buf)-i < eocdLen {
		return 0, false
	}
	n = uint64(binary.LittleEndian.Uint16(buf[i+10:]))
	if n != 0xffff || i < 20 || string(buf[i-20:i-16]) != "PK\x06\x07" {
		return n, true
	}
	var rec [40]byte
	off := binary.LittleEndian.Uint64(buf[i-20+8:])
	if off > uint64(size) {
		return n, true
	}
	if _, err := r.ReadAt(rec[:], int64(off)); err != nil || string(rec[:4]) != "PK\x06\x06" {
		return n, true
	}
	return binary.LittleEndian.Uint64(rec[32:]), true
}

// sdistScanBudget is MaxSdistScanBytes; tests lower it.
var sdistScanBudget int64 = MaxSdistScanBytes

var errBudget = errors.New("decompressed size budget exceeded")

// budgetReader fails once more than left bytes have been read, so a small
// compressed file cannot make us decompress without end.
type budgetReader struct {
	r    io.Reader
	left int64
}

func (b *budgetReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errBudget
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}

// trackingReaderAt remembers a failure of the underlying storage, so that an
// I/O error is not reported to the publisher as a broken archive. It answers
// reads outside [0, size) itself: archive offsets are untrusted, and storage
// backends disagree about what such a read returns.
type trackingReaderAt struct {
	r    io.ReaderAt
	size int64
	err  error
}

func (t *trackingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off >= t.size {
		return 0, io.EOF
	}
	short := int64(len(p)) > t.size-off
	if short {
		p = p[:t.size-off]
	}
	n, err := t.r.ReadAt(p, off)
	if err != nil && err != io.EOF && t.err == nil {
		t.err = err
	}
	if err == nil && short {
		err = io.EOF
	}
	return n, err
}

func (t *trackingReaderAt) realError(err error) error {
	if err != nil && t.err != nil {
		return fmt.Errorf("reading the archive: %w", t.err)
	}
	return err
}
