package api

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
)

// writeJSON encodes an operation's output as AWS does: a member with no
// value is left out rather than sent as null (the aws CLI would print None,
// and SDKs would see a present-but-null member). Operations build outputs
// from maps and structs with pointers, so nulls are removed from the
// encoded document once, here, for every operation.
func writeJSON(w http.ResponseWriter, out any, log *slog.Logger, op string) {
	body, err := encodeOutput(out)
	if err != nil {
		log.Error("encoding a response", "op", op, "request_id", RequestID(w), "err", err)
		writeError(w, nil, err, log)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if _, err := w.Write(body); err != nil {
		log.Warn("writing response", "op", op, "request_id", RequestID(w), "err", err)
	}
}

func encodeOutput(out any) ([]byte, error) {
	raw, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // numbers pass through as written
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(dropNulls(doc)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// dropNulls removes object members whose value is null, at every depth.
// Nulls inside lists are kept: a list element has no member to omit.
func dropNulls(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if e == nil {
				delete(x, k)
				continue
			}
			x[k] = dropNulls(e)
		}
	case []any:
		for i, e := range x {
			x[i] = dropNulls(e)
		}
	}
	return v
}
