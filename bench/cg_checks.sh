#!/usr/bin/env bash
# bench/cg_checks.sh: user-space instructions per http check of the daemon, from
# valgrind --tool=callgrind: independent of the machine's load, unlike CPU time.
#
#   bash bench/cg_checks.sh [KIND [N [WARMUP [WINDOW]]]]     # KIND: http (default), https
#   HEALTHD=/path/to/healthd CG_ENV="LD_LIBRARY_PATH=/path/to/libcurl" bash bench/cg_checks.sh
#
# healthd runs N services (default 100), each with one check at 1 s, against nginx
# (bench/servers.sh, 127.0.51.1) under callgrind; after WARMUP s (8) the counters are
# zeroed (callgrind_control -z), after WINDOW s more (10) dumped (-d): instructions in the
# dump / requests nginx logged in between = instructions per check, in the steady state
# (no start-up, no config load). Prints one line and the dump's path (KEEP=1 keeps it, for
# callgrind_annotate). CG_ENV is put in healthd's environment (e.g. a libcurl built with
# symbols, to see where inside it the instructions go). Every process started is stopped
# by PID at exit.
set -u
export LC_ALL=C

ROOT=$(cd "$(dirname "$0")/.." && pwd)
KIND=${1:-http} N=${2:-100} WARMUP=${3:-8} WINDOW=${4:-10}
HEALTHD=${HEALTHD:-$ROOT/build/bin/healthd}
ADDR=127.0.51.1
W=$(mktemp -d /tmp/healthd-cg.XXXXXX)
PIDS=()
log() { printf '[cg %s] %s\n' "$(date +%T)" "$*" >&2; }
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	sleep 0.3
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ "${KEEP:-0}" = 1 ] || rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# shellcheck source-path=SCRIPTDIR source=servers.sh
. "$ROOT/bench/servers.sh"

command -v callgrind_control >/dev/null || { log "valgrind not found"; exit 1; }
nginx_start || exit 1
case $KIND in
http) chk="{ \"type\": \"http\", \"url\": \"http://$ADDR:$NGINX_PORT/\" }" ;;
https) chk="{ \"type\": \"http\", \"url\": \"https://$ADDR:$TLS_PORT/\", \"ca_file\": \"$W/nginx/bundle.pem\" }" ;;
*) log "unknown kind $KIND"; exit 1 ;;
esac
one_check_config "$N" "$chk" >"$W/healthd.json"
mkfifo "$W/stdin"
exec 7<>"$W/stdin"
# shellcheck disable=SC2086 # CG_ENV is a list of NAME=VALUE words
env ${CG_ENV:-} valgrind --tool=callgrind --callgrind-out-file="$W/cg.out" --log-file="$W/vg.log" \
	"$HEALTHD" run -c "$W/healthd.json" <&7 >"$W/out" 2>"$W/err" &
pid=$!
PIDS+=("$pid")
sleep "$WARMUP"
callgrind_control -z "$pid" >/dev/null
c0=$(nginx_count)
sleep "$WINDOW"
c1=$(nginx_count)
callgrind_control -d "$pid" >/dev/null
kill -TERM "$pid"
wait "$pid" 2>/dev/null
exec 7>&-
f=$(find "$W" -name 'cg.out.*' | head -n 1)
ir=$(awk '/^(summary|totals):/ { print $2; exit }' "$f")
c=$((c1 - c0))
if [ "$c" -le 0 ] || [ -z "$ir" ]; then
	log "no checks or no dump (see $W/vg.log)"
	exit 1
fi
echo "$KIND, $N services: $c checks in ${WINDOW}s, $ir instructions, $((ir / c)) per check; announced $(grep -c '^announce' "$W/out") of $N; load $(cut -d' ' -f1-3 /proc/loadavg)${KEEP:+; dump $f}"
