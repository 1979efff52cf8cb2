#!/usr/bin/env bash
# BIRD static mode: a withdrawal never waits for the batch window, and a flapping service
# still costs a bounded number of configures. One real BIRD 2 (no peer: what counts is
# what that BIRD's `show route` has):
#   (a) batch 5s, configure_gap 0: a service that fails is gone from BIRD well within the
#       window (under 2.5 s from healthd's "-> DOWN" log line), while a service that comes
#       back waits for it (at least 4 s from its "-> UP" line);
#   (b) the same config, a service flapping every 300 ms for 8 s: configures stay at one
#       per batch window (the bound when configure_gap is 0);
#   (c) the defaults (batch 100ms, configure_gap 1s): the same storm costs at most one
#       configure per second, and the route ends as the service; a single withdrawal after
#       a quiet spell is at BIRD within 2 s of its log line.
# The times are measured from healthd's own millisecond stamps (TZ=UTC) to this script
# seeing the route gone in `birdc show route` (polled every 50 ms; under load one birdc
# run can take half a second, healthd itself needs tens of ms): generous bounds.
#
#   HEALTHD=/abs/path/healthd bash tests/integration/test_bird_static_fast.sh
set -u
export TZ=UTC # healthd's log stamps are local time: make them UTC for date -d
# shellcheck source-path=SCRIPTDIR source=lib_bird.sh
. "$(dirname "$0")/lib_bird.sh"

bird_lab_init

NET=127.0.123
SVC_ADDR=$NET.1
SPK_ADDR=$NET.4
SOLO=198.51.100.90/32 STORM=198.51.100.91/32
INC4=$T/healthd-routes.conf INC6=$T/healthd-routes6.conf
SOLO_PORT=$(free_port) || exit 1
STORM_PORT=$(free_port) || exit 1
SOLO_PID="" STORM_PID=""

# listener PORT [FLAG]: a TCP listener on $SVC_ADDR:PORT; while the file FLAG exists it
# closes its socket in every other 300 ms slice (connections refused), else it listens.
# The kernel answers the connects, so a loaded machine makes no flap of its own.
listener() {
	"$PY" -c '
import os, select, socket, sys, time
addr, port, flag = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = None
while True:
    up = not (flag and os.path.exists(flag)) or int(time.time() / 0.3) % 2 == 0
    if up and s is None:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, port))
        s.listen(128)
    elif not up and s is not None:
        s.close()
        s = None
    if s is None:
        time.sleep(0.01)
        continue
    if select.select([s], [], [], 0.01)[0]:
        c, _ = s.accept()
        c.close()
' "$SVC_ADDR" "$1" "${2:-}" </dev/null >/dev/null 2>&1 &
	LISTENER=$!
	wait_tcp "$SVC_ADDR" "$1" 5
}
solo_up() {
	listener "$SOLO_PORT"
	SOLO_PID=$LISTENER
	wait_tcp "$SVC_ADDR" "$SOLO_PORT" 5
}
solo_down() {
	kill_pid "$SOLO_PID" 2
	SOLO_PID=""
}

spk_routes() { routes_of spk_birdc; }
# stamp_of LINE: healthd's stamp at the head of a log line, as seconds since the epoch
stamp_of() { date -d "${1%% *}" +%s.%N 2>/dev/null; }
# log_wait REGEX N TIMEOUT_S: the REGEX's Nth line in healthd.err, once it is there
log_wait() {
	local i n line
	n=$(awk -v s="$3" 'BEGIN { printf "%d", s * 20 + 1 }')
	for ((i = 0; i < n; i++)); do
		line=$(grep -E -- "$1" "$T/healthd.err" | sed -n "${2}p")
		if [ -n "$line" ]; then
			printf '%s\n' "$line"
			return 0
		fi
		sleep 0.05
	done
	return 1
}
# until_route present|absent PFX TIMEOUT_S: poll BIRD every 50 ms; SEEN is the time
until_route() {
	local i n have
	n=$(awk -v s="$3" 'BEGIN { printf "%d", s * 20 + 1 }')
	for ((i = 0; i < n; i++)); do
		have=" $(spk_routes) "
		SEEN=$EPOCHREALTIME
		case $have in
		*" $2 "*) [ "$1" = present ] && return 0 ;;
		*) [ "$1" = absent ] && return 0 ;;
		esac
		sleep 0.05
	done
	return 1
}
count() { grep -cE -- "$1" "$2" 2>/dev/null || true; }

: >"$INC4"
: >"$INC6"
cat >"$T/spk.conf" <<EOF
log "$T/spk.log" all;
router id $SPK_ADDR;
protocol device { }
protocol static healthd4 {
	ipv4;
	include "$INC4";
}
protocol static healthd6 {
	ipv6;
	include "$INC6";
}
EOF
if ! start_speaker; then
	not_ok "BIRD starts"
	bird_lab_finish
	exit
fi
solo_up || not_ok "the solo listener starts"
listener "$STORM_PORT" "$T/storm.on" || not_ok "the storm listener starts"
STORM_PID=$LISTENER

hd_config() { # SPEAKER_EXTRA
	cat <<EOF
{
	"speaker": { "type": "bird", "socket": "$SPK_SOCK", "include": "$INC4", "include6": "$INC6"$1 },
	"services": [
		{ "name": "solo", "prefixes": [ "$SOLO" ],
		  "interval": "300ms", "fast_interval": "100ms", "timeout": "200ms", "rise": 2, "fall": 2,
		  "checks": [ { "type": "tcp", "host": "$SVC_ADDR", "port": $SOLO_PORT } ] },
		{ "name": "storm", "prefixes": [ "$STORM" ],
		  "interval": "150ms", "fast_interval": "150ms", "timeout": "140ms", "rise": 1, "fall": 1,
		  "checks": [ { "type": "tcp", "host": "$SVC_ADDR", "port": $STORM_PORT } ] }
	]
}
EOF
}
hd_config ', "batch": "5s", "configure_gap": "0s"' >"$T/slow-batch.json"
hd_config '' >"$T/defaults.json"
for f in slow-batch defaults; do
	if "$HEALTHD" check -c "$T/$f.json" >/dev/null 2>"$T/check.err"; then
		ok "$f.json is valid"
	else
		not_ok "$f.json is valid" "$(head -5 "$T/check.err")"
		bird_lab_finish
		exit
	fi
done

# storm SECONDS: flap the storm service; prints "TRANSITIONS CONFIGURES WINDOW_S", counted
# from its start to the end of the last configure's wait (SETTLE_S after the storm)
storm() {
	local t0 tr0 cf0 tr1 cf1
	t0=$(now)
	tr0=$(count 'service storm: .* -> ' "$T/healthd.err")
	cf0=$(configures)
	: >"$T/storm.on"
	sleep "$1"
	rm -f "$T/storm.on"
	sleep "$SETTLE_S"
	tr1=$(count 'service storm: .* -> ' "$T/healthd.err")
	cf1=$(configures)
	printf '%d %d %s\n' "$((tr1 - tr0))" "$((cf1 - cf0))" "$(since "$t0")"
}

# ---- (a) batch 5s, configure_gap 0 --------------------------------------------------------
start_healthd "$T/slow-batch.json"
if until_route present "$SOLO" 15 && until_route present "$STORM" 5; then ok "(a) both services announced at BIRD"; else not_ok "(a) both services announced at BIRD" "BIRD has: $(spk_routes)"; fi
sleep 5.5 # the last window closes: nothing in flight, the quiet spell of an operator's day
solo_down
if line=$(log_wait 'service solo: .* -> DOWN' 1 10) && until_route absent "$SOLO" 10; then
	d=$(awk -v a="$(stamp_of "$line")" -v b="$SEEN" 'BEGIN { printf "%.3f", b - a }')
	if le "$d" 2.5; then
		ok "(a) the withdrawal is at BIRD ${d}s after healthd decided it, not after the 5s window"
	else
		not_ok "(a) the withdrawal is at BIRD within 2.5s of the decision (batch 5s)" "took ${d}s"
	fi
else
	not_ok "(a) solo goes down and leaves BIRD" "BIRD has: $(spk_routes)"
fi
solo_up || not_ok "(a) the solo listener restarts"
if line=$(log_wait 'service solo: .* -> UP' 2 10) && until_route present "$SOLO" 10; then
	d=$(awk -v a="$(stamp_of "$line")" -v b="$SEEN" 'BEGIN { printf "%.3f", b - a }')
	if le 4 "$d"; then
		ok "(a) the announcement waits for the window: at BIRD ${d}s after healthd decided it"
	else
		not_ok "(a) the announcement waits for the 5s window" "at BIRD after ${d}s"
	fi
else
	not_ok "(a) solo comes back at BIRD" "BIRD has: $(spk_routes)"
fi
sleep 5.5

# ---- (b) the storm with batch 5s, configure_gap 0 -----------------------------------------
SETTLE_S=5.5
read -r tr cf win < <(storm 8)
bound=$(awk -v w="$win" 'BEGIN { printf "%d", w / 5 + 1 }')
if [ "$tr" -ge 10 ] && [ "$cf" -ge 1 ] && [ "$cf" -le "$bound" ]; then
	ok "(b) batch 5s, gap 0: $tr state changes in ${win}s cost $cf configures (at most $bound)"
else
	not_ok "(b) batch 5s, gap 0: at least 10 state changes, 1 to $bound configures" "$tr changes, $cf configures in ${win}s"
fi
if until_route present "$STORM" 5 && until_route present "$SOLO" 1; then ok "(b) after the storm both routes are at BIRD"; else not_ok "(b) after the storm both routes are at BIRD" "BIRD has: $(spk_routes)"; fi
stop_healthd 5 || not_ok "(b) healthd stops on SIGTERM"

# ---- (c) the defaults: batch 100ms, configure_gap 1s --------------------------------------
start_healthd "$T/defaults.json"
if until_route present "$SOLO" 15 && until_route present "$STORM" 5; then ok "(c) defaults: both services announced at BIRD"; else not_ok "(c) defaults: both services announced at BIRD" "BIRD has: $(spk_routes)"; fi
SETTLE_S=2
read -r tr cf win < <(storm 8)
bound=$(awk -v w="$win" 'BEGIN { printf "%d", w / 1 + 1 }')
if [ "$tr" -ge 10 ] && [ "$cf" -ge 1 ] && [ "$cf" -le "$bound" ]; then
	ok "(c) defaults: $tr state changes in ${win}s cost $cf configures (at most $bound)"
else
	not_ok "(c) defaults: at least 10 state changes, 1 to $bound configures" "$tr changes, $cf configures in ${win}s"
fi
if until_route present "$STORM" 5 && until_route present "$SOLO" 1; then ok "(c) after the storm both routes are at BIRD"; else not_ok "(c) after the storm both routes are at BIRD" "BIRD has: $(spk_routes)"; fi
downs=$(count 'service solo: .* -> DOWN' "$T/healthd.err")
solo_down
if line=$(log_wait 'service solo: .* -> DOWN' $((downs + 1)) 10) && until_route absent "$SOLO" 10; then
	d=$(awk -v a="$(stamp_of "$line")" -v b="$SEEN" 'BEGIN { printf "%.3f", b - a }')
	if le "$d" 2; then ok "(c) defaults: a withdrawal after a quiet spell is at BIRD ${d}s after the decision"; else not_ok "(c) defaults: the withdrawal is at BIRD within 2s of the decision" "took ${d}s"; fi
else
	not_ok "(c) defaults: solo leaves BIRD" "BIRD has: $(spk_routes)"
fi
if stop_healthd 5 && [ "$HEALTHD_RC" = 0 ]; then ok "(c) healthd exits 0 on SIGTERM"; else not_ok "(c) healthd exits 0 on SIGTERM" "status $HEALTHD_RC"; fi
if until_route absent "$STORM" 5; then ok "(c) SIGTERM: BIRD has no route left"; else not_ok "(c) SIGTERM: BIRD has no route left" "BIRD has: $(spk_routes)"; fi
bad=$(grep -E 'BIRD refused|cannot replace|not a reply|did not greet' "$T/healthd.err" | head -n 3)
if [ -z "$bad" ]; then ok "no error from BIRD or the include files"; else not_ok "no error from BIRD or the include files" "$bad"; fi

solo_down
kill_pid "$STORM_PID" 2
bird_lab_finish
