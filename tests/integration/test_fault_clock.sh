#!/usr/bin/env bash
# The machine's clock stepped back by an hour, then forward by an hour, then forward by
# another (an operator's date -s, an NTP step): healthd must neither run its checks in a
# burst nor stop running them, and the routes at BIRD must stay right and keep following
# the services.
#
# How the clock is stepped: Debian's libfaketime, preloaded into healthd only (a
# wrapper that ExaBGP runs), with an offset in a file the test rewrites
# (FAKETIME_TIMESTAMP_FILE, FAKETIME_NO_CACHE=1: read at every call). Only
# CLOCK_REALTIME is faked (FAKETIME_DONT_FAKE_MONOTONIC=1), because that is the clock a
# step moves: Linux never steps CLOCK_MONOTONIC. Faking it too was tried: libfaketime
# then moves CLOCK_MONOTONIC with the offset, and libevent, which times its loop by
# CLOCK_MONOTONIC, sleeps in epoll_wait for the hour the backward step put before its
# next timer, with any libevent program; that is a world the kernel does not make. The
# test shows that the step did reach healthd: its log timestamps move by the hour.
#
# Runs are counted where healthd cannot fake them: each check asks a switch (lib_fault.sh)
# that logs every connection with its own, unfaked CLOCK_MONOTONIC time.
#
#   HEALTHD=/abs/path/healthd bash tests/integration/test_fault_clock.sh
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=lib_fault.sh
. "$(dirname "$0")/lib_fault.sh"

it_init
it_need exabgp bird birdc curl /usr/bin/python3
it_need_healthd
fault_addresses

FAKETIME_LIB=""
for f in /usr/lib/*/faketime/libfaketime.so.1 /usr/lib/faketime/libfaketime.so.1; do
	[ -f "$f" ] && FAKETIME_LIB=$f && break
done
if [ -z "$FAKETIME_LIB" ]; then
	not_ok "libfaketime is installed" "missing: install it with bash tests/deps.sh faketime"
	it_finish
	exit
fi

WEB=198.51.100.161/32  # always healthy
FLIP=198.51.100.162/32 # fails after the backward step, recovers after the forward one
PHASE_S=5
# interval 200 ms: 5 runs a second per check. A burst or a stall shows as a second with
# more than MAX or fewer than MIN runs, or a gap between runs longer than GAP_S.
MIN=3 MAX=7 GAP_S=0.7

start_bird || {
	not_ok "BIRD starts"
	it_finish
	exit
}
for s in web:up flip:up; do start_switch "${s%%:*}" "${s#*:}" || not_ok "switch ${s%%:*} listens"; done
cat >"$T/healthd.json" <<EOF
{
	"speaker": { "type": "exabgp" },
	$(control_json),
	"defaults": { "interval": "200ms", "fast_interval": "200ms", "timeout": "150ms", "rise": 2, "fall": 2 },
	"services": [
		{ "name": "web", "prefixes": [ "$WEB" ], "announce": { "next_hop": "self" }, "checks": [ $(switch_check web) ] },
		{ "name": "flip", "prefixes": [ "$FLIP" ], "announce": { "next_hop": "self" }, "checks": [ $(switch_check flip) ] }
	]
}
EOF
echo "+0" >"$T/faketime.rc"
# ASan insists on coming first in the library list; libfaketime is preloaded before it.
cat >"$T/wrap.sh" <<EOF
#!/bin/sh
export LD_PRELOAD=$FAKETIME_LIB FAKETIME_TIMESTAMP_FILE=$T/faketime.rc FAKETIME_NO_CACHE=1 FAKETIME_DONT_FAKE_MONOTONIC=1
export ASAN_OPTIONS="\${ASAN_OPTIONS:-}\${ASAN_OPTIONS:+:}verify_asan_link_order=0"
exec "$HEALTHD" run -c "$T/healthd.json"
EOF
chmod +x "$T/wrap.sh"
# step OFFSET: the clock healthd sees is the real one plus OFFSET ("+0", "-3600", ...).
step() {
	printf '%s\n' "$1" >"$T/faketime.rc.new" && mv -f "$T/faketime.rc.new" "$T/faketime.rc"
	STEP_LINE+=("$(wc -l <"$T/sw-web.log")") # where the switch's log was at the step
	note "clock offset $1"
}
declare -a STEP_LINE=()

start_exabgp "$T/wrap.sh"
find_helper 10 || not_ok "ExaBGP spawned healthd within 10s"
wait_established 20 || not_ok "BGP session ExaBGP -> BIRD established within 20s"
if wait_route_present "$WEB" 15 && wait_route_present "$FLIP" 5; then ok "before: $WEB and $FLIP in BIRD"; else not_ok "before: $WEB and $FLIP in BIRD"; fi
metrics_fetch || not_ok "the control endpoint answers"
t_up=$(now)

sleep "$PHASE_S"
# (1) back an hour; then FLIP fails: withdrawn within its bound
step -3600
sleep 1
switch_mode flip down
if wait_route_absent "$FLIP" 4; then ok "(1) an hour back: $FLIP withdrawn once it fails (${ELAPSED}s)"; else not_ok "(1) an hour back: $FLIP withdrawn within 4s"; fi
if route_present "$WEB"; then ok "(1) $WEB stays"; else not_ok "(1) $WEB stays"; fi
line=$(grep 'healthd\[info\] service flip: .* -> ' "$T/exabgp.out" | tail -n 1)
stamp=${line%% healthd*}
skew=$(($(date +%s) - $(date -d "$stamp" +%s 2>/dev/null || echo 0)))
if [ "$skew" -ge 3500 ] && [ "$skew" -le 3700 ]; then ok "(1) healthd's clock is an hour behind (its log: $stamp)"; else not_ok "(1) healthd's clock is an hour behind" "log line: $line"; fi
sleep $((PHASE_S - 3))

# (2) forward an hour (back to the real time); FLIP recovers
step +0
sleep 1
switch_mode flip up
if wait_route_present "$FLIP" 4; then ok "(2) an hour forward: $FLIP announced once it recovers (${ELAPSED}s)"; else not_ok "(2) an hour forward: $FLIP announced within 4s"; fi
sleep $((PHASE_S - 2))

# (3) forward another hour
step +3600
sleep "$PHASE_S"
if stays_present "$WEB" 1 && route_present "$FLIP"; then ok "(3) another hour forward: both routes stay"; else not_ok "(3) both routes stay"; fi
metrics_fetch || not_ok "(3) the control endpoint answers"
secs=$(awk '$1 == "healthd_service_state_seconds{service=\"web\"}" { print $2 }' "$T/metrics.txt")
up_s=$(since "$t_up")
# Counted on CLOCK_MONOTONIC: never more than the real time since web came UP (a count
# on the wall clock would now be an hour more). Less is fine: a slow run on a busy
# machine may have taken web through FALLING and back.
if [ -n "$secs" ] && awk -v s="$secs" -v u="$up_s" 'BEGIN { exit !(s >= 0 && s <= u + 2) }'; then
	ok "(3) web's time in state follows the real clock (${secs}s, at most ${up_s}s)"
else
	not_ok "(3) web's time in state follows the real clock" "${secs}s, expected at most ${up_s}s"
fi
if alive "$HEALTHD_PID"; then ok "healthd still runs"; else not_ok "healthd still runs"; fi

# Runs per second of each check, from its switch's log (the switch's own clock): from a
# second before the first step to the last full second logged.
a=$(awk -v n="${STEP_LINE[0]}" 'NR == n { print $1 - 1 }' "$T/sw-web.log")
b=$(tail -n 1 "$T/sw-web.log" | awk '{ print $1 }')
note "steps at switch-log lines ${STEP_LINE[*]}; window ${a}..${b}"
for sw in web flip; do
	read -r lo hi gap < <(awk -v a="$a" -v b="$b" '
		$1 >= a && $1 < b { n[int($1 - a)]++; if (p && $1 - p > g) g = $1 - p; p = $1 }
		END {
			lo = 1e9; hi = 0
			for (i = 0; i < int(b - a); i++) { c = n[i] + 0; if (c < lo) lo = c; if (c > hi) hi = c }
			printf "%d %d %.3f\n", lo, hi, g
		}' "$T/sw-$sw.log")
	if [ "$lo" -ge "$MIN" ] && [ "$hi" -le "$MAX" ]; then
		ok "$sw: $lo to $hi runs in every second around the steps (interval 200ms; bounds $MIN..$MAX)"
	else
		not_ok "$sw: between $MIN and $MAX runs in every second around the steps" "$lo to $hi"
	fi
	if le "$gap" "$GAP_S"; then ok "$sw: no stall, the longest gap between runs ${gap}s"; else not_ok "$sw: no gap between runs over ${GAP_S}s" "longest ${gap}s"; fi
done

kill -TERM "$HEALTHD_PID"
if wait_route_absent "$WEB" 5 && wait_route_absent "$FLIP" 2; then ok "SIGTERM to healthd withdraws both routes"; else not_ok "SIGTERM withdraws both routes"; fi
if wait_gone "$HEALTHD_PID" 5 && grep -q 'healthd\[info\] exit 0' "$T/exabgp.out"; then ok "healthd exits 0"; else not_ok "healthd exits 0" "$(grep -E 'exit|ERROR|Sanitizer' "$T/exabgp.out" | tail -n 3)"; fi
sanitizer_clean "$T/exabgp.out"
stop_switches
it_finish
