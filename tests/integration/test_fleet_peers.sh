#!/usr/bin/env bash
# The fleet guard of one node against peers whose GET /status the test writes (small
# HTTP servers on their own loopback addresses), at a real BGP peer: a real ExaBGP
# spawns healthd and peers with a real BIRD 2.
#   - a peer announces the service: the failing node withdraws;
#   - no peer announces it: the failing node holds, with on_last's MED, and logs it;
#   - the peer announces again: the held node withdraws;
#   - a peer that answers garbage, or hangs, counts as announcing nothing, and the
#     probes of every service stay on time meanwhile;
#   - the polls come from the node's own source address, with its token.
#
#   HEALTHD=/abs/path/healthd bash tests/integration/test_fleet_peers.sh
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

it_init
it_need exabgp bird birdc python3
it_need_healthd

NODE=127.0.91.40 EXA_ADDR=127.0.91.40 BIRD_ADDR=127.0.91.49
SERVICE_ADDR=127.0.91.40
PEER1=127.0.91.41 PEER2=127.0.91.42
PFX=203.0.113.93/32
WEB_MODE=$T/web.mode P1_MODE=$T/p1.mode P2_MODE=$T/p2.mode
P1_STATUS=$T/p1.json

WEB_PORT=$(free_port) P1_PORT=$(free_port) P2_PORT=$(free_port) CTL_PORT=$(free_port)
echo ok >"$WEB_MODE"
echo "secret-fleet-token" >"$T/token" && chmod 600 "$T/token"
# status STATE FALLING: what peer 1 says of "web" (and of a service of another name).
status() {
	printf '{"services": [{"name": "web", "state": "%s", "announced": true, "falling": %s},
	  {"name": "other", "state": "UP", "announced": true, "falling": false}]}\n' "$1" "$2" >"$P1_STATUS.tmp"
	mv "$P1_STATUS.tmp" "$P1_STATUS"
}
status UP false
echo "file $P1_STATUS" >"$P1_MODE"
echo fail >"$P2_MODE" # peer 2 is a node whose endpoint errs: never counted
pids=()
python3 "$IT_LIB_DIR/modehttp.py" "$SERVICE_ADDR" "$WEB_PORT" "$WEB_MODE" </dev/null >>"$T/web.log" 2>&1 &
pids+=($!)
python3 "$IT_LIB_DIR/modehttp.py" "$PEER1" "$P1_PORT" "$P1_MODE" </dev/null >>"$T/p1.log" 2>&1 &
pids+=($!)
python3 "$IT_LIB_DIR/modehttp.py" "$PEER2" "$P2_PORT" "$P2_MODE" </dev/null >>"$T/p2.log" 2>&1 &
pids+=($!)
for hp in "$SERVICE_ADDR $WEB_PORT" "$PEER1 $P1_PORT" "$PEER2 $P2_PORT"; do
	# shellcheck disable=SC2086
	wait_tcp $hp 5 || not_ok "test HTTP server $hp listens"
done
start_bird || {
	not_ok "BIRD starts"
	it_finish
	exit
}

cat >"$T/healthd.json" <<EOF
{
	"source": { "ipv4": "$NODE" },
	"speaker": { "type": "exabgp" },
	"control": { "listen": "$NODE:$CTL_PORT" },
	"defaults": { "interval": "300ms", "fast_interval": "200ms", "timeout": "150ms",
	              "rise": 2, "fall": 2 },
	"fleet": { "peers": [ "$PEER1:$P1_PORT", "$PEER2:$P2_PORT" ], "min_others": 1,
	           "poll": "200ms", "stale_after": "1s", "token_file": "$T/token" },
	"services": [
		{
			"name": "web",
			"prefixes": [ "$PFX" ],
			"announce": { "med": 100 },
			"on_last": { "med": 900 },
			"checks": [ { "type": "http", "url": "http://$SERVICE_ADDR:$WEB_PORT/health" } ]
		},
		{
			"name": "steady",
			"prefixes": [ "203.0.113.94/32" ],
			"checks": [ { "type": "tcp", "host": "$SERVICE_ADDR", "port": $WEB_PORT } ]
		}
	]
}
EOF

med_is() { birdc_ show route "$PFX" all 2>/dev/null | grep -q "BGP.med: $1\$"; }
wait_med() {
	local i
	for ((i = 0; i < $2 * 5; i++)); do
		med_is "$1" && return 0
		sleep 0.2
	done
	return 1
}
logs() { cat "$T/exabgp.out"; }
# up_again: the web service healthy, announced with MED 100.
up_again() {
	echo ok >"$WEB_MODE"
	wait_med 100 10
}

start_exabgp "$HEALTHD run -d -c $T/healthd.json"
find_helper 10 || not_ok "ExaBGP spawned healthd"
wait_established 20 || not_ok "BGP session established within 20s"
if wait_route_present "$PFX" 15 && wait_med 100 3; then ok "web announced with MED 100"; else not_ok "web announced with MED 100"; fi

# 1. A peer announces it: withdraw as normal.
echo fail >"$WEB_MODE"
if wait_route_absent "$PFX" 5; then ok "a peer announces web: the failing node withdraws (${ELAPSED}s)"; else not_ok "a peer announces web: the failing node withdraws"; fi

# 2. No peer announces it (peer 1 says DOWN): hold with on_last.
check "web announced again" up_again
status DOWN false
sleep 0.6
echo fail >"$WEB_MODE"
if wait_med 900 5 && stays_present "$PFX" 2 && med_is 900; then
	ok "no peer announces web: the node holds it with on_last's MED 900"
else
	not_ok "no peer announces web: held with MED 900" "$(birdc_ show route "$PFX" all 2>&1 | tr '\n' '|')"
fi
check "logged loudly: fleet guard: holding web, 0 of 2 peers" grep -q "healthd\[error\] .*fleet guard: holding web, 0 of 2 peers announce it" <(logs)

# 3. The peer announces again: the held node withdraws.
status UP false
if wait_route_absent "$PFX" 5; then ok "the peer announces web again: the held node withdraws (${ELAPSED}s)"; else not_ok "held node withdraws once the peer announces"; fi
check "logged the release" grep -q "fleet guard: releasing web: 1 of 2 peers announce it" <(logs)

# A falling peer does not count.
check "web announced again" up_again
status UP true
sleep 0.6
echo fail >"$WEB_MODE"
if wait_med 900 5; then ok "a peer that is falling is not counted: held"; else not_ok "a falling peer is not counted"; fi

# 4. Garbage, then a hanging endpoint: not announcing; probes stay on time.
status UP false
wait_route_absent "$PFX" 5 || not_ok "released again before the garbage case"
check "web announced again" up_again
echo garbage >"$P1_MODE"
sleep 0.6
echo fail >"$WEB_MODE"
if wait_med 900 5; then ok "a peer answering garbage counts as not announcing: held"; else not_ok "garbage peer: held"; fi
check "logged the garbage" grep -q "fleet: peer $PEER1:$P1_PORT: bad status: not JSON" <(logs)

echo "file $P1_STATUS" >"$P1_MODE"
wait_route_absent "$PFX" 5 || not_ok "released again before the hanging case"
check "web announced again" up_again
echo hang >"$P1_MODE"
echo hang >"$P2_MODE"
t_hang=$(date +%H:%M:%S.%N) # the logs' clock: local time of day
sleep 0.6
echo fail >"$WEB_MODE"
if wait_med 900 5 && stays_present "$PFX" 2; then ok "hanging peers count as not announcing: held"; else not_ok "hanging peers: held"; fi
check "logged the timeout" grep -q "fleet: peer $PEER1:$P1_PORT: Timeout was reached" <(logs)
# The steady service's tcp check every 300 ms: the largest gap between its results
# while both peers hang (each request waits a whole poll).
gap=$(logs | awk -v t0="$t_hang" '
	BEGIN { split(t0, h, ":"); start = h[1] * 3600 + h[2] * 60 + h[3] }
	/steady: tcp/ {
		split($1, a, "T"); split(a[2], hms, ":")
		s = hms[1] * 3600 + hms[2] * 60 + hms[3]
		if (s < start) next
		if (prev != "" && s > prev && s - prev > max) max = s - prev
		prev = s
	}
	END { printf "%.3f\n", max }')
# A loop blocked by the polls (two peers, each hanging a whole poll) would leave gaps of
# 0.7s and more.
if le "$gap" 0.6; then ok "probes on time while peers hang (largest gap ${gap}s, interval 0.3s)"; else not_ok "probes on time while peers hang" "largest gap ${gap}s"; fi

# The polls came from the node's unique source, with the token.
if grep -q "^client $NODE Bearer secret-fleet-token$" "$T/p1.log" && ! grep -v "^client $NODE " "$T/p1.log" | grep -q "^client"; then
	ok "every poll came from the node's source $NODE with its token"
else
	not_ok "polls from $NODE with the token" "$(sort -u "$T/p1.log" | head -3 | tr '\n' '|')"
fi

for p in "${pids[@]}"; do kill_pid "$p" 2; done
it_finish
