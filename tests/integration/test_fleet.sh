#!/usr/bin/env bash
# The fleet guard with three real nodes on loopback, each with its own unique address,
# its own healthd with a control endpoint, its own service (a small HTTP server a test
# switches) and its own real ExaBGP, all peering with one real BIRD 2 route collector.
# Asserted at the collector:
#   1. one node's service fails: that node withdraws, the others keep the route;
#   2. all three fail within 50 ms: at least one node keeps announcing with on_last's
#      MED, and the collector never loses the prefix;
#   3. all recover: every node announces with the normal MED again, none left LAST;
#   4. two healthd processes are stopped, then the third node's service fails: it
#      holds, since no peer is heard; a reload that changes its service (the checks'
#      timeout) keeps the hold: the prefix never leaves the collector, MED still on_last's;
#   5. in the stopped nodes' place, a status endpoint answering garbage and one that
#      hangs: still held; one answering a healthy status: released (withdrawn).
# Probe timing while peers hang: test_fleet_peers.sh.
#
#   HEALTHD=/abs/path/healthd bash tests/integration/test_fleet.sh
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

it_init
it_need exabgp bird birdc python3 curl promtool
it_need_healthd

COLLECTOR=127.0.91.1
NODES=(1 2 3)
addr() { printf '127.0.91.1%s\n' "$1"; }
PFX=203.0.113.95/32
WEB_PORT=$(free_port) CTL_PORT=$(free_port) BGP_PORT=$(free_port)
BIRD_ADDR=$COLLECTOR
declare -A EXA_PID WEB_PID FAKE_PID

# ---- the collector: one passive session per node
{
	echo "log \"$T/bird.log\" all;"
	echo "router id $COLLECTOR;"
	echo "protocol device { }"
	for i in "${NODES[@]}"; do
		cat <<EOF
protocol bgp n$i {
	local $COLLECTOR port $BGP_PORT as 65000;
	neighbor $(addr "$i") port $BGP_PORT as 6510$i;
	multihop 2; strict bind on; passive on;
	connect retry time 1; error wait time 1, 5;
	debug { routes };
	ipv4 { import all; export none; };
}
EOF
	done
} >"$T/bird.conf"
BIRD_SOCK=$T/bird.ctl
BIRD_PIDFILE=$T/bird.pid
bird -p -c "$T/bird.conf" || not_ok "the collector's config parses"
bird -f -c "$T/bird.conf" -s "$BIRD_SOCK" -P "$BIRD_PIDFILE" </dev/null >>"$T/bird.out" 2>&1 &
BIRD_PID=$!
for ((k = 0; k < 50; k++)); do
	[ -S "$BIRD_SOCK" ] && birdc_ show status >/dev/null 2>&1 && break
	sleep 0.1
done
BIRD_START=$(pid_start "$BIRD_PID")

# ---- the nodes
for i in "${NODES[@]}"; do
	a=$(addr "$i") d=$T/n$i
	mkdir -p "$d"
	echo ok >"$d/mode"
	python3 "$IT_LIB_DIR/modehttp.py" "$a" "$WEB_PORT" "$d/mode" </dev/null >>"$d/web.log" 2>&1 &
	WEB_PID[$i]=$!
	peers=""
	for j in "${NODES[@]}"; do
		[ "$j" = "$i" ] || peers="$peers${peers:+, }\"$(addr "$j"):$CTL_PORT\""
	done
	cat >"$d/healthd.json" <<EOF
{
	"source": { "ipv4": "$a" },
	"speaker": { "type": "exabgp" },
	"control": { "listen": "$a:$CTL_PORT" },
	"fleet": { "peers": [ $peers ], "min_others": 1, "poll": "200ms", "stale_after": "1s" },
	"defaults": { "interval": "300ms", "fast_interval": "200ms", "timeout": "150ms",
	              "rise": 2, "fall": 2 },
	"services": [
		{
			"name": "dns",
			"prefixes": [ "$PFX" ],
			"announce": { "med": 100 },
			"on_last": { "med": 900 },
			"checks": [ { "type": "http", "url": "http://$a:$WEB_PORT/health" } ]
		}
	]
}
EOF
	cat >"$d/exabgp.env" <<EOF
[exabgp.daemon]
user = 'root'
drop = false
daemonize = false
pid = ''

[exabgp.api]
respawn = false
cli = false
ack = true

[exabgp.log]
destination = '$d/exabgp.log'
EOF
	cat >"$d/exabgp.conf" <<EOF
process healthd {
	run $HEALTHD run -c $d/healthd.json --state-file $d/healthd.state;
	encoder text;
	respawn false;
}
neighbor $COLLECTOR {
	router-id $a;
	local-address $a;
	local-as 6510$i;
	peer-as 65000;
	connect $BGP_PORT;
	family { ipv4 unicast; }
	api { processes [ healthd ]; }
}
EOF
	wait_tcp "$a" "$WEB_PORT" 5 || not_ok "node $i's service listens"
	exabgp --env "$d/exabgp.env" "$d/exabgp.conf" </dev/null >>"$d/exabgp.out" 2>&1 &
	EXA_PID[$i]=$!
done

# path_med N: the MED of node N's path at the collector, or "none".
path_med() {
	local m
	m=$(birdc_ show route "$PFX" protocol "n$1" all 2>/dev/null | awk '/BGP.med:/ { print $2; exit }')
	printf '%s\n' "${m:-none}"
}
# meds: "node1=MED node2=MED node3=MED", for messages.
meds() { for i in "${NODES[@]}"; do printf 'n%s=%s ' "$i" "$(path_med "$i")"; done; }
# wait_meds "M1 M2 M3" TIMEOUT_S: every node's path has that MED (or "none").
wait_meds() {
	local want=$1 i k got
	for ((k = 0; k < $2 * 5; k++)); do
		got=""
		for i in "${NODES[@]}"; do got="$got${got:+ }$(path_med "$i")"; done
		[ "$got" = "$want" ] && return 0
		sleep 0.2
	done
	return 1
}
set_mode() { echo "$2" >"$T/n$1/mode"; }
status_of() { curl -s --max-time 2 "http://$(addr "$1"):$CTL_PORT/status"; }

for i in "${NODES[@]}"; do
	for ((k = 0; k < 100; k++)); do
		birdc_ show protocols "n$i" 2>/dev/null | grep -q Established && break
		sleep 0.2
	done
done
if wait_meds "100 100 100" 20; then ok "three nodes announce $PFX with MED 100 at the collector"; else not_ok "three nodes announce" "$(meds)"; fi

# 1. One node fails: it withdraws, the others keep theirs.
set_mode 1 fail
if wait_meds "none 100 100" 5 && stays_present "$PFX" 1 && [ "$(meds)" = "n1=none n2=100 n3=100 " ]; then
	ok "1. node 1 fails: it withdraws, nodes 2 and 3 keep the route ($(meds))"
else
	not_ok "1. node 1 withdraws, the others keep the route" "$(meds)"
fi
set_mode 1 ok
wait_meds "100 100 100" 10 || not_ok "node 1 back" "$(meds)"
sleep 0.5 # every node has read every other's UP

# 2. All three fail within 50 ms: the collector never loses the prefix.
t0=$(now)
for i in "${NODES[@]}"; do set_mode "$i" fail; done
note "all three services failed within $(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.0f", (b - a) * 1000 }') ms"
lost=0
for ((k = 0; k < 30; k++)); do
	route_present "$PFX" || lost=$((lost + 1))
	sleep 0.2
done
held=$(meds | grep -o '=900' | wc -l)
if [ "$lost" -eq 0 ] && [ "$held" -ge 1 ]; then
	ok "2. all fail together: the collector never lost $PFX; $held node(s) hold it with on_last's MED 900 ($(meds))"
else
	not_ok "2. all fail together: the prefix stays" "lost in $lost of 30 polls; $(meds)"
fi
for i in "${NODES[@]}"; do
	grep -q "fleet guard: holding dns" "$T/n$i/exabgp.out" && note "node $i logged: $(grep -o "fleet guard: holding dns, [0-9] of 2 peers announce it" "$T/n$i/exabgp.out" | head -1)"
done

# 3. All recover: normal MED everywhere, nobody LAST.
for i in "${NODES[@]}"; do set_mode "$i" ok; done
if wait_meds "100 100 100" 10; then ok "3. all recover: every node announces with MED 100 again"; else not_ok "3. all recover: MED 100 everywhere" "$(meds)"; fi
states=$(for i in "${NODES[@]}"; do status_of "$i" | python3 -c 'import json,sys; print(" ".join(s["state"] for s in json.load(sys.stdin)["services"]))'; done | tr '\n' ' ')
if [ "$states" = "UP UP UP " ]; then ok "3. no node left in LAST (states: $states)"; else not_ok "3. no node left in LAST" "states: $states"; fi

# 4. Two healthd stopped, then the third fails: no peer heard, it holds.
for i in 2 3; do
	h=$(pgrep -P "${EXA_PID[$i]}" | head -1)
	[ -n "$h" ] && kill_pid "$h" 3
done
if wait_meds "100 none none" 5; then ok "4. healthd of nodes 2 and 3 stopped: their routes are withdrawn"; else not_ok "4. nodes 2 and 3 withdrawn" "$(meds)"; fi
set_mode 1 fail
if wait_meds "900 none none" 5 && stays_present "$PFX" 2; then
	ok "4. node 1 fails with no peer heard: it holds with MED 900 ($(meds))"
else
	not_ok "4. node 1 holds when no peer is heard" "$(meds)"
fi
check "4. node 1 logged: fleet guard: holding dns, 0 of 2 peers announce it" grep -q "fleet guard: holding dns, 0 of 2 peers announce it" "$T/n1/exabgp.out"
if status_of 1 | grep -q '"state": *"LAST"'; then ok "4. node 1's /status says LAST"; else not_ok "4. node 1's /status says LAST" "$(status_of 1 | head -c 300)"; fi
curl -s --max-time 2 "http://$(addr 1):$CTL_PORT/metrics" >"$T/metrics"
if grep -q '^healthd_service_state{service="dns",state="LAST"} 1$' "$T/metrics" &&
	grep -q '^healthd_service_last{service="dns"} 1$' "$T/metrics" &&
	grep -q "^healthd_fleet_peer_heard{peer=\"$(addr 2):$CTL_PORT\"} 0\$" "$T/metrics"; then
	ok "4. metrics: state LAST, healthd_service_last 1, peer 2 not heard"
else
	not_ok "4. metrics show LAST and the silent peers" "$(grep -E 'LAST|_last|peer_heard' "$T/metrics" | tr '\n' '|')"
fi
if promtool check metrics <"$T/metrics" >"$T/promtool.out" 2>&1; then ok "promtool check metrics passes with the fleet's metrics"; else not_ok "promtool check metrics" "$(head -5 "$T/promtool.out")"; fi
h1=$(pgrep -P "${EXA_PID[1]}" | head -1)
sed 's/"timeout": "150ms"/"timeout": "140ms"/' "$T/n1/healthd.json" >"$T/n1/healthd.json.tmp" &&
	mv "$T/n1/healthd.json.tmp" "$T/n1/healthd.json"
# n1_removed: how often the collector logged node 1's path removed
n1_removed() { grep -cE "n1(\.ipv4)? > removed .* $PFX " "$T/bird.log"; }
removed0=$(n1_removed)
[ -n "$h1" ] && kill -HUP "$h1"
check "4. reload while node 1 holds: its service changed" \
	wait_for 5 grep -q "reload: 0 unchanged, 1 changed, 0 added, 0 removed" "$T/n1/exabgp.out"
if stays_present "$PFX" 2 && [ "$(path_med 1)" = 900 ] &&
	[ "$(n1_removed)" = "$removed0" ] &&
	status_of 1 | grep -q '"state": *"LAST"'; then
	ok "4. after the reload node 1 still holds: MED 900, LAST, its path never removed ($(meds))"
else
	not_ok "4. after the reload node 1 still holds" "$(meds); $(status_of 1 | head -c 300)"
fi

# 5. Garbage and a hang where nodes 2 and 3 answered: counted as not announcing.
echo garbage >"$T/n2/ctl.mode"
echo hang >"$T/n3/ctl.mode"
for i in 2 3; do
	python3 "$IT_LIB_DIR/modehttp.py" "$(addr "$i")" "$CTL_PORT" "$T/n$i/ctl.mode" </dev/null >>"$T/n$i/ctl.log" 2>&1 &
	FAKE_PID[$i]=$!
	wait_tcp "$(addr "$i")" "$CTL_PORT" 5 || not_ok "fake status endpoint $i listens"
done
if stays_present "$PFX" 2 && [ "$(path_med 1)" = 900 ] &&
	grep -q "fleet: peer $(addr 2):$CTL_PORT: bad status: not JSON" "$T/n1/exabgp.out" &&
	grep -q "fleet: peer $(addr 3):$CTL_PORT: Timeout was reached" "$T/n1/exabgp.out"; then
	ok "5. peers answering garbage or hanging count as not announcing: node 1 still holds"
else
	not_ok "5. garbage and hanging peers: still held" "$(meds); $(grep 'fleet: peer' "$T/n1/exabgp.out" | tail -3 | tr '\n' '|')"
fi
printf '{"services": [{"name": "dns", "state": "UP", "announced": true, "falling": false}]}\n' >"$T/n2/status.json"
echo "file $T/n2/status.json" >"$T/n2/ctl.mode"
if wait_meds "none none none" 5; then ok "5. a peer announcing dns again: node 1 releases and withdraws"; else not_ok "5. node 1 releases" "$(meds)"; fi

for i in "${NODES[@]}"; do kill_pid "${EXA_PID[$i]}" 5; kill_pid "${WEB_PID[$i]}" 2; done
for i in 2 3; do kill_pid "${FAKE_PID[$i]}" 2; done
it_finish
