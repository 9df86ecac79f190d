#!/usr/bin/env bash
# The project's test command: installs the real clients that the end-to-end
# tests in test/clients drive (they fail, never skip, without them), then runs
# go vet and go test over every package. Idempotent: apt-get runs only when a
# client is missing, so reruns start testing at once.
#
#   scripts/test.sh                      everything (what CI runs)
#   scripts/test.sh -run TestPagination  extra arguments go to `go test`
#   WHARF_TEST_RACE=1 scripts/test.sh    internal/... under -race
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf '==> %s\n' "$*"; }
export PYENV_ROOT="${PYENV_ROOT:-/root/.pyenv}"
export DEBIAN_FRONTEND=noninteractive
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo

# The aws CLI v1 comes with pyenv's Python on the machine image (that Python
# also has pip and boto3). Resolve the real binary: the tests run clients
# with a temporary HOME, where pyenv shims would not work.
aws_bin() {
	local p
	if [ -x "$PYENV_ROOT/bin/pyenv" ] && p=$("$PYENV_ROOT/bin/pyenv" which aws 2>/dev/null); then
		echo "$p"
		return 0
	fi
	if p=$(command -v aws 2>/dev/null) && [[ $p != */shims/* ]]; then
		echo "$p"
		return 0
	fi
	return 1
}
debpy() { /usr/bin/python3 -c "$1" >/dev/null 2>&1; }

missing=()
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
command -v twine >/dev/null 2>&1 || missing+=(twine)
[ -x /usr/bin/poetry ] || missing+=(python3-poetry)
[ -x /usr/bin/pdm ] || missing+=(python3-pdm)
[ -x /usr/bin/python3 ] && debpy 'import build' || missing+=(python3-build)
debpy 'import setuptools' || missing+=(python3-setuptools)
debpy 'import wheel' || missing+=(python3-wheel)
debpy 'import flit_core' || missing+=(flit)
# PostgreSQL's server binaries: internal/testenv/pgtest runs a throwaway server.
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
if AWS=$(aws_bin); then
	PYDIR=$(dirname "$AWS")
	[ -x "$PYDIR/pip" ] || [ -x "$PYDIR/pip3" ] || [ -x /usr/bin/pip3 ] || missing+=(python3-pip)
	{ [ -x "$PYDIR/python3" ] && "$PYDIR/python3" -c 'import boto3' 2>/dev/null; } || debpy 'import boto3' || missing+=(python3-boto3)
else
	# Debian's awscli (v2 on bookworm) speaks the same CodeArtifact API.
	missing+=(awscli python3-pip python3-boto3)
fi

if [ ${#missing[@]} -gt 0 ]; then
	log "installing missing clients: ${missing[*]}"
	$SUDO apt-get update -qq
	$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# versitygw: the S3 server internal/testenv/s3test starts for the S3 blob
# store tests (they fail without it). Built from the Go module proxy, once.
VGW_BIN="$(go env GOBIN)"
VGW_BIN="${VGW_BIN:-$(go env GOPATH | cut -d: -f1)/bin}/versitygw"
if ! command -v versitygw >/dev/null 2>&1 && [ ! -x "$VGW_BIN" ]; then
	log "building versitygw v1.8.0 into $VGW_BIN (S3 server for the tests, about a minute)"
	go install github.com/versity/versitygw/cmd/versitygw@v1.8.0
fi

# The AWS SDK for JavaScript v3's CodeArtifact client, for test/clients
# TestJSSDKPublish: installed with npm ci from test/clients/jssdk's lock
# file, so every package is pinned (about 18 MB, a few seconds, once per
# lock file).
JS_SDK_LOCK=test/clients/jssdk/package-lock.json
JS_SDK_VERSION=$(sed -n 's/.*"@aws-sdk\/client-codeartifact": "\(.*\)".*/\1/p' test/clients/jssdk/package.json)
export WHARF_JS_SDK_DIR="${WHARF_JS_SDK_DIR:-$HOME/.cache/wharf-test/aws-sdk-js-$(sha256sum "$JS_SDK_LOCK" | cut -c1-12)}"
if [ ! -f "$WHARF_JS_SDK_DIR/node_modules/@aws-sdk/client-codeartifact/package.json" ]; then
	log "installing @aws-sdk/client-codeartifact@$JS_SDK_VERSION (npm ci) into $WHARF_JS_SDK_DIR"
	mkdir -p "$WHARF_JS_SDK_DIR"
	cp test/clients/jssdk/package.json "$JS_SDK_LOCK" "$WHARF_JS_SDK_DIR/"
	npm ci --prefix "$WHARF_JS_SDK_DIR" --no-audit --no-fund --silent
fi

# Today's Python clients (uv, pip, twine, poetry, pdm, hatch, flit, build),
# pinned with hashes, each in its own virtual environment; the older ones
# above (image pip, Debian's twine, poetry, pdm) stay tested beside them.
WHARF_PY_CLIENTS_DIR=$(scripts/pyclients.sh)
export WHARF_PY_CLIENTS_DIR

AWS=$(aws_bin) || { echo "no aws CLI found even after installing awscli" >&2; exit 1; }
PYDIR=$(dirname "$AWS")
PIP="$PYDIR/pip"
[ -x "$PIP" ] || PIP=/usr/bin/pip3

log "clients used by test/clients:"
echo "  go:        $(go version)"
echo "  aws:       $AWS: $("$AWS" --version 2>&1)"
echo "  pip:       $PIP: $("$PIP" --version 2>&1)"
echo "  twine:     $(command -v twine): $(twine --version 2>&1 | head -1)"
echo "  build:     /usr/bin/python3 -m build $(/usr/bin/python3 -m build --version 2>&1 | cut -d' ' -f2) (setuptools $(/usr/bin/python3 -c 'import setuptools;print(setuptools.__version__)'), flit_core $(/usr/bin/python3 -c 'import flit_core;print(flit_core.__version__)'))"
echo "  curl:      $(curl --version | head -1)"
echo "  poetry:    /usr/bin/poetry: $(/usr/bin/poetry --version 2>&1 | tail -1)"
echo "  pdm:       /usr/bin/pdm: $(/usr/bin/pdm --version 2>&1 | tail -1)"
for t in uv pip twine poetry pdm hatch flit; do
	printf '  %-10s %s\n' "$t:" "$WHARF_PY_CLIENTS_DIR/$t/bin/$t: $("$WHARF_PY_CLIENTS_DIR/$t/bin/$t" --version 2>&1 | head -1)"
done
echo "  js sdk:    @aws-sdk/client-codeartifact@$JS_SDK_VERSION on node $(node --version)"

log "go mod download"
go mod download

log "go vet ./..."
go vet ./...

# -count=1: the end-to-end tests build and run the server themselves, which
# Go's test cache cannot see, so a cached pass could hide a changed server.
# WHARF_TEST_RACE=1 runs internal/... under the race detector instead (about
# 3.5 min more on 2 cores, mostly internal/format/pypi).
if [ "${WHARF_TEST_RACE:-0}" = 1 ]; then
	log "go test -race ./internal/..."
	go test -count=1 -race -timeout 30m "$@" ./internal/...
	log "go test (everything outside internal/)"
	go test -count=1 -timeout 30m "$@" $(go list ./... | grep -v '/internal/')
else
	log "go test ./..."
	go test -count=1 -timeout 30m "$@" ./...
fi
log "all tests passed"
