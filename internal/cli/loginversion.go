package cli

import (
	"context"
	"fmt"

	"github.com/wharfhq/wharf/internal/doctor"
)

// newestTested is what login writes for when it cannot tell which version
// will run: the newest version test/clients drives.
var newestTested = map[string]string{"poetry": "2.5.1", "pdm": "2.29.4"}

// versionDependent are the tools whose configuration differs between the
// versions in use (doctor/clientfacts.go); pip and twine read the same
// files the same way from pip 23.2 and twine 4.0.2 to pip 26.3 and twine 7.
var versionDependent = map[string]bool{"poetry": true, "pdm": true}

// clientVersion sets a.writeFor, the version of the tool login writes for:
// --client-version when given, else the binary first on PATH (the one the
// user's shell runs), else the newest tested. It returns the note that
// tells the user which it was.
func (a *loginArgs) clientVersion(ctx context.Context) (string, error) {
	if a.clientVer != "" {
		v, err := doctor.ParseClientVersion(a.tool, a.clientVer)
		if err != nil {
			return "", fmt.Errorf("--client-version: %v (give it as 1.3.2 or 1.3)", err)
		}
		a.writeFor = v
		return "Written for " + v.String() + " (--client-version).", nil
	}
	if !versionDependent[a.tool] {
		return "", nil
	}
	v, err := doctor.InstalledVersion(ctx, a.tool)
	if err == nil {
		a.writeFor = v
		return "Written for " + v.String() + ", the " + a.tool + " first on PATH; for another version, run login again with --client-version VERSION.", nil
	}
	a.writeFor, _ = doctor.ParseClientVersion(a.tool, newestTested[a.tool])
	return fmt.Sprintf("Note: %v, so this is written for %s %s; for another version, run login again with --client-version VERSION.", err, a.tool, a.writeFor.Version), nil
}
