#!/usr/bin/env bash
# Graded health at a real BGP peer: a real ExaBGP spawns healthd and peers with a real
# BIRD 2; the service is a small HTTP server that a test switches between fast and slow.
# A check slower than its degraded_after puts the service in DEGRADED (after `fall` slow
# runs, not one): BIRD sees the on_degraded MED. Fast again (after `rise` fast runs):
# the announce MED returns. The route is never withdrawn on the way.
#
#   HEALTHD=/abs/path/healthd bash tests/integration/test_degraded.sh
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

it_init
it_need exabgp bird birdc python3
it_need_healthd

# This test's own loopback addresses.
SERVICE_ADDR=127.0.91.20 EXA_ADDR=127.0.91.21 BIRD_ADDR=127.0.91.22
PFX=203.0.113.91/32
MODE=$T/mode
INTERVAL=1s FAST=200ms TIMEOUT=800ms RISE=2 FALL=3 SLOW_AFTER=150ms

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
	"defaults": { "interval": "$INTERVAL", "fast_interval": "$FAST", "timeout": "$TIMEOUT",
	              "rise": $RISE, "fall": $FALL },
	"services": [
		{
			"name": "web",
			"prefixes": [ "$PFX" ],
			"announce": { "med": 100 },
			"on_degraded": { "med": 500 },
			"checks": [ { "type": "http", "url": "http://$SERVICE_ADDR:$WEB_PORT/health",
			              "degraded_after": "$SLOW_AFTER" } ]
		}
	]
}
EOF

# med_is MED: BIRD's route for PFX carries that MED.
med_is() { birdc_ show route "$PFX" all 2>/dev/null | grep -q "BGP.med: $1\$"; }
# wait_med MED TIMEOUT_S; counts meanwhile the polls that found no route at all.
GAPS=0
wait_med() {
	local i n
	n=$(awk -v s="$2" 'BEGIN { printf "%d", s * 5 + 1 }')
	for ((i = 0; i < n; i++)); do
		med_is "$1" && return 0
		route_present "$PFX" || GAPS=$((GAPS + 1))
		sleep 0.2
	done
	return 1
}

start_exabgp "$HEALTHD run -c $T/healthd.json"
find_helper 10 || not_ok "ExaBGP spawned healthd"
wait_established 20 || not_ok "BGP session established within 20s"
if wait_route_present "$PFX" 15 && wait_med 100 2; then
	ok "fast service: $PFX in BIRD with MED 100"
else
	not_ok "fast service: $PFX in BIRD with MED 100" "$(birdc_ show route "$PFX" all 2>&1 | tr '\n' '|')"
fi

# One slow run (fall is $FALL) must not move it.
echo "slow 0.4" >"$MODE"
sleep 1.2 # one or two runs at the 1s interval: fewer than fall
echo ok >"$MODE"
if stays_present "$PFX" 2 && med_is 100; then
	ok "one slow run: still MED 100"
else
	not_ok "one slow run: still MED 100" "$(birdc_ show route "$PFX" all 2>&1 | tr '\n' '|')"
fi

echo "slow 0.4" >"$MODE"
t0=$(now)
if wait_med 500 10; then
	ok "slow service (> degraded_after $SLOW_AFTER): BIRD sees the on_degraded MED 500 ($(since "$t0")s)"
else
	not_ok "slow service: BIRD sees MED 500" "$(birdc_ show route "$PFX" all 2>&1 | tr '\n' '|')"
fi
check "healthd logged the service DEGRADED" grep -q "service web: UP -> DEGRADED" "$T/exabgp.out"

echo ok >"$MODE"
t0=$(now)
if wait_med 100 10; then
	ok "fast again: MED 100 returns ($(since "$t0")s)"
else
	not_ok "fast again: MED 100 returns" "$(birdc_ show route "$PFX" all 2>&1 | tr '\n' '|')"
fi
check "healthd logged DEGRADED -> UP" grep -q "service web: DEGRADED -> UP" "$T/exabgp.out"
if [ "$GAPS" -eq 0 ]; then ok "the route never left BIRD while degraded"; else not_ok "the route never left BIRD ($GAPS polls without it)"; fi

# A failing service still withdraws: degraded is not a way to stay announced.
echo fail >"$MODE"
if wait_route_absent "$PFX" 10; then ok "failing service: withdrawn (${ELAPSED}s)"; else not_ok "failing service: withdrawn"; fi

kill_pid "$WEB_PID" 2
it_finish
