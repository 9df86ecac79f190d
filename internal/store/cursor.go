package store

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// EncodeCursor makes an opaque page cursor from the sort key of the last row
// of a page. Backends share it so a cursor means the same thing everywhere;
// callers must not look inside.
func EncodeCursor(key ...string) string {
	b, _ := json.Marshal(key) // a []string always marshals
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor returns the n-part sort key inside a cursor made by
// EncodeCursor, or an error wrapping ErrBadCursor.
func DecodeCursor(cursor string, n int) ([]string, error) {
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	var key []string
	if err == nil {
		err = json.Unmarshal(b, &key)
	}
	if err == nil && len(key) != n {
		err = fmt.Errorf("want %d parts, got %d", n, len(key))
	}
	if err != nil {
		return nil, fmt.Errorf("%w %q: %v", ErrBadCursor, cursor, err)
	}
	return key, nil
}
