package registry

import (
	"errors"
	"fmt"
	"time"

	"github.com/wharfhq/wharf/internal/store"
)

// Kind classifies a registry error so each plane can map it to its own
// wire shape (AWS error codes on the control plane, HTTP statuses on the
// data plane) in one place.
type Kind int

const (
	KindNotFound Kind = iota + 1
	KindConflict
	KindValidation
	KindForbidden
	// KindUpstream: an external registry failed and nothing cached could
	// stand in (HTTP 502); KindUpstreamTimeout: it did not answer in time (504).
	KindUpstream
	KindUpstreamTimeout
	// KindGone: the version exists but its status forbids downloads
	// (Archived, Disposed, Unfinished); HTTP 410 on the data plane, so
	// clients do not mistake it for a credentials or permission problem.
	KindGone
	// KindTooManyRequests: the caller is over a rate limit (HTTP 429 with
	// Retry-After from the Error's RetryAfter).
	KindTooManyRequests
)

// Error is a business-rule refusal. Message is written for a person: what
// was wrong and, where there is one, how to fix it.
type Error struct {
	Kind         Kind
	Message      string
	ResourceType string // domain, repository, package, package-version, asset
	ResourceID   string
	RetryAfter   time.Duration    // KindTooManyRequests: when to try again
	Upstream     *UpstreamFailure // set when an external connection failed (upstream.go)
}

func (e *Error) Error() string { return e.Message }

func newError(k Kind, resType, resID, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...), ResourceType: resType, ResourceID: resID}
}

// NotFound, Conflict, Invalid and Forbidden build registry errors; formats
// use them too, so their refusals reach clients with the right status.
func NotFound(resType, resID, format string, args ...any) *Error {
	return newError(KindNotFound, resType, resID, format, args...)
}

func Conflict(resType, resID, format string, args ...any) *Error {
	return newError(KindConflict, resType, resID, format, args...)
}

func Invalid(format string, args ...any) *Error {
	return newError(KindValidation, "", "", format, args...)
}

func Forbidden(format string, args ...any) *Error {
	return newError(KindForbidden, "", "", format, args...)
}

// Gone refuses a download because of the version's status.
func Gone(resType, resID, format string, args ...any) *Error {
	return newError(KindGone, resType, resID, format, args...)
}

// IsKind reports whether err is a registry error of kind k.
func IsKind(err error, k Kind) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == k
}

// Unavailable reports whether err means the metadata or blob store is
// unreachable for now; the planes answer 503 with Retry-After.
func Unavailable(err error) bool {
	var re *Error
	if errors.As(err, &re) {
		return false // a registry decision, however it was reached
	}
	return store.Unavailable(err)
}

// RetryAfterSeconds is what a 503 for an unavailable store advises.
const RetryAfterSeconds = "5"
