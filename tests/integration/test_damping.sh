#!/usr/bin/env bash
# Flap damping at a real BGP peer: a real ExaBGP spawns healthd and peers with a real
# BIRD 2, which logs every route it imports or removes (debug routes). The service
# answers 200 and 503 in turn, one per check, with rise = fall = 1: its route would change
# at every run. With max_flaps the peer sees at most that many changes in the window;
# then the service is held withdrawn (its on_down) for hold_down, even once healthy
# again, and rises normally when hold_down ends.
#
#   HEALTHD=/abs/path/healthd bash tests/integration/test_damping.sh
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

it_init
it_need exabgp bird birdc python3
it_need_healthd

SERVICE_ADDR=127.0.91.30 EXA_ADDR=127.0.91.31 BIRD_ADDR=127.0.91.32
PFX=203.0.113.92/32
MODE=$T/mode
MAX_FLAPS=4 WINDOW=30s HOLD=5s
hold_s=$(dur_s $HOLD)

WEB_PORT=$(free_port)
echo ok >"$MODE"
python3 "$IT_LIB_DIR/modehttp.py" "$SERVICE_ADDR" "$WEB_PORT" "$MODE" </dev/null >>"$T/web.log" 2>&1 &
WEB_PID=$!
wait_tcp "$SERVICE_ADDR" "$WEB_PORT" 5 || not_ok "test HTTP server listens"
start_bird || {
	not_ok "BIRD starts"
	it_finish
	exit
}

cat >"$T/healthd.json" <<EOF
{
	"speaker": { "type": "exabgp" },
	"defaults": { "interval": "200ms", "fast_interval": "200ms", "timeout": "150ms",
	              "rise": 1, "fall": 1 },
	"services": [
		{
			"name": "web",
			"prefixes": [ "$PFX" ],
			"max_flaps": $MAX_FLAPS, "flap_window": "$WINDOW", "hold_down": "$HOLD",
			"checks": [ { "type": "http", "url": "http://$SERVICE_ADDR:$WEB_PORT/health" } ]
		}
	]
}
EOF

# changes [TS]: the route changes BIRD logged for PFX so far (imports and removals), or
# only those logged before TS ("YYYY-MM-DD HH:MM:SS.mmm": BIRD's and healthd's local time).
changes() {
	grep -E "exa(\.ipv4)? > (added|removed) .* $PFX " "$T/bird.log" |
		awk -v ts="${1:-9}" 'substr($0, 1, 23) < ts' | wc -l
}
# held_at: healthd's log says the service is held.
held() { grep -q "service web: flap damping: .* held in its on_down action" "$T/exabgp.out"; }

start_exabgp "$HEALTHD run -c $T/healthd.json"
find_helper 10 || not_ok "ExaBGP spawned healthd"
wait_established 20 || not_ok "BGP session established within 20s"
birdc_ debug exa "{ routes }" >"$T/birdc-debug.out" 2>&1 || note "birdc debug: $(cat "$T/birdc-debug.out")"
if wait_route_present "$PFX" 15; then ok "steady service: $PFX in BIRD"; else not_ok "steady service: $PFX in BIRD"; fi
sleep 0.5
before=$(changes)

# Flap at every run (every 200 ms): unbounded, that would be 5 changes a second.
echo flap >"$MODE"
t0=$(now)
for ((i = 0; i < 50; i++)); do
	held && break
	sleep 0.1
done
if held; then
	ok "flapping service held after max_flaps ($(since "$t0")s)"
else
	not_ok "flapping service held within 5s" "$(tail -5 "$T/exabgp.out" | tr '\n' '|')"
fi
echo ok >"$MODE" # healthy again at once: must stay held all the same
# When the hold began, by healthd's own clock (its log line), not when this script saw it:
# on a loaded machine the script can see it late.
held_ts=$(grep -m1 -oE "^[0-9-]{10}T[0-9:.]{12} .*held in its on_down action" "$T/exabgp.out" |
	cut -c1-23 | tr T ' ')
t_held=$(date -d "${held_ts:-now}" +%s.%N)

# Until hold_down ends: absent, and no change at all (watched until 0.7 s before its end).
if stays_absent "$PFX" "$(awk -v h="$hold_s" -v t="$t_held" -v n="$(now)" \
	'BEGIN { w = t + h - 0.7 - n; print (w < 0.5 ? 0.5 : w) }')"; then
	ok "held: $PFX stays withdrawn though healthy, until hold_down ends"
else
	not_ok "held: $PFX stays withdrawn until hold_down ends"
fi
# hold_down over: rises normally.
if wait_route_present "$PFX" "$(awk -v h="$hold_s" 'BEGIN { print h + 3 }')"; then
	held_for=$(since "$t_held")
	if le "$(awk -v h="$hold_s" 'BEGIN { print h - 0.5 }')" "$held_for"; then
		ok "announced again when hold_down ended (${held_for}s after the hold began)"
	else
		not_ok "announced again only after hold_down" "after ${held_for}s"
	fi
else
	not_ok "announced again after hold_down"
fi
check "healthd logged the end of the hold" grep -q "service web: flap damping: hold_down over" "$T/exabgp.out"

# Counted up to healthd's own "hold_down over" line, not up to whenever the checks above
# ended: on a slow machine they can end after the announce that follows the hold.
hold_end=$(grep -m1 -oE "^[0-9-]{10}T[0-9:.]{12} .*flap damping: hold_down over" "$T/exabgp.out" |
	cut -c1-23 | tr T ' ')
during=$(($(changes "${hold_end:-9}") - before))
# The initial announce is within the window too: it counts toward max_flaps.
if [ -n "$hold_end" ] && [ "$during" -ge 2 ] && [ "$during" -le $((MAX_FLAPS - 1)) ]; then
	ok "BIRD saw $during route changes while flapping and held (initial announce + $during <= max_flaps $MAX_FLAPS)"
else
	not_ok "BIRD saw between 2 and $((MAX_FLAPS - 1)) changes before the hold ended" "saw $during: $(grep -E "$PFX" "$T/bird.log" | tail -8 | tr '\n' '|')"
fi

kill_pid "$WEB_PID" 2
it_finish
