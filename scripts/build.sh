#!/bin/sh
# scripts/build.sh [BUILD_DIR [MESON_SETUP_OPTIONS...]] — configure once, then build.
#
# `meson setup` runs only when BUILD_DIR has no build.ninja yet (a half-made
# directory is removed first); after that ninja re-runs meson by
# itself whenever a meson.build changes. Default BUILD_DIR: build.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
dir=${1:-build}
[ $# -gt 0 ] && shift
if [ ! -f "$dir/build.ninja" ]; then
	# a configure that failed half-way leaves nothing worth keeping
	[ -d "$dir/meson-private" ] && rm -rf "$dir"
	meson setup "$dir" "$@"
fi
jobs=${GPIX_BUILD_JOBS:-}
if [ -n "$jobs" ]; then
	ninja -C "$dir" -j "$jobs"
else
	ninja -C "$dir"
fi
