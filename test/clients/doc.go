// Package clients holds the end-to-end tests: they build the wharf binary,
// start `wharf serve` on a loopback port with a temporary data directory, and
// drive the REAL clients against it — the aws CLI and boto3 (control plane),
// twine, pip, curl and Debian's `python3 -m build` (data plane).
//
// A missing client fails the test with an install hint; it never skips.
// scripts/test.sh installs every client these tests need.
//
//	go test ./test/clients/                                          # all
//	go test ./test/clients/ -run TestProximalStory -v                # one test
//	go test ./test/clients/ -run 'TestDataPlaneRefusals/http/json' -v # one case
//	WHARF_E2E_BIN=/tmp/wharf go test ./test/clients/                 # reuse a binary
//
// TestProximalStory's steps depend on each other: run it whole.
package clients
