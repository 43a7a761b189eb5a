#!/bin/sh
# scripts/bench-wire.sh — the wire: unary RPC rate per protocol, and upload
# throughput of a ~100 MB image, against one gpixd on loopback.
#
# 1. GetVersion, h2c, `h2load -t1 -c16 -m32` for BENCH_WIRE_DURATION s, gpixd
#    --io-threads 1 (workers: default), three ways on the same server:
#      gRPC      POST /gpix.v1.ImageService/GetVersion, body the 5-byte
#                envelope of an empty GetVersionRequest (00 00 00 00 00),
#                content-type: application/grpc, te: trailers
#      Connect   the same path, content-type: application/json, body {}
#      REST      GET /v1/version
#    req/s from h2load; p50/p99 from its --log-file (per-request latency).
#    Every answer is checked once with curl (grpc-status 0, the JSON), and
#    /metrics must show no non-ok GetVersion afterwards.
# 2. Upload of a ~100 MB PNG, made once by gpixd itself from
#    data/samples/storm.jpg (lanczos3 resize to 10500x7000, sharpen x2
#    amount 5 sigma 6, PNG: 105661977 bytes, 73.5 MP; the sharpening keeps
#    deflate from shrinking it to a third). Timed:
#      Upload RPC, connect-node, 64 KiB chunks, HTTP/2 and HTTP/1.1
#                (tests/bench/wire-upload.mjs)
#      the gpix CLI: `gpix upload FILE` (its default: HTTP/1.1)
#      curl --data-binary @FILE to POST /v1/images (HTTP/1.1)
#    plus the server's full-decode validation of that file alone: the decode
#    field of Server-Timing from raw POST /v1/process (crop 16x16 after the
#    decode, so filter and encode are ~0) — the same gpx_codec_decode the
#    store runs on every upload before it keeps it.
#
# Each measurement runs BENCH_WIRE_RUNS times (interleaved); tables give
# medians. Prints a markdown section; appends it to docs/benchmarks.md unless
# BENCH_NO_DOCS=1. Not a test: `make bench` runs it. ~4-5 minutes on the
# shared 2-core machine.
#
# Environment: BENCH_WIRE_BUILD (build-wb; meson release build dir, set up
# when missing), BENCH_WIRE_RUNS (3), BENCH_WIRE_DURATION (5: seconds per
# h2load run, after a 1 s warm-up), BENCH_WIRE_UPLOADS=0 (skip part 2),
# BENCH_NO_DOCS=1.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

BUILD=${BENCH_WIRE_BUILD:-build-wb}
RUNS=${BENCH_WIRE_RUNS:-3}
DUR=${BENCH_WIRE_DURATION:-5}
UPLOADS=${BENCH_WIRE_UPLOADS:-1}
CONNS=16
STREAMS=32

say() { echo "bench-wire: $*" >&2; }
die() {
	say "$*"
	exit 1
}

# ---------------------------------------------------------------- tools
sh scripts/setup.sh --tests >&2
export GPIX_ROOT="$ROOT"
# shellcheck source=scripts/env.sh
. scripts/env.sh
for t in h2load curl meson ninja python3 node; do
	command -v "$t" >/dev/null || die "$t not found (h2load: nghttp2-client)"
done
[ -f tests/integration/gen/gpix/v1/image_service_pb.js ] || sh scripts/gen-proto-es.sh >&2

if [ ! -f "$BUILD/build.ninja" ]; then
	meson setup "$BUILD" --buildtype=release >&2
fi
ninja -C "$BUILD" server/gpixd cli/gpix >&2

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gpx-wire.XXXXXX")
# Other work on this machine stops servers by name (pkill gpixd): run a copy
# under a name of its own, and start a fresh one when it is stopped anyway.
SRV="$tmp/gpx-wire-srv"
cp "$BUILD/server/gpixd" "$SRV"
CLI="$BUILD/cli/gpix"
gpixd_pid=""
stop_gpixd() {
	if [ -n "$gpixd_pid" ]; then
		kill -TERM "$gpixd_pid" 2>/dev/null || true
		wait "$gpixd_pid" 2>/dev/null || true
	fi
	gpixd_pid=""
}
cleanup() {
	stop_gpixd
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
start_gpixd() {
	port=$(free_port)
	mkdir -p "$tmp/store"
	"$SRV" --listen "127.0.0.1:$port" --io-threads 1 --data-dir data/samples \
		--store-dir "$tmp/store" --log-level warn >>"$tmp/gpixd.out" 2>&1 &
	gpixd_pid=$!
	BASE="http://127.0.0.1:$port"
	i=0
	until curl -s -o /dev/null --max-time 1 --http2-prior-knowledge "$BASE/v1/version"; do
		kill -0 "$gpixd_pid" 2>/dev/null || { cat "$tmp/gpixd.out" >&2; die "gpixd did not start"; }
		i=$((i + 1))
		[ $i -lt 100 ] || die "gpixd did not answer"
		sleep 0.1
	done
}
# alive: restart gpixd when something outside stopped it
alive() {
	if ! kill -0 "$gpixd_pid" 2>/dev/null || ! curl -s -o /dev/null --max-time 2 "$BASE/healthz"; then
		say "gpixd gone (stopped from outside?); starting a fresh one"
		stop_gpixd
		start_gpixd
	fi
}

# Server CPU in clock ticks: "TOTAL IO" (whole process; its I/O thread).
# IO_TID: the thread that served part 1's million GetVersion calls; after a
# restart, the newest thread (gpixd starts its I/O threads after the workers).
TCK=$(getconf CLK_TCK)
IO_TID=""
io_tid() {
	if [ -z "$IO_TID" ] || [ ! -d "/proc/$gpixd_pid/task/$IO_TID" ]; then
		IO_TID=$(find "/proc/$gpixd_pid/task" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -n | tail -n 1)
	fi
	echo "$IO_TID"
}
tcpu() {
	t=$(io_tid)
	echo "$(awk '{ print $14 + $15 }' "/proc/$gpixd_pid/stat" 2>/dev/null || echo 0) $(awk '{ print $14 + $15 }' "/proc/$gpixd_pid/task/$t/stat" 2>/dev/null || echo 0)"
}
# cpu_put KEY "T0 IO0" "T1 IO1": KEY.cpu (server CPU s), KEY.cpu_io, KEY.cpu_w (the rest: workers)
cpu_put() {
	# shellcheck disable=SC2086 # split "T IO" pairs
	set -- "$1" $2 $3
	[ "$4" -ge "$2" ] || return 0 # restarted in between
	put "$1.cpu" "$(awk -v a="$2" -v b="$4" -v t="$TCK" 'BEGIN { printf "%.2f", (b - a) / t }')"
	put "$1.cpu_io" "$(awk -v a="$3" -v b="$5" -v t="$TCK" 'BEGIN { printf "%.2f", (b - a) / t }')"
	put "$1.cpu_w" "$(awk -v a="$2" -v b="$4" -v c="$3" -v d="$5" -v t="$TCK" 'BEGIN { printf "%.2f", ((b - a) - (d - c)) / t }')"
}

R="$tmp/results"
: >"$R"
put() { echo "$1 $2" >>"$R"; } # KEY VALUE
# med KEY [FORMAT]: median of the values recorded under KEY ("-" if none)
med() {
	awk -v k="$1" '$1 == k { print $2 }' "$R" | sort -g | awk -v f="${2:-%.2f}" '
		{ v[NR] = $1 }
		END { if (NR == 0) print "-"; else printf f "\n", v[int((NR + 1) / 2)] }'
}
# jget JSON KEY
jget() { printf '%s' "$1" | python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$2"; }
now_ms() { python3 -c 'import time; print(f"{time.monotonic() * 1000:.1f}")'; }

load0=$(cut -d' ' -f1-3 /proc/loadavg)
start_gpixd

# ---------------------------------------------------------------- 1. unary
printf '\000\000\000\000\000' >"$tmp/grpc.bin"
printf '{}' >"$tmp/connect.json"
M=/gpix.v1.ImageService/GetVersion

# the answers, once, by curl
hdr=$(curl -s --http2-prior-knowledge -D - -o "$tmp/grpc.out" -H 'content-type: application/grpc' \
	-H 'te: trailers' --data-binary "@$tmp/grpc.bin" "$BASE$M" | tr -d '\r')
case $hdr in *"grpc-status: 0"*) ;; *) die "gRPC GetVersion: no grpc-status 0: $hdr" ;; esac
c=$(curl -s --http2-prior-knowledge -H 'content-type: application/json' -d '{}' "$BASE$M")
case $c in *'"version"'*) ;; *) die "Connect GetVersion: $c" ;; esac
r=$(curl -s --http2-prior-knowledge "$BASE/v1/version")
case $r in *'"version"'*) ;; *) die "GET /v1/version: $r" ;; esac

# unary NAME: one h2load run; records NAME.rps, .p50, .p99, .failed
unary() {
	name=$1
	case $name in
	grpc) set -- -d "$tmp/grpc.bin" -H 'content-type: application/grpc' -H 'te: trailers' "$BASE$M" ;;
	connect) set -- -d "$tmp/connect.json" -H 'content-type: application/json' "$BASE$M" ;;
	rest) set -- "$BASE/v1/version" ;;
	esac
	try=0
	while :; do
		alive
		rm -f "$tmp/h2.log"
		h2load -t1 -c"$CONNS" -m"$STREAMS" -D "$DUR" --warm-up-time=1 --log-file="$tmp/h2.log" \
			"$@" >"$tmp/h2.out" 2>&1 || true
		rps=$(sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p' "$tmp/h2.out")
		ok=$(sed -n 's/^requests: .* \([0-9]*\) succeeded.*/\1/p' "$tmp/h2.out")
		bad=$(sed -n 's/^requests: .* \([0-9]*\) failed, \([0-9]*\) errored.*/\1 \2/p' "$tmp/h2.out")
		n2xx=$(sed -n 's/^status codes: \([0-9]*\) 2xx.*/\1/p' "$tmp/h2.out")
		if [ -n "$rps" ] && [ "${ok:-0}" -gt 0 ] && [ "${n2xx:-0}" = "$ok" ]; then
			break
		fi
		try=$((try + 1))
		[ $try -le 2 ] || { cat "$tmp/h2.out" >&2; die "$name: h2load failed"; }
		say "$name: h2load run failed (${ok:-0} succeeded); once more"
	done
	put "$name.rps" "$rps"
	# column 3 of the log: request time in microseconds
	cut -f3 "$tmp/h2.log" | sort -n | awk -v k="$name" '
		{ v[NR] = $1 }
		END {
			if (NR == 0) exit
			i50 = int(NR * 0.50); if (i50 < 1) i50 = 1
			i99 = int(NR * 0.99); if (i99 < 1) i99 = 1
			printf "%s.p50 %.3f\n%s.p99 %.3f\n", k, v[i50] / 1000, k, v[i99] / 1000
		}' >>"$R"
	# shellcheck disable=SC2086
	set -- $bad
	put "$name.failed" "$((${1:-0} + ${2:-0}))"
	say "$name: $rps req/s"
}

run=1
while [ $run -le "$RUNS" ]; do
	for p in grpc connect rest; do unary "$p"; done
	run=$((run + 1))
done
# the I/O thread: the one with the most CPU after part 1
IO_TID=$(for t in "/proc/$gpixd_pid/task"/*; do echo "$(awk '{ print $14 + $15 }' "$t/stat") ${t##*/}"; done | sort -n | tail -n 1 | cut -d' ' -f2)
# every GetVersion the server counted must have been ok
nonok=$(curl -s "$BASE/metrics" | awk '/^gpix_rpc_requests_total\{/ && /GetVersion/ && !/code="ok"/ { n += $NF } END { print n + 0 }')
okcount=$(curl -s "$BASE/metrics" | awk '/^gpix_rpc_requests_total\{/ && /GetVersion/ && /code="ok"/ {
	p = $0; sub(/.*protocol="/, "", p); sub(/".*/, "", p); printf "%s %s ok, ", p, $NF }')
[ "$nonok" = 0 ] || say "warning: /metrics counts $nonok GetVersion calls that were not ok"

# ---------------------------------------------------------------- 2. upload
BIG="$tmp/big.png"
BIGQ='filters=resize,sharpen,sharpen&resize.width=10500&resize.height=7000&resize.filter=lanczos3&sharpen.amount=5&sharpen.sigma=6&format=png'
if [ "$UPLOADS" != 0 ]; then
	say "making the ~100 MB PNG (POST /v1/process?$BIGQ)"
	alive
	curl -s -f -o "$BIG" -H 'content-type: image/jpeg' --data-binary @data/samples/storm.jpg \
		"$BASE/v1/process?$BIGQ" || die "could not make the large image"
	BIGSZ=$(wc -c <"$BIG")
	[ "$BIGSZ" -gt 50000000 ] || die "the large image is only $BIGSZ bytes"
	say "big.png: $BIGSZ bytes"

	delete() { if [ -n "$1" ]; then curl -s -o /dev/null -X DELETE "$BASE/v1/images/$1" || true; fi; }
	# node MODE HTTP
	up_node() {
		alive
		c0=$(tcpu)
		l=$(node tests/bench/wire-upload.mjs --url "$BASE" --file "$BIG" --http "$2" --runs 1) ||
			{ say "$1: failed"; return 0; }
		cpu_put "$1" "$c0" "$(tcpu)"
		put "$1.s" "$(awk -v m="$(jget "$l" ms)" 'BEGIN { printf "%.3f", m / 1000 }')"
		put "$1.send" "$(awk -v m="$(jget "$l" sendMs)" 'BEGIN { printf "%.3f", m / 1000 }')"
		put "$1.tail" "$(awk -v m="$(jget "$l" tailMs)" 'BEGIN { printf "%.3f", m / 1000 }')"
		say "$1: $(jget "$l" mbps) MB/s"
	}
	up_cli() { # MODE [--http2]
		mode=$1
		shift
		alive
		c0=$(tcpu)
		t0=$(now_ms)
		out=$("$CLI" --server "$BASE" "$@" upload "$BIG" 2>&1) || { say "$mode: $out"; return 0; }
		t1=$(now_ms)
		cpu_put "$mode" "$c0" "$(tcpu)"
		id=$(printf '%s\n' "$out" | sed -n 's/.*Uploaded image ID: *//p' | tail -n 1)
		[ -n "$id" ] || { say "$mode: no id in: $out"; return 0; }
		put "$mode.s" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1000 }')"
		delete "$id"
		say "$mode: $(awk -v a="$t0" -v b="$t1" -v n="$BIGSZ" 'BEGIN { printf "%.1f", n / 1000 / (b - a) }') MB/s"
	}
	up_curl() {
		alive
		c0=$(tcpu)
		w=$(curl -s -o "$tmp/up.json" -w '%{http_code} %{time_total}' -H 'content-type: image/png' \
			--data-binary "@$BIG" "$BASE/v1/images?name=big.png") || true
		# shellcheck disable=SC2086
		set -- $w
		[ "${1:-}" = 201 ] || { say "curl: HTTP ${1:-?}: $(head -c 300 "$tmp/up.json")"; return 0; }
		cpu_put curl "$c0" "$(tcpu)"
		put curl.s "$2"
		delete "$(jget "$(cat "$tmp/up.json")" imageId)"
		say "curl: $(awk -v s="$2" -v n="$BIGSZ" 'BEGIN { printf "%.1f", n / 1e6 / s }') MB/s"
	}
	decode_timing() {
		alive
		c0=$(tcpu)
		curl -s -o /dev/null -D "$tmp/hdr" -w '%{time_total}' -H 'content-type: image/png' --data-binary "@$BIG" \
			"$BASE/v1/process?filters=crop&crop.width=16&crop.height=16&format=png" >"$tmp/tt" || true
		d=$(tr -d '\r' <"$tmp/hdr" | sed -n 's/^[Ss]erver-[Tt]iming: .*decode;dur=\([0-9.]*\).*/\1/p')
		[ -n "$d" ] || { say "decode timing: no Server-Timing"; return 0; }
		cpu_put decode "$c0" "$(tcpu)"
		put decode.ms "$d"
		put decode.req_s "$(cat "$tmp/tt")"
		say "decode validation: $d ms"
	}
	run=1
	while [ $run -le "$RUNS" ]; do
		up_node connect-h2 2
		up_node connect-h1 1.1
		up_cli cli-h1
		up_curl
		decode_timing
		run=$((run + 1))
	done
fi

# ---------------------------------------------------------------- report
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
load=$(cut -d' ' -f1-3 /proc/loadavg)
# CPU pressure: share of the last 60 s in which runnable tasks waited for a CPU
psi=$(sed -n 's/^some avg10=[0-9.]* avg60=\([0-9.]*\).*/\1/p' /proc/pressure/cpu 2>/dev/null || true)
row_u() { # NAME LABEL REQUEST
	printf '| %s | %s | %s | %s | %s | %s |\n' "$2" "$3" "$(med "$1.rps" %.0f)" "$(med "$1.p50")" "$(med "$1.p99")" "$(med "$1.failed" %.0f)"
}
pct_of() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.0f", 100 * a / b }'; }
mbps() { awk -v s="$1" -v n="${BIGSZ:-0}" 'BEGIN { if (s == "-" || s + 0 == 0) print "-"; else printf "%.1f", n / 1e6 / s }'; }
row_up() { # KEY LABEL
	s=$(med "$1.s" %.2f)
	printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$2" "$(mbps "$s")" "$s" "$(med "$1.send" %.2f)" "$(med "$1.tail" %.2f)" \
		"$(med "$1.cpu")" "$(med "$1.cpu_io")" "$(med "$1.cpu_w")"
}

{
	cat <<EOF
## Wire: unary RPC and upload — $(date -u +%Y-%m-%d\ %H:%M) UTC

Machine: $(nproc) CPUs, ${cpu:-unknown CPU}, $(uname -sr); load average
$load0 at the start, $load at the end${psi:+, CPU pressure (some, avg60) $psi%}
(shared machine; h2load and the clients run on the same cores).
gpix $commit, \`$BUILD\` (meson release), gpixd \`--io-threads 1\` (workers:
default), loopback, h2c prior knowledge unless noted. Medians of $RUNS runs.
\`sh scripts/bench-wire.sh\` (tests/bench/wire-upload.mjs).

### Unary GetVersion, \`h2load -t1 -c$CONNS -m$STREAMS -D $DUR --warm-up-time=1\`

| protocol | request | req/s | p50 ms | p99 ms | failed |
|---|---|---:|---:|---:|---:|
EOF
	row_u grpc gRPC "\`POST $M\`, \`application/grpc\`, \`te: trailers\`, body \`00 00 00 00 00\`"
	row_u connect "Connect unary" "\`POST $M\`, \`application/json\`, body \`{}\`"
	row_u rest REST "\`GET /v1/version\`"
	echo
	echo "Latency: h2load's per-request log (--log-file), request sent → response"
	echo "complete, with $((CONNS * STREAMS)) streams in flight. gpixd's /metrics after the runs:"
	echo "${okcount:-?}non-ok GetVersion $nonok (h2load counts HTTP 2xx only; gRPC errors would be 200)."
	if [ "$UPLOADS" != 0 ]; then
		dms=$(med decode.ms %.0f)
		cs=$(med curl.s %.3f)
		cat <<EOF

### Upload, $BIGSZ-byte PNG (10500×7000, 73.5 MP), loopback

Wall clock: total, until the client had handed the last byte to its socket
(connect-node only), and after it (the server's sha256, full decode
validation, fsync and rename, then the reply). gpixd CPU: whole process,
its I/O thread (HTTP, framing, writing the temp file) and the rest (the
worker that validates and stores). CPU seconds are the steadier measure on
this shared machine.

| client | MB/s (10^6 B) | s total | s to last byte | s after it | gpixd CPU s | I/O thread | workers |
|---|---:|---:|---:|---:|---:|---:|---:|
EOF
		row_up connect-h2 "Upload RPC, connect-node, 64 KiB chunks, HTTP/2"
		row_up connect-h1 "Upload RPC, connect-node, 64 KiB chunks, HTTP/1.1"
		row_up cli-h1 "\`gpix upload FILE\` (HTTP/1.1; its time includes hashing the file)"
		row_up curl "\`curl --data-binary @FILE\` → \`POST /v1/images\` (HTTP/1.1)"
		dcpu=$(med decode.cpu_w)
		ccpu=$(med curl.cpu)
		hcpu=$(med connect-h2.cpu)
		cat <<EOF

Decode validation alone — raw \`POST /v1/process?filters=crop&crop.width=16&crop.height=16&format=png\`
with the same PNG: Server-Timing \`decode\` $dms ms (wall, median), worker CPU
$dcpu s (decode + a 16×16 crop), I/O thread $(med decode.cpu_io) s. So decoding
is $(pct_of "$dcpu" "$hcpu")% of gpixd's CPU per Upload RPC over HTTP/2
($hcpu s) and $(pct_of "$dcpu" "$ccpu")% per curl upload ($ccpu s); in wall
clock the decode is $(pct_of "$(awk -v d="$dms" 'BEGIN { print d / 1000 }')" "$cs")% of the curl upload's $cs s.
EOF
	fi
} >"$tmp/report.md"

echo
cat "$tmp/report.md"
if [ -z "${BENCH_NO_DOCS:-}" ]; then
	mkdir -p docs
	[ -f docs/benchmarks.md ] || printf '# Benchmarks\n\nAppended by `make bench` (scripts/bench*.sh); newest last.\n' >docs/benchmarks.md
	printf '\n' >>docs/benchmarks.md
	cat "$tmp/report.md" >>docs/benchmarks.md
	say "appended to docs/benchmarks.md"
fi
