#!/usr/bin/env bash
# bench/checks.sh: CPU of the healthd process per check, for one kind of check at a time,
# N services each with one check at interval 1 s, against real local servers.
#
#   bash bench/checks.sh [KIND...]      # KIND: tcp http https https-bundle dns floor
#   N=1000 DURATION=30 WARMUP=10 bash bench/checks.sh https
#
# tcp: against bench/listener.c (counts the connections it accepted); http, https: a GET
# to nginx (counted by its access log lines), https with "ca_file" the test CA alone;
# https-bundle: "ca_file" a bundle of the system's size (/etc/ssl/certs/ca-certificates.crt
# plus the test CA); https-noresume: https-bundle with "tls_resume": false; dns: a SOA
# query to Knot (counted by the answers Knot's statistics report). floor: a C loop doing
# a bound loopback connect + close (bench/floor.c), the CPU floor of a tcp check.
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

cpu_ns() {
	local s=0 t v
	for t in /proc/"$1"/task/*/schedstat; do
		read -r v _ <"$t" 2>/dev/null || continue
		s=$((s + v))
	done
	echo "$s"
}
kb() { awk -v k="$2:" '$1 == k { print $2 }' "$1" 2>/dev/null; }
wait_tcp() { # wait_tcp PORT: up to 5 s
	local i
	for ((i = 0; i < 50; i++)); do
		(exec 3<>"/dev/tcp/$ADDR/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.51.1", 0)); print(s.getsockname()[1])'; }

# ---- servers -------------------------------------------------------------------------
NGINX_PORT="" TLS_PORT=""
nginx_start() {
	local d=$W/nginx
	[ -n "$NGINX_PORT" ] && return 0
	mkdir -p "$d"
	NGINX_PORT=$(free_port) TLS_PORT=$(free_port)
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/CN=healthd bench CA" -keyout "$d/ca.key" -out "$d/ca.pem" >"$d/openssl.log" 2>&1 &&
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$ADDR" \
			-keyout "$d/srv.key" -out "$d/srv.csr" >>"$d/openssl.log" 2>&1 &&
		printf 'subjectAltName=IP:%s\nbasicConstraints=CA:FALSE\n' "$ADDR" >"$d/ext.cnf" &&
		openssl x509 -req -in "$d/srv.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
			-days 2 -extfile "$d/ext.cnf" -out "$d/srv.pem" >>"$d/openssl.log" 2>&1 || {
		log "openssl failed: $d/openssl.log"
		return 1
	}
	cat /etc/ssl/certs/ca-certificates.crt "$d/ca.pem" >"$d/bundle.pem"
	cat >"$d/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 4096; }
http {
	access_log $d/access.log;
	client_body_temp_path $d/tmp_body;
	proxy_temp_path $d/tmp_proxy;
	fastcgi_temp_path $d/tmp_fastcgi;
	uwsgi_temp_path $d/tmp_uwsgi;
	scgi_temp_path $d/tmp_scgi;
	ssl_session_cache shared:bench:1m;
	server {
		listen $ADDR:$NGINX_PORT;
		listen $ADDR:$TLS_PORT ssl;
		ssl_certificate $d/srv.pem;
		ssl_certificate_key $d/srv.key;
		location / { return 200 "ok\n"; }
	}
}
EOF
	nginx -p "$d" -c "$d/nginx.conf" -e "$d/error.log" </dev/null >>"$d/stdout.log" 2>&1 &
	PIDS+=($!)
	wait_tcp "$NGINX_PORT" && wait_tcp "$TLS_PORT"
}
nginx_count() { wc -l <"$W/nginx/access.log"; }

LISTEN_PORT=""
listener_start() {
	[ -n "$LISTEN_PORT" ] && return 0
	cc -O2 -Wall -Wextra -o "$W/listener" "$ROOT/bench/listener.c" || return 1
	mkdir -p "$W/listen"
	# listener.c binds 127.0.0.1
	"$W/listener" "$W/listen" 3600 &
	PIDS+=($!)
	local i
	for ((i = 0; i < 50; i++)); do
		[ -s "$W/listen/port" ] && break
		sleep 0.1
	done
	LISTEN_PORT=$(cat "$W/listen/port")
}
listener_count() { cat "$W/listen/count" 2>/dev/null || echo 0; }

DNS_PORT=""
knot_start() {
	local d=$W/knot
	[ -n "$DNS_PORT" ] && return 0
	mkdir -p "$d"
	DNS_PORT=$(free_port)
	cat >"$d/bench.test.zone" <<EOF
\$ORIGIN bench.test.
\$TTL 300
@ SOA ns.bench.test. hostmaster.bench.test. 1 3600 600 86400 300
@ NS ns.bench.test.
ns A 127.0.51.1
EOF
	cat >"$d/knot.conf" <<EOF
server:
    listen: $ADDR@$DNS_PORT
    rundir: "$d"
    pidfile: "$d/knot.pid"
control:
    listen: "$d/knot.sock"
database:
    storage: "$d"
log:
  - target: stderr
    any: warning
mod-stats:
  - id: s
    request-protocol: on
template:
  - id: default
    storage: "$d"
    global-module: mod-stats/s
zone:
  - domain: bench.test
    file: "$d/bench.test.zone"
EOF
	knotd -c "$d/knot.conf" </dev/null >>"$d/knotd.log" 2>&1 &
	PIDS+=($!)
	local i
	for ((i = 0; i < 50; i++)); do
		knotc -c "$d/knot.conf" status >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	log "knotd did not start: $d/knotd.log"
	return 1
}
knot_count() {
	knotc -c "$W/knot/knot.conf" stats mod-stats.request-protocol 2>/dev/null |
		awk -F'= ' '{ s += $2 } END { print s + 0 }'
}

exec_count() { wc -l <"$W/exec/count" 2>/dev/null || echo 0; }

# ---- one kind ----------------------------------------------------------------------
config() { # config KIND FILE
	local kind=$1 f=$2 i chk
	case $kind in
	tcp) chk="{ \"type\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": $LISTEN_PORT }" ;;
	http) chk="{ \"type\": \"http\", \"url\": \"http://$ADDR:$NGINX_PORT/\" }" ;;
	https) chk="{ \"type\": \"http\", \"url\": \"https://$ADDR:$TLS_PORT/\", \"ca_file\": \"$W/nginx/ca.pem\" }" ;;
	https-bundle) chk="{ \"type\": \"http\", \"url\": \"https://$ADDR:$TLS_PORT/\", \"ca_file\": \"$W/nginx/bundle.pem\" }" ;;
	https-noresume) chk="{ \"type\": \"http\", \"url\": \"https://$ADDR:$TLS_PORT/\", \"ca_file\": \"$W/nginx/bundle.pem\", \"tls_resume\": false }" ;;
	dns) chk="{ \"type\": \"dns\", \"server\": \"$ADDR\", \"port\": $DNS_PORT, \"name\": \"bench.test\", \"qtype\": \"SOA\" }" ;;
	exec) chk="{ \"type\": \"exec\", \"shell\": true, \"command\": \"echo >> $W/exec/count\" }" ;;
	esac
	{
		printf '{ "speaker": { "type": "exabgp" },%s\n' "$([ "$kind" = exec ] && echo ' "allow_root_exec": true,')"
		printf '  "defaults": { "interval": "1s", "fast_interval": "500ms", "timeout": "900ms", "rise": 2, "fall": 2 },\n'
		printf '  "services": [\n'
		for ((i = 0; i < N; i++)); do
			printf '    { "name": "s%d", "prefixes": [ "10.%d.%d.%d/32" ], "checks": [ %s ] }%s\n' \
				"$i" $((i / 65536)) $((i / 256 % 256)) $((i % 256)) "$chk" "$([ $((i + 1)) -lt "$N" ] && echo ,)"
		done
		printf '  ] }\n'
	} >"$f"
}

run_kind() {
	local kind=$1 count
	case $kind in
	floor)
		cc -O2 -Wall -Wextra -o "$W/floor" "$ROOT/bench/floor.c" || return 1
		listener_start || return 1
		"$W/floor" "$LISTEN_PORT" 10000 | sed "s/^/| floor: connect+close, C loop (bench\/floor.c) | /; s/ | | | | |$/ | | | | | |/"
		return
		;;
	tcp) listener_start || return 1; count=listener_count ;;
	http | https*) nginx_start || return 1; count=nginx_count ;;
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
