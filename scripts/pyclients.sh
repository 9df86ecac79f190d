#!/usr/bin/env bash
# Installs today's Python clients, each pinned with hashes by the lock files
# in test/clients/pyclients/, into its own virtual environment under one
# cache directory (never into a system Python), and prints that directory.
# scripts/test.sh exports it as WHARF_PY_CLIENTS_DIR for test/clients.
#
#   dir/uv/bin/uv  dir/pip/bin/pip  dir/twine/bin/twine  dir/poetry/bin/poetry
#   dir/pdm/bin/pdm  dir/hatch/bin/hatch  dir/flit/bin/flit  dir/build/bin/python
#
# The directory's name carries a hash of the lock files, so a changed pin
# installs afresh and an unchanged one costs nothing. To change a pin, edit
# the version below and run scripts/pyclients.sh --lock (needs PyPI).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
LOCKS=test/clients/pyclients
TOOLS=(uv pip twine poetry pdm hatch flit build)

# The pins: what each lock file is compiled from.
declare -A SPEC=(
	[uv]="uv==0.13.9" [pip]="pip==26.3" [twine]="twine==7.0.0" [poetry]="poetry==2.5.1"
	# hishel: pdm 2.29.4 asks for >=1.4.0, but 2.0 removed what it uses (SyncSqliteStorage)
	[pdm]="pdm==2.29.4 hishel==1.4.0" [hatch]="hatch==1.18.2" [flit]="flit==4.2.0"
	# build, with the backends the tests build with (--no-isolation: tests reach no index but wharf)
	[build]="build==1.6.1 setuptools wheel flit_core hatchling"
)

# A Python 3.11 for the environments: pyenv's (the machine image), else Debian's.
PY=""
for c in "${PYENV_ROOT:-/root/.pyenv}"/versions/3.11*/bin/python3 /usr/bin/python3; do
	[ -x "$c" ] && { PY=$c; break; }
done
[ -n "$PY" ] || { echo "pyclients: no python3 found" >&2; exit 1; }

boot_uv() { # $1: directory for a uv bootstrapped from its own hashed lock file
	"$PY" -m venv "$1" >&2
	"$1/bin/pip" install -q --disable-pip-version-check --require-hashes --no-deps -r "$LOCKS/uv.txt" >&2
}

if [ "${1:-}" = --lock ]; then
	tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
	boot_uv "$tmp/uv"
	for t in "${TOOLS[@]}"; do
		tr ' ' '\n' <<<"${SPEC[$t]}" >"$tmp/$t.in"
		"$tmp/uv/bin/uv" pip compile -q --generate-hashes --python-version 3.11 \
			--python-platform x86_64-unknown-linux-gnu --no-header "$tmp/$t.in" -o "$LOCKS/$t.txt"
	done
	echo "locked: $LOCKS/*.txt" >&2
	exit 0
fi

hash=$(cat "$LOCKS"/*.txt | sha256sum | cut -c1-12)
DIR="${WHARF_PY_CLIENTS_DIR:-$HOME/.cache/wharf-test/pyclients-$hash}"
if [ ! -f "$DIR/.complete" ]; then
	echo "==> installing pinned Python clients (${TOOLS[*]}) into $DIR" >&2
	rm -rf "$DIR"
	mkdir -p "$DIR"
	boot_uv "$DIR/uv"
	for t in "${TOOLS[@]}"; do
		[ "$t" = uv ] && continue
		UV_PYTHON_DOWNLOADS=never "$DIR/uv/bin/uv" venv -q --python "$PY" "$DIR/$t" >&2
		UV_PYTHON_DOWNLOADS=never "$DIR/uv/bin/uv" pip install -q --python "$DIR/$t/bin/python" \
			--require-hashes --no-deps -r "$LOCKS/$t.txt" >&2
	done
	touch "$DIR/.complete"
fi
echo "$DIR"
