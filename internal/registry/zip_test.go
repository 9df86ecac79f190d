package registry_test

import (
	"archive/zip"
	"io"
	"testing"
)

type zipWriter struct{ *zip.Writer }

func newZip(w io.Writer) zipWriter { return zipWriter{zip.NewWriter(w)} }

func (z zipWriter) add(name, content string) {
	f, err := z.Create(name)
	if err != nil {
		panic(err)
	}
	io.WriteString(f, content)
}

func (z zipWriter) close(t *testing.T) {
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
}
