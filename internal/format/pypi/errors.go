package pypi

import (
	"errors"
	"fmt"
)

// ErrInvalid marks every error caused by the input rather than by wharf: the
// caller maps it to HTTP 400 and shows the message to whoever published the
// file, so messages are written for that person.
var ErrInvalid = errors.New("invalid python package input")

type invalidError struct {
	msg   string
	cause error
}

func (e *invalidError) Error() string        { return e.msg }
func (e *invalidError) Unwrap() error        { return e.cause }
func (e *invalidError) Is(target error) bool { return target == ErrInvalid }

func invalidf(format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	return &invalidError{msg: err.Error(), cause: errors.Unwrap(err)}
}
