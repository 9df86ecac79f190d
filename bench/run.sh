#!/usr/bin/env bash
# bench/run.sh: wharf against the stack ceiling, nginx and pypiserver, on
# loopback, in one run. See bench/README.md. Extra arguments go to the
# harness (bench/harness), e.g. bench/run.sh -rounds 1 -duration 5s -only json.
# The wrk table measures two wharfs: the embedded default (SQLite + fs) and
# wharf on PostgreSQL + S3, for which Debian's postgresql is installed and
# versitygw v1.8.0 built into $GOBIN (as scripts/test.sh does) when missing;
# -postgres-s3=false leaves that one out.
# The other workloads (-only upstream,memory,upload,pip,scale) also use
# /usr/bin/twine (Debian's twine, installed when missing) and a pip given by
# -pip (default /root/.pyenv/versions/3.11.7/bin/pip); scale needs ~1 GiB of
# disk for its database, memory ~2 GiB for its file.
#
# Environment:
#   PYPISERVER_SRC   a pypiserver source tree (the directory holding pypiserver/).
#                    Unset: cloned from GitHub into the scratch directory if
#                    reachable, else pypiserver is left out. Never committed.
#   BENCH_WHARF_ENV  extra KEY=VALUE settings for every `wharf serve` (space-separated);
#                    BENCH_WHARF_LABEL how the table names the main wharf's backend
#                    when they change it.
#   BENCH_NO_INSTALL=1  skip apt-get.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/versitygw.sh

pgs3=1
for a in "$@"; do
	case "$a" in -postgres-s3=false | --postgres-s3=false | -postgres-s3=0 | --postgres-s3=0) pgs3=0 ;; esac
done

need=()
if [ $pgs3 = 1 ]; then
	compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
fi
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
[ -x /usr/bin/twine ] || need+=(twine)
if [ -n "${PYPISERVER_SRC:-}" ] || command -v git >/dev/null; then
	[ -x /usr/bin/gunicorn ] || need+=(gunicorn)
	/usr/bin/python3 -c 'import packaging, defusedxml, importlib_resources' 2>/dev/null ||
		need+=(python3-packaging python3-defusedxml python3-importlib-resources)
fi
if [ ${#need[@]} -gt 0 ] && [ -z "${BENCH_NO_INSTALL:-}" ]; then
	echo "installing ${need[*]} (apt-get)" >&2
	SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
	$SUDO apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 ||
		{ $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "${need[@]}" >/dev/null; }
fi

tmp=$(mktemp -d /tmp/wharf-bench-bin.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/wharf" ./cmd/wharf
go build -o "$tmp/ceiling" ./bench/ceiling
go build -o "$tmp/harness" ./bench/harness
go build -o "$tmp/scalegen" ./bench/scalegen

exec_args=(-wharf "$tmp/wharf" -ceiling "$tmp/ceiling" -scalegen "$tmp/scalegen")
if [ $pgs3 = 1 ]; then
	# versitygw, the S3 server: built once from the Go module proxy, where
	# scripts/test.sh puts it.
	vgw=$(versitygw_bin)
	exec_args+=(-versitygw "$vgw")
fi

if [ -z "${PYPISERVER_SRC:-}" ] && command -v git >/dev/null; then
	if timeout 60 git clone -q --depth 1 https://github.com/pypiserver/pypiserver "$tmp/pypiserver" 2>/dev/null; then
		export PYPISERVER_SRC="$tmp/pypiserver"
	else
		echo "pypiserver: not reachable on GitHub and PYPISERVER_SRC unset; leaving it out" >&2
	fi
fi

"$tmp/harness" "${exec_args[@]}" "$@"
