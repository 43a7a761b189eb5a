#!/bin/sh
# scripts/gen-proto-es.sh — JavaScript client code for the tests, from proto/.
#
# Debian's protoc + @bufbuild/protoc-gen-es (from tests/node_modules) write
# tests/integration/gen/ (gitignored), regenerated on every run: it takes
# about a second and can never go stale.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PLUGIN="$ROOT/tests/node_modules/.bin/protoc-gen-es"
OUT="$ROOT/tests/integration/gen"
WKT=${PROTOC_WKT_DIR:-/usr/include}
[ -x "$PLUGIN" ] || { echo "gen-proto-es: $PLUGIN missing (run scripts/setup.sh --tests)" >&2; exit 1; }
[ -f "$WKT/google/protobuf/timestamp.proto" ] || { echo "gen-proto-es: no well-known types in $WKT (libprotobuf-dev)" >&2; exit 1; }
rm -rf "$OUT.tmp"
mkdir -p "$OUT.tmp"
cd "$ROOT/proto"
# image_service.proto imports google/api/annotations.proto, so both google/api
# files are generated too; the well-known types come from @bufbuild/protobuf.
protoc -I . -I "$WKT" \
	--plugin=protoc-gen-es="$PLUGIN" \
	--es_out="$OUT.tmp" --es_opt=target=js+dts,import_extension=js \
	gpix/v1/image_service.proto \
	grpc/health/v1/health.proto \
	google/api/annotations.proto \
	google/api/http.proto
rm -rf "$OUT"
mv "$OUT.tmp" "$OUT"
