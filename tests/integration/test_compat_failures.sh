#!/usr/bin/env bash
# The known failures of ExaBGP 4.2.21's healthcheck, and that healthd's drop-in has none:
# an ack that never comes, SIGTERM while an ack is pending, ExaBGP's shutdown with three
# IPs (with a real ExaBGP and BIRD), EPIPE, timed-out checks, hooks that hang. Where it is
# cheap, the original runs alongside and what it does is printed as a "# note".
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=lib_compat.sh
. "$(dirname "$0")/lib_compat.sh"

it_init
compat_init
it_need exabgp bird birdc
IPS=(--ip 203.0.113.11 --ip 203.0.113.12 --ip 203.0.113.13)
BASE=(--no-syslog --no-ip-setup "${IPS[@]}" --rise 1)

# lines FILE: how many lines FILE has (0 when absent).
lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }
# wait_lines FILE N SECONDS: FILE reaches N lines within SECONDS.
wait_lines() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		[ "$(lines "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
# exit_within PID SECONDS: PID (our child) ends within SECONDS; its status in $STATUS.
exit_within() {
	wait_gone "$1" "$2" || return 1
	wait "$1"
	STATUS=$?
	return 0
}

# ---- an ack that never comes: ExaBGP with acks off, or wedged
mkfifo "$T/silent.in"
exec {HOLD}<>"$T/silent.in" # open, never written: no ack, no EOF
"$HEALTHD" "${BASE[@]}" --interval 0.2 --ack-timeout 1 <"$T/silent.in" >"$T/silent.hd" 2>"$T/silent.err" &
hd=$!
"${PYHC[@]}" "${BASE[@]}" --interval 0.2 <"$T/silent.in" >"$T/silent.py" 2>/dev/null &
py=$!
if wait_lines "$T/silent.hd" 9 6; then
	ok "no ack: the announcements go on after --ack-timeout ($(lines "$T/silent.hd") lines)"
else
	not_ok "no ack: 3 iterations of 3 IPs within 6s" "got $(lines "$T/silent.hd") lines"
fi
note "ExaBGP's healthcheck, same input: $(lines "$T/silent.py") line(s) in the same time, waiting for an ack forever"
kill -KILL "$py" 2>/dev/null
wait "$py" 2>/dev/null
kill -TERM "$hd"
if exit_within "$hd" 5 && [ "$STATUS" = 0 ]; then ok "no ack: SIGTERM still exits 0"; else not_ok "no ack: exit 0 after SIGTERM" "status ${STATUS:-none}"; fi

# ---- SIGTERM while an ack is pending: every IP is still withdrawn
"$HEALTHD" "${BASE[@]}" --interval 5 --ack-timeout 60 <"$T/silent.in" >"$T/pending.hd" 2>"$T/pending.err" &
hd=$!
"${PYHC[@]}" "${BASE[@]}" --interval 5 <"$T/silent.in" >"$T/pending.py" 2>/dev/null &
py=$!
wait_lines "$T/pending.hd" 1 5
wait_lines "$T/pending.py" 1 5
sleep 0.3
t0=$(now)
kill -TERM "$hd" "$py"
if exit_within "$hd" 3 && [ "$STATUS" = 0 ]; then
	ok "ack pending: SIGTERM exits 0 within $(since "$t0")s"
else
	not_ok "ack pending: exit 0 within 3s of SIGTERM" "status ${STATUS:-still running}"
fi
want=$(printf 'withdraw route 203.0.113.1%s/32 next-hop self\n' 1 2 3)
if [ "$(tail -n 3 "$T/pending.hd")" = "$want" ]; then
	ok "ack pending: all 3 IPs withdrawn"
else
	not_ok "ack pending: all 3 IPs withdrawn" "$(tr '\n' '|' <"$T/pending.hd")"
fi
sleep 1
note "ExaBGP's healthcheck, same input: $(grep -c withdraw "$T/pending.py") withdrawal(s) of 3, $(alive "$py" && echo "still running 1s after SIGTERM" || echo exited)"
kill -KILL "$py" 2>/dev/null
wait "$py" 2>/dev/null
exec {HOLD}>&-

# ---- EPIPE: the reader goes away
t0=$(now)
timeout -k 1 10 "$HEALTHD" "${BASE[@]}" --interval 0.1 </dev/null 2>"$T/epipe.err" | head -n 1 >/dev/null
st=${PIPESTATUS[0]}
if [ "$st" = 0 ] && [ ! -s "$T/epipe.err" ] && le "$(since "$t0")" 5; then
	ok "EPIPE: exits 0 at once, nothing on stderr ($(since "$t0")s)"
else
	not_ok "EPIPE: quiet exit 0" "status $st" "stderr: $(head -c 300 "$T/epipe.err")"
fi
timeout -k 1 10 "${PYHC[@]}" "${BASE[@]}" --interval 0.1 </dev/null 2>"$T/epipe.py.err" | head -n 1 >/dev/null
note "ExaBGP's healthcheck on EPIPE: status ${PIPESTATUS[0]}, $(wc -l <"$T/epipe.py.err") lines on stderr ($(grep -m1 -o 'BrokenPipeError' "$T/epipe.py.err"))"

# ---- a check that times out: killed with its group, reaped, no zombies
printf '#!/bin/sh\nsleep 31.7\n' >"$T/slow_check.sh"
# The Python healthcheck's own copy: what it leaves behind is not healthd's to answer for.
printf '#!/bin/sh\nsleep 31.8\n' >"$T/slow_check_py.sh"
chmod +x "$T/slow_check.sh" "$T/slow_check_py.sh"
"$HEALTHD" "${BASE[@]}" --cmd "$T/slow_check.sh" --timeout 1 --interval 0.2 --fast-interval 0.2 \
	</dev/null >"$T/slow.hd" 2>"$T/slow.err" &
hd=$!
"${PYHC[@]}" "${BASE[@]}" --cmd "$T/slow_check_py.sh" --timeout 1 --interval 0.2 --fast-interval 0.2 \
	</dev/null >/dev/null 2>&1 &
py=$!
sleep 4.5
# shellcheck disable=SC2009 # pgrep cannot select by state
zombies=$(ps -o stat= --ppid "$hd" | grep -c '^Z')
# shellcheck disable=SC2046 # one pid per word
running=$(ps -o args= -p "$(descendants "$hd" | paste -sd, -)" 2>/dev/null | grep -c '^sleep 31.7')
if [ "$zombies" = 0 ] && [ "$running" -le 1 ]; then
	ok "timed-out checks: no zombies, only the running check left ($running sleep)"
else
	not_ok "timed-out checks leave no zombies" "zombies $zombies, sleeps running $running"
fi
if grep -q '^announce route 203.0.113.11/32 next-hop self med 1000$' "$T/slow.hd"; then
	ok "timed-out checks: the service went down (down metric announced)"
else
	not_ok "timed-out checks: announced with the down metric" "$(head -n 3 "$T/slow.hd" | tr '\n' '|')"
fi
# shellcheck disable=SC2009
note "ExaBGP's healthcheck after the same time: $(ps -o stat= --ppid "$py" | grep -c '^Z') zombie(s)"
pykids=$(descendants "$py")
# shellcheck disable=SC2086 # one pid per word
kill -KILL "$py" $pykids 2>/dev/null
wait "$py" 2>/dev/null
# A check it started between the list and the kill is orphaned: end it too.
pkill -KILL -f "sleep 31.8|$T/slow_check_py.sh" 2>/dev/null
kill -TERM "$hd"
exit_within "$hd" 5
sleep 0.2
if ! pgrep -fx "sleep 31.7" >/dev/null && ! pgrep -f "$T/slow_check.sh" >/dev/null; then
	ok "timed-out checks: nothing of them is left after exit"
else
	pids=$(pgrep -f "31.7|$T/slow_check.sh" | tr '\n' ' ')
	not_ok "no check process left after exit" "$pids"
fi

# ---- a hook that hangs: killed at --timeout, the announcement goes out
printf '#!/bin/sh\nsleep 32.3\n' >"$T/slow_hook.sh"
chmod +x "$T/slow_hook.sh"
t0=$(now)
"$HEALTHD" "${BASE[@]}" --timeout 1 --interval 10 --up-execute "$T/slow_hook.sh" \
	</dev/null >"$T/hook.hd" 2>"$T/hook.err" &
hd=$!
if wait_lines "$T/hook.hd" 3 5; then
	ok "hanging hook: announced after its timeout ($(since "$t0")s)"
else
	not_ok "hanging hook: announcement within 5s" "$(cat "$T/hook.err")"
fi
if ! pgrep -fx "sleep 32.3" >/dev/null; then ok "hanging hook: killed"; else not_ok "hanging hook killed"; fi
kill -TERM "$hd"
exit_within "$hd" 5

# ---- a real ExaBGP 4.2: shutdown with three IPs, and SIGTERM withdrawing in BIRD
start_bird || {
	not_ok "BIRD starts"
	it_finish
	exit
}
HELPER="$HEALTHD ${BASE[*]} --interval 1"
start_exabgp "$HELPER"
if wait_established 20; then ok "ExaBGP and BIRD establish a session"; else not_ok "BGP session within 20s"; fi
all=1
for p in 203.0.113.11/32 203.0.113.12/32 203.0.113.13/32; do wait_route_present "$p" 10 || all=0; done
if [ "$all" = 1 ]; then ok "the 3 IPs reach BIRD"; else not_ok "3 routes in BIRD"; fi
find_helper 5
helper=$HEALTHD_PID
t0=$(now)
kill -TERM "$EXABGP_PID"
if wait_gone "$EXABGP_PID" 10; then
	ok "ExaBGP's shutdown with 3 IPs completes ($(since "$t0")s)"
else
	not_ok "ExaBGP exits within 10s of SIGTERM (3 IPs)"
fi
if wait_gone "$helper" 2; then ok "the helper exited with ExaBGP"; else not_ok "helper gone after ExaBGP's shutdown"; fi
wait "$EXABGP_PID" 2>/dev/null
EXABGP_PID=""

start_exabgp "$HELPER"
wait_established 20
all=1
for p in 203.0.113.11/32 203.0.113.12/32 203.0.113.13/32; do wait_route_present "$p" 10 || all=0; done
find_helper 5
kill -TERM "$HEALTHD_PID"
for p in 203.0.113.11/32 203.0.113.12/32 203.0.113.13/32; do wait_route_absent "$p" 5 || all=0; done
if [ "$all" = 1 ]; then
	ok "SIGTERM to the helper withdraws all 3 IPs from BIRD"
else
	not_ok "3 routes announced, then withdrawn after SIGTERM" "$(birdc_ show route 2>&1 | tr '\n' '|')"
fi
if wait_gone "$HEALTHD_PID" 3; then ok "the helper exited after SIGTERM"; else not_ok "helper exits after SIGTERM"; fi
stop_exabgp 5

# The original in the same place: ExaBGP waits for it forever.
start_exabgp "${PYHC[*]} ${BASE[*]} --interval 1"
sleep 4
kill -TERM "$EXABGP_PID"
if wait_gone "$EXABGP_PID" 6; then
	note "ExaBGP with its own healthcheck (3 IPs) shut down too this time"
else
	note "ExaBGP with its own healthcheck (3 IPs) is still shutting down 6s after SIGTERM (deadlock)"
fi
kill -KILL "$EXABGP_PID" 2>/dev/null
for p in $(pgrep -f "exabgp healthcheck .*203.0.113.13"); do kill -KILL "$p" 2>/dev/null; done
wait "$EXABGP_PID" 2>/dev/null
EXABGP_PID=""

it_finish
