package httperr

import (
	"log/slog"
	"net/http"

	"github.com/wharfhq/wharf/internal/registry"
	"github.com/wharfhq/wharf/internal/useragent"
)

// logRefusal records a registry refusal with the sentence the client was
// sent and the client's short name (useragent.Short). An upstream failure
// also names the external connection and the upstream URL, which prints
// redacted (upstream.URL), so that "No matching distribution" in pip has a
// cause in the server log.
func logRefusal(log *slog.Logger, w http.ResponseWriter, r *http.Request, status int, re *registry.Error) {
	if u := re.Upstream; u != nil {
		log.Warn("external connection failed", RefusalAttrs(w, r, status, re.Message, "connection", u.Connection, "upstream_url", u.URL)...)
		return
	}
	log.Info("data plane request refused", RefusalAttrs(w, r, status, re.Message)...)
}

// RefusalAttrs are the fields of every data-plane refusal's log line: the
// status, the client in short ("pip/26.3", never the 700-character
// User-Agent), extra (the refusal's code, the principal), what finds the
// request again (method, path, remote address, request id) and, last
// because it is long, the sentence the client was sent (reason).
func RefusalAttrs(w http.ResponseWriter, r *http.Request, status int, reason string, extra ...any) []any {
	attrs := append([]any{"status", status, "client", useragent.Short(r.UserAgent())}, extra...)
	return append(attrs, "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr, "request_id", w.Header().Get(requestIDHeader), "reason", reason)
}

// requestIDHeader is api.RequestIDHeader, which the server's middleware
// sets on every response; httperr cannot import api, whose tests import
// the formats.
const requestIDHeader = "x-amzn-RequestId"
