#!/usr/bin/env bash
# bench/metrics.sh: what scraping /metrics costs a healthd with many services, and whether
# it delays their probes. See bench/README.md.
#
#   bash bench/metrics.sh                  # builds build/bin/healthd with make if missing
#   HEALTHD=/path/to/healthd N=1000 WINDOW=20 bash bench/metrics.sh
#
# healthd runs N services (default 1000), each one tcp check every 1s against one
# listener (bench/listener.c) on 127.0.0.1, with the control endpoint on a unix socket and
# its debug log (every result, timestamped). Two windows of WINDOW seconds: quiet, then
# scraped back to back by curl. Reported: the exposition's size, each scrape's time, and
# how late the checks ran in each window (the gap between two results of a service, less
# the 1s interval). Loopback only; every process is stopped by PID; Markdown to stdout.
set -u
export LC_ALL=C TZ=UTC

ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${N:-1000}
WINDOW=${WINDOW:-20}
HEALTHD=${HEALTHD:-$ROOT/build/bin/healthd}
[ -x "$HEALTHD" ] || make -C "$ROOT" >&2 || exit 1
W=$(mktemp -d /tmp/healthd-bench-metrics.XXXXXXXX) || exit 1
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf -- "$W"
}
trap cleanup EXIT
log() { printf '# %s\n' "$*" >&2; }

cc -O2 -Wall -Wextra -o "$W/listener" "$ROOT/bench/listener.c" || exit 1
mkdir -p "$W/listen"
"$W/listener" "$W/listen" 600 &
PIDS+=($!)
for ((i = 0; i < 50; i++)); do [ -s "$W/listen/port" ] && break; sleep 0.1; done
PORT=$(cat "$W/listen/port") || exit 1

{
	printf '{ "log": { "level": "debug" },\n'
	printf '  "control": { "listen": "unix:%s/ctl.sock" },\n' "$W"
	printf '  "defaults": { "interval": "1s", "fast_interval": "1s", "timeout": "500ms", "rise": 2, "fall": 2 },\n'
	printf '  "services": [\n'
	for ((i = 0; i < N; i++)); do
		[ "$i" -gt 0 ] && printf ',\n'
		printf '    { "name": "svc%d", "prefixes": [ "10.%d.%d.0/24" ], "checks": [ { "type": "tcp", "host": "127.0.0.1", "port": %s } ] }' \
			"$i" $((i / 256)) $((i % 256)) "$PORT"
	done
	printf '\n  ]\n}\n'
} >"$W/healthd.json"
mkfifo "$W/in"
sleep 600 >"$W/in" &
PIDS+=($!)
"$HEALTHD" run -c "$W/healthd.json" --no-state-file <"$W/in" >/dev/null 2>"$W/healthd.err" &
HPID=$!
PIDS+=("$HPID")
for ((i = 0; i < 50; i++)); do [ -S "$W/ctl.sock" ] && break; sleep 0.1; done
log "healthd $HPID with $N services; warming up 5s"
sleep 5

t0=$EPOCHREALTIME
sleep "$WINDOW"
t1=$EPOCHREALTIME
log "quiet window done; scraping for ${WINDOW}s"
: >"$W/scrapes"
while awk -v a="$t1" -v b="$EPOCHREALTIME" -v w="$WINDOW" 'BEGIN { exit !(b - a < w) }'; do
	curl -s --max-time 10 --unix-socket "$W/ctl.sock" -o "$W/metrics.txt" \
		-w '%{time_total} %{size_download}\n' http://h/metrics >>"$W/scrapes"
done
t2=$EPOCHREALTIME

# Gaps between consecutive results of each service, less the interval, in [a, b).
late() {
	awk -v a="$1" -v b="$2" '/healthd\[debug\] [a-z_]*: svc[0-9]*: tcp/ {
		split($1, d, "T"); split(d[2], h, ":")
		if (!(d[1] in day)) { c = "date -u -d " d[1] " +%s"; c | getline day[d[1]]; close(c) }
		s = day[d[1]] + h[1] * 3600 + h[2] * 60 + h[3]
		if (s < a || s >= b) next
		name = $4
		if (name in last) printf "%.4f\n", s - last[name] - 1.0
		last[name] = s
	}' "$W/healthd.err" | sort -n | awk '{ g[NR] = $1 } END {
		printf "%d gaps between results; lateness p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", NR,
			g[int(NR * 0.5) + 1] * 1000, g[int(NR * 0.99) + 1] * 1000, g[NR] * 1000 }'
}
quiet=$(late "$t0" "$t1")
busy=$(late "$t1" "$t2")
scr=$(sort -n "$W/scrapes" | awk '{ t[NR] = $1; s = $2 } END {
	printf "%d scrapes of %d bytes; time p50 %.1f ms, max %.1f ms\n", NR, s, t[int(NR / 2) + 1] * 1000, t[NR] * 1000 }')
series=$(grep -vc '^#' "$W/metrics.txt")
render=$(sed -n 's/.*control: \/metrics: [0-9]* bytes in \([0-9.]*\)ms/\1/p' "$W/healthd.err" | sort -n |
	awk '{ t[NR] = $1 } END { printf "%d renders; p50 %.1f ms, max %.1f ms", NR, t[int(NR / 2) + 1], t[NR] }')
cpu=$(awk '{ printf "%.1f", ($14 + $15) / 100 }' "/proc/$HPID/stat")

cat <<MD
### /metrics with $N services (bench/metrics.sh, WINDOW=${WINDOW}s)

- date: $(date -u +%Y-%m-%dT%H:%M:%SZ); $(nproc) CPUs; load average at end $(cut -d' ' -f1-3 /proc/loadavg)
- healthd: \`$HEALTHD\`; exposition: $series series
- scrapes, back to back over a unix socket: $scr
- building the exposition on healthd's loop (its debug log): $render
- checks, quiet window: $quiet
- checks, scraped window: $busy
- healthd CPU time over the whole run: ${cpu}s
MD
