#!/bin/sh
# scripts/test-web.sh — the web UI's tests.
#
#   scripts/test-web.sh [unit|e2e] [E2E_FILE...]
#
# 1. builds the UI (scripts/build-web.sh --check: npm ci when needed, proto
#    code, tsc --noEmit, esbuild into web/dist/);
# 2. unit: node --test web/tests/unit/ (pipeline model, parameter coercion,
#    WebSocket framing, latest-wins bookkeeping, reconnects, errors);
# 3. e2e: node --test web/e2e/*.e2e.ts: Playwright (playwright-core) driving
#    Debian's chromium headless against real gpixd processes that the tests
#    start and stop themselves. Screenshots and logs of failures go to
#    web/test-results/.
#
# The last line is "web: N passed, N failed, N skipped" (test.sh counts it).
#
# Environment: GPIXD (default build/server/gpixd), CHROMIUM (default
# /usr/bin/chromium), GPIX_WEB_E2E_TIMEOUT (ms per wait, default 15000),
# GPIX_WEB_E2E_FRONT=proxy|mock (web/dev/server.mjs in front of gpixd, for a
# gpixd without the static files or /ws).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WEB="$ROOT/web"
what=all
case ${1:-} in
unit | e2e) what=$1; shift ;;
all) shift ;;
-h | --help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac

say() { printf 'test-web: %s\n' "$*" >&2; }

sh "$ROOT/scripts/build-web.sh" --check || { say "build failed"; echo "web: 0 passed, 1 failed, 0 skipped"; exit 1; }
GPIX_ROOT=$ROOT
. "$ROOT/scripts/env.sh"

GPIXD=${GPIXD:-$ROOT/build/server/gpixd}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
export GPIXD CHROMIUM

log=$(mktemp)
trap 'rm -f "$log"' EXIT INT TERM
rc=0
cd "$WEB" || exit 1

if [ "$what" != e2e ]; then
	say "unit tests"
	node --test --test-reporter=spec 'tests/unit/**/*.test.ts' 2>&1 | tee -a "$log"
	[ "$(sed -n 's/^ℹ fail \([0-9]*\).*/\1/p' "$log" | tail -n 1)" = 0 ] || rc=1
fi

if [ "$what" != unit ]; then
	if [ ! -x "$GPIXD" ]; then
		say "no gpixd at $GPIXD: build it first (scripts/build.sh), or set GPIXD"
		rc=1
		echo "ℹ fail 1" >>"$log"
	elif [ ! -x "$CHROMIUM" ]; then
		say "no chromium at $CHROMIUM: apt-get install chromium (scripts/setup.sh web), or set CHROMIUM"
		rc=1
		echo "ℹ fail 1" >>"$log"
	else
		rm -rf "$WEB/test-results"
		say "browser tests ($("$CHROMIUM" --version 2>/dev/null | head -n 1); gpixd $GPIXD)"
		if [ $# -gt 0 ]; then files="$*"; else files=$(ls e2e/*.e2e.ts); fi
		# One file at a time: each starts its own gpixd and browser.
		# shellcheck disable=SC2086 # one word per file
		node --test --test-reporter=spec --test-concurrency=1 --test-timeout=300000 $files 2>&1 | tee -a "$log"
		[ "$(sed -n 's/^ℹ fail \([0-9]*\).*/\1/p' "$log" | tail -n 1)" = 0 ] || rc=1
		[ -d "$WEB/test-results" ] && say "failure screenshots and logs: web/test-results/"
	fi
fi

sum() { sed -n "s/^ℹ $1 \([0-9]*\).*/\1/p" "$log" | awk '{ s += $1 } END { print s + 0 }'; }
passed=$(sum pass)
failed=$(($(sum fail) + $(sum cancelled)))
skipped=$(($(sum skipped) + $(sum todo)))
[ "$failed" = 0 ] || rc=1
echo "web: $passed passed, $failed failed, $skipped skipped"
exit $rc
