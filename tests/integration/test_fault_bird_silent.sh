#!/usr/bin/env bash
# BIRD's control socket accepts and never answers (a stand-in that accepts connections
# and never writes a byte), with healthd in BIRD's static mode: healthd must keep
# probing (the control endpoint answers and its run counters climb), say clearly what is
# wrong (one error naming the socket), neither block nor crash, keep retrying; and once
# the path leads to a real BIRD (the test swaps the socket path for a link to the
# speaker BIRD's socket and stops the silent server, as a BIRD restart would), the
# peer BIRD must receive exactly the healthy services' routes, including a change that
# happened while nothing answered.
#
#   HEALTHD=/abs/path/healthd bash tests/integration/test_fault_bird_silent.sh
set -u
# shellcheck source-path=SCRIPTDIR source=lib_bird.sh
. "$(dirname "$0")/lib_bird.sh"
# shellcheck source-path=SCRIPTDIR source=lib_fault.sh
. "$(dirname "$0")/lib_fault.sh"

bird_lab_init
it_need curl
fault_addresses

WEB=198.51.100.151/32 FLIP=198.51.100.152/32
INC4=$T/healthd-routes.conf INC6=$T/healthd-routes6.conf
CTL=$T/ctl.sock # the path healthd is configured with
SILENT_PID=""

for s in web:up flip:up; do start_switch "${s%%:*}" "${s#*:}" || not_ok "switch ${s%%:*} listens"; done

# The silent stand-in: accepts, holds every connection, never writes.
"$PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(16)
held = []
while True:
    c, _ = s.accept()
    held.append(c)
    with open(sys.argv[2], "a") as f:
        f.write("accepted\n")
' "$CTL" "$T/silent.accepts" </dev/null >/dev/null 2>&1 &
SILENT_PID=$!
for ((i = 0; i < 50; i++)); do [ -S "$CTL" ] && break; sleep 0.1; done
[ -S "$CTL" ] || not_ok "the silent socket exists"

: >"$INC4"
: >"$INC6"
write_speaker "
protocol static healthd4 {
	ipv4;
	include \"$INC4\";
}
protocol static healthd6 {
	ipv6;
	include \"$INC6\";
}"
if ! { start_peer && start_speaker; }; then
	not_ok "both BIRDs start"
	bird_lab_finish
	exit
fi
wait_session 20 || not_ok "BGP session speaker -> peer established within 20s"

cat >"$T/healthd.json" <<EOF
{
	"speaker": { "type": "bird", "socket": "$CTL", "include": "$INC4", "include6": "$INC6", "reconnect": "1s" },
	$(control_json),
	"defaults": { "interval": "100ms", "fast_interval": "50ms", "timeout": "80ms", "rise": 2, "fall": 2 },
	"services": [
		{ "name": "web", "prefixes": [ "$WEB" ], "checks": [ $(switch_check web) ] },
		{ "name": "flip", "prefixes": [ "$FLIP" ], "checks": [ $(switch_check flip) ] }
	]
}
EOF
if "$HEALTHD" check -c "$T/healthd.json" >/dev/null 2>"$T/check.err"; then :; else not_ok "the config is valid" "$(head -3 "$T/check.err")"; fi
note "lab in $T: healthd -> $CTL (silent), speaker BIRD $SPK_SOCK, control $CTL_ADDR:$CTL_PORT"
start_healthd "$T/healthd.json"

# The greeting never comes: one error naming the socket, within healthd's bound (10 s)
# from the connection (counted from the accept: under valgrind healthd starts slowly).
for ((i = 0; i < 150; i++)); do
	[ -s "$T/silent.accepts" ] && break
	sleep 0.1
done
t0=$(now)
for ((i = 0; i < 150; i++)); do
	grep -q 'did not greet' "$T/healthd.err" && break
	alive "$HEALTHD_PID" || break
	sleep 0.1
done
took=$(since "$t0")
line=$(grep -m1 'did not greet' "$T/healthd.err")
if grep -qF "$CTL" <<<"$line" && le "$took" 13; then
	ok "a clear error within ${took}s: ${line#*] }"
else
	not_ok "an error naming $CTL within ~10s" "after ${took}s: $(tail -n 3 "$T/healthd.err")"
fi

# Probing goes on meanwhile, and nothing blocks: the endpoint answers, runs climb, a
# service that fails is seen failing.
metrics_fetch || not_ok "the control endpoint answers while BIRD is silent"
runs0=$(metric healthd_check_runs_total)
switch_mode flip down
for ((i = 0; i < 50; i++)); do
	grep -q 'service flip: .* -> DOWN' "$T/healthd.err" && break
	sleep 0.1
done
if grep -q 'service flip: .* -> DOWN' "$T/healthd.err"; then ok "a failing service is seen failing while BIRD is silent"; else not_ok "flip goes DOWN while BIRD is silent"; fi
sleep 1
if metrics_fetch && [ "$(metric healthd_check_runs_total)" -ge $((runs0 + 10)) ]; then
	ok "probing goes on: runs $runs0 -> $(metric healthd_check_runs_total)"
else
	not_ok "probing goes on" "runs $runs0 -> $(metric healthd_check_runs_total)"
fi
for ((i = 0; i < 50; i++)); do [ "$(wc -l <"$T/silent.accepts")" -ge 2 ] && break; sleep 0.1; done
n=$(wc -l <"$T/silent.accepts")
if [ "$n" -ge 2 ] && alive "$HEALTHD_PID"; then ok "healthd keeps retrying ($n connections) and runs"; else not_ok "healthd keeps retrying and runs" "$n connections"; fi
if [ "$(grep -c 'did not greet' "$T/healthd.err")" -eq 1 ]; then ok "the error is logged once, not at every retry"; else not_ok "the error is logged once" "$(grep -c 'did not greet' "$T/healthd.err") times"; fi
if peer_routes_stay "" 0.5; then ok "nothing reached the peer yet"; else not_ok "nothing reached the peer yet" "peer has: $PEER_NOW"; fi

# The path now leads to the real BIRD, and the silent server goes (as a restarted BIRD's
# old process would), closing the connection healthd holds: healthd connects again.
ln -s "$SPK_SOCK" "$T/ctl.new" && mv -fT "$T/ctl.new" "$CTL"
kill_pid "$SILENT_PID" 2
if wait_peer_routes "$WEB" 25; then
	ok "once a real BIRD answers, the peer has exactly the healthy service's route (${ELAPSED}s)"
else
	not_ok "the peer has $WEB once a real BIRD answers" "peer has: $PEER_NOW"
fi
if grep -q 'answers again' "$T/healthd.err"; then ok "healthd says so: $(grep -m1 'answers again' "$T/healthd.err" | sed 's/.*] //')"; else note "no \"answers again\" line: $(tail -n 2 "$T/healthd.err")"; fi
switch_mode flip up
if wait_peer_routes "$WEB $FLIP" 10; then ok "a service that recovers reaches the peer again (${ELAPSED}s)"; else not_ok "$FLIP reaches the peer" "peer has: $PEER_NOW"; fi
if alive "$HEALTHD_PID"; then ok "healthd still runs"; else not_ok "healthd still runs"; fi
if stop_healthd 5 && [ "$HEALTHD_RC" = 0 ]; then ok "SIGTERM: healthd exits 0"; else not_ok "SIGTERM: healthd exits 0" "status $HEALTHD_RC"; fi
if wait_peer_routes "" 10; then ok "and the peer has no route left"; else not_ok "the peer has no route left" "peer has: $PEER_NOW"; fi
sanitizer_clean "$T/healthd.err"
kill_pid "$SILENT_PID" 2
stop_switches
bird_lab_finish
