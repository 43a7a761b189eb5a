#!/bin/sh
# scripts/bench-image.sh — the image pipeline benchmark of the engine issue:
# JPEG -> grayscale -> blur sigma=2 -> JPEG q90 at 1920x1080 and 3840x2160,
#
#   gpixd over HTTP   POST /v1/process?filters=grayscale,blur&blur.sigma=2&format=jpeg&quality=90
#                     (h2load, h2c and HTTP/1.1, --workers 1 and 2)
#   gpix in-process   the same engine calls without HTTP (tests/bench/gpix_pipeline.c)
#   OpenCV            imdecode -> cvtColor -> GaussianBlur 13x13 -> imencode,
#                     cv::setNumThreads(1) (tests/bench/opencv_pipeline.cpp)
#   libvips           jpegload -> colourspace B_W -> gaussblur -> jpegsave,
#                     concurrency 1, cache off (tests/bench/vips_pipeline.c)
#
# on the same images in the same run, plus where gpixd's time goes
# (Server-Timing), per-filter MP/s, and gpixd's peak RSS under 16 concurrent
# 4K requests with --workers 2. Every measurement runs BENCH_IMAGE_RUNS
# times; the tables show medians. The machine is shared and small, so next to
# wall-clock numbers the tables give CPU time per image (the benchmark
# thread's, vips's whole process, gpixd's whole process divided by the
# requests): "per core" comparisons use those.
#
# Prints a markdown section and appends it to docs/benchmarks.md (unless
# BENCH_NO_DOCS=1). Not a test: `make bench` runs it. Installs libopencv-dev
# and libvips-dev with apt-get when pkg-config does not find them (large).
#
# Environment: BENCH_IMAGE_BUILD (build-bench: meson release build dir, set up
# with -Dtests=disabled when missing), BENCH_IMAGE_RUNS (3), BENCH_IMAGE_SECONDS (2: per in-process
# run), BENCH_IMAGE_REQS (60: h2 requests per 1080p run; 4K and HTTP/1.1 use
# fewer), BENCH_NO_DOCS=1.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

BUILD=${BENCH_IMAGE_BUILD:-build-bench}
RUNS=${BENCH_IMAGE_RUNS:-3}
SECS=${BENCH_IMAGE_SECONDS:-2}
REQS=${BENCH_IMAGE_REQS:-60}
QUERY='filters=grayscale,blur&blur.sigma=2&format=jpeg&quality=90'

say() { echo "bench-image: $*" >&2; }
die() {
	say "$*"
	exit 1
}

# ---------------------------------------------------------------- tools
for t in h2load curl meson ninja cc g++ pkg-config python3; do
	command -v "$t" >/dev/null || die "$t not found (h2load: nghttp2-client)"
done
if ! pkg-config --exists opencv4 vips; then
	say "installing libopencv-dev libvips-dev (apt-get)"
	sudo=""
	[ "$(id -u)" = 0 ] || sudo=sudo
	$sudo apt-get install -y --no-install-recommends libopencv-dev libvips-dev >&2 ||
		die "cannot install libopencv-dev libvips-dev"
fi

# ---------------------------------------------------------------- build
# Release build without the unit tests (not needed here; keeps the bench
# independent of test sources being edited).
if [ ! -f "$BUILD/build.ninja" ]; then
	meson setup "$BUILD" --buildtype=release -Dtests=disabled >&2
fi
ninja -C "$BUILD" server/gpixd engine/libgpixengine.a common/libgpixcommon.a >&2

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gpx-img.XXXXXX")
# Other work on this machine stops its servers by name (pkill gpixd): run a
# copy under a name of its own, and restart it when it gets a SIGTERM anyway.
GPIXD="$tmp/gpx-img-srv"
cp "$BUILD/server/gpixd" "$GPIXD"
gpixd_pid=""
sampler_pid=""
stop_gpixd() {
	if [ -n "$gpixd_pid" ]; then
		kill -TERM "$gpixd_pid" 2>/dev/null || true
		wait "$gpixd_pid" 2>/dev/null || true
	fi
	gpixd_pid=""
}
cleanup() {
	if [ -n "$sampler_pid" ]; then kill "$sampler_pid" 2>/dev/null || true; fi
	stop_gpixd
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

engine_libs="$BUILD/engine/libgpixengine.a $BUILD/common/libgpixcommon.a $(pkg-config --libs libturbojpeg libpng zlib libcrypto) -lm -lpthread -ldl"
say "compiling the in-process programs"
g++ -O2 -o "$tmp/opencv_pipeline" tests/bench/opencv_pipeline.cpp $(pkg-config --cflags --libs opencv4)
cc -O2 -o "$tmp/vips_pipeline" tests/bench/vips_pipeline.c $(pkg-config --cflags --libs vips)
# shellcheck disable=SC2086
cc -O2 -I. -o "$tmp/gpix_pipeline" tests/bench/gpix_pipeline.c $engine_libs
have_bf=""
if [ -f tests/bench/filters/bench_filters.c ]; then
	# shellcheck disable=SC2086
	if cc -O2 -I. -o "$tmp/bench_filters" tests/bench/filters/bench_filters.c $engine_libs 2>"$tmp/bf.err"; then
		have_bf=1
	else
		say "tests/bench/filters/bench_filters.c did not compile; skipped"
	fi
fi

# ---------------------------------------------------------------- images
# data/samples/storm.jpg is 1920x1280: centre crop to 1920x1080, and a
# lanczos3 2x upscale cropped to 3840x2160; both baseline 4:2:0 q90.
"$tmp/vips_pipeline" --make data/samples/storm.jpg "$tmp/1080.jpg" 1920 1080
"$tmp/vips_pipeline" --make data/samples/storm.jpg "$tmp/4k.jpg" 3840 2160
sz_1080=$(wc -c <"$tmp/1080.jpg")
sz_4k=$(wc -c <"$tmp/4k.jpg")

# ---------------------------------------------------------------- helpers
R="$tmp/results"
: >"$R"
put() { echo "$1 $2" >>"$R"; } # KEY VALUE
# med KEY [FORMAT]: median of the values recorded under KEY ("-" if none)
med() {
	awk -v k="$1" '$1 == k { print $2 }' "$R" | sort -g | awk -v f="${2:-%.2f}" '
		{ v[NR] = $1 }
		END { if (NR == 0) print "-"; else printf f "\n", v[int((NR + 1) / 2)] }'
}
# kv LINE KEY: the value of KEY=... in LINE
kv() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1; }
# rec PREFIX LINE KEYS...: put PREFIX.KEY for each KEY found in LINE
rec() {
	p=$1 l=$2
	shift 2
	for k in "$@"; do
		v=$(kv "$l" "$k")
		[ -n "$v" ] && put "$p.$k" "$v"
	done
	return 0
}
# ratio A B: A / B with two decimals ("-" when either is missing)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.2f\n", a / b }'; }
inv() { awk -v a="$1" 'BEGIN { if (a == "-" || a + 0 == 0) print "-"; else printf "%.1f\n", 1000 / a }'; }

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_gpixd WORKERS [ENV...]
start_gpixd() {
	srv_args="$*"
	w=$1
	shift
	port=$(free_port)
	mkdir -p "$tmp/store.$port"
	env "$@" "$GPIXD" --listen "127.0.0.1:$port" --data-dir data/samples \
		--store-dir "$tmp/store.$port" --workers "$w" --log-level warn \
		>"$tmp/gpixd.$port.out" 2>&1 &
	gpixd_pid=$!
	URL="http://127.0.0.1:$port/v1/process?$QUERY"
	i=0
	until curl -s -o /dev/null --max-time 1 --http2-prior-knowledge "http://127.0.0.1:$port/v1/version"; do
		kill -0 "$gpixd_pid" 2>/dev/null || { cat "$tmp/gpixd.$port.out" >&2; die "gpixd did not start"; }
		i=$((i + 1))
		[ $i -lt 100 ] || die "gpixd did not answer"
		sleep 0.1
	done
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$gpixd_pid/stat"; }
minflt() { awk '{ print $10 }' "/proc/$gpixd_pid/stat"; }
TCK=$(getconf CLK_TCK)

# http KEY IMG N [h2load options...]: one h2load run against $URL; records
# KEY.rps, KEY.cpu_ms (gpixd CPU per request) and KEY.faults (gpixd minor
# page faults per request). A failed run is retried
# (twice at most) on a fresh server: on this shared machine other work has
# been seen stopping servers from outside.
http() {
	key=$1 img=$2 n=$3
	shift 3
	try=0
	while :; do
		c0=$(cpu_ticks)
		f0=$(minflt)
		h2load "$@" -n "$n" -d "$img" -H 'content-type: image/jpeg' "$URL" >"$tmp/h2load.out" 2>&1 || true
		c1=$(cpu_ticks 2>/dev/null || echo 0)
		f1=$(minflt 2>/dev/null || echo 0)
		rps=$(sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p' "$tmp/h2load.out")
		ok=$(sed -n 's/^requests: .* \([0-9]*\) succeeded.*/\1/p' "$tmp/h2load.out")
		[ "${ok:-0}" = "$n" ] && [ -n "$rps" ] && break
		try=$((try + 1))
		if [ $try -le 2 ]; then
			say "$key: ${ok:-0} of $n requests succeeded (stopped from outside?); once more on a fresh server"
			stop_gpixd
			# shellcheck disable=SC2086
			start_gpixd $srv_args
			continue
		fi
		cat "$tmp/h2load.out" "$tmp/gpixd.$port.out" >&2
		die "$key: ${ok:-0} of $n requests succeeded"
	done
	put "$key.rps" "$rps"
	put "$key.cpu_ms" "$(awk -v a="$c0" -v b="$c1" -v t="$TCK" -v n="$n" 'BEGIN { printf "%.3f", (b - a) * 1000 / t / n }')"
	put "$key.faults" "$(awk -v a="$f0" -v b="$f1" -v n="$n" 'BEGIN { printf "%.0f", (b - a) / n }')"
}

# timing KEY IMG COUNT [QUERY]: COUNT sequential curls, Server-Timing recorded
timing() {
	key=$1 img=$2 count=$3 q=${4:-$QUERY}
	u="${URL%%\?*}?$q"
	j=0
	tries=0
	while [ $j -lt "$count" ]; do
		: >"$tmp/hdr"
		curl -s --http2-prior-knowledge -o /dev/null -D "$tmp/hdr" -H 'content-type: image/jpeg' \
			--data-binary "@$img" "$u" || true
		st=$(tr -d '\r' <"$tmp/hdr" | sed -n 's/^[Ss]erver-[Tt]iming: //p')
		if [ -z "$st" ]; then
			[ "${tries:-0}" -lt 2 ] || { cat "$tmp/hdr" >&2; die "$key: no Server-Timing header"; }
			tries=$((${tries:-0} + 1))
			say "$key: no answer (stopped from outside?); once more on a fresh server"
			stop_gpixd
			# shellcheck disable=SC2086
			start_gpixd $srv_args
			u="${URL%%\?*}?$q"
			continue
		fi
		for part in queue decode filter encode total; do
			v=$(printf '%s\n' "$st" | tr ',' '\n' | sed -n "s/^ *$part;dur=//p")
			[ -z "$v" ] || put "$key.$part" "$v"
		done
		j=$((j + 1))
	done
}

# ---------------------------------------------------------------- in-process
for size in 1080 4k; do
	img="$tmp/$size.jpg"
	r=0
	while [ $r -lt "$RUNS" ]; do
		say "in-process $size run $((r + 1))/$RUNS"
		l=$("$tmp/opencv_pipeline" "$img" "$SECS" "$tmp/cv.$size.jpg")
		rec "cv.$size" "$l" img_per_s cpu_ms decode_ms filter_ms encode_ms faults
		l=$(VIPS_CONCURRENCY=1 "$tmp/vips_pipeline" "$img" "$SECS" "$tmp/vips.$size.jpg")
		rec "vips.$size" "$l" img_per_s cpu_ms faults
		"$tmp/gpix_pipeline" "$img" "$SECS" "$tmp/gpix.$size.jpg" >"$tmp/gp.out"
		while read -r line; do
			v=${line%% *}
			rec "$v.$size" "$line" img_per_s cpu_ms decode_ms filter_ms encode_ms faults
		done <"$tmp/gp.out"
		r=$((r + 1))
	done
done

# ---------------------------------------------------------------- gpixd
n4k=$((REQS / 4 > 8 ? REQS / 4 : 8))
nh1=$((REQS / 3 > 8 ? REQS / 3 : 8))
nh14k=$((REQS / 8 > 4 ? REQS / 8 : 4))
for cfg in w1 w2 w1arena1; do
	case $cfg in
	w1) start_gpixd 1 ;;
	w2) start_gpixd 2 ;;
	w1arena1) start_gpixd 1 GLIBC_TUNABLES=glibc.malloc.arena_max=1 ;;
	esac
	if [ $cfg = w1 ]; then
		# a valid JPEG of the right size, the same bytes as in-process
		curl -s --http2-prior-knowledge -o "$tmp/http.1080.jpg" -H 'content-type: image/jpeg' \
			--data-binary "@$tmp/1080.jpg" "$URL"
		head -c 3 "$tmp/http.1080.jpg" | od -An -tx1 | grep -q 'ff d8 ff' || die "POST /v1/process did not return a JPEG"
		python3 - "$tmp/http.1080.jpg" <<'EOF' || die "POST /v1/process: not a 1920x1080 JPEG"
import struct, sys
d = open(sys.argv[1], "rb").read()
i = 2
while i < len(d):
    if d[i] != 0xFF:
        sys.exit(1)
    m = d[i + 1]
    n = struct.unpack(">H", d[i + 2:i + 4])[0]
    if m in (0xC0, 0xC1, 0xC2):
        h, w = struct.unpack(">HH", d[i + 5:i + 9])
        sys.exit(0 if (w, h) == (1920, 1080) and d.endswith(b"\xff\xd9") else 1)
    i += 2 + n
sys.exit(1)
EOF
		if cmp -s "$tmp/http.1080.jpg" "$tmp/gpix.1080.jpg"; then same_bytes=yes; else same_bytes=no; fi
	fi
	# warm-up: the worker's scratch pool and the TurboJPEG handles
	http "warm" "$tmp/1080.jpg" 4 -c 1 -m 4
	r=0
	while [ $r -lt "$RUNS" ]; do
		say "gpixd $cfg run $((r + 1))/$RUNS"
		http "$cfg.h2.1080" "$tmp/1080.jpg" "$REQS" -c 1 -m 4
		http "$cfg.h2.4k" "$tmp/4k.jpg" "$n4k" -c 1 -m 4
		if [ $cfg = w1 ]; then
			http "$cfg.h1.1080" "$tmp/1080.jpg" "$nh1" --h1 -c 1 -m 4
			http "$cfg.h1.4k" "$tmp/4k.jpg" "$nh14k" --h1 -c 1 -m 4
		fi
		r=$((r + 1))
	done
	if [ $cfg != w2 ]; then
		say "gpixd $cfg Server-Timing"
		timing "$cfg.st.1080" "$tmp/1080.jpg" $((3 * RUNS))
		timing "$cfg.st.4k" "$tmp/4k.jpg" $((3 * RUNS))
	fi
	if [ $cfg = w1 ]; then
		say "gpixd per-filter Server-Timing"
		while read -r name q; do
			timing "pf.$name" "$tmp/1080.jpg" $((2 * RUNS + 1)) "filters=$q&format=jpeg&quality=90"
		done <<'EOF'
grayscale grayscale
blur_rgb blur&blur.sigma=2
grayscale+blur grayscale,blur&blur.sigma=2
box_blur box_blur
edge edge
sharpen sharpen
invert invert
brightness_contrast brightness_contrast&brightness_contrast.brightness=10&brightness_contrast.contrast=20
threshold threshold
sepia sepia
resize_50%_bilinear resize&resize.width=960
resize_50%_lanczos3 resize&resize.width=960&resize.filter=lanczos3
rotate_90 rotate
flip flip
crop_1280x720 crop&crop.x=100&crop.y=100&crop.width=1280&crop.height=720
EOF
	fi
	stop_gpixd
done

# ---------------------------------------------------------------- peak RSS
say "peak RSS: 16 concurrent 4K requests, --workers 2"
start_gpixd 2
rss_idle=$(awk '/^VmRSS/ { print $2 }' "/proc/$gpixd_pid/status")
(while kill -0 "$gpixd_pid" 2>/dev/null; do
	awk '/^VmRSS/ { print $2 }' "/proc/$gpixd_pid/status" 2>/dev/null
	sleep 0.02
done >"$tmp/rss.samples") &
sampler_pid=$!
rss_rounds=""
r=0
while [ $r -lt "$RUNS" ]; do
	http "rss.c16" "$tmp/4k.jpg" 32 -c 16 -m 1
	rss_rounds="$rss_rounds $(awk '/^VmHWM/ { print $2 }' "/proc/$gpixd_pid/status")"
	r=$((r + 1))
done
http "rss.m16" "$tmp/4k.jpg" 32 -c 1 -m 16
hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$gpixd_pid/status")
rss_after=$(awk '/^VmRSS/ { print $2 }' "/proc/$gpixd_pid/status")
kill "$sampler_pid" 2>/dev/null || true
wait "$sampler_pid" 2>/dev/null || true
sampler_pid=""
stop_gpixd
rss_samples=$(wc -l <"$tmp/rss.samples")
rss_max=$(sort -n "$tmp/rss.samples" | tail -n 1)

# ---------------------------------------------------------------- filters
bf_out=""
if [ -n "$have_bf" ]; then
	say "tests/bench/filters/bench_filters (one core)"
	bf_out=$("$tmp/bench_filters" 20 1 2>&1 || true)
fi

# ---------------------------------------------------------------- report
mib() { awk -v k="$1" 'BEGIN { if (k == "") print "-"; else printf "%.0f", k / 1024 }'; }
cv1=$(med cv.1080.cpu_ms)
cv4=$(med cv.4k.cpu_ms)
# row NAME KEY CVCPU: | name | ms/img (wall) | img/s (wall) | CPU ms/img | faults/img | OpenCV CPU / this CPU |
row_inproc() {
	ips=$(med "$2.img_per_s")
	cpu=$(med "$2.cpu_ms")
	printf '| %s | %s | %s | %s | %s | %s |\n' "$1" "$(inv "$ips")" "$ips" "$cpu" "$(med "$2.faults" %.0f)" "$(ratio "$3" "$cpu")"
}
row_http() {
	rps=$(med "$2.rps")
	cpu=$(med "$2.cpu_ms")
	printf '| %s | %s | %s | %s | %s | %s |\n' "$1" "$(inv "$rps")" "$rps" "$cpu" "$(med "$2.faults" %.0f)" "$(ratio "$3" "$cpu")"
}
table() { # SIZE CVCPU
	s=$1 c=$2
	echo '| pipeline | ms/image (wall) | images/s (wall) | CPU ms/image | page faults/image | OpenCV CPU ÷ this (≥ 1: as fast per core) |'
	echo '|---|---:|---:|---:|---:|---:|'
	row_inproc "OpenCV $(pkg-config --modversion opencv4), in-process, 1 thread" "cv.$s" "$c"
	row_inproc "libvips $(pkg-config --modversion vips), in-process, concurrency 1" "vips.$s" "$c"
	row_inproc "gpix engine in-process (main thread)" "gpix-engine.$s" "$c"
	row_inproc "gpix engine in-process (worker thread)" "gpix-engine-thread.$s" "$c"
	row_http "gpixd h2c, --workers 1 (-c1 -m4)" "w1.h2.$s" "$c"
	row_http "gpixd HTTP/1.1, --workers 1 (-c1 -m4)" "w1.h1.$s" "$c"
	row_http "gpixd h2c, --workers 2 (-c1 -m4)" "w2.h2.$s" "$c"
	row_http "what-if: gpixd h2c, --workers 1, GLIBC_TUNABLES=glibc.malloc.arena_max=1" "w1arena1.h2.$s" "$c"
	row_inproc "what-if: gpix, RGB decode into a reused buffer" "gpix-rgb-reuse.$s" "$c"
	row_inproc "what-if: gpix, TJPF_GRAY decode (grayscale fused) + blur" "gpix-gray-decode.$s" "$c"
}
split_row() { # NAME PREFIX
	printf '| %s | %s | %s | %s | %s |\n' "$1" "$(med "$2.decode_ms")" "$(med "$2.filter_ms")" "$(med "$2.encode_ms")" "$(med "$2.cpu_ms")"
}
st_row() { # NAME PREFIX
	printf '| %s | %s | %s | %s | %s |\n' "$1" "$(med "$2.decode")" "$(med "$2.filter")" "$(med "$2.encode")" "$(med "$2.total")"
}

w1cpu=$(med w1.h2.1080.cpu_ms)
w1cpu4=$(med w1.h2.4k.cpu_ms)
target=$(ratio "$cv1" "$w1cpu")
target4=$(ratio "$cv4" "$w1cpu4")
wall_target=$(ratio "$(med w1.h2.1080.rps)" "$(med cv.1080.img_per_s)")
verdict() { awk -v t="$1" 'BEGIN { print (t != "-" && t >= 1.0) ? "MET" : "NOT MET" }'; }
met=$(verdict "$target")
met4=$(verdict "$target4")
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain -- engine codec server common 2>/dev/null | head -n 1)
[ -n "$dirty" ] && commit="$commit (working tree with uncommitted engine/server changes)"

pf_rows=$(
	for name in grayscale blur_rgb grayscale+blur box_blur edge sharpen invert brightness_contrast \
		threshold sepia resize_50%_bilinear resize_50%_lanczos3 rotate_90 flip crop_1280x720; do
		f=$(med "pf.$name.filter" %.3f)
		mps=$(awk -v f="$f" 'BEGIN { if (f == "-" || f + 0 == 0) print "-"; else printf "%.0f", 1920 * 1080 / 1e3 / f }')
		printf '| %s | %s | %s |\n' "$(echo "$name" | tr '_' ' ')" "$f" "$mps"
	done
)

report=$(
	cat <<EOF
## Image pipeline (issue: engine) — $(date -u +%Y-%m-%d\ %H:%M) UTC

Machine: $(nproc) CPUs, ${cpu:-unknown CPU}, $(uname -sr); load average at
the end $(cut -d' ' -f1-3 /proc/loadavg) (shared machine: wall-clock numbers
include the neighbours and h2load itself; CPU ms/image is the steadier
measure and the one "per core" uses). gpix $commit, \`$BUILD\` (meson
release). Medians of $RUNS runs.

Pipeline: JPEG → grayscale → blur σ=2 (13 taps, reflect = BORDER_REFLECT_101)
→ JPEG q90, on data/samples/storm.jpg cropped to 1920×1080 ($sz_1080 bytes)
and upscaled+cropped to 3840×2160 ($sz_4k bytes), both baseline 4:2:0 q90.
gpixd: \`POST /v1/process?$QUERY\`, body the JPEG;
\`h2load -c1 -m4 -n N -d IMG -H 'content-type: image/jpeg'\` (\`--h1\` for
HTTP/1.1), $REQS requests per 1080p h2 run. gpixd's CPU ms/image is the
whole process's CPU time (I/O thread + workers) over the requests, page
faults its minor faults over the requests (in-process: the program's);
ms/image (wall) = 1000 / (images/s). The HTTP answer is a 1920×1080 JPEG,
byte-identical to the in-process engine's: $same_bytes. Commands:
\`sh scripts/bench-image.sh\` (sources in tests/bench/).

### 1920×1080

$(table 1080 "$cv1")

### 3840×2160

$(table 4k "$cv4")

**Target (gpixd over HTTP ≥ 1.0× OpenCV in-process per core): 1080p $met
($target×), 4K $met4 ($target4×)** — OpenCV CPU ÷ gpixd (h2c, --workers 1) CPU
per image; wall-clock images/s gpixd ÷ OpenCV = $wall_target at 1080p. Page
faults per image show when glibc hands the worker fresh pages for the
decoded image (see the what-if rows).

### Where the time goes (ms, medians)

In-process, CPU time per stage:

| pipeline | decode | filter | encode | total CPU |
|---|---:|---:|---:|---:|
$(split_row "OpenCV 1080p" cv.1080)
$(split_row "gpix engine 1080p (main thread)" gpix-engine.1080)
$(split_row "gpix engine 1080p (worker thread)" gpix-engine-thread.1080)
$(split_row "gpix, TJPF_GRAY decode + blur 1080p" gpix-gray-decode.1080)
$(split_row "OpenCV 4K" cv.4k)
$(split_row "gpix engine 4K (main thread)" gpix-engine.4k)
$(split_row "gpix engine 4K (worker thread)" gpix-engine-thread.4k)
$(split_row "gpix, TJPF_GRAY decode + blur 4K" gpix-gray-decode.4k)

gpixd \`Server-Timing\` (wall clock inside the worker, sequential requests):

| server | decode | filter | encode | total |
|---|---:|---:|---:|---:|
$(st_row "gpixd --workers 1, 1080p" w1.st.1080)
$(st_row "gpixd --workers 1, 4K" w1.st.4k)
$(st_row "gpixd --workers 1, arena_max=1, 1080p" w1arena1.st.1080)
$(st_row "gpixd --workers 1, arena_max=1, 4K" w1arena1.st.4k)

### Per-filter throughput, 1920×1080 RGB photo

From gpixd's Server-Timing \`filter\` (one filter per request,
\`filters=NAME\`, wall clock in the worker; MP/s = input megapixels / time):

| filter | ms | MP/s |
|---|---:|---:|
$pf_rows
EOF
	if [ -n "$bf_out" ]; then
		cat <<EOF

tests/bench/filters/bench_filters (synthetic 1920×1080 RGB, \`bench_filters 20 1\`:
thread CPU time, one core; the "bands" columns are wall clock):

\`\`\`
$bf_out
\`\`\`
EOF
	fi
	cat <<EOF

### Peak RSS, 16 concurrent 4K requests, --workers 2

\`h2load -c16 -m1 -n32\` × $RUNS, then \`-c1 -m16 -n32\`, 4K body ($sz_4k bytes);
VmRSS sampled every 20 ms ($rss_samples samples).

| idle RSS | VmHWM after each -c16 round | VmHWM at the end | max sampled VmRSS | RSS afterwards |
|---:|---:|---:|---:|---:|
| $(mib "$rss_idle") MiB | $(for k in $rss_rounds; do printf '%s ' "$(mib "$k")"; done)MiB | $(mib "$hwm") MiB | $(mib "$rss_max") MiB | $(mib "$rss_after") MiB |
EOF
)
echo
echo "$report"
if [ -z "${BENCH_NO_DOCS:-}" ]; then
	mkdir -p docs
	if [ ! -f docs/benchmarks.md ]; then
		printf '# Benchmarks\n\nAppended by `make bench` (scripts/bench*.sh); newest last.\n' >docs/benchmarks.md
	fi
	printf '\n%s\n' "$report" >>docs/benchmarks.md
	echo
	say "appended to docs/benchmarks.md"
fi
