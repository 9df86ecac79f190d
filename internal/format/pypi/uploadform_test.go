package pypi

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/textproto"
	"strings"
	"testing"
)

// The fields before an upload's file are bounded by count, by the size of
// each part's header, and by a budget that counts names and headers as well
// as values: a form of millions of empty fields costs the server nothing.
func TestUploadFormBounds(t *testing.T) {
	srv, _ := testRepo(t)
	fn, whl := buildWheel(t, "demo", "1.0", "")
	form := func(build func(mw *multipart.Writer)) (string, *bytes.Buffer) {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		for k, v := range twineFields("demo", "1.0", "bdist_wheel", whl) {
			mw.WriteField(k, v)
		}
		build(mw)
		fw, _ := mw.CreateFormFile("content", fn)
		fw.Write(whl)
		mw.Close()
		return mw.FormDataContentType(), &body
	}
	cases := []struct {
		name  string
		build func(mw *multipart.Writer)
		want  string
	}{
		{"many empty fields", func(mw *multipart.Writer) {
			for range maxFormParts + 1 {
				mw.WriteField("x", "")
			}
		}, fmt.Sprintf("more than %d form fields", maxFormParts)},
		{"a huge part header", func(mw *multipart.Writer) {
			h := textproto.MIMEHeader{}
			h.Set("Content-Disposition", `form-data; name="classifiers"`)
			h.Set("X-Padding", strings.Repeat("p", 2*maxPartHeaderBytes))
			w, _ := mw.CreatePart(h)
			w.Write([]byte("x"))
		}, "header"},
		{"names count in the budget", func(mw *multipart.Writer) {
			// Values alone stay under the budget; with their names they do not.
			name := strings.Repeat("n", maxPartHeaderBytes-200)
			value := strings.Repeat("v", maxFormBytes/(maxFormParts-50)-len(name)/2)
			for range maxFormParts - 50 {
				mw.WriteField(name, value)
			}
		}, "form fields are larger than"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ct, body := form(c.build)
			code, msg := post(t, srv.URL+"/pypi/repo/", ct, body)
			if code != 400 || !strings.Contains(msg, c.want) {
				t.Fatalf("got %d %q, want 400 mentioning %q", code, clipMsg(msg), c.want)
			}
		})
	}
	// Twine's ordinary form, with repeated classifiers, is accepted.
	ct, body := form(func(mw *multipart.Writer) {
		for i := range 200 {
			mw.WriteField("classifiers", fmt.Sprintf("Topic :: Software Development :: %d", i))
		}
		mw.WriteField("description", strings.Repeat("A long description. ", 50000))
	})
	if code, msg := post(t, srv.URL+"/pypi/repo/", ct, body); code != 200 {
		t.Fatalf("an ordinary upload: %d %s", code, clipMsg(msg))
	}
}

func clipMsg(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}

// FuzzReadUploadForm: whatever the body, the form reader ends, keeps within
// its bounds and never reads more than its budget before the file.
func FuzzReadUploadForm(f *testing.F) {
	var seed bytes.Buffer
	mw := multipart.NewWriter(&seed)
	mw.SetBoundary("b")
	mw.WriteField(":action", "file_upload")
	mw.WriteField("classifiers", "x")
	fw, _ := mw.CreateFormFile("content", "demo-1.0-py3-none-any.whl")
	fw.Write([]byte("zip"))
	mw.Close()
	f.Add(seed.Bytes())
	f.Add([]byte("--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n\r\n--b--\r\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		meter := &formMeter{r: bytes.NewReader(body), limit: -1}
		form, part, err := readUploadForm(multipart.NewReader(meter, "b"), meter)
		if err == nil && part == nil {
			t.Fatal("no error and no file part")
		}
		if err == nil && part.FormName() != "content" {
			t.Fatalf("the file part is %q", part.FormName())
		}
		size := 0
		for k, vs := range form {
			if !uploadFields[k] {
				t.Fatalf("kept a field the upload does not read: %q", k)
			}
			for _, v := range vs {
				size += len(v)
			}
		}
		if size > maxFormBytes {
			t.Fatalf("kept %d bytes of fields", size)
		}
	})
}
