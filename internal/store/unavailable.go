package store

import (
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
)

// Unavailable reports whether err means a storage engine (PostgreSQL, an
// S3 endpoint) could not be reached or refused service for now, as opposed
// to a request that can never succeed. Servers answer such errors with 503
// and Retry-After. Engine errors are recognized by the methods their types
// have (SQLState, HTTPStatusCode), so this package imports no driver.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrUnavailable) {
		return true
	}
	var sqlErr interface{ SQLState() string }
	if errors.As(err, &sqlErr) {
		code := sqlErr.SQLState()
		// 08: connection exceptions; 57P0x: shutdown; 53300: too many connections.
		return strings.HasPrefix(code, "08") || strings.HasPrefix(code, "57P0") || code == "53300"
	}
	var httpErr interface{ HTTPStatusCode() int }
	if errors.As(err, &httpErr) && (httpErr.HTTPStatusCode() >= 500 || httpErr.HTTPStatusCode() == 429) {
		return true
	}
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, io.ErrUnexpectedEOF)
}
