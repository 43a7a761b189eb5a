#!/bin/sh
# ./run.sh [gpixd flags...] — install what is missing, build, and run gpixd on
# http://127.0.0.1:8080 with the sample images and a local store in var/.
#
# Extra arguments go to gpixd (`./run.sh --log-level debug`). A default flag
# is left out when you give that flag yourself or set its GPIX_* variable
# (GPIX_LISTEN, GPIX_DATA_DIR, GPIX_STORE_DIR), so the environment works too.
set -eu
ROOT=$(cd "$(dirname "$0")" && pwd)
cd "$ROOT"

# apt packages plus the pinned Node, which builds the web UI served at /.
sh scripts/setup.sh --node
GPIX_ROOT=$ROOT
. scripts/env.sh
sh scripts/build.sh build
sh scripts/build-web.sh

has_flag() { # has_flag --name "$@": was --name or --name=... given?
	name=$1
	shift
	for a in "$@"; do
		case $a in
		"$name" | "$name"=*) return 0 ;;
		esac
	done
	return 1
}

defaults=""
if [ -z "${GPIX_LISTEN:-}" ] && ! has_flag --listen "$@"; then
	defaults="$defaults --listen 127.0.0.1:8080"
fi
if [ -z "${GPIX_DATA_DIR:-}" ] && ! has_flag --data-dir "$@"; then
	defaults="$defaults --data-dir data/samples"
fi
if [ -z "${GPIX_STORE_DIR:-}" ] && ! has_flag --store-dir "$@"; then
	mkdir -p var/store
	defaults="$defaults --store-dir var/store"
fi
# shellcheck disable=SC2086 # the defaults hold no spaces: split on purpose
exec build/server/gpixd $defaults "$@"
