package s3blob

import (
	"errors"
	"syscall"
	"testing"

	"github.com/aws/smithy-go"
)

// An S3 server's "out of space" answer reads as ENOSPC, as a full disk
// does, so both planes say "no space left" instead of "retry".
func TestStorageFullIsENOSPC(t *testing.T) {
	s := &Store{bucket: "b", where: "http://s3"}
	full := s.fail("upload", "k", &smithy.GenericAPIError{Code: "XMinioStorageFull", Message: "Storage backend has reached its minimum free drive threshold"})
	if !errors.Is(full, syscall.ENOSPC) {
		t.Errorf("a storage-full answer is not ENOSPC: %v", full)
	}
	other := s.fail("upload", "k", &smithy.GenericAPIError{Code: "AccessDenied"})
	if errors.Is(other, syscall.ENOSPC) {
		t.Errorf("AccessDenied became ENOSPC: %v", other)
	}
}
