package registry

import (
	"errors"
	"syscall"
)

// NoSpace reports whether err means storage is full: the blob directory's
// disk (ENOSPC, which s3blob also reports for an S3 store's "storage full"
// answers), SQLite's SQLITE_FULL, or PostgreSQL's disk_full. Unlike an
// unreachable store it does not pass by itself, so the planes answer it
// with 507 Insufficient Storage rather than a "retry" 503. It is asked
// before Unavailable, which counts every errno as a network error.
func NoSpace(err error) bool {
	if err == nil {
		return false
	}
	var re *Error
	if errors.As(err, &re) {
		return false
	}
	if errors.Is(err, syscall.ENOSPC) {
		return true
	}
	var sqlState interface{ SQLState() string }
	if errors.As(err, &sqlState) && sqlState.SQLState() == "53100" {
		return true
	}
	// modernc.org/sqlite's errors: the primary result code is the low byte.
	var coded interface{ Code() int }
	return errors.As(err, &coded) && coded.Code()&0xff == sqliteFull
}

// sqliteFull is SQLITE_FULL, "database or disk is full".
const sqliteFull = 13
