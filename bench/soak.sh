#!/usr/bin/env bash
# bench/soak.sh: the mixed soak (bench/harness -soak, see bench/harness/soak.go
# and bench/README.md) on the embedded default, then on PostgreSQL + S3.
#
#   bench/soak.sh                        # 10 minutes per backend, 4 workers
#   bench/soak.sh -soak 1m               # a short run
#   bench/soak.sh -soak 10m -soak-workers 8 -markdown /tmp/soak.md
#   bench/soak.sh -postgres-s3=false     # the embedded default only
#
# Needs Debian's postgresql (installed when missing, as bench/run.sh does)
# and versitygw (built into $GOBIN when missing). The download workload's
# file is 8 MiB here (-big-mib), a few of them downloaded per second.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/versitygw.sh

pgs3=1
for a in "$@"; do
	case "$a" in -postgres-s3=false | --postgres-s3=false | -postgres-s3=0 | --postgres-s3=0) pgs3=0 ;; esac
done
if [ $pgs3 = 1 ] && ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null && [ -z "${BENCH_NO_INSTALL:-}" ]; then
	echo "installing postgresql (apt-get)" >&2
	SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
	$SUDO apt-get install -y -qq postgresql >/dev/null 2>&1 ||
		{ $SUDO apt-get update -qq && $SUDO apt-get install -y -qq postgresql >/dev/null; }
fi

tmp=$(mktemp -d /tmp/wharf-soak-bin.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/wharf" ./cmd/wharf
go build -o "$tmp/harness" ./bench/harness

args=(-wharf "$tmp/wharf" -soak 10m -big-mib 8)
if [ $pgs3 = 1 ]; then
	vgw=$(versitygw_bin)
	args+=(-versitygw "$vgw")
fi
# Later flags win: the caller's -soak, -big-mib ... override these.
"$tmp/harness" "${args[@]}" "$@"
