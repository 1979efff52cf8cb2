#!/usr/bin/env bash
# 10,000 flaps in a row: one service, rise 1, fall 1, one tcp check every 10 ms against a
# switch that answers PASS and FAIL in turn, so every result changes the state. A real
# ExaBGP spawned healthd and peers with a real BIRD. What must hold:
#   every result that changed the state is one transition in healthd's counters and one
#   command at ExaBGP (announce and withdraw in turn, none lost, none doubled); a run
#   that times out (a FAIL whatever the switch said) is the only result allowed to leave
#   the state as it was;
#   no leak: healthd's RSS after the flaps is within a small bound of before (under ASan
#   or valgrind the leak checker at exit says it instead; valgrind runs a shorter series);
#   at the end (the switch answers FAIL from then on) the route is gone from BIRD, as the
#   last answers say, and healthd still runs.
# Flap damping is off unless a service sets max_flaps (docs/safety.md): this config does
# not, so no flap is held back.
#
#   HEALTHD=/abs/path/healthd bash tests/integration/test_fault_flaps.sh
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=lib_fault.sh
. "$(dirname "$0")/lib_fault.sh"

it_init
it_need exabgp bird birdc curl /usr/bin/python3
it_need_healthd
fault_addresses

# The series takes 100 s at the nominal pace (about 140 s as runs really come); the bound
# keeps the file under tests/run.sh's 300 s.
FLAPS=${FAULT_FLAPS:-10000}
INTERVAL=10ms TIMEOUT=9ms FLAP_LIMIT_S=230
if healthd_valgrind; then # ~30x slower: a shorter series, same assertions
	FLAPS=${FAULT_FLAPS:-600} INTERVAL=50ms TIMEOUT=40ms FLAP_LIMIT_S=120
fi
RSS_BOUND_KIB=512 # growth allowed over the series: 10,000 flaps leaking 64 bytes each is 625 KiB
PFX=203.0.113.112/32

start_bird || {
	not_ok "BIRD starts"
	it_finish
	exit
}
start_switch flap up || not_ok "the switch listens"

cat >"$T/healthd.json" <<EOF
{
	"speaker": { "type": "exabgp" },
	$(control_json),
	"defaults": { "interval": "$INTERVAL", "fast_interval": "$INTERVAL", "timeout": "$TIMEOUT",
	              "rise": 1, "fall": 1 },
	"services": [
		{ "name": "flap", "prefixes": [ "$PFX" ], "announce": { "next_hop": "self", "med": 112 },
		  "checks": [ $(switch_check flap) ] }
	]
}
EOF
if "$HEALTHD" check -c "$T/healthd.json" >/dev/null 2>"$T/check.err"; then :; else not_ok "the config is valid" "$(head -3 "$T/check.err")"; fi
note "lab in $T: $FLAPS flaps at $INTERVAL, switch $SERVICE_ADDR:${SW_PORT[flap]}, control $CTL_ADDR:$CTL_PORT"

start_exabgp "$HEALTHD run -c $T/healthd.json"
find_helper 10 || not_ok "ExaBGP spawned healthd within 10s"
wait_established 20 || not_ok "BGP session ExaBGP -> BIRD established within 20s"
if wait_route_present "$PFX" 15; then ok "the service is UP: $PFX in BIRD (${ELAPSED}s)"; else not_ok "$PFX in BIRD within 15s"; fi

# exa_commands: the route commands ExaBGP took from healthd, as its API log has them
# ("route added to neighbor ... : PREFIX ..." / "route removed from ..."), one a line.
exa_commands() {
	awk -v p="$PFX" '$0 ~ / api +route (added to|removed from) / && index($0, ": " p " ") {
		print ($0 ~ / route added to /) ? "announce" : "withdraw" }' "$T/exabgp.log" 2>/dev/null
}

# Before: a second of warm-up at the flapping pace, so that buffers and the allocator
# have reached their working size; then the baselines of RSS and of the counters, inside
# the series (every result from there on is an answer of the alternating switch).
switch_mode flap alt
sleep 1
rss0=$(rss_kib "$HEALTHD_PID")
metrics_fetch || not_ok "the control endpoint answers"
tr0=$(metric healthd_service_transitions_total 'service="flap"')
runs0=$(metric healthd_check_runs_total 'service="flap"')
to0=$(metric healthd_check_timeouts_total 'service="flap"')
t0=$(now)
want=$((tr0 + FLAPS))
tr=$tr0
while le "$(since "$t0")" "$FLAP_LIMIT_S"; do
	if metrics_fetch; then
		tr=$(metric healthd_service_transitions_total 'service="flap"')
		[ "${tr:-0}" -ge "$want" ] && break
	fi
	sleep 1
done
# The series ends DOWN: FAIL from now on, and a run that times out fails too, so nothing
# can move the state any more (UP could flicker on a busy machine: fall is 1).
switch_mode flap down
took=$(since "$t0")
# One fetch: runs, timeouts and transitions of the same moment.
runs=$(metric healthd_check_runs_total 'service="flap"')
to=$(metric healthd_check_timeouts_total 'service="flap"')
if [ "${tr:-0}" -ge "$want" ]; then
	ok "$FLAPS flaps in ${took}s ($((tr - tr0)) transitions)"
else
	not_ok "$FLAPS flaps within ${FLAP_LIMIT_S}s" "$((${tr:-0} - tr0)) transitions after ${took}s"
fi
# With rise 1 and fall 1 every result that differs from the one before is a transition.
# The switch's answers alternate, so every result should be one, except around a run
# that timed out (a FAIL whatever the switch said, so two results alike on either side),
# and one at either end of the window, which two fetches of the counters delimit.
dr=$((runs - runs0)) dt=$((tr - tr0)) dto=$((to - to0))
note "series: $dr results, $dt transitions, $dto timeouts"
if [ $((dr - dt)) -le $((2 * dto + 2)) ] && [ "$dto" -le $((dr / 4)) ]; then
	ok "every result that changed the state is a transition ($dt of $dr results; $dto timed out)"
else
	not_ok "every result that changed the state is a transition" "$dr results, $dt transitions, $dto timeouts (at most $((2 * dto + 2)) results alike, at most 25% timeouts)"
fi
# The last state is DOWN: the route is withdrawn at BIRD, and stays so.
if wait_route_absent "$PFX" 10 && stays_absent "$PFX" 1; then ok "after the flaps the route is gone from BIRD, as the last answers say"; else not_ok "$PFX gone from BIRD after the flaps"; fi
if alive "$HEALTHD_PID"; then ok "healthd still runs"; else not_ok "healthd still runs"; fi

metrics_fetch || not_ok "the control endpoint answers after the flaps"
rss1=$(rss_kib "$HEALTHD_PID")
trans=$(metric healthd_service_transitions_total 'service="flap"')
ann=$(metric healthd_service_announces_total 'service="flap"')
wd=$(metric healthd_service_withdraws_total 'service="flap"')
note "healthd in all: transitions $trans, announces $ann, withdraws $wd"
grep '^healthd_service_transitions_total{service="flap"' "$T/metrics.txt" | sed 's/^/# /'

# What ExaBGP received: announce and withdraw in turn, one per transition.
exa_commands >"$T/commands"
ncmd=$(wc -l <"$T/commands")
if [ "$ncmd" -eq $((ann + wd)) ]; then
	ok "ExaBGP received every command healthd counted ($ncmd)"
else
	not_ok "ExaBGP received every command healthd counted" "ExaBGP logged $ncmd, healthd counted $ann announces + $wd withdraws"
fi
# A withdraw at start (withdraw_on_start: the route was unknown) comes before any
# transition. After it, every transition into UP is one announce and every one from UP
# to DOWN one withdraw; INIT -> DOWN (a first run that failed) changes no route.
first_is_wd=$(awk 'NR == 1 { print ($1 == "withdraw") }' "$T/commands")
to_up=$(metric healthd_service_transitions_total 'to="UP"')
up_down=$(metric healthd_service_transitions_total 'from="UP",to="DOWN"')
n_ann=$(grep -c '^announce$' "$T/commands")
n_wd=$(($(grep -c '^withdraw$' "$T/commands") - first_is_wd))
if [ "$n_ann" -eq "${to_up:-0}" ] && [ "$n_wd" -eq "${up_down:-0}" ] && [ $((n_ann + n_wd)) -ge "$FLAPS" ]; then
	ok "one command per transition: $n_ann announces (transitions to UP), $n_wd withdraws (UP -> DOWN)"
else
	not_ok "one command per transition" "ExaBGP: $n_ann announces, $n_wd withdraws (+$first_is_wd at start); healthd: ${to_up:-0} to UP, ${up_down:-0} UP -> DOWN"
fi
repeats=$(awk -v skip="$first_is_wd" 'NR > skip + 1 && $1 == prev { r++ } NR > skip { prev = $1 } END { print r + 0 }' "$T/commands")
if [ "$repeats" -eq 0 ] && [ "$(tail -n 1 "$T/commands")" = withdraw ]; then
	ok "announce and withdraw alternate, none lost or doubled; the last is a withdraw"
else
	not_ok "announce and withdraw alternate" "$repeats repeats; last: $(tail -n 1 "$T/commands")"
fi
bad=$(grep -E 'not understood|could not parse|reason:' "$T/exabgp.log" 2>/dev/null | head -n 3)
if [ -z "$bad" ]; then ok "ExaBGP understood every command"; else not_ok "ExaBGP understood every command" "$bad"; fi

if healthd_instrumented; then
	note "RSS $rss0 -> $rss1 KiB (not bounded here: ASan/valgrind; their leak check runs at exit)"
elif [ -n "$rss0" ] && [ -n "$rss1" ] && [ $((rss1 - rss0)) -le "$RSS_BOUND_KIB" ]; then
	ok "no leak: RSS $rss0 -> $rss1 KiB over $FLAPS flaps (bound +$RSS_BOUND_KIB KiB)"
else
	not_ok "no leak: RSS within +$RSS_BOUND_KIB KiB" "RSS $rss0 -> $rss1 KiB"
fi

# A clean stop, exit 0 (ASan's leak check runs here).
kill -TERM "$HEALTHD_PID"
if wait_gone "$HEALTHD_PID" 5 && grep -q 'exit 0' "$T/exabgp.out"; then ok "healthd exits 0"; else not_ok "healthd exits 0" "$(grep -E 'exit|ERROR|Sanitizer' "$T/exabgp.out" | tail -n 3)"; fi
sanitizer_clean "$T/exabgp.out"
stop_switches
it_finish
