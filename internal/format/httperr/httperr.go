// Package httperr is how every format's data plane answers a failed
// request, so a registry refusal gets the same status and message from
// pip's endpoint as from the generic one.
package httperr

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/wharfhq/wharf/internal/registry"
)

var statusOf = map[registry.Kind]int{
	registry.KindNotFound:        http.StatusNotFound,
	registry.KindConflict:        http.StatusConflict,
	registry.KindValidation:      http.StatusBadRequest,
	registry.KindForbidden:       http.StatusForbidden,
	registry.KindGone:            http.StatusGone,
	registry.KindUpstream:        http.StatusBadGateway,
	registry.KindUpstreamTimeout: http.StatusGatewayTimeout,
	registry.KindTooManyRequests: http.StatusTooManyRequests,
}

// Fail answers err: a registry refusal with its status and message, full
// storage with 507, unreachable storage with 503 and Retry-After, anything else with a 500
// whose details go to the log only.
//
// A registry refusal is logged with its message and the client, and
// answered through Refuse (the message in the reason phrase too), except
// a package or file that is not found on a GET or HEAD: that is the
// everyday miss of a client searching several indexes, answered on a
// connection that stays open, and not worth a line.
func Fail(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	var re *registry.Error
	if errors.As(err, &re) {
		status := statusOf[re.Kind]
		if status == 0 {
			status = http.StatusInternalServerError
		}
		if re.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(re.RetryAfter.Seconds()))))
		}
		if re.Kind == registry.KindNotFound && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			Write(w, status, re.Message)
			return
		}
		logRefusal(log, w, r, status, re)
		Refuse(w, r, status, re.Message)
		return
	}
	if registry.NoSpace(err) {
		LogNoSpace(log, err)
		Write(w, http.StatusInsufficientStorage, NoSpaceMessage)
		return
	}
	if registry.Unavailable(err) {
		log.Warn("storage unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
		w.Header().Set("Retry-After", registry.RetryAfterSeconds)
		Write(w, http.StatusServiceUnavailable, "wharf's storage (metadata database or blob store) is unreachable right now; retry in a few seconds")
		return
	}
	log.Error("data plane request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	Write(w, http.StatusInternalServerError, "internal error; the server log has details")
}

// Write sends a plain-text refusal. It is never cached: a refusal because
// of a status (410 for an Archived version) must not outlive the status.
func Write(w http.ResponseWriter, status int, msg string) {
	setPlainText(w.Header())
	w.WriteHeader(status)
	fmt.Fprintln(w, msg)
}

// NoSpaceMessage answers a request refused because storage is full. 507 is
// not a status clients retry by themselves, and the words say why a retry
// would not help.
const NoSpaceMessage = "wharf's storage is full (no space left on the disk or in the bucket), so nothing was stored. Retrying will not help until the administrator frees space or grows the storage; the server log says which store is full"

// LogNoSpace logs that storage is full at most once a minute, with the
// number of requests refused since the last line: a full disk refuses every
// upload, and a line for each would fill what little space logs have left.
func LogNoSpace(log *slog.Logger, err error) {
	noSpace.mu.Lock()
	noSpace.refused++
	now := time.Now()
	if !noSpace.last.IsZero() && now.Sub(noSpace.last) < noSpaceLogEvery {
		noSpace.mu.Unlock()
		return
	}
	refused := noSpace.refused
	noSpace.last, noSpace.refused = now, 0
	noSpace.mu.Unlock()
	log.Error("storage is full: uploads are refused with 507 Insufficient Storage until space is freed",
		"refused_since_last_report", refused, "err", err)
}

const noSpaceLogEvery = time.Minute

var noSpace struct {
	mu      sync.Mutex
	last    time.Time
	refused int
}
