#!/usr/bin/env bash
# bench/checks.sh: CPU of the healthd process per check, for one kind of check at a time,
# N services each with one check at interval 1 s, against real local servers.
#
#   bash bench/checks.sh [KIND...]      # KIND: tcp http https https-bundle dns floor
#                                       # floor-http floor-http-epoll floor-http-paced
#                                       # curl-alone curl-alone-https
#   N=1000 DURATION=30 WARMUP=10 bash bench/checks.sh https
#
# tcp: against bench/listener.c (counts the connections it accepted); http, https: a GET
# to nginx (counted by its access log lines), https with "ca_file" the test CA alone;
# https-bundle: "ca_file" a bundle of the system's size (/etc/ssl/certs/ca-certificates.crt
# plus the test CA); https-noresume: https-bundle with "tls_resume": false; http-reuse,
# https-reuse: http and https-bundle with "reuse_connection": true (not run unless named);
# NGINX_WORKERS (default 1) sets nginx's worker_processes; dns: a SOA
# query to Knot (counted by the answers Knot's statistics report). floor: a C loop doing
# a bound loopback connect + close (bench/floor.c), the CPU floor of a tcp check.
# floor-http: a C loop doing a new connection, one GET and its answer from the same nginx,
# and close, with blocking calls (bench/floor_http.c), the CPU floor of an http check;
# floor-http-epoll: the same, non-blocking, waiting through epoll as a daemon must;
# floor-http-paced: floor-http-epoll with a 1 ms idle wait before each request, so that
# each starts from a wakeup with cold caches, as checks spread over a second do;
# curl-alone: libcurl by itself doing the same paced requests (bench/floor_curl.c), no
# healthd and no libevent; curl-alone-https: the same over https with the system-sized
# bundle, the TLS session resumed and the bundle parsed once into a store that every
# connection shares, as healthd does.
# exec: a shell command that appends a line to a file (counted by its lines); the CPU is
# healthd's own (the spawn, the pipe, the reap), not the commands'.
#
# The steady window runs from WARMUP to DURATION seconds after healthd starts; CPU is the
# on-CPU time of healthd's threads in /proc/PID/task/*/schedstat. Loopback only
# (127.0.51.1); every process started here is stopped by PID at exit. One Markdown table
# row per kind on stdout, progress on stderr.
set -u
export LC_ALL=C

ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${N:-1000}
DURATION=${DURATION:-30}
WARMUP=${WARMUP:-10}
ADDR=127.0.51.1
HEALTHD=${HEALTHD:-$ROOT/build/bin/healthd}
KINDS=("$@")
[ ${#KINDS[@]} -gt 0 ] || KINDS=(floor tcp http https https-bundle https-noresume dns)

log() { printf '[checks %s] %s\n' "$(date +%T)" "$*" >&2; }
W=$(mktemp -d /tmp/healthd-checks.XXXXXX)
PIDS=()
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

exec_count() { wc -l <"$W/exec/count" 2>/dev/null || echo 0; }

# ---- one kind ----------------------------------------------------------------------
config() { # config KIND FILE
	local kind=$1 f=$2 chk
	case $kind in
	tcp) chk="{ \"type\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": $LISTEN_PORT }" ;;
	http) chk="{ \"type\": \"http\", \"url\": \"http://$ADDR:$NGINX_PORT/\" }" ;;
	https) chk="{ \"type\": \"http\", \"url\": \"https://$ADDR:$TLS_PORT/\", \"ca_file\": \"$W/nginx/ca.pem\" }" ;;
	https-bundle) chk="{ \"type\": \"http\", \"url\": \"https://$ADDR:$TLS_PORT/\", \"ca_file\": \"$W/nginx/bundle.pem\" }" ;;
	https-noresume) chk="{ \"type\": \"http\", \"url\": \"https://$ADDR:$TLS_PORT/\", \"ca_file\": \"$W/nginx/bundle.pem\", \"tls_resume\": false }" ;;
	http-reuse) chk="{ \"type\": \"http\", \"url\": \"http://$ADDR:$NGINX_PORT/\", \"reuse_connection\": true }" ;;
	https-reuse) chk="{ \"type\": \"http\", \"url\": \"https://$ADDR:$TLS_PORT/\", \"ca_file\": \"$W/nginx/bundle.pem\", \"reuse_connection\": true }" ;;
	dns) chk="{ \"type\": \"dns\", \"server\": \"$ADDR\", \"port\": $DNS_PORT, \"name\": \"bench.test\", \"qtype\": \"SOA\" }" ;;
	exec) chk="{ \"type\": \"exec\", \"shell\": true, \"command\": \"echo >> $W/exec/count\" }" ;;
	esac
	one_check_config "$N" "$chk" "$([ "$kind" = exec ] && echo ' "allow_root_exec": true,')" >"$f"
}

# c_loop SRC LIBS LABEL ARGS...: bench/SRC.c built (linked with LIBS, split on spaces)
# and run with ARGS; the row tail it prints (count, CPU) becomes the row LABEL.
c_loop() {
	local src=$1 libs=$2 label=$3
	shift 3
	# shellcheck disable=SC2086 # LIBS is a list of flags
	cc -O2 -Wall -Wextra -o "$W/$src" "$ROOT/bench/$src.c" $libs || return 1
	"$W/$src" "$@" | sed "s#^#| $label (bench/$src.c) | #; s/ | | | | |\$/ | | | | | |/"
}

run_kind() {
	local kind=$1 count
	case $kind in
	floor)
		listener_start || return 1
		c_loop floor "" "floor: connect+close, C loop" "$LISTEN_PORT" 10000
		return
		;;
	floor-http | floor-http-epoll | floor-http-paced)
		nginx_start || return 1
		local how="blocking" mode=()
		[ "$kind" = floor-http-epoll ] && how="non-blocking through epoll" mode=(epoll)
		[ "$kind" = floor-http-paced ] && how="through epoll, one a ms" mode=(paced)
		c_loop floor_http "" "$kind: connection, GET, close, $how, C loop" "$ADDR" "$NGINX_PORT" 10000 "${mode[@]}"
		return
		;;
	curl-alone | curl-alone-https)
		nginx_start || return 1
		local args=("http://$ADDR:$NGINX_PORT/" 10000)
		[ "$kind" = curl-alone-https ] && args=("https://$ADDR:$TLS_PORT/" 2000 "$W/nginx/bundle.pem")
		c_loop floor_curl "-lcurl -lssl -lcrypto" "$kind: libcurl's easy API, new connection, GET, one a ms, C loop" "${args[@]}"
		return
		;;
	tcp) listener_start || return 1; count=listener_count ;;
	http | http-reuse | https*) nginx_start || return 1; count=nginx_count ;;
	dns) knot_start || return 1; count=knot_count ;;
	exec) count=exec_count ;;
	*) log "unknown kind $kind"; return 1 ;;
	esac
	local d=$W/$kind
	mkdir -p "$d"
	config "$kind" "$d/healthd.json"
	"$HEALTHD" check -c "$d/healthd.json" >/dev/null 2>"$d/check.err" || {
		log "$kind: config rejected: $(head -n 3 "$d/check.err")"
		return 1
	}
	mkfifo "$d/stdin"
	exec 7<>"$d/stdin"
	local t0=$EPOCHREALTIME
	"$HEALTHD" run -c "$d/healthd.json" <&7 >"$d/out" 2>"$d/err" &
	local pid=$!
	PIDS+=("$pid")
	sleep "$WARMUP"
	local c0 p0 w0 c1 p1 w1
	c0=$($count) p0=$(cpu_ns "$pid") w0=$EPOCHREALTIME
	# Instructions (user and kernel) do not depend on what else the machine runs.
	local ins=0
	if command -v perf >/dev/null 2>&1 &&
		perf stat -x, -e instructions -p "$pid" -o "$d/perf" -- sleep $((DURATION - WARMUP)) 2>/dev/null; then
		ins=$(awk -F, '$3 ~ /^instructions/ { print $1 + 0 }' "$d/perf")
	else
		sleep $((DURATION - WARMUP))
	fi
	c1=$($count) p1=$(cpu_ns "$pid") w1=$EPOCHREALTIME
	local rss priv
	rss=$(kb /proc/"$pid"/status VmRSS)
	priv=$(kb /proc/"$pid"/smaps_rollup Private_Dirty)
	local up
	up=$(grep -c '^announce' "$d/out")
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null
	exec 7>&-
	awk -v k="$kind" -v n="$N" -v c0="$c0" -v c1="$c1" -v p0="$p0" -v p1="$p1" -v w0="$w0" \
		-v w1="$w1" -v ins="$ins" -v rss="$rss" -v priv="$priv" -v f="$up" -v t0="$t0" 'BEGIN {
		c = c1 - c0; w = w1 - w0; cpu = (p1 - p0) / 1e9
		printf "| %s, %d services | %d checks in %.1f s (%.0f/s) | %.1f µs | %s | %.1f%% | %.1f MiB | %.1f MiB | %d |\n",
			k, n, c, w, c / w, (c > 0 ? cpu / c * 1e6 : 0), (ins > 0 && c > 0 ? sprintf("%.0f k", ins / c / 1e3) : "-"),
			100 * cpu / w, rss / 1024, priv / 1024, f }'
}

log "healthd $HEALTHD ($("$HEALTHD" version 2>&1 | head -n 1)); N=$N DURATION=$DURATION WARMUP=$WARMUP; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| kind | checks in the steady window | healthd CPU per check | instructions per check (perf stat) | healthd CPU, % of one core | RSS | Private_Dirty | announce lines (of N) |"
echo "|---|---|---|---|---|---|---|---|"
for k in "${KINDS[@]}"; do
	log "running $k"
	run_kind "$k" || log "$k: FAILED"
done
log "load at end $(cut -d' ' -f1-3 /proc/loadavg)"
