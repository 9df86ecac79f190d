package registry

import "os"

// OSFile exposes the opened blob's file when its store keeps files on a
// local filesystem (nil otherwise), so that blob.Content sees through
// OpenedAsset and net/http sends the file with sendfile(2) instead of
// copying it through user space.
func (a *OpenedAsset) OSFile() *os.File {
	if f, ok := a.Object.(interface{ OSFile() *os.File }); ok {
		return f.OSFile()
	}
	return nil
}
