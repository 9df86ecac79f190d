package store

import (
	"encoding/json"
	"fmt"
)

// Column codecs shared by the SQL backends, so a list, map or group
// restriction set is stored as the same JSON text in SQLite and PostgreSQL
// (and "null", "[]", "{}" all read back as nil).

// JSONText encodes a list or map column.
func JSONText(v any) string {
	b, err := json.Marshal(v)
	if err != nil { // []string, map[string]string and restrictions always marshal
		panic(err)
	}
	return string(b)
}

// ListOf decodes a list column.
func ListOf(s string) ([]string, error) {
	var l []string
	if err := json.Unmarshal([]byte(s), &l); err != nil || len(l) == 0 {
		return nil, err
	}
	return l, nil
}

// MapOf decodes a map column.
func MapOf(s string) (map[string]string, error) {
	var m map[string]string
	if err := json.Unmarshal([]byte(s), &m); err != nil || len(m) == 0 {
		return nil, err
	}
	return m, nil
}

// RestrictionsText encodes a package group's restrictions column.
func RestrictionsText(r map[string]GroupRestriction) string {
	if len(r) == 0 {
		return "{}"
	}
	return JSONText(r)
}

// RestrictionsOf decodes it.
func RestrictionsOf(s string) (map[string]GroupRestriction, error) {
	var r map[string]GroupRestriction
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		return nil, fmt.Errorf("stored group restrictions: %w", err)
	}
	if len(r) == 0 {
		return nil, nil
	}
	return r, nil
}
