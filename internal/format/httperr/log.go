package httperr

import (
	"log/slog"
	"net/http"

	"github.com/wharfhq/wharf/internal/api"
	"github.com/wharfhq/wharf/internal/registry"
	"github.com/wharfhq/wharf/internal/useragent"
)

// logRefusal records a registry refusal with the sentence the client was
// sent and the client's short name (useragent.Short). An upstream failure
// also names the external connection and the upstream URL, which prints
// redacted (upstream.URL), so that "No matching distribution" in pip has a
// cause in the server log.
func logRefusal(log *slog.Logger, w http.ResponseWriter, r *http.Request, status int, re *registry.Error) {
	attrs := RefusalAttrs(w, r, status, re.Message)
	if u := re.Upstream; u != nil {
		log.Warn("external connection failed", append([]any{"connection", u.Connection, "upstream_url", u.URL}, attrs...)...)
		return
	}
	log.Info("data plane request refused", attrs...)
}

// RefusalAttrs are the fields every data-plane refusal's log line starts
// with: the status, the sentence the client was sent (reason), the client
// in short ("pip/26.3", never the 700-character User-Agent), and what
// finds the request again (method, path, remote address, request id).
func RefusalAttrs(w http.ResponseWriter, r *http.Request, status int, reason string) []any {
	return []any{"status", status, "reason", reason, "client", useragent.Short(r.UserAgent()),
		"method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr, "request_id", api.RequestID(w)}
}
