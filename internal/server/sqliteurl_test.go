package server

import (
	"testing"

	"github.com/wharfhq/wharf/internal/store/sqlite"
)

// TestSQLiteURL: commits are durable unless the store URL asks otherwise,
// and a misspelt option is refused rather than ignored.
func TestSQLiteURL(t *testing.T) {
	for raw, want := range map[string]sqlite.Synchronous{
		"sqlite:///d/wharf.db":                    sqlite.SyncFull,
		"sqlite:///d/wharf.db?synchronous=FULL":   sqlite.SyncFull,
		"sqlite:///d/wharf.db?synchronous=normal": sqlite.SyncNormal,
	} {
		path, sync, err := sqliteURL(raw)
		if err != nil || path != "/d/wharf.db" || sync != want {
			t.Errorf("%s: %q %q %v, want /d/wharf.db %q", raw, path, sync, err, want)
		}
	}
	for _, raw := range []string{"sqlite:///d/wharf.db?synchronous=off", "sqlite:///d/wharf.db?sync=normal"} {
		if _, _, err := sqliteURL(raw); err == nil {
			t.Errorf("%s accepted", raw)
		}
	}
}
