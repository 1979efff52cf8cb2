#!/usr/bin/env bash
# ExaBGP stopped (SIGSTOP) for 60 s while the services change under healthd. ExaBGP
# reads nothing then: healthd's stdout pipe fills (64 KiB), then healthd's own queue,
# which exabgp.c caps at 256 KiB; past that a change waits in the route table, where a
# later change replaces it. What must hold, seen from outside:
#   probing goes on (the check-run counters at the control endpoint keep rising, and the
#   endpoint answers within 2 s all along: nothing blocks on the pipe);
#   memory stays bounded: the backlog at the endpoint never passes the cap, and healthd's
#   RSS is flat from the moment the queue is full, while the services keep flapping;
#   once the queue is full the flaps stop producing commands (the command counter stands
#   still while the transition counter climbs);
#   after SIGCONT BIRD holds each service's final state (not whatever a replay of the
#   flaps ended on), and healthd still runs, and stops cleanly.
#
#   HEALTHD=/abs/path/healthd bash tests/integration/test_fault_exabgp_stop.sh
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=lib_fault.sh
. "$(dirname "$0")/lib_fault.sh"

it_init
it_need exabgp bird birdc curl /usr/bin/python3
it_need_healthd
fault_addresses

STOP_S=${FAULT_STOP_S:-60}
CAP=$((256 * 1024)) # exabgp.c's EXABGP_OUT_ROOM
LINE_MAX=4096
FLAP1=198.51.100.121/32 FLAP2=198.51.100.122/32 # flap at 10 ms, then end DOWN
A=198.51.100.131/32                             # UP before the stop, DOWN after
B=198.51.100.132/32                             # DOWN before, UP after
C=198.51.100.133/32                             # UP, DOWN during the stop, UP again
# Long command lines (about 300 bytes) fill the pipe and the queue within seconds.
COMMS=""
for ((i = 1; i <= 24; i++)); do COMMS="$COMMS${COMMS:+, }\"65112:$((1000 + i))\""; done

bird_routes() {
	birdc_ show route 2>/dev/null | awk '$1 ~ /^[0-9a-f:.]+\/[0-9]+$/ { print $1 }' | sort | tr '\n' ' ' | sed 's/ $//'
}
# wait_bird_routes "P1 P2" TIMEOUT_S: BIRD has exactly these prefixes; BIRD_NOW: last seen.
wait_bird_routes() {
	local want t0
	want=$(tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort | tr '\n' ' ' | sed 's/ $//')
	t0=$(now)
	while :; do
		BIRD_NOW=$(bird_routes)
		[ "$BIRD_NOW" = "$want" ] && {
			ELAPSED=$(since "$t0")
			return 0
		}
		le "$(since "$t0")" "$2" || return 1
		sleep 0.2
	done
}

start_bird || {
	not_ok "BIRD starts"
	it_finish
	exit
}
for s in flap1:up flap2:up a:up b:down c:up; do start_switch "${s%%:*}" "${s#*:}" || not_ok "switch ${s%%:*} listens"; done

svc() { # name prefix switch timing
	printf '{ "name": "%s", "prefixes": [ "%s" ], %s
	  "announce": { "next_hop": "self", "med": 112, "communities": [ %s ] },
	  "checks": [ %s ] }' "$1" "$2" "$4" "$COMMS" "$(switch_check "$3")"
}
FAST='"interval": "10ms", "fast_interval": "10ms", "timeout": "9ms", "rise": 1, "fall": 1,'
cat >"$T/healthd.json" <<EOF
{
	"speaker": { "type": "exabgp" },
	$(control_json),
	"defaults": { "interval": "200ms", "fast_interval": "100ms", "timeout": "100ms", "rise": 2, "fall": 2 },
	"services": [
		$(svc flap1 "$FLAP1" flap1 "$FAST"),
		$(svc flap2 "$FLAP2" flap2 "$FAST"),
		$(svc a "$A" a ""),
		$(svc b "$B" b ""),
		$(svc c "$C" c "")
	]
}
EOF
if "$HEALTHD" check -c "$T/healthd.json" >/dev/null 2>"$T/check.err"; then :; else not_ok "the config is valid" "$(head -3 "$T/check.err")"; fi
note "lab in $T: ExaBGP stopped ${STOP_S}s, control $CTL_ADDR:$CTL_PORT"

start_exabgp "$HEALTHD run -c $T/healthd.json"
find_helper 10 || not_ok "ExaBGP spawned healthd within 10s"
wait_established 20 || not_ok "BGP session ExaBGP -> BIRD established within 20s"
if wait_bird_routes "$FLAP1 $FLAP2 $A $C" 15; then ok "before: BIRD has the healthy services' routes"; else not_ok "before: BIRD has $FLAP1 $FLAP2 $A $C" "BIRD has: $BIRD_NOW"; fi

metrics_fetch || not_ok "the control endpoint answers"
runs_prev=$(metric healthd_check_runs_total)
rss_start=$(rss_kib "$HEALTHD_PID")

kill -STOP "$EXABGP_PID"
note "ExaBGP (pid $EXABGP_PID) stopped"
switch_mode flap1 alt
switch_mode flap2 alt
switch_mode a down
switch_mode b up
switch_mode c down

# Samples every 5 s: [t, runs, backlog, commands, transitions, rss]
stalls=0 unanswered=0 max_backlog=0 samples=0
declare -a S_T=() S_BL=() S_CMD=() S_TR=() S_RSS=()
t0=$(now)
for ((k = 1; k <= STOP_S / 5; k++)); do
	# sleep to the k-th 5 s mark (bounded: never negative)
	sleep "$(awk -v k="$k" -v e="$(since "$t0")" 'BEGIN { d = k * 5 - e; print (d > 0 ? d : 0) }')"
	[ "$k" -eq $((STOP_S / 10)) ] && switch_mode c up           # half-way: C comes back
	if [ "$k" -eq $((STOP_S / 5 - 1)) ]; then # 5 s before the end: the flaps end DOWN
		switch_mode flap1 down
		switch_mode flap2 down
	fi
	if ! metrics_fetch; then
		unanswered=$((unanswered + 1))
		continue
	fi
	samples=$((samples + 1))
	runs=$(metric healthd_check_runs_total)
	bl=$(metric healthd_speaker_backlog_bytes)
	S_T+=("$(since "$t0")")
	S_BL+=("${bl:-0}")
	S_CMD+=("$(metric healthd_speaker_commands_total)")
	S_TR+=("$(metric healthd_service_transitions_total)")
	S_RSS+=("$(rss_kib "$HEALTHD_PID")")
	# 5 s of probing: the two 10 ms checks alone would run 1,000 times; half is plenty.
	[ $((runs - runs_prev)) -ge 250 ] || stalls=$((stalls + 1))
	[ "${bl:-0}" -gt "$max_backlog" ] && max_backlog=${bl:-0}
	note "t=${S_T[-1]}s runs +$((runs - runs_prev)) backlog $bl commands ${S_CMD[-1]} transitions ${S_TR[-1]} rss ${S_RSS[-1]} KiB"
	runs_prev=$runs
done
alive "$HEALTHD_PID" || not_ok "healthd runs during the stop"
if [ "$unanswered" -eq 0 ] && [ "$samples" -ge 2 ]; then ok "the control endpoint answered every time ($samples times in ${STOP_S}s)"; else not_ok "the control endpoint answered within 2s every time" "$unanswered of $((samples + unanswered)) unanswered"; fi
if [ "$stalls" -eq 0 ] && [ "$samples" -ge 2 ]; then ok "probing went on: at least 250 runs every 5 s"; else not_ok "probing went on" "$stalls of $samples samples with fewer than 250 runs"; fi
if [ "$max_backlog" -ge $((CAP / 2)) ] && [ "$max_backlog" -le $((CAP + LINE_MAX)) ]; then
	ok "the backlog filled and stayed under the cap: at most $max_backlog bytes (cap $CAP)"
else
	not_ok "the backlog filled and stayed under the cap" "at most $max_backlog bytes (cap $CAP, expected at least half of it)"
fi
# From the first sample that found the queue full (the cap reached: changes are refused)
# to the end of the stop, while the services flap on.
n=${#S_T[@]}
h=-1
for ((i = 0; i < n; i++)); do
	if [ "${S_BL[i]}" -ge "$CAP" ]; then
		h=$i
		break
	fi
done
if [ "$h" -ge 0 ] && [ $((n - 1 - h)) -ge 2 ]; then
	dcmd=$((S_CMD[n - 1] - S_CMD[h])) dtr=$((S_TR[n - 1] - S_TR[h]))
	if [ "$dcmd" -eq 0 ] && [ "$dtr" -ge 100 ]; then
		ok "with the queue full, $dtr transitions wrote no command (they wait in the route table)"
	else
		not_ok "with the queue full, transitions write no command" "from t=${S_T[h]}s: $dcmd commands, $dtr transitions"
	fi
	drss=$((S_RSS[n - 1] - S_RSS[h]))
	if healthd_instrumented; then
		note "RSS ${S_RSS[h]} -> ${S_RSS[n - 1]} KiB with the queue full (not bounded here: ASan/valgrind)"
	elif [ "$drss" -le 256 ]; then
		ok "memory is flat with the queue full: RSS ${S_RSS[h]} -> ${S_RSS[n - 1]} KiB from t=${S_T[h]}s (start $rss_start KiB)"
	else
		not_ok "memory is flat with the queue full (+256 KiB at most)" "RSS ${S_RSS[h]} -> ${S_RSS[n - 1]} KiB from t=${S_T[h]}s"
	fi
else
	not_ok "the queue was full for at least the last 10 s of the stop" "first full at sample $h of $n"
fi

kill -CONT "$EXABGP_PID"
note "ExaBGP continued"
# Final states: the flaps ended DOWN, A DOWN, B UP, C UP again.
if wait_bird_routes "$B $C" 30; then
	ok "after SIGCONT BIRD has each service's final state: $B $C (${ELAPSED}s)"
	if sleep 1 && wait_bird_routes "$B $C" 0; then ok "... and keeps it"; else not_ok "BIRD keeps the final state" "BIRD has: $BIRD_NOW"; fi
else
	not_ok "after SIGCONT BIRD has $B $C" "BIRD has: $BIRD_NOW"
fi
for ((i = 0; i < 50; i++)); do
	metrics_fetch && [ "$(metric healthd_speaker_backlog_bytes)" = 0 ] && break
	sleep 0.2
done
if [ "$(metric healthd_speaker_backlog_bytes)" = 0 ]; then ok "the backlog drained"; else not_ok "the backlog drained" "$(metric healthd_speaker_backlog_bytes) bytes"; fi
# What waited in the route table went out as one command per route at most: the final
# state, not the flaps.
if [ "$n" -ge 1 ]; then
	extra=$(($(metric healthd_speaker_commands_total) - S_CMD[n - 1]))
	if [ "$extra" -ge 1 ] && [ "$extra" -le 5 ]; then
		ok "after the queue drained, $extra commands brought the 5 routes to their final state"
	else
		not_ok "after the queue drained, 1 to 5 commands (one per changed route)" "$extra commands"
	fi
fi
bad=$(grep -E 'not understood|could not parse|reason:' "$T/exabgp.log" 2>/dev/null | head -n 3)
if [ -z "$bad" ]; then ok "ExaBGP understood every command"; else not_ok "ExaBGP understood every command" "$bad"; fi
if alive "$HEALTHD_PID"; then ok "healthd still runs"; else not_ok "healthd still runs"; fi

kill -TERM "$HEALTHD_PID"
if wait_bird_routes "" 10; then ok "SIGTERM to healthd withdraws every route"; else not_ok "SIGTERM withdraws every route" "BIRD has: $BIRD_NOW"; fi
if wait_gone "$HEALTHD_PID" 5 && grep -q 'healthd\[info\] exit 0' "$T/exabgp.out"; then ok "healthd exits 0"; else not_ok "healthd exits 0" "$(grep -E 'exit|ERROR|Sanitizer' "$T/exabgp.out" | tail -n 3)"; fi
sanitizer_clean "$T/exabgp.out"
stop_switches
it_finish
