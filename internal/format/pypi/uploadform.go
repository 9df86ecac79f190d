package pypi

import (
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/url"
)

// An upload's form is read before its file, from anyone holding a token, so
// what it may cost is bounded three ways, and none of them by trusting the
// client: at most maxFormParts parts (twine sends about 30 fields, a few
// repeated ones such as classifiers more); at most maxPartHeaderBytes of
// header per part; and at most maxFormBytes for everything before the file,
// names, headers and boundaries counted with the values. Only the fields the
// upload reads are kept (uploadFields), so memory does not grow with the
// number of fields either.
const (
	maxFormParts       = 1000
	maxPartHeaderBytes = 8 << 10
	maxFormBytes       = 32 << 20
)

// uploadFields are the form fields the upload reads; the others (summary,
// classifiers, description ...) are read past and dropped: what is recorded
// comes from the file's own metadata.
var uploadFields = map[string]bool{
	":action": true, "protocol_version": true, "name": true, "version": true, "filetype": true,
	"sha256_digest": true, "md5_digest": true, "blake2_256_digest": true, "requires_python": true,
}

// errFormBounds is what readUploadForm returns when the form passes one of
// its bounds; its text is the refusal.
type errFormBounds struct{ msg string }

func (e errFormBounds) Error() string { return e.msg }

var (
	errTooManyParts = errFormBounds{fmt.Sprintf("the upload has more than %d form fields before the file; send the fields twine sends (:action, name, version, filetype, digests ...) and the file in the field named \"content\"", maxFormParts)}
	errPartHeader   = errFormBounds{fmt.Sprintf("a form field's part header is larger than %d KiB", maxPartHeaderBytes>>10)}
	errFormTooLarge = errFormBounds{fmt.Sprintf("the upload's form fields are larger than %d MiB in total (names, headers and values, before the file)", maxFormBytes>>20)}
)

// formMeter counts what the multipart reader takes from the body and fails
// a read past its current limit with the limit's error. The multipart reader
// reads ahead at most 4 KiB, so what it is allowed is exact to within that.
type formMeter struct {
	r       io.Reader
	n       int64 // bytes read so far
	limit   int64 // no reads past this count; -1: none
	limitBy error // the refusal when the limit is what stopped a read
	hit     error // set once a read was refused
}

func (m *formMeter) Read(p []byte) (int, error) {
	if m.limit >= 0 {
		left := m.limit - m.n
		if left <= 0 {
			m.hit = m.limitBy
			return 0, m.hit
		}
		if int64(len(p)) > left {
			p = p[:left]
		}
	}
	n, err := m.r.Read(p)
	m.n += int64(n)
	return n, err
}

// limitTo allows reading until the form budget is spent, or, when
// headerOnly, until one more part header could be read.
func (m *formMeter) limitTo(headerOnly bool) {
	m.limit, m.limitBy = maxFormBytes, errFormTooLarge
	if h := m.n + maxPartHeaderBytes; headerOnly && h < m.limit {
		m.limit, m.limitBy = h, errPartHeader
	}
}

// unlimited lifts the limits: for the file, which MaxBytesReader bounds,
// and for draining the body of a refused upload.
func (m *formMeter) unlimited() { m.limit = -1 }

// readUploadForm reads the fields before the file and returns them with the
// file's part; an error is either an errFormBounds or one of the multipart
// reader's (a malformed body, or no file).
func readUploadForm(mr *multipart.Reader, meter *formMeter) (url.Values, *multipart.Part, error) {
	form := url.Values{}
	for parts := 0; ; parts++ {
		if parts == maxFormParts {
			return nil, nil, errTooManyParts
		}
		meter.limitTo(true)
		part, err := mr.NextPart()
		if err != nil {
			return nil, nil, meterErr(meter, err)
		}
		if part.FormName() == "content" {
			meter.unlimited()
			return form, part, nil
		}
		meter.limitTo(false)
		if !uploadFields[part.FormName()] {
			_, err := io.Copy(io.Discard, part)
			if err != nil {
				return nil, nil, meterErr(meter, err)
			}
			continue
		}
		data, err := io.ReadAll(part)
		if err != nil {
			return nil, nil, meterErr(meter, err)
		}
		form.Add(part.FormName(), string(data))
	}
}

// meterErr prefers the bound that stopped a read to the multipart reader's
// wording of it.
func meterErr(m *formMeter, err error) error {
	if m.hit != nil {
		return m.hit
	}
	if errors.Is(err, io.EOF) {
		return io.EOF
	}
	return err
}
