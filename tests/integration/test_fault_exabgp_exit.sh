#!/usr/bin/env bash
# ExaBGP goes away under healthd: killed (SIGKILL: healthd's stdin and stdout simply
# close), and stopped the ordinary way (SIGTERM: ExaBGP writes "shutdown", then signals
# its helper). Either way healthd must exit cleanly, as healthd(8) says: exit status 0
# (the speaker left; no I/O error), a log line saying why, and no child left behind (an
# exec check is running when it happens). BIRD, the peer, loses the routes with the
# session; a new ExaBGP with a new healthd brings them back. And healthd stopped while
# ExaBGP is stopped: it exits within its drain bound, and its withdrawal reaches BIRD
# once ExaBGP runs again.
#
# ExaBGP runs healthd through a small wrapper that waits for it and writes its exit
# status to a file: when ExaBGP is killed, healthd's parent is gone and nobody else
# could see the status.
#
#   HEALTHD=/abs/path/healthd bash tests/integration/test_fault_exabgp_exit.sh
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=lib_fault.sh
. "$(dirname "$0")/lib_fault.sh"

it_init
it_need exabgp bird birdc /usr/bin/python3
it_need_healthd
fault_addresses

WEB=198.51.100.141/32

start_bird || {
	not_ok "BIRD starts"
	it_finish
	exit
}
start_switch web up || not_ok "the switch listens"

# The exec check records the PIDs of what it starts (a shell and its sleep) and runs until
# its timeout; the test makes ExaBGP go as soon as a run has started.
cat >"$T/healthd.json" <<EOF
{
	"allow_root_exec": true,
	"speaker": { "type": "exabgp" },
	"defaults": { "interval": "300ms", "fast_interval": "100ms", "timeout": "200ms", "rise": 1, "fall": 1 },
	"services": [
		{ "name": "web", "prefixes": [ "$WEB" ], "announce": { "next_hop": "self" },
		  "checks": [ $(switch_check web) ] },
		{ "name": "slow", "prefixes": [ "198.51.100.142/32" ], "interval": "4s", "timeout": "3500ms",
		  "checks": [ { "type": "exec", "command": [ "/bin/sh", "-c", "echo \$\$ >>$T/exec.pids; sleep 30 & echo \$! >>$T/exec.pids; wait" ] } ] }
	]
}
EOF
if "$HEALTHD" check -c "$T/healthd.json" >/dev/null 2>"$T/check.err"; then :; else not_ok "the config is valid" "$(head -3 "$T/check.err")"; fi

# The wrapper ExaBGP starts: healthd keeps the wrapper's stdin and stdout (ExaBGP's
# pipes). The wrapper ignores the SIGTERM ExaBGP sends its helper 0.1 s after
# "shutdown" (test_exabgp_bird.sh has healthd take that one itself): so healthd must
# leave on the "shutdown" line alone, and a slow exit (ASan's leak check) is not cut short.
cat >"$T/wrap.sh" <<EOF
#!/bin/bash
"$HEALTHD" run -c "$T/healthd.json" <&0 >&1 &
pid=\$!
echo "\$pid" >"$T/healthd.pid"
trap '' TERM
wait "\$pid"
echo "\$?" >"$T/healthd.rc.new" && mv "$T/healthd.rc.new" "$T/healthd.rc"
EOF
chmod +x "$T/wrap.sh"

# run_lab TAG: ExaBGP with a new healthd, until $WEB is in BIRD and an exec run is
# under way. Sets HEALTHD_PID (healthd itself, not the wrapper).
run_lab() {
	rm -f "$T/healthd.rc" "$T/healthd.pid"
	: >"$T/exec.pids"
	: >"$T/exabgp.out"
	start_exabgp "$T/wrap.sh"
	find_helper 10 || not_ok "($1) ExaBGP started the wrapper within 10s"
	WRAP_PID=$HEALTHD_PID
	for ((i = 0; i < 50; i++)); do [ -s "$T/healthd.pid" ] && break; sleep 0.1; done
	HEALTHD_PID=$(cat "$T/healthd.pid" 2>/dev/null)
	HEALTHD_START=$(pid_start "$HEALTHD_PID")
	wait_established 20 || not_ok "($1) BGP session established within 20s"
	if wait_route_present "$WEB" 15; then ok "($1) $WEB in BIRD"; else not_ok "($1) $WEB in BIRD within 15s"; fi
	# A fresh run: the file grows by two lines (the first run comes within one interval).
	local n0
	n0=$(wc -l <"$T/exec.pids")
	n0=$((n0 - n0 % 2))
	for ((i = 0; i < 60; i++)); do [ "$(wc -l <"$T/exec.pids")" -ge $((n0 + 2)) ] && break; sleep 0.1; done
	EXEC_PIDS=$(tail -n 2 "$T/exec.pids" | tr '\n' ' ')
	if [ "$(wc -w <<<"$EXEC_PIDS")" -ge 2 ] && alive "${EXEC_PIDS%% *}"; then
		ok "($1) an exec run is under way (pids $EXEC_PIDS)"
	else
		not_ok "($1) an exec run is under way" "pids: $EXEC_PIDS"
	fi
}

# after_exit TAG WHY: healthd exited 0 saying WHY, its children are gone, BIRD lost $WEB.
after_exit() {
	local rc="" p left=""
	if wait_gone "$HEALTHD_PID" 5; then ok "($1) healthd exited"; else not_ok "($1) healthd exited within 5s"; fi
	for ((i = 0; i < 50; i++)); do [ -s "$T/healthd.rc" ] && break; sleep 0.1; done
	rc=$(cat "$T/healthd.rc" 2>/dev/null)
	if [ "$rc" = 0 ]; then ok "($1) exit status 0"; else not_ok "($1) exit status 0" "status: ${rc:-none}"; fi
	if grep -qE "healthd\[info\] stopping: $2" "$T/exabgp.out" && grep -q 'healthd\[info\] exit 0' "$T/exabgp.out"; then
		ok "($1) the log says why: \"stopping: $2\", then \"exit 0\""
	else
		not_ok "($1) the log says \"stopping: $2\" and \"exit 0\"" "$(grep 'healthd\[' "$T/exabgp.out" | tail -n 4)"
	fi
	sanitizer_clean "$T/exabgp.out"
	for ((i = 0; i < 30; i++)); do
		left=""
		for p in $EXEC_PIDS; do alive "$p" && left="$left $p"; done
		[ -z "$left" ] && break
		sleep 0.1
	done
	if [ -z "$left" ]; then ok "($1) no child left behind (exec pids $EXEC_PIDS gone)"; else not_ok "($1) no child left behind" "still alive:$left"; fi
	if wait_route_absent "$WEB" 10; then ok "($1) BIRD lost $WEB with the session (${ELAPSED}s)"; else not_ok "($1) BIRD lost $WEB"; fi
}

# (a) ExaBGP killed
run_lab a
kill -KILL "$EXABGP_PID"
wait "$EXABGP_PID" 2>/dev/null
EXABGP_PID=""
after_exit a "exabgp closed healthd's std(in|out)"
wait_gone "$WRAP_PID" 3

# (b) ExaBGP stopped with SIGTERM: it says "shutdown" first
run_lab b
kill -TERM "$EXABGP_PID"
if wait_gone "$EXABGP_PID" 5; then ok "(b) ExaBGP stopped"; else not_ok "(b) ExaBGP stopped within 5s"; fi
after_exit b "exabgp is shutting down"
stop_exabgp 1

# (c) ExaBGP stopped (SIGSTOP) when healthd is told to stop: healthd must not wait for
# it longer than its drain bound (2 s). The withdrawal fits in the pipe, so it counts
# as taken (exit 0), and BIRD gets it once ExaBGP runs again, over a session that stays.
run_lab c
kill -STOP "$EXABGP_PID"
t0=$(now)
kill -TERM "$HEALTHD_PID"
if wait_gone "$HEALTHD_PID" 4; then ok "(c) healthd exits with ExaBGP stopped ($(since "$t0")s)"; else not_ok "(c) healthd exits within 4s with ExaBGP stopped"; fi
for ((i = 0; i < 50; i++)); do [ -s "$T/healthd.rc" ] && break; sleep 0.1; done
rc=$(cat "$T/healthd.rc" 2>/dev/null)
if [ "$rc" = 0 ]; then ok "(c) exit status 0: the withdrawal was written"; else not_ok "(c) exit status 0" "status: ${rc:-none}"; fi
if route_present "$WEB"; then ok "(c) $WEB still in BIRD while ExaBGP is stopped"; else not_ok "(c) $WEB still in BIRD while ExaBGP is stopped"; fi
kill -CONT "$EXABGP_PID"
if wait_route_absent "$WEB" 10 && birdc_ show protocols exa 2>/dev/null | grep -q Established; then
	ok "(c) once ExaBGP runs again, BIRD gets the withdrawal; the session stays up (${ELAPSED}s)"
else
	not_ok "(c) BIRD gets the withdrawal over a session that stays up" "$(birdc_ show protocols exa 2>&1 | tail -n 1)"
fi
left=""
for p in $EXEC_PIDS; do alive "$p" && left="$left $p"; done
if [ -z "$left" ]; then ok "(c) no child left behind"; else not_ok "(c) no child left behind" "still alive:$left"; fi
sanitizer_clean "$T/exabgp.out"
stop_exabgp 2
stop_switches
it_finish
