# shellcheck shell=bash
# Helpers for healthd's integration tests: a real BIRD 2 receives the routes that a
# real ExaBGP 4.2 announces for the healthd it spawned; a real nginx is the service.
# Everything runs on loopback, on high ports, under one mktemp dir; every process
# started here is stopped by PID when the sourcing script exits (trap).
#
#   source tests/integration/lib.sh
#   it_init                                  # temp dir $T, traps, counters
#   start_nginx                              # $NGINX_PORT; stop_nginx / start_nginx again
#   start_bird                               # $BIRD_SOCK, peer 127.0.0.3, passive
#   start_exabgp "$HEALTHD run -c $T/healthd.json"   # $EXABGP_PID, neighbor BIRD
#   wait_established 20
#   wait_route_present 203.0.113.80/32 10 && echo "after ${ELAPSED}s"
#   ok "text" / not_ok "text" / check "text" CMD... ; it_finish (prints "N passed, N failed")
#
# Not a target, ever: anything outside 127.0.0.0/8 and ::1.

# shellcheck disable=SC2034 # globals for the scripts that source this file
IT_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
IT_ROOT=$(cd "$IT_LIB_DIR/../.." && pwd)

# Addresses and AS numbers of the lab. ExaBGP (and so healthd's "next-hop self")
# is 127.0.0.2, BIRD is 127.0.0.3, the services listen on 127.0.0.1.
EXA_ADDR=127.0.0.2
EXA_AS=65001
BIRD_ADDR=127.0.0.3
BIRD_AS=65002
SERVICE_ADDR=127.0.0.1

PASS=0
FAIL=0
ELAPSED=0
T=""
BIRD_SOCK="" BIRD_PIDFILE="" BIRD_PID=""
EXABGP_PID="" HEALTHD_PID=""
NGINX_PID="" NGINX_PORT=""
BGP_PORT=""
IT_PORTS=" "

# ---------------------------------------------------------------- output, asserts
note() { printf '# %s\n' "$*"; }
ok() { PASS=$((PASS + 1)); printf 'ok - %s\n' "$*"; }
not_ok() {
	FAIL=$((FAIL + 1))
	printf 'not ok - %s\n' "$1"
	shift
	local l
	for l in "$@"; do printf '#   %s\n' "$l"; done
}
# check "description" command args...: ok when the command succeeds.
check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc" "command failed: $*"; fi
}
# le A B: true when the decimal number A <= B.
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 <= b + 0) }'; }
# Seconds since the epoch with microseconds (bash 5 $EPOCHREALTIME).
now() { printf '%s\n' "$EPOCHREALTIME"; }
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f\n", b - a }'; }

# it_tail N FILE...: the last N lines of each non-empty file, for a failure's context.
it_tail() {
	local n=$1 f
	shift
	[ -n "$T" ] && [ -d "$T" ] || return 0
	for f in "$@"; do
		[ -s "$f" ] || continue
		printf '# ---- last lines of %s\n' "${f#"$T"/}"
		tail -n "$n" "$f" | sed 's/^/#   /'
	done
}

# Prints the end of every log the lab wrote, for a failure's context.
it_diag() {
	it_tail 25 "$T"/exabgp.out "$T"/exabgp.log "$T"/bird.log "$T"/nginx/error.log "$T"/healthd.out "$T"/healthd.err
}

# Last line of every test script: "N passed, N failed"; returns non-zero on failure.
it_finish() {
	if [ "$FAIL" -ne 0 ]; then it_diag; fi
	printf '%d passed, %d failed\n' "$PASS" "$FAIL"
	[ "$FAIL" -eq 0 ]
}

# ---------------------------------------------------------------- setup, cleanup
# it_need CMD...: fail early, with the fix, when a tool is missing.
it_need() {
	local c missing=""
	for c in "$@"; do command -v "$c" >/dev/null 2>&1 || missing="$missing $c"; done
	if [ -n "$missing" ]; then
		not_ok "tools present" "missing:$missing (install them: bash tests/deps.sh)"
		printf '%d passed, %d failed\n' "$PASS" "$FAIL"
		exit 1
	fi
}

# it_need_healthd: $HEALTHD must be an absolute path to an executable.
# Without $HEALTHD: the first of $BUILD/bin/healthd, build/bin/healthd, ./healthd
# that is a file (./healthd is also the source directory).
it_need_healthd() {
	local c
	if [ -z "${HEALTHD:-}" ]; then
		for c in ${BUILD:+"$BUILD/bin/healthd"} "$IT_ROOT/build/bin/healthd" "$IT_ROOT/healthd"; do
			if [ -f "$c" ] && [ -x "$c" ]; then
				HEALTHD=$c
				break
			fi
		done
	fi
	HEALTHD=${HEALTHD:-$IT_ROOT/healthd}
	case $HEALTHD in /*) ;; *) HEALTHD=$PWD/$HEALTHD ;; esac
	if [ ! -f "$HEALTHD" ] || [ ! -x "$HEALTHD" ]; then
		local why="not an executable file (build it: make)"
		[ -d "$HEALTHD" ] && why="is a directory, not the binary (set HEALTHD=/path/to/healthd)"
		not_ok "healthd binary is executable" "HEALTHD=$HEALTHD $why"
		printf '%d passed, %d failed\n' "$PASS" "$FAIL"
		exit 1
	fi
	export HEALTHD
}

it_init() {
	it_need awk ss pgrep ps timeout mktemp
	T=$(mktemp -d /tmp/healthd-it.XXXXXXXX) || {
		echo "mktemp failed" >&2
		exit 1
	}
	chmod 755 "$T" # nginx workers run as nobody
	# healthd's state files go here, not into the machine's /var/lib/healthd.
	mkdir -p "$T/state" && chmod 1777 "$T/state"
	export STATE_DIRECTORY=$T/state
	trap it_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
}

# Start time of a process (field 22 of /proc/PID/stat), to tell it from a later
# process that got the same PID.
pid_start() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	# shellcheck disable=SC2086
	set -- $s
	printf '%s\n' "${20}"
}
# alive PID: the process exists and is not a zombie.
alive() {
	[ -n "${1:-}" ] || return 1
	local st
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	st=${st##*) }
	[ "${st%% *}" != Z ]
}

# Descendants of a PID (children, grandchildren, ...), one per line. Bounded depth.
descendants() {
	ps -e -o pid=,ppid= | awk -v root="$1" '
		{ kids[$2] = kids[$2] " " $1 }
		END {
			n = split(kids[root], q, " "); head = 1; depth = 0
			while (head <= n && depth < 10000) {
				p = q[head++]; depth++; print p
				m = split(kids[p], k, " ")
				for (i = 1; i <= m; i++) q[++n] = k[i]
			}
		}'
}

# kill_pid PID [GRACE_S]: SIGTERM, wait up to GRACE_S (default 3), then SIGKILL; reaps
# it when it is our child. Does nothing when the PID is not alive.
kill_pid() {
	local pid=$1 grace=${2:-3} i n
	[ -n "$pid" ] || return 0
	if alive "$pid"; then
		kill -TERM "$pid" 2>/dev/null
		n=$(awk -v g="$grace" 'BEGIN { printf "%d", g * 10 }')
		for ((i = 0; i < n; i++)); do
			alive "$pid" || break
			sleep 0.1
		done
		if alive "$pid"; then kill -KILL "$pid" 2>/dev/null; fi
	fi
	wait "$pid" 2>/dev/null
	return 0
}

it_cleanup() {
	local rc=$? pid start p
	trap - EXIT INT TERM HUP
	[ -n "$T" ] || exit "$rc"
	# Everything below this shell, remembered with its start time before anything
	# is stopped (a helper whose parent dies is re-parented, and a PID can be reused).
	local -a snap=()
	for pid in $(descendants $$) $(pgrep -f -- "$T" 2>/dev/null); do
		[ "$pid" = "$BASHPID" ] && continue
		start=$(pid_start "$pid") && snap+=("$pid:$start")
	done
	# ExaBGP first: it tells its helper to shut down. Then healthd, nginx, BIRD.
	kill_pid "$EXABGP_PID" 5
	[ -n "$HEALTHD_PID" ] && [ "$(pid_start "$HEALTHD_PID")" = "${HEALTHD_START:-x}" ] && kill_pid "$HEALTHD_PID" 3
	kill_pid "$NGINX_PID" 3
	if [ -n "$BIRD_PIDFILE" ] && [ -s "$BIRD_PIDFILE" ]; then
		p=$(cat "$BIRD_PIDFILE")
		[ "$p" = "$BIRD_PID" ] || [ "$(pid_start "$p")" = "${BIRD_START:-x}" ] && kill_pid "$p" 3
	fi
	kill_pid "$BIRD_PID" 3
	# Whatever is left (exec-check grandchildren, nginx workers): SIGKILL by PID.
	for p in "${snap[@]}"; do
		pid=${p%%:*}
		start=${p#*:}
		[ "$(pid_start "$pid" 2>/dev/null)" = "$start" ] && kill -KILL "$pid" 2>/dev/null
	done
	for p in "${snap[@]}"; do wait "${p%%:*}" 2>/dev/null; done
	# A script's own teardown (network namespaces, ...), after its processes are gone.
	if declare -F it_extra_cleanup >/dev/null; then it_extra_cleanup; fi
	if [ "${IT_KEEP:-0}" = 1 ]; then
		echo "# kept $T" >&2
	else
		rm -rf -- "$T"
	fi
	exit "$rc"
}

# ---------------------------------------------------------------- ports
# free_port: a TCP port in 20000-32767 (below Linux's ephemeral range) that nothing
# uses and this script has not handed out yet. Bounded tries.
free_port() {
	local i p
	for ((i = 0; i < 200; i++)); do
		p=$((20000 + SRANDOM % 12768))
		case $IT_PORTS in *" $p "*) continue ;; esac
		if [ -z "$(ss -Htan "( sport = :$p )" 2>/dev/null)" ]; then
			IT_PORTS="$IT_PORTS$p "
			printf '%s\n' "$p"
			return 0
		fi
	done
	echo "no free port found" >&2
	return 1
}

# wait_tcp HOST PORT TIMEOUT_S: true once HOST:PORT accepts a connection.
wait_tcp() {
	local host=$1 port=$2 t0 i n
	n=$(awk -v s="$3" 'BEGIN { printf "%d", s * 10 + 1 }')
	t0=$(now)
	for ((i = 0; i < n; i++)); do
		if timeout 1 bash -c ": >/dev/tcp/$host/$port" 2>/dev/null; then
			ELAPSED=$(since "$t0")
			return 0
		fi
		sleep 0.1
	done
	ELAPSED=$(since "$t0")
	return 1
}

# ---------------------------------------------------------------- nginx
# start_nginx: a real nginx on $SERVICE_ADDR:$NGINX_PORT (picked the first time,
# kept across restarts), foreground master in the background, PID in $NGINX_PID.
start_nginx() {
	local d=$T/nginx
	if [ -z "$NGINX_PORT" ]; then
		NGINX_PORT=$(free_port) || return 1
		mkdir -p "$d"
		cat >"$d/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $d/tmp_body;
	proxy_temp_path $d/tmp_proxy;
	fastcgi_temp_path $d/tmp_fastcgi;
	uwsgi_temp_path $d/tmp_uwsgi;
	scgi_temp_path $d/tmp_scgi;
	server {
		listen $SERVICE_ADDR:$NGINX_PORT;
		location / { return 200 "ok\n"; }
	}
}
EOF
		nginx -t -q -p "$d" -c "$d/nginx.conf" -e "$d/error.log" || return 1
	fi
	nginx -p "$d" -c "$d/nginx.conf" -e "$d/error.log" </dev/null >>"$d/stdout.log" 2>&1 &
	NGINX_PID=$!
	if ! wait_tcp "$SERVICE_ADDR" "$NGINX_PORT" 5; then
		echo "nginx did not start listening on $SERVICE_ADDR:$NGINX_PORT" >&2
		return 1
	fi
}

stop_nginx() {
	kill_pid "$NGINX_PID" 5
	NGINX_PID=""
	# Workers exit with the master; make sure nothing answers any more (bounded).
	local i
	for ((i = 0; i < 50; i++)); do
		timeout 1 bash -c ": >/dev/tcp/$SERVICE_ADDR/$NGINX_PORT" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

# ---------------------------------------------------------------- BIRD
# start_bird: BIRD 2 on $BIRD_ADDR:$BGP_PORT, passive, eBGP multihop from ExaBGP at
# $EXA_ADDR; imports everything (ipv4 and ipv6), exports nothing, no kernel protocol
# (nothing reaches the host's routing table).
start_bird() {
	[ -n "$BGP_PORT" ] || BGP_PORT=$(free_port) || return 1
	BIRD_SOCK=$T/bird.ctl
	BIRD_PIDFILE=$T/bird.pid
	cat >"$T/bird.conf" <<EOF
log "$T/bird.log" all;
router id $BIRD_ADDR;
protocol device { }
protocol bgp exa {
	local $BIRD_ADDR port $BGP_PORT as $BIRD_AS;
	neighbor $EXA_ADDR port $BGP_PORT as $EXA_AS;
	multihop 2;
	strict bind on;
	passive on;
	connect retry time 1;
	error wait time 1, 5;
	ipv4 { import all; export none; };
	ipv6 { import all; export none; };
}
EOF
	bird -p -c "$T/bird.conf" || return 1
	bird -f -c "$T/bird.conf" -s "$BIRD_SOCK" -P "$BIRD_PIDFILE" </dev/null >>"$T/bird.out" 2>&1 &
	BIRD_PID=$!
	local i
	for ((i = 0; i < 50; i++)); do
		if [ -S "$BIRD_SOCK" ] && birdc_ show status >/dev/null 2>&1; then
			BIRD_START=$(pid_start "$BIRD_PID")
			return 0
		fi
		sleep 0.1
	done
	echo "BIRD did not come up" >&2
	return 1
}

birdc_() { timeout 5 birdc -s "$BIRD_SOCK" "$@"; }

# wait_established TIMEOUT_S: the BGP session between ExaBGP and BIRD is up.
wait_established() {
	local t0 i n
	n=$(awk -v s="$1" 'BEGIN { printf "%d", s * 5 + 1 }')
	t0=$(now)
	for ((i = 0; i < n; i++)); do
		if birdc_ show protocols exa 2>/dev/null | grep -q Established; then
			ELAPSED=$(since "$t0")
			return 0
		fi
		sleep 0.2
	done
	ELAPSED=$(since "$t0")
	return 1
}

# route_present PREFIX: BIRD has a route for exactly PREFIX (from any protocol).
route_present() {
	birdc_ show route "$1" 2>/dev/null | awk -v p="$1" '$1 == p { f = 1 } END { exit !f }'
}

# route_line PREFIX: BIRD's line for the route to exactly PREFIX (its source, import time
# and attributes), empty when there is none. A birdc that fails (a busy machine) is asked
# again, up to 3 times, so a failed read is not taken for a changed route.
route_line() {
	local i out
	for ((i = 0; i < 3; i++)); do
		if out=$(birdc_ show route "$1" 2>/dev/null); then
			awk -v p="$1" '$1 == p { print; exit }' <<<"$out"
			return 0
		fi
		sleep 0.2
	done
	return 1
}

# route_same PREFIX LINE: BIRD's line for PREFIX is still LINE (an earlier route_line): the
# same source and attributes, and the same import time. BIRD keeps that time on its
# monotonic clock and converts it to the wall clock at each read, so the same import can
# read a millisecond apart (12:00:00.399, then .400); times within 50 ms are the same
# import. Callers wait more than a second after the import before they act, so a route
# imported again reads far later. ROUTE_READS holds the read that differed, for not_ok.
route_same() {
	local line
	ROUTE_READS=()
	if ! line=$(route_line "$1"); then
		ROUTE_READS=("$1: birdc failed 3 times")
		return 1
	fi
	awk -v a="$line" -v b="$2" '
		function ms(t, p) { split(t, p, /[:.]/); return ((p[1] * 60 + p[2]) * 60 + p[3]) * 1000 + p[4] }
		# rest(LINE): LINE with its hh:mm:ss.mmm replaced by T; TIME gets the milliseconds.
		function rest(l, n, w, i, out) {
			n = split(l, w, /[ \t]+/)
			TIME = -1
			for (i = 1; i <= n; i++) {
				if (w[i] ~ /^[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\.[0-9][0-9][0-9]$/) { TIME = ms(w[i]); w[i] = "T" }
				out = out " " w[i]
			}
			return out
		}
		BEGIN {
			ra = rest(a); ta = TIME; rb = rest(b); tb = TIME
			d = ta - tb; if (d < 0) d = -d
			if (d > 43200000) d = 86400000 - d # across midnight
			exit !(a != "" && ra == rb && ta >= 0 && tb >= 0 && d <= 50)
		}' && return 0
	ROUTE_READS=("$1 now: ${line:-(no route)}")
	return 1
}

# wait_route_present PREFIX TIMEOUT_S / wait_route_absent PREFIX TIMEOUT_S: poll BIRD
# every 0.2 s, at most TIMEOUT_S; ELAPSED holds the seconds it took (or waited).
wait_route_present() { _wait_route present "$@"; }
wait_route_absent() { _wait_route absent "$@"; }
_wait_route() {
	local want=$1 prefix=$2 limit=$3 t0 i n
	n=$(awk -v s="$limit" 'BEGIN { printf "%d", s * 5 + 1 }')
	t0=$(now)
	for ((i = 0; i < n; i++)); do
		if route_present "$prefix"; then
			[ "$want" = present ] && { ELAPSED=$(since "$t0"); return 0; }
		else
			[ "$want" = absent ] && { ELAPSED=$(since "$t0"); return 0; }
		fi
		le "$(since "$t0")" "$limit" || break
		sleep 0.2
	done
	ELAPSED=$(since "$t0")
	return 1
}

# stays_absent PREFIX SECONDS / stays_present PREFIX SECONDS: the route's presence
# never changes during SECONDS (polled every 0.2 s).
stays_absent() { _stays absent "$@"; }
stays_present() { _stays present "$@"; }
_stays() {
	local want=$1 prefix=$2 t0 i n
	n=$(awk -v s="$3" 'BEGIN { printf "%d", s * 5 + 1 }')
	t0=$(now)
	for ((i = 0; i < n; i++)); do
		if route_present "$prefix"; then
			[ "$want" = present ] || return 1
		else
			[ "$want" = absent ] || return 1
		fi
		le "$(since "$t0")" "$3" || break
		sleep 0.2
	done
	return 0
}

# ---------------------------------------------------------------- ExaBGP
# write_exabgp RUN_COMMAND: env file and config; ExaBGP spawns RUN_COMMAND (split on
# blanks by ExaBGP, so no quoting) as helper "healthd", never respawns it, and
# peers with BIRD. ExaBGP resolves relative --env/config paths against its own etc
# directory, so every path is absolute.
write_exabgp() {
	[ -n "$BGP_PORT" ] || BGP_PORT=$(free_port) || return 1
	cat >"$T/exabgp.env" <<EOF
[exabgp.daemon]
user = 'root'
drop = false
daemonize = false
pid = ''

[exabgp.tcp]
port = $BGP_PORT

[exabgp.api]
respawn = false
cli = false
ack = true

[exabgp.log]
destination = '$T/exabgp.log'
EOF
	# "connect": ExaBGP's outgoing port comes from the neighbor (or the process
	# environment), not from the env file's tcp.port (that one is the listen port).
	cat >"$T/exabgp.conf" <<EOF
process healthd {
	run $1;
	encoder text;
	respawn false;
}

neighbor $BIRD_ADDR {
	router-id $EXA_ADDR;
	local-address $EXA_ADDR;
	local-as $EXA_AS;
	peer-as $BIRD_AS;
	connect $BGP_PORT;
	family {
		ipv4 unicast;
		ipv6 unicast;
	}
	api {
		processes [ healthd ];
	}
}
EOF
}

# start_exabgp [RUN_COMMAND]: (re)write the config when given one, start ExaBGP in
# the foreground, in the background; $EXABGP_PID. Its stdout/stderr (and so the
# helper's stderr) go to $T/exabgp.out.
start_exabgp() {
	if [ $# -gt 0 ]; then write_exabgp "$1" || return 1; fi
	HEALTHD_PID="" HEALTHD_START=""
	exabgp --env "$T/exabgp.env" "$T/exabgp.conf" </dev/null >>"$T/exabgp.out" 2>&1 &
	EXABGP_PID=$!
}

stop_exabgp() {
	kill_pid "$EXABGP_PID" "${1:-5}"
	EXABGP_PID=""
}

# find_helper TIMEOUT_S: $HEALTHD_PID := the helper ExaBGP spawned (its child).
find_helper() {
	local i n p
	n=$(awk -v s="$1" 'BEGIN { printf "%d", s * 10 + 1 }')
	for ((i = 0; i < n; i++)); do
		for p in $(pgrep -P "$EXABGP_PID" 2>/dev/null); do
			if alive "$p"; then
				HEALTHD_PID=$p
				HEALTHD_START=$(pid_start "$p")
				return 0
			fi
		done
		sleep 0.1
	done
	return 1
}

# wait_gone PID TIMEOUT_S: true once PID has exited (or is a zombie).
wait_gone() {
	local i n
	n=$(awk -v s="$2" 'BEGIN { printf "%d", s * 10 + 1 }')
	for ((i = 0; i < n; i++)); do
		alive "$1" || return 0
		sleep 0.1
	done
	return 1
}

# wait_for TIMEOUT_S CMD...: true once CMD succeeds, tried every 0.1 s for at most
# TIMEOUT_S.
wait_for() {
	local i n
	n=$(awk -v s="$1" 'BEGIN { printf "%d", s * 10 + 1 }')
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# ---------------------------------------------------------------- healthd configs
# dur_s "200ms"|"2s"|"1m"|1.5: seconds, as a decimal.
dur_s() {
	awk -v d="$1" 'BEGIN {
		if (d ~ /ms$/) { sub(/ms$/, "", d); printf "%.3f\n", d / 1000 }
		else if (d ~ /s$/) { sub(/s$/, "", d); printf "%.3f\n", d }
		else if (d ~ /m$/) { sub(/m$/, "", d); printf "%.3f\n", d * 60 }
		else printf "%.3f\n", d }'
}
