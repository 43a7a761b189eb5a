#!/bin/sh
# scripts/build-web.sh — build the web UI into web/dist/ (served by gpixd at /).
#
#   scripts/build-web.sh [--check]
#
# 1. npm ci in web/ when web/node_modules is missing or package-lock.json
#    changed since the last install (pinned Node from .tools/node; no
#    browsers are downloaded: the tests use Debian's chromium).
# 2. TypeScript client code from proto/ with Debian's protoc and
#    @bufbuild/protoc-gen-es into web/src/gen/ (gitignored, always fresh).
# 3. --check: tsc --noEmit over the sources and tests.
# 4. esbuild bundles web/src/main.ts into web/dist/: index.html (unhashed,
#    revalidated) and assets/app-HASH.js, assets/app-HASH.css (immutable).
#
# Environment: PROTOC_WKT_DIR (default /usr/include) for google/protobuf/*.proto.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WEB="$ROOT/web"
WKT=${PROTOC_WKT_DIR:-/usr/include}
check=0
for arg in "$@"; do
	case $arg in
	--check) check=1 ;;
	-h | --help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "build-web: unknown argument $arg" >&2; exit 2 ;;
	esac
done

say() { printf 'build-web: %s\n' "$*" >&2; }

# Pinned Node first on PATH (scripts/setup.sh --node installs it).
if [ ! -x "$ROOT/.tools/node/node_modules/.bin/node" ]; then
	sh "$ROOT/scripts/setup.sh" --node
fi
GPIX_ROOT=$ROOT
. "$ROOT/scripts/env.sh"

command -v protoc >/dev/null 2>&1 || { say "protoc missing (apt-get install protobuf-compiler)"; exit 1; }
[ -f "$WKT/google/protobuf/struct.proto" ] || { say "no well-known types in $WKT (libprotobuf-dev)"; exit 1; }

# 1. dependencies
stamp="$WEB/node_modules/.gpix-web-stamp"
want="node=$(node --version) lock=$(cksum <"$WEB/package-lock.json" | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
	say "npm ci in web/ (Node $(node --version), npm $(npm --version))"
	(cd "$WEB" && npm ci --no-audit --no-fund --loglevel=error >&2)
	echo "$want" >"$stamp"
fi

# 2. generated client code
GEN="$WEB/src/gen"
rm -rf "$GEN.tmp"
mkdir -p "$GEN.tmp"
(cd "$ROOT/proto" && protoc -I . -I "$WKT" \
	--plugin=protoc-gen-es="$WEB/node_modules/.bin/protoc-gen-es" \
	--es_out="$GEN.tmp" --es_opt=target=ts,import_extension=ts \
	gpix/v1/image_service.proto \
	google/api/annotations.proto \
	google/api/http.proto)
rm -rf "$GEN"
mv "$GEN.tmp" "$GEN"

# 3. type check
if [ $check = 1 ]; then
	say "tsc --noEmit"
	(cd "$WEB" && node node_modules/typescript/bin/tsc -p tsconfig.json)
fi

# 4. bundle
cd "$WEB"
node build.mjs
