#!/bin/sh
# scripts/setup.sh — make this machine able to build (and test) gpix.
#
#   scripts/setup.sh [--node] [--tests] [GROUP...]
#
# 1. apt: the packages in scripts/deps-apt.txt plus scripts/deps-apt-GROUP.txt
#    for each GROUP (bench, dev, web). Only the missing ones are installed;
#    `apt-get update` runs at most once, and only when something is missing.
#    sudo is used only when not root.
# 2. --node: the pinned Node (scripts/versions.env) and its npm under .tools/node,
#    fetched from the npm registry with a bootstrap npm (Debian's nodejs + npm,
#    installed by step 1 only when no npm is on PATH). Skipped when the pinned
#    versions are already there.
# 3. --tests (implies --node): `npm ci` for the test package in tests/ (the
#    integration tests and the BDD steps), only when tests/node_modules is
#    missing or package-lock.json changed since the last install.
#
# When everything is already there it touches no network and takes well under
# a second. POSIX sh: a fresh Debian 12 with git and ca-certificates has dash.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SCRIPTS="$ROOT/scripts"
. "$SCRIPTS/versions.env"

want_node=0
want_tests=0
groups=""
for arg in "$@"; do
	case $arg in
	--node) want_node=1 ;;
	--tests) want_node=1; want_tests=1 ;;
	-h | --help)
		sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	-*) echo "setup: unknown option $arg" >&2; exit 2 ;;
	*)
		if [ ! -f "$SCRIPTS/deps-apt-$arg.txt" ]; then
			echo "setup: unknown group '$arg' (no scripts/deps-apt-$arg.txt)" >&2
			exit 2
		fi
		groups="$groups $arg"
		;;
	esac
done

say() { printf 'setup: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# ------------------------------------------------------------------ apt
deps_of() { # the package names in a deps file, comments and blanks removed
	sed -e 's/#.*//' -e 's/[[:space:]]//g' "$1" | grep -v '^$' || true
}

missing_packages() { # PKG... -> the ones dpkg does not have installed
	# shellcheck disable=SC2016 # dpkg-query fields, not shell
	installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "$@" 2>/dev/null |
		awk '$2 == "installed" { print $1 }' | sed 's/:.*//' | sort -u)
	for p in "$@"; do
		echo "$installed" | grep -qx "$p" || echo "$p"
	done
}

as_root() {
	if [ "$(id -u)" = 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		die "need root to run: $* (install sudo, or run this as root)"
	fi
}

node_arch() {
	case $(uname -m) in
	x86_64 | amd64) echo x64 ;;
	aarch64 | arm64) echo arm64 ;;
	armv7l) echo armv7l ;;
	ppc64le) echo ppc64le ;;
	s390x) echo s390x ;;
	*) die "no pinned Node build for $(uname -m)" ;;
	esac
}

NODE_DIR="$ROOT/.tools/node"
NODE_PKG="node-linux-$(node_arch)"
NODE_BIN="$NODE_DIR/node_modules/.bin"

pinned_node_ok() {
	[ -x "$NODE_BIN/node" ] && [ -x "$NODE_BIN/npm" ] || return 1
	[ "$("$NODE_BIN/node" --version 2>/dev/null)" = "v$GPIX_NODE_VERSION" ] || return 1
	v=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$NODE_DIR/node_modules/npm/package.json" 2>/dev/null)
	[ "$v" = "$GPIX_NPM_VERSION" ]
}

wanted=$(deps_of "$SCRIPTS/deps-apt.txt")
for g in $groups; do
	wanted="$wanted
$(deps_of "$SCRIPTS/deps-apt-$g.txt")"
done
# The bootstrap npm is needed only to fetch the pinned Node, and only when
# this machine has no npm at all.
if [ $want_node = 1 ] && ! pinned_node_ok && ! command -v npm >/dev/null 2>&1; then
	wanted="$wanted
nodejs
npm"
fi
command -v dpkg-query >/dev/null 2>&1 || die "this script needs a Debian-based system (dpkg, apt-get)"
# shellcheck disable=SC2086 # word splitting wanted: one package per word
missing=$(missing_packages $wanted | sort -u | tr '\n' ' ' | sed 's/ *$//')
if [ -n "$missing" ]; then
	say "installing with apt-get: $missing"
	export DEBIAN_FRONTEND=noninteractive
	# --force-unsafe-io: no fsync per unpacked file (as Debian's container
	# images do); the first install is ~600 packages and 15% faster with it.
	apt_opts="-o DPkg::Lock::Timeout=300 -o Dpkg::Use-Pty=0 -o Dpkg::Options::=--force-unsafe-io"
	# shellcheck disable=SC2086
	as_root env DEBIAN_FRONTEND=noninteractive apt-get $apt_opts -qq update >&2 ||
		die "apt-get update failed"
	# shellcheck disable=SC2086
	as_root env DEBIAN_FRONTEND=noninteractive apt-get $apt_opts -q -y \
		--no-install-recommends install $missing >&2 ||
		die "apt-get install failed"
	# shellcheck disable=SC2086
	still=$(missing_packages $missing | tr '\n' ' ')
	[ -z "$still" ] || die "still missing after apt-get install: $still"
fi

# ------------------------------------------------------------------ pinned Node
if [ $want_node = 1 ] && ! pinned_node_ok; then
	boot_npm=$(command -v npm) || die "no npm to fetch the pinned Node with"
	say "installing Node $GPIX_NODE_VERSION ($NODE_PKG) and npm $GPIX_NPM_VERSION into .tools/node (bootstrap npm: $boot_npm $(npm --version 2>/dev/null))"
	tmp="$ROOT/.tools/node.tmp.$$"
	rm -rf "$tmp"
	mkdir -p "$tmp"
	# Its own package.json keeps the bootstrap npm from walking up to another
	# project; --no-package-lock: nothing here is committed.
	printf '{ "name": "gpix-tools", "private": true }\n' >"$tmp/package.json"
	if ! (cd "$tmp" && npm install --no-package-lock --no-audit --no-fund \
		--loglevel=error "$NODE_PKG@$GPIX_NODE_VERSION" "npm@$GPIX_NPM_VERSION" >&2); then
		rm -rf "$tmp"
		die "npm install of the pinned Node failed"
	fi
	rm -rf "$NODE_DIR"
	mv "$tmp" "$NODE_DIR"
	pinned_node_ok || die "the pinned Node in .tools/node does not run as expected"
fi

# ------------------------------------------------------------------ test package
if [ $want_tests = 1 ]; then
	GPIX_ROOT=$ROOT
	. "$SCRIPTS/env.sh"
	stamp="$ROOT/tests/node_modules/.gpix-setup-stamp"
	want_stamp="node=$GPIX_NODE_VERSION npm=$GPIX_NPM_VERSION lock=$(cksum <"$ROOT/tests/package-lock.json" | cut -d' ' -f1)"
	if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want_stamp" ]; then
		say "npm ci in tests/ (Node $(node --version), npm $(npm --version))"
		(cd "$ROOT/tests" && npm ci --no-audit --no-fund --loglevel=error >&2) ||
			die "npm ci in tests/ failed"
		echo "$want_stamp" >"$stamp"
	fi
fi
exit 0
