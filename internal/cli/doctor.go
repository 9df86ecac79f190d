package cli

import (
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"

	"github.com/wharfhq/wharf/internal/doctor"
)

// doctorCmd prints doctor's findings; exit status 1 when any would fail.
func doctorCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	project := fs.String("project", "", "project directory (default: the current directory)")
	asJSON := fs.Bool("json", false, "print the findings as JSON")
	offline := fs.Bool("offline", false, "do not ask the servers about tokens and indexes")
	if code, ok := parse(fs, args, stdout, stderr); !ok {
		return code
	}
	if *project != "" {
		abs, err := filepath.Abs(*project)
		if err != nil {
			return fail(stderr, "doctor", err)
		}
		if _, err := os.Stat(abs); err != nil {
			return fail(stderr, "doctor", err)
		}
		*project = abs
	}
	r := doctor.Run(context.Background(), doctor.Options{Project: *project, Offline: *offline})
	if *asJSON {
		if err := r.WriteJSON(stdout); err != nil {
			return fail(stderr, "doctor", err)
		}
	} else {
		r.WriteText(stdout)
	}
	if !r.OK {
		return 1
	}
	return 0
}
