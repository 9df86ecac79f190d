#!/usr/bin/env bash
# bench/fuzz.sh: run every fuzz target of the module, one after another, and
# print a table (target, executions, crashes, new corpus entries).
#
#   bench/fuzz.sh                         # every target, 10 million executions each
#   bench/fuzz.sh -execs 1000000 -max 5m  # fewer, and stop a target after 5 minutes
#   bench/fuzz.sh -only FuzzURL,FuzzVerify
#   bench/fuzz.sh -last FuzzParseIndex    # run these targets after all the others
#   bench/fuzz.sh -keep 20                # then commit-ready: copy up to 20 small
#                                         # cached corpus entries per target into
#                                         # the package's testdata/fuzz/
#   bench/fuzz.sh -keep 20 -copy-only     # only that copy, from earlier runs
#
# Each target runs with one worker (-parallel=1), so the figures are per core
# and the machine stays usable. The test binary of each package is built once
# (with the fuzzing instrumentation) and run directly, so a time cap can stop
# it with SIGINT: the fuzzer then prints its final counts and PASS. A target
# stopped by the cap is reported as such, with the executions it reached.
#
# Logs and the table go to $FUZZ_OUT (default /tmp/wharf-fuzz); the table is
# also printed as Markdown at the end.
set -uo pipefail

execs=10000000
max=""
only=""
last=""
keep=0
copy_only=0
while [ $# -gt 0 ]; do
	case "$1" in
	-execs) execs="$2"; shift 2 ;;
	-max) max="$2"; shift 2 ;;
	-only) only="$2"; shift 2 ;;
	-last) last="$2"; shift 2 ;;
	-keep) keep="$2"; shift 2 ;;
	-copy-only) copy_only=1; shift ;;
	*) echo "usage: $0 [-execs N] [-max DURATION] [-only A,B] [-last A,B] [-keep N [-copy-only]]" >&2; exit 2 ;;
	esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=${FUZZ_OUT:-/tmp/wharf-fuzz}
mkdir -p "$out/bin"
declare -A built # packages whose test binary this run has built
module=$(go list -m)
cache=$(go env GOCACHE)/fuzz
table="$out/table.md"

in_list() { # in_list NAME "A,B,C"
	case ",$2," in *",$1,"*) return 0 ;; esac
	return 1
}

# Every target as "import/path Target", the -last ones at the end.
targets=()
deferred=()
for pkg in $(go list ./...); do
	dir=$(go list -f '{{.Dir}}' "$pkg")
	ls "$dir"/*_test.go >/dev/null 2>&1 || continue
	for t in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go | sed 's/^func //' | sort -u); do
		if [ -n "$only" ] && ! in_list "$t" "$only"; then continue; fi
		if [ -n "$last" ] && in_list "$t" "$last"; then deferred+=("$pkg $t"); else targets+=("$pkg $t"); fi
	done
done
targets+=("${deferred[@]}")

# keep_corpus copies up to -keep entries of the target's cached corpus (the
# inputs that found new coverage, under GOCACHE) into testdata/fuzz, where
# `go test` runs them as seeds: entries of at most 4 KiB, spread over their
# sizes (every n-th by size), so both short and long inputs are kept.
keep_corpus() { # keep_corpus PKG TARGET DIR
	local src="$cache/$1/$2"
	[ "$keep" -gt 0 ] && [ -d "$src" ] || return 0
	mkdir -p "$3"
	local files n step
	files=$(find "$src" -type f -size -4097c -printf '%s %p\n' | sort -n | cut -d' ' -f2)
	n=$(echo "$files" | grep -c . || true)
	[ "$n" -gt 0 ] || return 0
	step=$(((n + keep - 1) / keep))
	echo "$files" | awk -v s="$step" 'NR % s == 1 || s == 1' | head -n "$keep" |
		while read -r f; do cp -n "$f" "$3/"; done
}

count_files() { [ -d "$1" ] && find "$1" -type f | wc -l || echo 0; }

if [ $copy_only = 0 ]; then
	{
		echo "| target | package | executions | elapsed | crashes | new corpus entries | stopped by |"
		echo "| --- | --- | ---: | ---: | ---: | ---: | --- |"
	} >"$table"
fi

for entry in "${targets[@]}"; do
	pkg=${entry% *}
	t=${entry#* }
	dir=$(go list -f '{{.Dir}}' "$pkg")
	if [ $copy_only = 1 ]; then
		keep_corpus "$pkg" "$t" "$dir/testdata/fuzz/$t"
		continue
	fi
	bin="$out/bin/$(echo "${pkg#"$module"/}" | tr / _).test"
	# Built once per package and run, never reused from an earlier run
	# (which would fuzz yesterday's code); Go's build cache keeps it cheap.
	if [ -z "${built[$pkg]:-}" ]; then
		echo "== build $pkg" >&2
		if ! go test -c -fuzz=. -o "$bin" "$pkg" >"$out/build.log" 2>&1; then
			cat "$out/build.log" >&2
			echo "| $t | ${pkg#"$module"/} | build failed | | | | |" >>"$table"
			continue
		fi
		built[$pkg]=1
	fi
	crashdir="$dir/testdata/fuzz/$t"
	before=$(count_files "$crashdir")
	log="$out/$t.log"
	echo "== $t ($pkg) $(date -u +%H:%M:%S)" >&2
	start=$(date +%s)
	cmd=("$bin" -test.run '^$' -test.fuzz "^$t\$" -test.fuzztime "${execs}x"
		-test.parallel 1 -test.fuzzcachedir "$cache/$pkg")
	if [ -n "$max" ]; then
		(cd "$dir" && timeout -s INT "$max" "${cmd[@]}") >"$log" 2>&1
	else
		(cd "$dir" && "${cmd[@]}") >"$log" 2>&1
	fi
	rc=$?
	elapsed=$(($(date +%s) - start))
	after=$(count_files "$crashdir")
	# The fuzzer's last progress line: "fuzz: elapsed: 3m0s, execs: N (R/sec), new interesting: K (total: T)".
	line=$(grep -E '^fuzz: elapsed: .*execs: ' "$log" | tail -1)
	n=$(echo "$line" | sed -nE 's/.*execs: ([0-9]+).*/\1/p')
	newi=$(echo "$line" | sed -nE 's/.*new interesting: ([0-9]+).*/\1/p')
	crashes=$((after - before))
	if [ $rc -ne 0 ] && [ $rc -ne 124 ]; then
		# A failure that wrote no new file (a panic in the harness, say) is a crash all the same.
		[ $crashes -eq 0 ] && crashes=1
		why="failure (see $log)"
	elif [ $rc -eq 124 ]; then
		why="time cap $max"
	else
		why="execution count"
	fi
	echo "| $t | ${pkg#"$module"/} | ${n:-0} | ${elapsed}s | $crashes | ${newi:-0} | $why |" | tee -a "$table" >&2

	keep_corpus "$pkg" "$t" "$crashdir"
done

if [ $copy_only = 0 ]; then
	echo
	cat "$table"
fi
