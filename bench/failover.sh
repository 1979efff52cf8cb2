#!/usr/bin/env bash
# bench/failover.sh: failover trials at a real BIRD 2 peer. Three programs watch the same
# services with the same timing (interval 1 s, fast interval 0.2 s, rise 2, fall 2,
# timeout 0.5 s) and announce to one "peer" BIRD:
#   hd-exabgp  healthd under ExaBGP (ExaBGP runs it in a process stanza), ExaBGP -> peer
#   hd-bird    healthd in BIRD static mode: it writes a "speaker" BIRD's static include
#              file and sends "configure" on its control socket; speaker BIRD -> peer
#   py-exabgp  Debian's `python3 -m exabgp healthcheck` (one process per service) under a
#              second ExaBGP, -> peer
# Faults (each program's route for the service must leave the peer):
#   kill  nginx (master and worker) SIGKILLed: connections refused
#   hang  nginx SIGSTOPped: the kernel still accepts into the backlog, nothing answers
#   dns   Knot DNS stopped (SIGTERM)
# What is measured, per trial and program: the fault's moment (this script's clock just
# before the signal) to the "removed" line for the prefix in the peer BIRD's log
# (`timeformat log "%F %T.%6f"`, `debug { routes }` on each BGP protocol); and, for
# healthd, "decision to stdout": strace -ttt (seccomp-bpf: only writev stops) from
# the debug log line of the deciding failed check (stamped as it arrives through a FIFO)
# to the write of the withdraw line (BIRD mode: of "configure" on BIRD's socket). See
# bench/README.md.
#
#   MODE=short bash bench/failover.sh > report.md     # 3 trials per fault, about 1 minute
#   MODE=full  bash bench/failover.sh > report.md     # 20 trials per fault
#
# Environment: MODE (short|full), TRIALS (overrides the mode's count), HEALTHD (the
# binary; default build/bin/healthd, built with make when missing), OUT_DIR (where the
# raw samples go: failover.tsv, failover.json; default a new /tmp/healthd-failover-out.*
# that is kept and named in the report), KEEP=1 (keep the work directory and its logs).
#
# Only loopback 127.0.113.0/24 and high ports are used. Every process started is stopped
# by PID at exit (trap); every wait is bounded. Progress on stderr, the Markdown report on
# stdout. Exit 0 when every trial produced its samples, 1 otherwise.
# shellcheck disable=SC2317 # cleanup is called from the trap
set -u
export LC_ALL=C

ROOT=$(cd "$(dirname "$0")/.." && pwd)
MODE=${MODE:-short}
case $MODE in
short) TRIALS=${TRIALS:-3} ;;
full) TRIALS=${TRIALS:-20} ;;
*)
	echo "MODE must be short or full, not '$MODE'" >&2
	exit 2
	;;
esac
KEEP=${KEEP:-0}
PY=/usr/bin/python3 # Debian's, the one ExaBGP's healthcheck runs with

# The timing every program gets; healthd's target bound is derived from it.
INTERVAL=1 FAST=0.2 RISE=2 FALL=2 TIMEOUT=0.5
NET=127.0.113
SVC=$NET.1 HDX=$NET.2 PEER=$NET.3 SPK=$NET.4 PYX=$NET.6
PFX_HDX_WEB=198.51.100.1/32 PFX_HDX_DNS=198.51.100.2/32
PFX_HDB_WEB=198.51.100.11/32 PFX_HDB_DNS=198.51.100.12/32
PFX_PY_WEB=198.51.100.21/32 PFX_PY_DNS=198.51.100.22/32
ALL_PFX="$PFX_HDX_WEB $PFX_HDX_DNS $PFX_HDB_WEB $PFX_HDB_DNS $PFX_PY_WEB $PFX_PY_DNS"
WEB_PFX="$PFX_HDX_WEB $PFX_HDB_WEB $PFX_PY_WEB"
DNS_PFX="$PFX_HDX_DNS $PFX_HDB_DNS $PFX_PY_DNS"

log() { printf '[failover %s] %s\n' "$(date +%T)" "$*" >&2; }
die() {
	log "$*"
	exit 1
}

for c in bird birdc exabgp nginx knotd knotc kdig curl strace ss timeout; do
	command -v "$c" >/dev/null 2>&1 || die "$c not found (bash tests/deps.sh installs what is needed)"
done
"$PY" -m exabgp healthcheck --help >/dev/null 2>&1 || die "ExaBGP's healthcheck does not run: apt-get install exabgp"
if [ -z "${HEALTHD:-}" ]; then
	HEALTHD=$ROOT/build/bin/healthd
	if [ ! -x "$HEALTHD" ]; then
		log "building $HEALTHD with make"
		make -C "$ROOT" -j2 >&2 || die "make failed"
	fi
fi
[ -x "$HEALTHD" ] || die "HEALTHD=$HEALTHD is not an executable"
HEALTHD=$(cd "$(dirname "$HEALTHD")" && pwd)/$(basename "$HEALTHD")

W=$(mktemp -d /tmp/healthd-failover.XXXXXX) || die "mktemp failed"
chmod 755 "$W" # nginx workers run as nobody
mkdir -p "$W/state" && chmod 1777 "$W/state"
export STATE_DIRECTORY=$W/state # healthd's state files, not the machine's
if [ -z "${OUT_DIR:-}" ]; then
	OUT_DIR=$(mktemp -d /tmp/healthd-failover-out.XXXXXX) || die "mktemp failed"
fi
mkdir -p "$OUT_DIR" || die "cannot create OUT_DIR=$OUT_DIR"
OUT_DIR=$(cd "$OUT_DIR" && pwd)

# ---- processes ------------------------------------------------------------------------
PIDS=() # every process started here (and the children found at fault time), by PID
alive() {
	local st
	[ -n "${1:-}" ] || return 1
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	st=${st##*) }
	[ "${st%% *}" != Z ]
}
# The start time of a process (field 22 of /proc/PID/stat): a PID is only signalled while
# it still names the process this script started (PIDs wrap at 32768 on a busy machine).
pid_start() {
	local st
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	st=${st##*) }
	# shellcheck disable=SC2086 # the fields of /proc/PID/stat
	set -- $st
	printf '%s\n' "${20}"
}
declare -A START=()
track() { # PID...: remember them (and their start times) for the cleanup
	local p
	for p in "$@"; do
		START[$p]=$(pid_start "$p") || START[$p]=gone
		PIDS+=("$p")
	done
}
# stop_pid PID [GRACE_S]: SIGCONT (it may be stopped), SIGTERM, bounded wait, SIGKILL;
# nothing when the PID is gone or, when tracked, now names another process.
stop_pid() {
	local p=$1 n i
	[ -n "$p" ] || return 0
	if [ -n "${START[$p]:-}" ] && [ "$(pid_start "$p")" != "${START[$p]}" ]; then
		wait "$p" 2>/dev/null
		return 0
	fi
	if alive "$p"; then
		kill -CONT "$p" 2>/dev/null
		kill -TERM "$p" 2>/dev/null
		n=$(awk -v g="${2:-3}" 'BEGIN { printf "%d", g * 20 }')
		for ((i = 0; i < n; i++)); do
			alive "$p" || break
			sleep 0.05
		done
		alive "$p" && kill -KILL "$p" 2>/dev/null
	fi
	wait "$p" 2>/dev/null
	return 0
}
children() { pgrep -P "$1" 2>/dev/null | tr '\n' ' '; }

EXA_HD_PID="" EXA_PY_PID="" HDB_PID="" NGINX_PID="" KNOT_PID="" PEER_PID="" SPK_PID=""
cleanup() {
	local rc=$? p kids=""
	trap - EXIT INT TERM HUP
	# Children of the ExaBGPs and of strace (healthd, the healthchecks), remembered
	# before their parents go; ExaBGP first tells its helpers to shut down.
	for p in "$EXA_HD_PID" "$EXA_PY_PID" "$HDB_PID"; do
		[ -n "$p" ] && kids="$kids $(children "$p")"
	done
	for p in $kids; do kids="$kids $(children "$p")"; done
	for p in $kids; do START[$p]=$(pid_start "$p") || START[$p]=gone; done
	stop_pid "$EXA_HD_PID" 5
	stop_pid "$EXA_PY_PID" 5
	for p in $kids; do [ "$(ps -o ppid= -p "$p" 2>/dev/null | tr -d ' ')" = "$HDB_PID" ] && stop_pid "$p" 3; done
	stop_pid "$HDB_PID" 3
	for p in $kids; do stop_pid "$p" 1; done
	nginx_stop
	stop_pid "$KNOT_PID" 3
	stop_pid "$SPK_PID" 3
	stop_pid "$PEER_PID" 3
	for p in "${PIDS[@]}"; do stop_pid "$p" 1; done
	if [ "$KEEP" = 1 ]; then log "kept $W"; else rm -rf -- "$W"; fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# free_port: a TCP port in 20000-32767 that nothing uses and not handed out yet.
USED_PORTS=" "
free_port() {
	local i p
	for ((i = 0; i < 200; i++)); do
		p=$((20000 + SRANDOM % 12768))
		case $USED_PORTS in *" $p "*) continue ;; esac
		if [ -z "$(ss -Htaun "( sport = :$p )" 2>/dev/null)" ]; then
			USED_PORTS="$USED_PORTS$p "
			printf '%s\n' "$p"
			return 0
		fi
	done
	return 1
}
if ! { HTTP_PORT=$(free_port) && DNS_PORT=$(free_port) && P_HDX=$(free_port) &&
	P_PYX=$(free_port) && P_SPK=$(free_port); }; then die "no free port"; fi

# ---- services: nginx, Knot --------------------------------------------------------------
mkdir -p "$W/nginx"
cat >"$W/nginx/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $W/nginx/nginx.pid;
error_log $W/nginx/error.log warn;
events { worker_connections 256; }
http {
	access_log off;
	client_body_temp_path $W/nginx/tmp_body;
	proxy_temp_path $W/nginx/tmp_proxy;
	fastcgi_temp_path $W/nginx/tmp_fastcgi;
	uwsgi_temp_path $W/nginx/tmp_uwsgi;
	scgi_temp_path $W/nginx/tmp_scgi;
	server {
		listen $SVC:$HTTP_PORT;
		location / { return 200 "ok\n"; }
	}
}
EOF
nginx -t -q -p "$W/nginx" -c "$W/nginx/nginx.conf" -e "$W/nginx/error.log" || die "nginx config"

http_ok() { curl -sf -o /dev/null --max-time 1 "http://$SVC:$HTTP_PORT/"; }
nginx_start() {
	local i
	nginx -p "$W/nginx" -c "$W/nginx/nginx.conf" -e "$W/nginx/error.log" </dev/null >>"$W/nginx/out" 2>&1 &
	NGINX_PID=$!
	disown "$NGINX_PID" # SIGKILLing it is the point: no "Killed" notice from bash
	track "$NGINX_PID"
	for ((i = 0; i < 100; i++)); do
		http_ok && return 0
		sleep 0.05
	done
	return 1
}
nginx_pids() { [ -n "$NGINX_PID" ] && printf '%s %s\n' "$NGINX_PID" "$(children "$NGINX_PID")"; }
nginx_stop() {
	local p ps
	ps=$(nginx_pids)
	for p in $ps; do kill -CONT "$p" 2>/dev/null; done
	for p in $ps; do stop_pid "$p" 3; done
	NGINX_PID=""
}

mkdir -p "$W/knot/db"
cat >"$W/knot/example.test.zone" <<'EOF'
$ORIGIN example.test.
$TTL 300
@	IN SOA	ns1 hostmaster 1 3600 600 86400 300
@	IN NS	ns1
ns1	IN A	192.0.2.53
www	IN A	192.0.2.1
EOF
cat >"$W/knot/knot.conf" <<EOF
server:
    rundir: "$W/knot"
    listen: [ $SVC@$DNS_PORT ]
control:
    listen: "$W/knot/knot.sock"
log:
  - target: stderr
    any: warning
database:
    storage: "$W/knot/db"
template:
  - id: default
    storage: "$W/knot"
    file: "%s.zone"
    zonefile-sync: -1
zone:
  - domain: example.test
EOF
knotc -c "$W/knot/knot.conf" conf-check >/dev/null || die "knot config"
DNS_CHECK_CMD="timeout $TIMEOUT kdig @$SVC -p $DNS_PORT +retry=0 +time=1 www.example.test A | grep -q 'status: NOERROR'"
dns_ok() { timeout 2 kdig "@$SVC" -p "$DNS_PORT" +retry=0 +time=1 www.example.test A 2>/dev/null | grep -q 'status: NOERROR'; }
knot_start() {
	local i
	knotd -c "$W/knot/knot.conf" </dev/null >>"$W/knot/knotd.log" 2>&1 &
	KNOT_PID=$!
	track "$KNOT_PID"
	for ((i = 0; i < 100; i++)); do
		dns_ok && return 0
		alive "$KNOT_PID" || return 1
		sleep 0.05
	done
	return 1
}

# ---- BIRDs ------------------------------------------------------------------------------
bgp_proto() { # NAME LOCAL_ADDR LOCAL_AS NEIGHBOR NEIGHBOR_AS PORT PASSIVE EXPORT DEBUG
	cat <<EOF
protocol bgp $1 {
	local $2 port $6 as $3;
	neighbor $4 port $6 as $5;
	multihop 2;
	strict bind on;
	passive $7;
	connect delay time 1;
	connect retry time 1;
	error wait time 1, 5;
	debug { $9 };
	ipv4 { import all; export $8; };
}
EOF
}
{
	printf 'log "%s/peer.log" all;\ntimeformat log "%%F %%T.%%6f";\nrouter id %s;\nprotocol device { }\n' "$W" "$PEER"
	bgp_proto hd_exabgp "$PEER" 65003 "$HDX" 65001 "$P_HDX" on none "states, routes"
	bgp_proto py_exabgp "$PEER" 65003 "$PYX" 65006 "$P_PYX" on none "states, routes"
	bgp_proto hd_bird "$PEER" 65003 "$SPK" 65004 "$P_SPK" on none "states, routes"
} >"$W/peer.conf"
INC4=$W/healthd-routes.conf INC6=$W/healthd-routes6.conf
: >"$INC4"
: >"$INC6"
{
	printf 'log "%s/spk.log" all;\ntimeformat log "%%F %%T.%%6f";\nrouter id %s;\nprotocol device { }\n' "$W" "$SPK"
	printf 'protocol static healthd4 {\n\tipv4;\n\tdebug { routes };\n\tinclude "%s";\n}\n' "$INC4"
	printf 'protocol static healthd6 {\n\tipv6;\n\tinclude "%s";\n}\n' "$INC6"
	bgp_proto peer "$SPK" 65004 "$PEER" 65003 "$P_SPK" off all "states"
} >"$W/spk.conf"
bird_start() { # NAME: bird in the foreground, in the background; waits for its socket
	local i pid
	bird -p -c "$W/$1.conf" || return 1
	bird -f -c "$W/$1.conf" -s "$W/$1.ctl" -P "$W/$1.pid" </dev/null >>"$W/$1.out" 2>&1 &
	pid=$!
	track "$pid"
	printf -v "${1^^}_PID" '%s' "$pid"
	for ((i = 0; i < 100; i++)); do
		[ -S "$W/$1.ctl" ] && timeout 2 birdc -s "$W/$1.ctl" show status >/dev/null 2>&1 && return 0
		alive "$pid" || return 1
		sleep 0.05
	done
	return 1
}
peer_routes() { # the prefixes the peer has, one line, sorted
	timeout 2 birdc -s "$W/peer.ctl" show route 2>/dev/null |
		awk '$1 ~ /^[0-9.]+\/[0-9]+$/ { print $1 }' | sort | tr '\n' ' '
}
# wait_routes WANT(present|absent) "PFX..." TIMEOUT_S: polls the peer every 50 ms (plus
# what birdc takes), for at most TIMEOUT_S and TIMEOUT_S x 20 polls.
wait_routes() {
	local want=$1 pfx=$2 n i have p good end
	n=$(($3 * 20))
	end=$((${EPOCHREALTIME/./} + $3 * 1000000))
	for ((i = 0; i < n && ${EPOCHREALTIME/./} < end; i++)); do
		have=" $(peer_routes) "
		good=1
		for p in $pfx; do
			case $have in
			*" $p "*) [ "$want" = present ] || good=0 ;;
			*) [ "$want" = absent ] || good=0 ;;
			esac
		done
		[ "$good" = 1 ] && return 0
		sleep 0.05
	done
	return 1
}

# ---- the programs -----------------------------------------------------------------------
TIMING="\"interval\": \"${INTERVAL}s\", \"fast_interval\": \"$(awk -v f=$FAST 'BEGIN { print f * 1000 }')ms\", \"timeout\": \"$(awk -v t=$TIMEOUT 'BEGIN { print t * 1000 }')ms\", \"rise\": $RISE, \"fall\": $FALL"
hd_config() { # SPEAKER_JSON WEB_PFX DNS_PFX ANNOUNCE_JSON
	cat <<EOF
{
	"speaker": $1,
	"defaults": { $TIMING },
	"services": [
		{ "name": "web", "prefixes": [ "$2" ], $4
		  "checks": [ { "type": "http", "url": "http://$SVC:$HTTP_PORT/" } ] },
		{ "name": "dns", "prefixes": [ "$3" ], $4
		  "checks": [ { "type": "dns", "server": "$SVC", "port": $DNS_PORT, "name": "www.example.test", "qtype": "A" } ] }
	]
}
EOF
}
hd_config '{ "type": "exabgp" }' "$PFX_HDX_WEB" "$PFX_HDX_DNS" '"announce": { "next_hop": "self" },' >"$W/hd-exabgp.json"
hd_config "{ \"type\": \"bird\", \"socket\": \"$W/spk.ctl\", \"include\": \"$INC4\", \"include6\": \"$INC6\" }" \
	"$PFX_HDB_WEB" "$PFX_HDB_DNS" "" >"$W/hd-bird.json"
for f in hd-exabgp hd-bird; do
	"$HEALTHD" check -c "$W/$f.json" >/dev/null 2>"$W/$f.check" || die "healthd check $f.json: $(head -3 "$W/$f.check")"
done
# ExaBGP's healthcheck: one process per service; a config file each (ExaBGP splits `run`
# on blanks, so the command with its quotes goes into the file). Its --timeout is whole
# seconds (SIGALRM); the 0.5 s bound is the command's own (curl --max-time, timeout).
WEB_CHECK_CMD="curl -sf -o /dev/null --max-time $TIMEOUT http://$SVC:$HTTP_PORT/"
py_config() { # PFX COMMAND
	cat <<EOF
no-syslog
no-ip-setup
withdraw-on-down
ip = $1
interval = $INTERVAL
fast-interval = $FAST
rise = $RISE
fall = $FALL
timeout = 1
command = $2
EOF
}
py_config "$PFX_PY_WEB" "$WEB_CHECK_CMD" >"$W/py-web.conf"
py_config "$PFX_PY_DNS" "$DNS_CHECK_CMD" >"$W/py-dns.conf"

# Decision to speaker, without stopping healthd on its way from the one to the other:
# healthd's stderr goes to a FIFO read by failover_stamp.py, which stamps each line as it
# arrives; strace stops healthd only at writev, the call its stdout (and its BIRD socket)
# is written with, not its log's write. Both run SCHED_FIFO (chrt) when they may, so
# that neither waits for a CPU on a busy machine; healthd itself is reset to SCHED_OTHER
# at fork (-R), like every other program here.
RT=()
RT_USED=no
if chrt -R -f 10 true 2>/dev/null; then
	RT=("$(command -v chrt)" -R -f 10)
	RT_USED=yes
fi
STRACE=("${RT[@]}" "$(command -v strace)" -f --seccomp-bpf -ttt -qq -e trace=writev -e signal=none -s 160)
stamp_start() { # NAME: the FIFO $W/NAME.fifo and its reader, into $W/NAME.log
	mkfifo "$W/$1.fifo" || return 1
	"${RT[@]}" "$PY" "$ROOT/bench/failover_stamp.py" "$W/$1.fifo" "$W/$1.log" </dev/null 2>>"$W/$1.stamp.err" &
	track "$!"
}
exabgp_files() { # NAME LOCAL_ADDR LOCAL_AS PORT PROCESS_STANZAS
	cat >"$W/$1.env" <<EOF
[exabgp.daemon]
user = '$(id -un)'
drop = false
daemonize = false
pid = ''

[exabgp.tcp]
port = $4

[exabgp.api]
respawn = false
cli = false
ack = true

[exabgp.log]
destination = '$W/$1.log'
EOF
	local names
	names=$(grep -o '^process [a-z_]*' <<<"$5" | awk '{ print $2 }' | paste -sd' ')
	cat >"$W/$1.conf" <<EOF
$5
neighbor $PEER {
	router-id $2;
	local-address $2;
	local-as $3;
	peer-as 65003;
	connect $4;
	family { ipv4 unicast; }
	api { processes [ ${names// /, } ]; }
}
EOF
}
# ExaBGP's config parser splits `run` on commas too: strace's options go into a script
# that execs it (no process in between).
printf '#!/bin/sh\nexec %s -o %s %s run -c %s -d 2>%s\n' "${STRACE[*]}" "$W/strace-hd-exabgp.txt" "$HEALTHD" \
	"$W/hd-exabgp.json" "$W/hd-exabgp.fifo" >"$W/hd-exabgp.sh"
chmod 755 "$W/hd-exabgp.sh"
exabgp_files exa-hd "$HDX" 65001 "$P_HDX" "process healthd {
	run $W/hd-exabgp.sh;
	encoder text;
	respawn false;
}"
exabgp_files exa-py "$PYX" 65006 "$P_PYX" "process hc_web {
	run $PY -m exabgp healthcheck --config $W/py-web.conf;
	encoder text;
	respawn false;
}
process hc_dns {
	run $PY -m exabgp healthcheck --config $W/py-dns.conf;
	encoder text;
	respawn false;
}"
exabgp_start() { # NAME: in the background; its PID in $!
	exabgp --env "$W/$1.env" "$W/$1.conf" </dev/null >>"$W/$1.out" 2>&1 &
}

# ---- versions, start ----------------------------------------------------------------------
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
T_START=$(date +%s)
log "work dir $W; samples into $OUT_DIR; $TRIALS trials per fault; load $LOAD_START"

nginx_start || die "nginx did not start"
knot_start || die "knotd did not start"
bird_start peer || die "the peer BIRD did not start"
bird_start spk || die "the speaker BIRD did not start"
stamp_start hd-exabgp || die "mkfifo"
stamp_start hd-bird || die "mkfifo"
exabgp_start exa-hd
EXA_HD_PID=$!
exabgp_start exa-py
EXA_PY_PID=$!
track "$EXA_HD_PID" "$EXA_PY_PID"
"${STRACE[@]}" -o "$W/strace-hd-bird.txt" "$HEALTHD" run -c "$W/hd-bird.json" -d </dev/null >>"$W/hd-bird.out" 2>"$W/hd-bird.fifo" &
HDB_PID=$!
track "$HDB_PID"
if ! wait_routes present "$ALL_PFX" 40; then
	log "not every route reached the peer within 40 s; it has: $(peer_routes)"
	timeout 2 birdc -s "$W/peer.ctl" show protocols >&2
	tail -n 20 "$W/exa-hd.out" "$W/exa-py.out" "$W/hd-exabgp.log" "$W/hd-bird.log" >&2
	exit 1
fi
log "all six routes at the peer after $(($(date +%s) - T_START)) s"

# ---- trials -------------------------------------------------------------------------------
# fault_do FAULT: the fault itself, with the builtin kill only: the PIDs were looked up
# before the clock was read (a pgrep under load can take a good part of a second).
fault_do() {
	local p
	case $1 in
	kill) for p in $FAULT_PIDS; do kill -KILL "$p" 2>/dev/null; done ;;
	hang) for p in $FAULT_PIDS; do kill -STOP "$p" 2>/dev/null; done ;;
	dns) kill -TERM "$KNOT_PID" 2>/dev/null ;;
	esac
}
fault_undo() {
	case $1 in
	kill)
		nginx_stop # reaps the killed master and worker
		nginx_start
		;;
	hang)
		local p
		for p in $FAULT_PIDS; do kill -CONT "$p" 2>/dev/null; done
		;;
	dns)
		stop_pid "$KNOT_PID" 3
		knot_start
		;;
	esac
}
printf 'fault\ttrial\tdelay_ms\tt_fault\tt_restore\tgone_seen\tback\n' >"$W/trials.tsv"
BAD=0
for fault in kill hang dns; do
	if [ "$fault" = dns ]; then pfx=$DNS_PFX; else pfx=$WEB_PFX; fi
	for ((trial = 1; trial <= TRIALS; trial++)); do
		# The fault at a random moment of the programs' interval: they run on their own
		# clocks, so a uniform delay over one interval samples every phase.
		delay_ms=$((300 + SRANDOM % 1000))
		FAULT_PIDS=$(nginx_pids)
		sleep "$(awk -v d=$delay_ms 'BEGIN { printf "%.3f", d / 1000 }')"
		t_fault=$EPOCHREALTIME
		fault_do "$fault"
		gone=1
		wait_routes absent "$pfx" 10 || gone=0
		t_restore=$EPOCHREALTIME
		fault_undo "$fault" || log "$fault: the service did not come back"
		back=1
		wait_routes present "$ALL_PFX" 20 || back=0
		printf '%s\t%d\t%d\t%s\t%s\t%d\t%d\n' "$fault" "$trial" "$delay_ms" "$t_fault" "$t_restore" "$gone" "$back" >>"$W/trials.tsv"
		log "$fault #$trial: routes gone: $gone, back: $back (peer: $(peer_routes))"
		[ "$gone" = 1 ] && [ "$back" = 1 ] || BAD=1
		if [ "$back" = 0 ]; then
			log "routes did not come back within 20 s; stopping the trials"
			break 2
		fi
	done
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- report -------------------------------------------------------------------------------
{
	echo "healthd $("$HEALTHD" --version 2>&1 | head -1) ($(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo '?'))"
	bird --version 2>&1 | head -1
	echo "ExaBGP $(exabgp --version 2>&1 | awk '/ExaBGP/ { print $3 }'), Python $("$PY" -c 'import platform; print(platform.python_version())')"
	nginx -v 2>&1 | head -1
	knotd --version 2>&1 | head -1
	echo "$(curl --version | head -1 | cut -d' ' -f1-2), $(kdig -V 2>&1 | head -1)"
	strace -V | head -1
	echo "Linux $(uname -r), $(nproc) CPUs"
} >"$W/versions.txt"
"$PY" "$ROOT/bench/failover_report.py" \
	--work "$W" --out "$OUT_DIR" --mode "$MODE" --trials "$TRIALS" \
	--interval "$INTERVAL" --fast "$FAST" --rise "$RISE" --fall "$FALL" --timeout "$TIMEOUT" \
	--load-start "$LOAD_START" --load-end "$LOAD_END" --rt "$RT_USED" \
	--web-check "$WEB_CHECK_CMD" --dns-check "$DNS_CHECK_CMD" \
	--prefix "hd-exabgp:web=$PFX_HDX_WEB" --prefix "hd-exabgp:dns=$PFX_HDX_DNS" \
	--prefix "hd-bird:web=$PFX_HDB_WEB" --prefix "hd-bird:dns=$PFX_HDB_DNS" \
	--prefix "py-exabgp:web=$PFX_PY_WEB" --prefix "py-exabgp:dns=$PFX_PY_DNS" || BAD=1
log "raw samples: $OUT_DIR/failover.tsv, $OUT_DIR/failover.json; load $LOAD_START -> $LOAD_END"
exit "$BAD"
