#!/usr/bin/env bash
# An exec check that hangs and starts grandchildren: each run must be killed as a
# whole at its timeout (no process of it survives), reaped (no zombie under healthd),
# and healthd must still stop cleanly (SIGTERM -> exit 0).
#
# healthd runs directly, not under ExaBGP: stdin is a fifo that this script holds
# open (so healthd never sees EOF), stdout goes to a file.
#
#   HEALTHD=/abs/path/healthd bash tests/integration/test_exec_group.sh
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

it_init
it_need_healthd

INTERVAL=1s FAST=200ms TIMEOUT=600ms # alive 60% of the time: a loaded poller still sees a run
RUN_S=4.5  # how long healthd runs the hanging check: 4 or more runs
LEAK_AGE=2 # seconds: an exec run lives ~0.6 s; anything older has escaped its kill

# The marker: "sleep" under a name inside this test's temp dir, so that pgrep -f
# finds our processes and nobody else's.
MARK=$T/marker-sleep
ln -s "$(command -v sleep)" "$MARK"
HANG="$MARK 31337 & $MARK 31337 & $MARK 31337"

cat >"$T/healthd.json" <<EOF
{
	"allow_root_exec": true,
	"speaker": { "type": "exabgp" },
	"defaults": { "interval": "$INTERVAL", "fast_interval": "$FAST", "timeout": "$TIMEOUT",
	              "rise": 2, "fall": 2 },
	"services": [
		{
			"name": "hang",
			"prefixes": [ "203.0.113.90/32" ],
			"announce": { "next_hop": "self" },
			"checks": [ { "type": "exec", "shell": true, "command": "$HANG" } ]
		}
	]
}
EOF

markers() { pgrep -f -- "$MARK" 2>/dev/null; }
# marker PIDs older than LEAK_AGE seconds, with their age
old_markers() {
	local p age
	for p in $(markers); do
		age=$(ps -o etimes= -p "$p" 2>/dev/null | tr -d ' ')
		[ -n "$age" ] && [ "$age" -ge "$LEAK_AGE" ] && printf '%s(%ss) ' "$p" "$age"
	done
}
zombies_of() { ps --ppid "$1" -o pid=,stat= 2>/dev/null | awk '$2 ~ /^Z/ { print $1 }' | sort; }

mkfifo "$T/stdin"
exec 7<>"$T/stdin" # held open read-write: healthd's stdin never reaches EOF
"$HEALTHD" run -c "$T/healthd.json" <"$T/stdin" >"$T/healthd.out" 2>"$T/healthd.err" &
HPID=$!
HEALTHD_PID=$HPID HEALTHD_START=$(pid_start "$HPID")
note "healthd pid $HPID, check: sh -c '$HANG' with timeout $TIMEOUT every $INTERVAL"

# Watch while it runs: did the check run at all, and did anything outlive its run?
seen=0 leaked=""
t0=$(now)
for ((i = 0; i < 100; i++)); do
	le "$(since "$t0")" "$RUN_S" || break
	alive "$HPID" || break
	[ -n "$(markers)" ] && seen=1
	l=$(old_markers)
	[ -n "$l" ] && leaked="$leaked$l"
	sleep 0.1
done

if alive "$HPID"; then
	ok "healthd keeps running with a hanging exec check"
else
	wait "$HPID"
	not_ok "healthd keeps running with a hanging exec check" "it exited with status $?"
fi
if [ "$seen" = 1 ]; then ok "the exec check ran (its processes were seen)"; else not_ok "the exec check ran (its processes were seen)"; fi
if [ -z "$leaked" ]; then
	ok "no process of a timed-out run outlived it by ${LEAK_AGE}s"
else
	not_ok "no process of a timed-out run outlived it by ${LEAK_AGE}s" "leaked (age): $leaked"
fi

# A run killed at its timeout is logged as such, with what it printed (nothing here).
if grep -q "timed out after $TIMEOUT, no output" "$T/healthd.err"; then
	ok "the timed-out run is logged with its output"
else
	not_ok "the timed-out run is logged with its output" "$(tail -n 3 "$T/healthd.err")"
fi

# Zombies: a child that stays <defunct> across two looks 0.5 s apart was never reaped.
z1=$(zombies_of "$HPID")
sleep 0.5
z2=$(zombies_of "$HPID")
stuck=$(comm -12 <(printf '%s\n' "$z1") <(printf '%s\n' "$z2") | tr '\n' ' ' | sed 's/ *$//')
if [ -z "$stuck" ]; then
	ok "no zombie children under healthd"
else
	not_ok "no zombie children under healthd" "zombies: $stuck" \
		"children: $(cat /proc/"$HPID"/task/*/children 2>/dev/null | tr '\n' ' ')"
fi

# SIGTERM: exit 0, and the run in flight (if any) goes with it.
kill -TERM "$HPID" 2>/dev/null
if wait_gone "$HPID" 5; then
	wait "$HPID"
	rc=$?
	if [ "$rc" -eq 0 ]; then ok "SIGTERM -> healthd exits 0"; else not_ok "SIGTERM -> healthd exits 0" "exit status $rc"; fi
else
	not_ok "healthd exits within 5s of SIGTERM"
fi
HEALTHD_PID=""
left=""
for ((i = 0; i < 10; i++)); do
	left=$(markers | tr '\n' ' ')
	[ -z "$left" ] && break
	sleep 0.1
done
if [ -z "$left" ]; then ok "no process of the exec check survives healthd"; else not_ok "no process of the exec check survives healthd" "left: $left"; fi
if [ -s "$T/healthd.out" ]; then
	bad=$(grep -Ev '^(announce|withdraw) route ' "$T/healthd.out" | head -n 3)
	if [ -z "$bad" ]; then ok "stdout holds only ExaBGP commands"; else not_ok "stdout holds only ExaBGP commands" "$bad"; fi
else
	ok "stdout holds only ExaBGP commands (nothing was announced)"
fi
exec 7>&-

it_finish
