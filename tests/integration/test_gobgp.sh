#!/usr/bin/env bash
# healthd drives a real gobgpd (speaker type "gobgp") through its gobgp client; gobgpd
# peers over eBGP with a real BIRD that only receives. Judged by what BIRD receives and
# by gobgpd's own RIB:
#   the healthy services' routes arrive with MED, communities and the as-path prepend;
#   a service that fails leaves, and returns;
#   20 services flipping at once share reads: client runs stay near one per path;
#   gobgpd killed and restarted: BIRD gets exactly the healthy services again;
#   paths someone else added (another prefix; the same prefix, path id 0) stay;
#   SIGTERM to healthd: BIRD loses every route of healthd's, others' stay.
#
#   HEALTHD=/abs/path/healthd bash tests/integration/test_gobgp.sh
set -u
# shellcheck source-path=SCRIPTDIR source=lib_bird.sh
. "$(dirname "$0")/lib_bird.sh"

bird_lab_init
it_need gobgpd gobgp

# This file's addresses: gobgpd is the "speaker" of lib_bird.sh's peer config.
SPK_ADDR=127.0.36.2 SPK_AS=65036 PEER_ADDR=127.0.36.3 PEER_AS=65037
API_PORT=$(free_port) || exit 1
GOBGPD_PID=""
gobgp_lab_exit() {
	local rc=$?
	kill_pid "$GOBGPD_PID" 3
	(exit "$rc")
	bird_lab_exit
}
trap gobgp_lab_exit EXIT

G=(gobgp -u "$SPK_ADDR" -p "$API_PORT")
WEB=198.51.100.80/32 FLIP=198.51.100.81/32 FLIP6=2001:db8:81::/48 OTHER=198.51.100.99/32
NBULK=20
BULK=""
for ((i = 0; i < NBULK; i++)); do BULK="$BULK 198.51.101.$i/32"; done
BULK=${BULK# }

cat >"$T/gobgpd.toml" <<EOT
[global.config]
  as = $SPK_AS
  router-id = "$SPK_ADDR"
  port = -1
[[neighbors]]
  [neighbors.config]
    neighbor-address = "$PEER_ADDR"
    peer-as = $PEER_AS
  [neighbors.transport.config]
    local-address = "$SPK_ADDR"
    remote-port = $LAB_PORT
  [neighbors.ebgp-multihop.config]
    enabled = true
    multihop-ttl = 2
  [neighbors.timers.config]
    connect-retry = 1
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"
EOT

start_gobgpd() {
	local i
	gobgpd -f "$T/gobgpd.toml" --api-hosts "$SPK_ADDR:$API_PORT" </dev/null >>"$T/gobgpd.log" 2>&1 &
	GOBGPD_PID=$!
	for ((i = 0; i < 50; i++)); do
		"${G[@]}" global >/dev/null 2>&1 && return 0
		alive "$GOBGPD_PID" || return 1
		sleep 0.1
	done
	return 1
}

# client_runs: healthd's count of gobgp client runs so far (its last pass log line).
client_runs() {
	sed -n 's/.*; \([0-9]*\) runs in all).*/\1/p' "$T/healthd.err" | tail -1
}

# rib_paths PREFIX: the communities of each of gobgpd's paths for PREFIX, one per line.
rib_paths() {
	"${G[@]}" global rib -a ipv4 "$1" 2>/dev/null | sed -n 's/.*Communities: \([^}]*\)}.*/\1/p' | sort
}

if ! start_peer; then
	not_ok "the peer BIRD starts"
	bird_lab_finish
	exit
fi
if start_gobgpd; then ok "gobgpd starts; its API answers"; else not_ok "gobgpd starts"; fi
# Someone else's paths: another prefix, and the prefix of service web (path id 0).
"${G[@]}" global rib add -a ipv4 "$OTHER" community 65000:999 >/dev/null
"${G[@]}" global rib add -a ipv4 "$WEB" community 65000:999 >/dev/null
if wait_session 25; then ok "BGP session gobgpd -> BIRD established"; else not_ok "BGP session established within 25s"; fi

WEB_PORT=$(free_port) FLIP_PORT=$(free_port) BULK_PORT=$(free_port)
if ! { start_listener "$WEB_PORT" && start_listener "$FLIP_PORT" && start_listener "$BULK_PORT"; }; then
	not_ok "listeners start"
fi
svc() { # name prefixes-json port [extra]
	printf '{ "name": "%s", "prefixes": %s, %s "checks": [ { "type": "tcp", "host": "127.0.0.1", "port": %s } ] }' "$1" "$2" "${4:-}" "$3"
}
{
	printf '{\n"speaker": { "type": "gobgp", "api": "%s:%s", "batch": "300ms", "reassert": "2s" },\n' "$SPK_ADDR" "$API_PORT"
	printf '"log": { "level": "debug" },\n'
	printf '"defaults": { "interval": "500ms", "fast_interval": "200ms", "timeout": "200ms", "rise": 1, "fall": 1 },\n'
	printf '"services": [\n'
	svc web "[ \"$WEB\" ]" "$WEB_PORT"
	printf ',\n'
	svc flip "[ \"$FLIP\", \"$FLIP6\" ]" "$FLIP_PORT" '"announce": { "med": 100, "communities": [ "65000:81" ], "large_communities": [ "65000:0:81" ], "as_path": [ 65036 ] },'
	for ((i = 0; i < NBULK; i++)); do
		printf ',\n'
		svc "bulk$i" "[ \"198.51.101.$i/32\" ]" "$BULK_PORT"
	done
	printf '\n]\n}\n'
} >"$T/healthd.json"
if "$HEALTHD" check -c "$T/healthd.json" >/dev/null 2>"$T/check.err"; then ok "the config is valid"; else not_ok "the config is valid" "$(head -5 "$T/check.err")"; fi

start_healthd "$T/healthd.json"
# IPv6 paths are judged in gobgpd's RIB: over this IPv4 session BIRD did not take them.
HEALTHY="$WEB $FLIP $BULK $OTHER"
# has6: gobgpd holds healthd's marked IPv6 path of flip, with its MED.
has6() { "${G[@]}" global rib -a ipv6 "$FLIP6" 2>/dev/null | grep -q 'Med: 100}.*65535:4242'; }

# (a) the healthy services' routes reach BIRD, with their attributes
if wait_peer_routes "$HEALTHY" 15; then
	ok "(a) BIRD has exactly the healthy services' routes and the other's (${ELAPSED}s)"
else
	not_ok "(a) BIRD has exactly the healthy services' routes" "peer has: $PEER_NOW"
fi
all=$(peer_birdc show route all "$FLIP" 2>&1)
if grep -q 'BGP.med: 100$' <<<"$all" && grep -q 'BGP.community:.*(65000,81)' <<<"$all" &&
	grep -q 'BGP.large_community:.*(65000, 0, 81)' <<<"$all" &&
	grep -q "BGP.as_path: $SPK_AS $SPK_AS\$" <<<"$all"; then
	ok "(a) $FLIP arrives with MED 100, (65000,81), (65000, 0, 81), as-path $SPK_AS $SPK_AS"
else
	not_ok "(a) $FLIP carries its attributes" "$(tr '\n' '|' <<<"$all")"
fi
paths=$(rib_paths "$WEB" | tr '\n' '|')
if [ "$paths" = "65000:999|65535:4242|" ]; then
	ok "(a) gobgpd holds both paths of $WEB: the other's (65000:999) and healthd's (marked)"
else
	not_ok "(a) gobgpd holds both paths of $WEB" "communities: $paths"
fi
if has6; then ok "(a) gobgpd holds $FLIP6 with MED 100 and the mark"; else not_ok "(a) gobgpd holds $FLIP6" "$("${G[@]}" global rib -a ipv6 2>&1 | tr '\n' '|')"; fi

# (b) a service fails: its routes leave BIRD; it recovers: they return
stop_listener "$FLIP_PORT"
if wait_peer_routes "$WEB $BULK $OTHER" 10; then
	ok "(b) $FLIP and $FLIP6 leave BIRD when their service fails (${ELAPSED}s)"
else
	not_ok "(b) $FLIP and $FLIP6 leave BIRD" "peer has: $PEER_NOW"
fi
if ! has6; then ok "(b) $FLIP6 left gobgpd's RIB"; else not_ok "(b) $FLIP6 left gobgpd's RIB"; fi
start_listener "$FLIP_PORT" || not_ok "(b) flip listener restarted"
if wait_peer_routes "$HEALTHY" 10; then
	ok "(b) they return once the service is back (${ELAPSED}s)"
else
	not_ok "(b) the routes return" "peer has: $PEER_NOW"
fi

# (c) 20 services flip at once: one client run per path, the reads shared
sleep 2.5 # let a reassert pass end
before=$(client_runs)
stop_listener "$BULK_PORT"
if wait_peer_routes "$WEB $FLIP $OTHER" 10; then
	ok "(c) all $NBULK bulk routes leave BIRD (${ELAPSED}s)"
else
	not_ok "(c) all $NBULK bulk routes leave BIRD" "peer has: $PEER_NOW"
fi
sleep 0.5
runs=$(($(client_runs) - before))
# Unbatched, each change would cost a read, its command and a verifying read (60);
# batched: 20 deletions and a few reads, which reassert passes (2 runs each) may join.
if [ "$runs" -ge "$NBULK" ] && [ "$runs" -le $((NBULK + 12)) ]; then
	ok "(c) $NBULK services going down cost $runs client runs"
else
	not_ok "(c) $NBULK services going down cost $NBULK-$((NBULK + 12)) client runs" "healthd logged $runs"
fi
start_listener "$BULK_PORT" || not_ok "(c) bulk listener restarted"
if wait_peer_routes "$HEALTHY" 10; then
	ok "(c) all $NBULK bulk routes return (${ELAPSED}s)"
else
	not_ok "(c) all $NBULK bulk routes return" "peer has: $PEER_NOW"
fi

# (d) gobgpd killed and restarted (its RIB empty): healthd re-adds exactly the healthy
# services; the other's paths are the other's to add again.
stop_listener "$FLIP_PORT"
sleep 1
kill -KILL "$GOBGPD_PID" 2>/dev/null
wait "$GOBGPD_PID" 2>/dev/null
GOBGPD_PID=""
if wait_peer_routes "" 10; then ok "(d) BIRD loses every route when gobgpd dies"; else not_ok "(d) BIRD loses the routes" "peer has: $PEER_NOW"; fi
sleep 1.5 # healthd finds gobgpd away meanwhile
if start_gobgpd; then ok "(d) gobgpd restarted"; else not_ok "(d) gobgpd restarted"; fi
"${G[@]}" global rib add -a ipv4 "$OTHER" community 65000:999 >/dev/null
"${G[@]}" global rib add -a ipv4 "$WEB" community 65000:999 >/dev/null
if wait_peer_routes "$WEB $BULK $OTHER" 30; then
	ok "(d) BIRD has exactly the healthy services again, $FLIP not among them (${ELAPSED}s)"
else
	not_ok "(d) BIRD has exactly the healthy services again" "peer has: $PEER_NOW"
fi

# (e) SIGTERM: every path of healthd's goes, the other's stay
if stop_healthd 5 && [ "$HEALTHD_RC" = 0 ]; then ok "(e) healthd exits 0 on SIGTERM"; else not_ok "(e) healthd exits 0 on SIGTERM" "rc=$HEALTHD_RC"; fi
if wait_peer_routes "$WEB $OTHER" 10; then
	ok "(e) BIRD keeps only the other's routes after SIGTERM (${ELAPSED}s)"
else
	not_ok "(e) BIRD keeps only the other's routes" "peer has: $PEER_NOW"
fi
paths=$(rib_paths "$WEB" | tr '\n' '|')
if [ "$paths" = "65000:999|" ]; then
	ok "(e) gobgpd still holds the other's path of $WEB, not healthd's"
else
	not_ok "(e) gobgpd holds the other's path of $WEB only" "communities: $paths"
fi
marked=$("${G[@]}" global rib -a ipv4 -j; "${G[@]}" global rib -a ipv6 -j)
if ! grep -q 4294906002 <<<"$marked" && grep -q 4259840999 <<<"$marked"; then
	ok "(e) no marked path is left in gobgpd"
else
	not_ok "(e) no marked path is left in gobgpd" "$marked"
fi

gobgp_diag() { it_tail 30 "$T"/gobgpd.log; }
if [ "$FAIL" -ne 0 ]; then gobgp_diag; fi
bird_lab_finish
