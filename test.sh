#!/bin/sh
# ./test.sh — install what is missing, build, and run every test:
#
#   1. unit         meson test (the Check unit tests under tests/unit/)
#   2. integration  node --test tests/integration/ against a real gpixd
#   3. bdd          cucumber-js features/*.feature against a real gpixd
#   4. web          scripts/test-web.sh (UI unit tests, browser tests on Chromium)
#
# Every stage runs even when an earlier one failed; the exit status is
# non-zero when anything failed. Logs: build/test-logs/. The last line is
# "total: N passed, N failed, N skipped".
#
# Environment: GPIXD (binary under test; default build/server/gpixd),
# GPIX_TEST_SHOW_LOG=1 (echo gpixd's log while the tests run),
# GPIX_TEST_ONLY="unit integration" (run only these stages).
set -u
ROOT=$(cd "$(dirname "$0")" && pwd)
cd "$ROOT"
t_start=$(date +%s)

say() { printf '\n==> %s\n' "$*"; }

say "setup"
sh scripts/setup.sh --tests web || { echo "test.sh: setup failed" >&2; exit 1; }
GPIX_ROOT=$ROOT
. scripts/env.sh
t_setup=$(($(date +%s) - t_start))

say "build"
sh scripts/build.sh build || { echo "test.sh: build failed" >&2; echo "total: 0 passed, 1 failed"; exit 1; }
t_build=$(($(date +%s) - t_start - t_setup))

GPIXD=${GPIXD:-$ROOT/build/server/gpixd}
export GPIXD
LOGS="$ROOT/build/test-logs"
mkdir -p "$LOGS"
summary="$LOGS/summary.txt"
: >"$summary"

wanted() { # is stage $1 selected by GPIX_TEST_ONLY (default: all)?
	[ -z "${GPIX_TEST_ONLY:-}" ] && return 0
	case " $GPIX_TEST_ONLY " in *" $1 "*) return 0 ;; esac
	return 1
}

num() { # the first number in "$1", or 0
	n=$(printf '%s\n' "$1" | sed -n 's/[^0-9]*\([0-9][0-9]*\).*/\1/p' | head -n 1)
	echo "${n:-0}"
}

# stage NAME COUNTER CMD... — run CMD with its output shown and kept in
# $LOGS/NAME.log, then count its tests with the function COUNTER, which
# reads the log and sets passed, failed and skipped.
stage() {
	name=$1 counter=$2
	shift 2
	log="$LOGS/$name.log"
	say "$name: $*"
	t0=$(date +%s)
	{
		"$@" 2>&1
		echo $? >"$log.rc"
	} | tee "$log"
	rc=$(cat "$log.rc")
	passed=0 failed=0 skipped=0
	$counter "$log"
	# a runner that failed without naming a failed test still failed
	if [ "$rc" != 0 ] && [ "$failed" = 0 ]; then failed=1; fi
	if [ "$failed" = 0 ]; then result=ok; else result=FAILED; fi
	echo "$name $result $passed $failed $skipped $(($(date +%s) - t0))s" >>"$summary"
}

skip_stage() { # NAME WHY
	say "$1: skipped ($2)"
	echo "$1 skipped - - - - $2" >>"$summary"
}

count_meson() { # meson test's closing block: "Ok: N", "Fail: N", ...
	passed=$(num "$(grep -E '^Ok:' "$1")")
	failed=$(($(num "$(grep -E '^Fail:' "$1")") + $(num "$(grep -E '^Timeout:' "$1")") + $(num "$(grep -E '^Unexpected Pass:' "$1")")))
	skipped=$(num "$(grep -E '^Skipped:' "$1")")
}

count_node() { # node --test's closing block: "ℹ pass N", "ℹ fail N", ...
	passed=$(num "$(grep -E '^(ℹ|#) pass [0-9]' "$1" | tail -n 1)")
	failed=$(($(num "$(grep -E '^(ℹ|#) fail [0-9]' "$1" | tail -n 1)") + $(num "$(grep -E '^(ℹ|#) cancelled [0-9]' "$1" | tail -n 1)")))
	skipped=$(($(num "$(grep -E '^(ℹ|#) skipped [0-9]' "$1" | tail -n 1)") + $(num "$(grep -E '^(ℹ|#) todo [0-9]' "$1" | tail -n 1)")))
}

count_cucumber() { # "N scenarios (1 failed, 1 undefined, 3 passed)"
	line=$(grep -E '^[0-9]+ scenarios? \(' "$1" | tail -n 1)
	passed=$(num "$(printf '%s' "$line" | grep -oE '[0-9]+ passed')")
	failed=0
	for k in failed undefined ambiguous pending; do
		failed=$((failed + $(num "$(printf '%s' "$line" | grep -oE "[0-9]+ $k")")))
	done
	skipped=$(num "$(printf '%s' "$line" | grep -oE '[0-9]+ skipped')")
}

count_generic() { # "N passed", "N failed", "N skipped" anywhere near the end
	passed=$(num "$(tail -n 20 "$1" | grep -oE '[0-9]+ passed' | tail -n 1)")
	failed=$(num "$(tail -n 20 "$1" | grep -oE '[0-9]+ failed' | tail -n 1)")
	skipped=$(num "$(tail -n 20 "$1" | grep -oE '[0-9]+ skipped' | tail -n 1)")
}

integration() {
	sh scripts/gen-proto-es.sh || return 1
	node --test --test-reporter=spec --test-timeout=120000 'tests/integration/**/*.test.mjs'
}

bdd() {
	sh scripts/gen-proto-es.sh || return 1
	node tests/node_modules/@cucumber/cucumber/bin/cucumber.js --config tests/cucumber.mjs
}

if wanted unit; then
	stage unit count_meson meson test -C build --print-errorlogs
fi
if wanted integration; then
	stage integration count_node integration
fi
if wanted bdd; then
	stage bdd count_cucumber bdd
fi
if wanted web; then
	# Hook for the web UI's browser tests (Playwright on Debian's Chromium):
	# scripts/test-web.sh runs them; its packages go in scripts/deps-apt-web.txt.
	if [ -f scripts/test-web.sh ]; then
		stage web count_generic sh scripts/test-web.sh
	else
		skip_stage web "no scripts/test-web.sh yet"
	fi
fi

say "summary ($(($(date +%s) - t_start))s in all: setup ${t_setup}s, build ${t_build}s; logs in build/test-logs/)"
total_p=0 total_f=0 total_s=0
printf '  %-12s %-8s %7s %7s %8s  %s\n' stage result passed failed skipped time
while read -r name result p f s t rest; do
	printf '  %-12s %-8s %7s %7s %8s  %s %s\n' "$name" "$result" "$p" "$f" "$s" "$t" "$rest"
	[ "$p" = - ] && continue
	total_p=$((total_p + p)) total_f=$((total_f + f)) total_s=$((total_s + s))
done <"$summary"
echo
echo "total: $total_p passed, $total_f failed, $total_s skipped"
[ "$total_f" = 0 ]
