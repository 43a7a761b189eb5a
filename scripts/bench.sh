#!/bin/sh
# scripts/bench.sh — HTTP/2 throughput and latency of GET /v1/version:
# gpixd (--io-threads 1) against nginx (one worker, h2c prior knowledge,
# returning the same JSON), in the same run, with the same h2load load:
# one client thread, 16 connections x 32 concurrent streams.
#
# Prints a markdown table and appends it to docs/benchmarks.md under a dated
# heading with the machine (nproc, CPU). Not a test: `make bench`.
#
# Environment: BENCH_DURATION (seconds, default 10), BENCH_WARMUP (2),
# BENCH_CONNS (16), BENCH_STREAMS (32), BENCH_BUILD (build-release),
# BENCH_NO_DOCS=1 (print only, do not append to docs/benchmarks.md),
# GPIXD (binary; default: BENCH_BUILD/server/gpixd built as release).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

DURATION=${BENCH_DURATION:-10}
WARMUP=${BENCH_WARMUP:-2}
CONNS=${BENCH_CONNS:-16}
STREAMS=${BENCH_STREAMS:-32}
BUILD=${BENCH_BUILD:-build-release}

sh scripts/setup.sh bench
if [ -z "${GPIXD:-}" ]; then
	sh scripts/build.sh "$BUILD" -Dbuildtype=release -Db_ndebug=true -Dtests=disabled
	GPIXD="$ROOT/$BUILD/server/gpixd"
fi
NGINX=$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || { echo "bench: nginx not found" >&2; exit 1; }
command -v h2load >/dev/null || { echo "bench: h2load not found (nghttp2-client)" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gpix-bench.XXXXXX")
gpixd_pid=""
nginx_pid=""
cleanup() {
	if [ -n "$gpixd_pid" ]; then kill -TERM "$gpixd_pid" 2>/dev/null || true; wait "$gpixd_pid" 2>/dev/null || true; fi
	if [ -n "$nginx_pid" ]; then kill -QUIT "$nginx_pid" 2>/dev/null || true; wait "$nginx_pid" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_port() { # PORT PID: until something accepts on 127.0.0.1:PORT (10 s)
	i=0
	while [ $i -lt 100 ]; do
		kill -0 "$2" 2>/dev/null || return 1
		if curl -s -o /dev/null --max-time 1 --http2-prior-knowledge "http://127.0.0.1:$1/v1/version"; then
			return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# ---------------------------------------------------------------- gpixd
gport=$(free_port)
mkdir -p "$tmp/store"
"$GPIXD" --listen "127.0.0.1:$gport" --io-threads 1 --data-dir data/samples \
	--store-dir "$tmp/store" --log-level warn >"$tmp/gpixd.out" 2>&1 &
gpixd_pid=$!
wait_port "$gport" "$gpixd_pid" || { echo "bench: gpixd did not start:" >&2; cat "$tmp/gpixd.out" >&2; exit 1; }
body=$(curl -s --http2-prior-knowledge "http://127.0.0.1:$gport/v1/version")
case $body in
*'"version"'*) ;;
*) echo "bench: unexpected /v1/version answer: $body" >&2; exit 1 ;;
esac

# ---------------------------------------------------------------- nginx
nport=$(free_port)
mkdir -p "$tmp/nginx/logs" "$tmp/nginx/tmp"
# nginx's return text is single-quoted: escape \ and ' (JSON has no $ here).
nbody=$(printf '%s' "$body" | sed -e 's/\\/\\\\/g' -e "s/'/\\\\'/g")
cat >"$tmp/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
master_process on;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $tmp/nginx/tmp/body;
	proxy_temp_path $tmp/nginx/tmp/proxy;
	fastcgi_temp_path $tmp/nginx/tmp/fastcgi;
	uwsgi_temp_path $tmp/nginx/tmp/uwsgi;
	scgi_temp_path $tmp/nginx/tmp/scgi;
	keepalive_requests 1000000;
	http2_max_requests 1000000;
	server {
		listen 127.0.0.1:$nport http2;
		location = /v1/version {
			default_type application/json;
			return 200 '$nbody';
		}
	}
}
EOF
"$NGINX" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" >"$tmp/nginx/out" 2>&1 &
nginx_pid=$!
wait_port "$nport" "$nginx_pid" || { echo "bench: nginx did not start:" >&2; cat "$tmp/nginx/out" "$tmp/nginx/logs/error.log" >&2 2>/dev/null; exit 1; }

# ---------------------------------------------------------------- load
# bench NAME PORT -> one markdown table row
bench() {
	name=$1 port=$2
	log="$tmp/$name.h2load.log"
	out="$tmp/$name.h2load.out"
	echo "bench: $name: h2load -t1 -c$CONNS -m$STREAMS -D $DURATION --warm-up-time=$WARMUP" >&2
	h2load -t1 -c"$CONNS" -m"$STREAMS" -D "$DURATION" --warm-up-time="$WARMUP" \
		--log-file="$log" "http://127.0.0.1:$port/v1/version" >"$out" 2>&1 || true
	rps=$(sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p' "$out")
	ok=$(sed -n 's/^requests: .* \([0-9]*\) succeeded.*/\1/p' "$out")
	bad=$(sed -n 's/^requests: .* \([0-9]*\) failed.*/\1/p' "$out")
	errs=$(sed -n 's/^requests: .* \([0-9]*\) errored.*/\1/p' "$out")
	# latency percentiles from the per-request log (microseconds, column 3)
	pct=$(cut -f3 "$log" 2>/dev/null | sort -n | awk '
		{ v[NR] = $1 }
		END {
			if (NR == 0) { print "- - - -"; exit }
			p50 = v[int(NR * 0.50) > 0 ? int(NR * 0.50) : 1]
			p99 = v[int(NR * 0.99) > 0 ? int(NR * 0.99) : 1]
			printf "%.2f %.2f %.2f %d\n", p50 / 1000, p99 / 1000, v[NR] / 1000, NR
		}')
	set -- $pct
	printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$name" "${rps:-?}" "$1" "$2" "$3" "${ok:-?}" "$((${bad:-0} + ${errs:-0}))"
	if [ -z "$rps" ] || [ "${ok:-0}" = 0 ]; then
		echo "bench: $name: h2load output:" >&2
		cat "$out" >&2
	fi
}

load=$(cut -d" " -f1-3 /proc/loadavg)
row_g=$(bench gpixd "$gport")
row_n=$(bench nginx "$nport")

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
nginx_v=$("$NGINX" -v 2>&1 | sed 's/^nginx version: //')
report=$(cat <<EOF
## $(date -u +%Y-%m-%d\ %H:%M) UTC — GET /v1/version over h2c

Machine: $(nproc) CPUs, ${cpu:-unknown CPU}, $(uname -sr), load average before the run
$load. gpixd $commit
(\`${GPIXD#"$ROOT"/}\`, \`--io-threads 1\`) against $nginx_v (one worker, \`listen … http2\`,
\`return 200\` of the same JSON, access log off). Load: \`h2load -t1 -c$CONNS
-m$STREAMS -D $DURATION --warm-up-time=$WARMUP\` on the same machine; latency
percentiles from h2load's per-request log.

| server | req/s | p50 ms | p99 ms | max ms | succeeded | failed |
|---|---:|---:|---:|---:|---:|---:|
$row_g
$row_n
EOF
)
echo
echo "$report"
if [ -z "${BENCH_NO_DOCS:-}" ]; then
	mkdir -p docs
	if [ ! -f docs/benchmarks.md ]; then
		printf '# Benchmarks\n\nAppended by `make bench` (scripts/bench.sh); newest last.\n' >docs/benchmarks.md
	fi
	printf '\n%s\n' "$report" >>docs/benchmarks.md
	echo
	echo "bench: appended to docs/benchmarks.md"
fi
