# shellcheck shell=bash
# The BIRD lab for healthd's BIRD backend (on top of lib.sh): healthd drives the
# "speaker" BIRD through its control socket; the speaker peers over loopback with a
# second BIRD, the "peer", which only receives. Assertions look at the peer: what the
# rest of the network would see.
#
#   source tests/integration/lib_bird.sh
#   bird_lab_init                        # lib.sh's it_init + tools + $LAB_PORT
#   write_speaker "$(static_protocols)" EXPORT_FILTER   # $T/spk.conf
#   start_peer; start_speaker; wait_session 20
#   start_healthd "$T/healthd.json"      # $HEALTHD_PID, stderr in $T/healthd.err
#   wait_peer_routes "192.0.2.1/32 2001:db8::1/128" 10   # exactly this set
#   configures                           # "Reconfiguring" lines in the speaker's log
#   start_listener PORT / stop_listener PORT   # a TCP service the test switches
#
# Addresses: speaker 127.0.0.4 (AS 65004), peer 127.0.0.5 (AS 65005); services listen
# on 127.0.0.1. Every process is a child of the test and stopped by PID at exit.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# shellcheck disable=SC2034 # globals for the scripts that source this file
SPK_ADDR=127.0.0.4
SPK_AS=65004
PEER_ADDR=127.0.0.5
PEER_AS=65005
SPK_SOCK="" SPK_PID="" PEER_SOCK="" PEER_PID="" LAB_PORT=""
declare -A LISTENER_PID=()
PY=/usr/bin/python3 # Debian's (ExaBGP's); not whatever python3 is first on the PATH

bird_lab_exit() {
	local rc=$? p
	stop_healthd 3 >/dev/null 2>&1
	for p in "${LISTENER_PID[@]}"; do kill_pid "$p" 2; done
	kill_pid "$SPK_PID" 3
	kill_pid "$PEER_PID" 3
	(exit "$rc")
	it_cleanup
}

bird_lab_init() {
	it_init
	it_need bird birdc nginx "$PY"
	it_need_healthd
	trap bird_lab_exit EXIT
	LAB_PORT=$(free_port) || exit 1
	SPK_SOCK=$T/spk.ctl
	PEER_SOCK=$T/peer.ctl
}

# Print the last lines of the lab's own logs (lib.sh's it_diag knows lib.sh's files).
bird_lab_diag() {
	it_tail 30 "$T"/spk.log "$T"/peer.log "$T"/healthd.err "$T"/birdc.out
}

bird_lab_finish() {
	if [ "$FAIL" -ne 0 ]; then bird_lab_diag; fi
	it_finish
}

# write_speaker BODY [EXPORT4 [EXPORT6]]: the speaker's config: BODY (the protocols
# healthd switches, or the static protocols with its include files) and a BGP session
# to the peer. The default export filter passes every route and re-sets bgp_med: BIRD
# sends an eBGP neighbor the MED only when the export filter set it (examples/bird.conf).
write_speaker() {
	cat >"$T/spk.conf" <<EOF
log "$T/spk.log" all;
router id $SPK_ADDR;
protocol device { }
filter healthd_export {
	if defined(bgp_med) then bgp_med = bgp_med;
	accept;
}
$1
protocol bgp peer {
	local $SPK_ADDR port $LAB_PORT as $SPK_AS;
	neighbor $PEER_ADDR port $LAB_PORT as $PEER_AS;
	multihop 2;
	strict bind on;
	connect delay time 1;
	connect retry time 1;
	error wait time 1, 5;
	ipv4 { import none; export ${2:-filter healthd_export}; };
	ipv6 { import none; export ${3:-filter healthd_export}; next hop address ::1; };
}
EOF
}

write_peer() {
	cat >"$T/peer.conf" <<EOF
log "$T/peer.log" all;
router id $PEER_ADDR;
protocol device { }
protocol bgp speaker {
	local $PEER_ADDR port $LAB_PORT as $PEER_AS;
	neighbor $SPK_ADDR port $LAB_PORT as $SPK_AS;
	multihop 2;
	strict bind on;
	passive on;
	error wait time 1, 5;
	ipv4 { import all; export none; };
	ipv6 { import all; export none; next hop address ::1; };
}
EOF
}

# _start_bird NAME CONF SOCK: BIRD in the foreground, in the background; prints its PID
# once its socket answers (bounded), nothing when it did not come up.
_start_bird() {
	local name=$1 conf=$2 sock=$3 pid i
	bird -p -c "$conf" || return 1
	bird -f -c "$conf" -s "$sock" -P "$T/$name.pid" </dev/null >>"$T/$name.out" 2>&1 &
	pid=$!
	for ((i = 0; i < 50; i++)); do
		if [ -S "$sock" ] && timeout 5 birdc -s "$sock" show status >/dev/null 2>&1; then
			printf '%s\n' "$pid"
			return 0
		fi
		alive "$pid" || break
		sleep 0.1
	done
	kill_pid "$pid" 2
	return 1
}

start_peer() {
	write_peer
	PEER_PID=$(_start_bird peer "$T/peer.conf" "$PEER_SOCK") || {
		echo "the peer BIRD did not come up" >&2
		return 1
	}
}

start_speaker() {
	SPK_PID=$(_start_bird spk "$T/spk.conf" "$SPK_SOCK") || {
		echo "the speaker BIRD did not come up" >&2
		return 1
	}
}

# kill_speaker: SIGKILL, as a crash would: no clean shutdown, the socket file stays.
kill_speaker() {
	[ -n "$SPK_PID" ] && kill -KILL "$SPK_PID" 2>/dev/null
	wait "$SPK_PID" 2>/dev/null
	SPK_PID=""
}

spk_birdc() { timeout 5 birdc -s "$SPK_SOCK" "$@"; }
peer_birdc() { timeout 5 birdc -s "$PEER_SOCK" "$@"; }

# wait_session TIMEOUT_S: the BGP session speaker -> peer is established.
wait_session() {
	local i n
	n=$(awk -v s="$1" 'BEGIN { printf "%d", s * 5 + 1 }')
	for ((i = 0; i < n; i++)); do
		peer_birdc show protocols speaker 2>/dev/null | grep -q Established && return 0
		sleep 0.2
	done
	return 1
}

# routes_of CMD...: the prefixes `CMD show route` lists, sorted, on one line.
routes_of() {
	"$@" show route 2>/dev/null |
		awk '$1 ~ /^[0-9a-f:.]+\/[0-9]+$/ { print $1 }' | sort | tr '\n' ' ' | sed 's/ $//'
}

# wait_routes_of FUNC "P1 P2 ..." TIMEOUT_S: FUNC (peer_routes, bird_routes) gives exactly
# these prefixes (any order; "" for none). ELAPSED: seconds it took; ROUTES_NOW: what it
# gave last.
# shellcheck disable=SC2034 # ELAPSED and ROUTES_NOW are for the caller
wait_routes_of() {
	local want t0 i n
	want=$(tr ' ' '\n' <<<"$2" | sed '/^$/d' | sort | tr '\n' ' ' | sed 's/ $//')
	n=$(awk -v s="$3" 'BEGIN { printf "%d", s * 5 + 1 }')
	t0=$(now)
	for ((i = 0; i < n; i++)); do
		ROUTES_NOW=$("$1")
		if [ "$ROUTES_NOW" = "$want" ]; then
			ELAPSED=$(since "$t0")
			return 0
		fi
		le "$(since "$t0")" "$3" || break
		sleep 0.2
	done
	ELAPSED=$(since "$t0")
	return 1
}

# peer_routes: the prefixes the peer has, sorted, on one line.
peer_routes() { routes_of peer_birdc; }

# wait_peer_routes "P1 P2 ..." TIMEOUT_S: the peer has exactly these prefixes.
# ELAPSED: seconds it took; PEER_NOW: what it had last.
# shellcheck disable=SC2034 # PEER_NOW is for the caller
wait_peer_routes() {
	local rc
	wait_routes_of peer_routes "$1" "$2"
	rc=$?
	PEER_NOW=$ROUTES_NOW
	return $rc
}

# peer_routes_stay "P1 ..." SECONDS: the peer's set never differs during SECONDS.
peer_routes_stay() {
	local want t0
	want=$(tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort | tr '\n' ' ' | sed 's/ $//')
	t0=$(now)
	while le "$(since "$t0")" "$2"; do
		PEER_NOW=$(peer_routes)
		[ "$PEER_NOW" = "$want" ] || return 1
		sleep 0.2
	done
	return 0
}

# configures: how many reconfigurations the speaker BIRD has logged so far.
configures() {
	grep -c 'Reconfiguring' "$T/spk.log" 2>/dev/null || true
}

# start_healthd CONF: healthd run -c CONF, in the background; $HEALTHD_PID.
start_healthd() {
	"$HEALTHD" run -c "$1" </dev/null >>"$T/healthd.out" 2>>"$T/healthd.err" &
	HEALTHD_PID=$!
	HEALTHD_START=$(pid_start "$HEALTHD_PID")
}

# stop_healthd [GRACE_S]: SIGTERM and wait (bounded); its exit status in HEALTHD_RC.
stop_healthd() {
	local i n
	HEALTHD_RC=""
	[ -n "$HEALTHD_PID" ] || return 0
	alive "$HEALTHD_PID" && kill -TERM "$HEALTHD_PID" 2>/dev/null
	n=$((${1:-5} * 10))
	for ((i = 0; i < n; i++)); do
		alive "$HEALTHD_PID" || break
		sleep 0.1
	done
	if alive "$HEALTHD_PID"; then
		kill -KILL "$HEALTHD_PID" 2>/dev/null
		wait "$HEALTHD_PID" 2>/dev/null
		HEALTHD_RC=killed
	else
		wait "$HEALTHD_PID"
		HEALTHD_RC=$?
	fi
	HEALTHD_PID=""
	[ "$HEALTHD_RC" != killed ]
}

# start_listener PORT: a TCP service on 127.0.0.1:PORT that accepts and closes.
start_listener() {
	"$PY" -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(128)
while True:
    c, _ = s.accept()
    c.close()
' "$1" </dev/null >/dev/null 2>&1 &
	LISTENER_PID[$1]=$!
	wait_tcp 127.0.0.1 "$1" 5
}

stop_listener() {
	kill_pid "${LISTENER_PID[$1]:-}" 2
	unset "LISTENER_PID[$1]"
}

# ---------------------------------------------------------------- ExaBGP -> BIRD lab
# lib.sh's lab (healthd under a real ExaBGP, peering with a real BIRD) for tests that
# watch many services at once: the whole set of prefixes BIRD has.
#
#   exa_lab_start "$T/healthd.json" || ...   # BIRD, ExaBGP + healthd, session up
#   wait_bird_routes "P1 P2 ..." 10          # BIRD has exactly this set

# exa_lab_start CONF: lib.sh's BIRD, then ExaBGP running "healthd run -c CONF";
# $HEALTHD_PID once the session is established. Bounded; says what failed on stderr.
exa_lab_start() {
	start_bird || return 1
	start_exabgp "$HEALTHD run -c $1" || return 1
	find_helper 10 || {
		echo "ExaBGP did not spawn healthd within 10s" >&2
		return 1
	}
	wait_established 20 || {
		echo "no BGP session ExaBGP -> BIRD within 20s" >&2
		return 1
	}
}

# bird_routes: the prefixes lib.sh's BIRD has, sorted, on one line.
bird_routes() { routes_of birdc_; }

# wait_bird_routes "P1 P2 ..." TIMEOUT_S: BIRD has exactly these prefixes ("" for none).
# ELAPSED: seconds it took; BIRD_NOW: what it had last.
# shellcheck disable=SC2034 # BIRD_NOW is for the caller
wait_bird_routes() {
	local rc
	wait_routes_of bird_routes "$1" "$2"
	rc=$?
	BIRD_NOW=$ROUTES_NOW
	return $rc
}
