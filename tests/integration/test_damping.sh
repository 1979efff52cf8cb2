#!/usr/bin/env bash
# Flap damping at a real BGP peer: a real ExaBGP spawns healthd and peers with a real
# BIRD 2, which logs every route it imports or removes (debug routes). The service
# answers 200 and 503 in turn, one per check, with rise = fall = 1: its route would change
# at every run. With max_flaps the peer sees at most that many changes in the window;
# then the service is held withdrawn (its on_down) for hold_down, even once healthy
# again, and rises normally when hold_down ends. Two such services flap together; during
# their hold the config is reloaded with one of them changed (its check's timeout): the
# changed one keeps its hold and its flap history exactly as the unchanged one does.
#
#   HEALTHD=/abs/path/healthd bash tests/integration/test_damping.sh
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

it_init
it_need exabgp bird birdc python3
it_need_healthd

SERVICE_ADDR=127.0.91.30 EXA_ADDR=127.0.91.31 BIRD_ADDR=127.0.91.32
PFX=203.0.113.92/32 PFX2=203.0.113.93/32
SERVICES=(web web2)
# per service: its prefix, BIRD's route changes before the flapping, when its hold began
declare -A PFX_OF=([web]=$PFX [web2]=$PFX2) BEFORE T_HELD
MODE=$T/mode
MAX_FLAPS=4 WINDOW=30s HOLD=5s
hold_s=$(dur_s $HOLD)

# One server per service, both answering as $MODE says: each service's own checks see
# 200 and 503 in turn.
WEB_PORT=$(free_port) WEB_PORT2=$(free_port)
echo ok >"$MODE"
python3 "$IT_LIB_DIR/modehttp.py" "$SERVICE_ADDR" "$WEB_PORT" "$MODE" </dev/null >>"$T/web.log" 2>&1 &
WEB_PID=$!
python3 "$IT_LIB_DIR/modehttp.py" "$SERVICE_ADDR" "$WEB_PORT2" "$MODE" </dev/null >>"$T/web2.log" 2>&1 &
WEB2_PID=$!
wait_tcp "$SERVICE_ADDR" "$WEB_PORT" 5 || not_ok "test HTTP server listens"
wait_tcp "$SERVICE_ADDR" "$WEB_PORT2" 5 || not_ok "second test HTTP server listens"
start_bird || {
	not_ok "BIRD starts"
	it_finish
	exit
}

# write_cfg TIMEOUT: the config, with TIMEOUT the timeout of web2's check.
write_cfg() {
	cat >"$T/healthd.json.tmp" <<EOF
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
		},
		{
			"name": "web2",
			"prefixes": [ "$PFX2" ],
			"max_flaps": $MAX_FLAPS, "flap_window": "$WINDOW", "hold_down": "$HOLD",
			"checks": [ { "type": "http", "url": "http://$SERVICE_ADDR:$WEB_PORT2/health",
			              "timeout": "$1" } ]
		}
	]
}
EOF
	mv "$T/healthd.json.tmp" "$T/healthd.json"
}
write_cfg 150ms

# changes PREFIX [TS]: the route changes BIRD logged for PREFIX so far (imports and
# removals), or only those logged before TS ("YYYY-MM-DD HH:MM:SS.mmm": BIRD's and
# healthd's local time).
changes() {
	grep -E "exa(\.ipv4)? > (added|removed) .* $1 " "$T/bird.log" |
		awk -v ts="${2:-9}" 'substr($0, 1, 23) < ts' | wc -l
}
# held NAME: healthd's log says the service is held.
held() { grep -q "service $1: flap damping: .* held in its on_down action" "$T/exabgp.out"; }
# log_ts NAME TEXT: the stamp of healthd's first log line about service NAME with TEXT,
# as "YYYY-MM-DD HH:MM:SS.mmm" (empty when there is none).
log_ts() {
	grep -m1 -oE "^[0-9-]{10}T[0-9:.]{12} .*service $1: $2" "$T/exabgp.out" | cut -c1-23 | tr T ' '
}

start_exabgp "$HEALTHD run -c $T/healthd.json"
find_helper 10 || not_ok "ExaBGP spawned healthd"
wait_established 20 || not_ok "BGP session established within 20s"
birdc_ debug exa "{ routes }" >"$T/birdc-debug.out" 2>&1 || note "birdc debug: $(cat "$T/birdc-debug.out")"
for p in "$PFX" "$PFX2"; do
	if wait_route_present "$p" 15; then ok "steady service: $p in BIRD"; else not_ok "steady service: $p in BIRD"; fi
done
sleep 0.5
for svc in "${SERVICES[@]}"; do BEFORE[$svc]=$(changes "${PFX_OF[$svc]}"); done

# Flap at every run (every 200 ms): unbounded, that would be 5 changes a second.
echo flap >"$MODE"
t0=$(now)
for ((i = 0; i < 50; i++)); do
	held web && held web2 && break
	sleep 0.1
done
for svc in "${SERVICES[@]}"; do
	if held "$svc"; then
		ok "flapping service $svc held after max_flaps ($(since "$t0")s)"
	else
		not_ok "flapping service $svc held within 5s" "$(tail -5 "$T/exabgp.out" | tr '\n' '|')"
	fi
done
echo ok >"$MODE" # healthy again at once: must stay held all the same

# During the hold, a reload that changes web2 (its check's timeout) and not web.
write_cfg 140ms
kill -HUP "$HEALTHD_PID"
check "reload during the hold: web unchanged, web2 changed" \
	wait_for 5 grep -q "reload: 1 unchanged, 1 changed, 0 added, 0 removed" "$T/exabgp.out"

# When each hold began, by healthd's own clock (its log line), not when this script saw
# it: on a loaded machine the script can see it late.
for svc in "${SERVICES[@]}"; do
	ts=$(log_ts "$svc" "flap damping: .*held in its on_down action")
	T_HELD[$svc]=$(date -d "${ts:-now}" +%s.%N)
done
t_first=$(printf '%s\n' "${T_HELD[@]}" | sort -n | head -n 1)

# Until hold_down ends: both absent, and no change at all (watched until 0.7 s before the
# first hold's end).
watch_s=$(awk -v h="$hold_s" -v t="$t_first" -v n="$(now)" \
	'BEGIN { w = t + h - 0.7 - n; print (w < 0.5 ? 0.5 : w) }')
t0=$(now) moved=""
while le "$(since "$t0")" "$watch_s"; do
	for p in "$PFX" "$PFX2"; do route_present "$p" && moved="$moved $p"; done
	[ -n "$moved" ] && break
	sleep 0.2
done
if [ -z "$moved" ]; then
	ok "held: $PFX and $PFX2 (reloaded) stay withdrawn though healthy, until hold_down ends"
else
	not_ok "held: $PFX and $PFX2 (reloaded) stay withdrawn until hold_down ends" "present:$moved"
fi
# hold_down over: each rises normally, not before its hold's end.
for svc in "${SERVICES[@]}"; do
	p=${PFX_OF[$svc]} t=${T_HELD[$svc]}
	if wait_route_present "$p" "$(awk -v h="$hold_s" -v t="$t" -v n="$(now)" 'BEGIN { print t + h + 3 - n }')"; then
		held_for=$(since "$t")
		if le "$(awk -v h="$hold_s" 'BEGIN { print h - 0.5 }')" "$held_for"; then
			ok "$svc: announced again when hold_down ended (${held_for}s after the hold began)"
		else
			not_ok "$svc: announced again only after hold_down" "after ${held_for}s"
		fi
	else
		not_ok "$svc: announced again after hold_down"
	fi
	check "$svc: healthd logged the end of the hold" grep -q "service $svc: flap damping: hold_down over" "$T/exabgp.out"
done

# Counted up to healthd's own "hold_down over" line, not up to whenever the checks above
# ended: on a slow machine they can end after the announce that follows the hold.
for svc in "${SERVICES[@]}"; do
	p=${PFX_OF[$svc]} b=${BEFORE[$svc]}
	hold_end=$(log_ts "$svc" "flap damping: hold_down over")
	during=$(($(changes "$p" "${hold_end:-9}") - b))
	# The initial announce is within the window too: it counts toward max_flaps.
	if [ -n "$hold_end" ] && [ "$during" -ge 2 ] && [ "$during" -le $((MAX_FLAPS - 1)) ]; then
		ok "$svc: BIRD saw $during route changes while flapping and held (initial announce + $during <= max_flaps $MAX_FLAPS)"
	else
		not_ok "$svc: BIRD saw between 2 and $((MAX_FLAPS - 1)) changes before the hold ended" "saw $during: $(grep -E "$p" "$T/bird.log" | tail -8 | tr '\n' '|')"
	fi
done

kill_pid "$WEB_PID" 2
kill_pid "$WEB2_PID" 2
it_finish
