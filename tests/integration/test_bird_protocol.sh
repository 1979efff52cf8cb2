#!/usr/bin/env bash
# healthd drives a real BIRD 2 through its control socket in mode "protocol": one BIRD
# static protocol per service, switched with "enable" / "disable". A second BIRD peers
# with it over BGP; everything is judged by what that peer receives:
#   the healthy services' routes, not the failing one's (whose protocol BIRD's config
#   even enables: healthd disables it);
#   a service that fails leaves, and returns;
#   20 services failing at once: no configure at all;
#   an external "birdc configure" resets every protocol: healthd re-asserts them;
#   BIRD killed and restarted: the peer gets exactly the healthy services again;
#   SIGTERM to healthd: the peer loses every route.
#
#   HEALTHD=/abs/path/healthd bash tests/integration/test_bird_protocol.sh
set -u
# shellcheck source-path=SCRIPTDIR source=lib_bird.sh
. "$(dirname "$0")/lib_bird.sh"

bird_lab_init

WEB=198.51.100.80/32 WEB6=2001:db8:80::/48 FLIP=198.51.100.81/32 DEAD=198.51.100.82/32
NBULK=20
BULK=""
for ((i = 0; i < NBULK; i++)); do BULK="$BULK 198.51.101.$i/32"; done
BULK=${BULK# }

start_nginx || {
	not_ok "nginx starts"
	bird_lab_finish
	exit
}
FLIP_PORT=$(free_port) BULK_PORT=$(free_port) DEAD_PORT=$(free_port)
if ! { start_listener "$FLIP_PORT" && start_listener "$BULK_PORT"; }; then not_ok "listeners start"; fi

# Protocols start disabled, as docs/bird.md advises: nothing is announced before healthd
# says so. p_dead is enabled by the config, to see healthd disable it.
body="protocol static p_web { ipv4; disabled; route $WEB blackhole; }
protocol static p_web6 { ipv6; disabled; route $WEB6 blackhole; }
protocol static p_flip { ipv4; disabled; route $FLIP blackhole; }
protocol static p_dead { ipv4; route $DEAD blackhole; }"
for ((i = 0; i < NBULK; i++)); do
	body="$body
protocol static p_bulk$i { ipv4; disabled; route 198.51.101.$i/32 blackhole; }"
done
write_speaker "$body"
if ! { start_peer && start_speaker; }; then
	not_ok "both BIRDs start"
	bird_lab_finish
	exit
fi
if wait_session 20; then ok "BGP session speaker BIRD -> peer BIRD established"; else not_ok "BGP session established within 20s"; fi
if wait_peer_routes "$DEAD" 10; then ok "before healthd, the peer has only what BIRD's config enables ($DEAD)"; else not_ok "before healthd, the peer has $DEAD" "peer has: $PEER_NOW"; fi

svc() { # name prefixes-json port protocol
	printf '{ "name": "%s", "prefixes": %s, "bird_protocol": "%s", "checks": [ { "type": "tcp", "host": "127.0.0.1", "port": %s } ] }' "$1" "$2" "$4" "$3"
}
# "reassert" is long: a quick re-assertion after a configure comes from the echoed log.
{
	printf '{\n"speaker": { "type": "bird", "socket": "%s", "mode": "protocol", "reconnect": "1s", "reassert": "1m" },\n' "$SPK_SOCK"
	printf '"defaults": { "interval": "300ms", "fast_interval": "100ms", "timeout": "200ms", "rise": 2, "fall": 2 },\n'
	printf '"services": [\n'
	svc web "[ \"$WEB\" ]" "$NGINX_PORT" p_web
	printf ',\n'
	svc web6 "[ \"$WEB6\" ]" "$NGINX_PORT" p_web6
	printf ',\n'
	svc flip "[ \"$FLIP\" ]" "$FLIP_PORT" p_flip
	printf ',\n'
	svc dead "[ \"$DEAD\" ]" "$DEAD_PORT" p_dead
	for ((i = 0; i < NBULK; i++)); do
		printf ',\n'
		svc "bulk$i" "[ \"198.51.101.$i/32\" ]" "$BULK_PORT" "p_bulk$i"
	done
	printf '\n]\n}\n'
} >"$T/healthd.json"
if "$HEALTHD" check -c "$T/healthd.json" >/dev/null 2>"$T/check.err"; then ok "the config is valid"; else not_ok "the config is valid" "$(head -5 "$T/check.err")"; fi

c0=$(configures)
start_healthd "$T/healthd.json"
HEALTHY="$WEB $WEB6 $FLIP $BULK"

# (a) healthy services' protocols enabled, the failing one's disabled
if wait_peer_routes "$HEALTHY" 15; then
	ok "(a) the peer has exactly the healthy services' $((NBULK + 3)) routes, not $DEAD (${ELAPSED}s)"
else
	not_ok "(a) the peer has exactly the healthy services' routes" "peer has: $PEER_NOW"
fi
if spk_birdc show protocols p_dead | grep -q ' down '; then ok "(a) healthd disabled p_dead, which BIRD's config enables"; else not_ok "(a) p_dead is down" "$(spk_birdc show protocols p_dead | tr '\n' '|')"; fi

# (b) the service fails: its route leaves the peer; it recovers: it returns
stop_nginx || not_ok "(b) nginx stopped"
if wait_peer_routes "$FLIP $BULK" 10; then
	ok "(b) $WEB and $WEB6 leave the peer after nginx stops (${ELAPSED}s)"
else
	not_ok "(b) $WEB and $WEB6 leave the peer" "peer has: $PEER_NOW"
fi
start_nginx || not_ok "(b) nginx restarted"
if wait_peer_routes "$HEALTHY" 10; then ok "(b) they return once nginx is back (${ELAPSED}s)"; else not_ok "(b) the routes return" "peer has: $PEER_NOW"; fi

# (c) 20 services fail at once and come back: only enable/disable, never a configure
stop_listener "$BULK_PORT"
if wait_peer_routes "$WEB $WEB6 $FLIP" 10; then ok "(c) all $NBULK bulk routes leave the peer (${ELAPSED}s)"; else not_ok "(c) all $NBULK bulk routes leave the peer" "peer has: $PEER_NOW"; fi
start_listener "$BULK_PORT" || not_ok "(c) bulk listener restarted"
if wait_peer_routes "$HEALTHY" 10; then ok "(c) all $NBULK bulk routes return (${ELAPSED}s)"; else not_ok "(c) all $NBULK bulk routes return" "peer has: $PEER_NOW"; fi
n=$(($(configures) - c0))
if [ "$n" -eq 0 ]; then ok "(c) $((2 * NBULK)) flips and no configure (BIRD logged none)"; else not_ok "(c) no configure in mode protocol" "BIRD logged $n"; fi

# (d) someone runs "birdc configure": every protocol returns to its config state (the
# healthy ones disabled, p_dead enabled); healthd puts them back within seconds
spk_birdc configure >"$T/configure.out" 2>&1
if grep -qE 'Reconfigur' "$T/configure.out"; then ok "(d) external configure ran: $(tail -n 1 "$T/configure.out")"; else not_ok "(d) external configure ran" "$(cat "$T/configure.out")"; fi
if wait_peer_routes "$HEALTHY" 10 && peer_routes_stay "$HEALTHY" 2; then
	ok "(d) healthd re-asserted every protocol after the configure: the peer has exactly the healthy routes"
else
	not_ok "(d) healthd re-asserted every protocol after the configure" "peer has: $PEER_NOW"
fi
if grep -q 'behind healthd.s back' "$T/healthd.err"; then ok "(d) healthd logged the protocols switched behind its back"; else not_ok "(d) healthd logged the re-assertion"; fi

# (e) BIRD is killed; while it is away a service fails; BIRD restarts with every
# protocol as its config says: healthd reconnects and the peer gets exactly the healthy
kill_speaker
if wait_peer_routes "" 10; then ok "(e) the speaker BIRD killed: the peer lost the session's routes"; else not_ok "(e) the peer lost the routes" "peer has: $PEER_NOW"; fi
stop_listener "$FLIP_PORT"
sleep 1.5
if alive "$HEALTHD_PID"; then ok "(e) healthd keeps running while BIRD is away"; else not_ok "(e) healthd keeps running while BIRD is away"; fi
start_speaker || not_ok "(e) speaker BIRD restarted"
if wait_peer_routes "$WEB $WEB6 $BULK" 20 && peer_routes_stay "$WEB $WEB6 $BULK" 1; then
	ok "(e) after the restart the peer has exactly the healthy services, without $FLIP or $DEAD (${ELAPSED}s)"
else
	not_ok "(e) after the restart the peer has exactly the healthy services" "peer has: $PEER_NOW"
fi
n=$(grep -c 'connected to BIRD at' "$T/healthd.err")
if [ "$n" -ge 2 ]; then ok "(e) healthd reconnected to the restarted BIRD ($n connections)"; else not_ok "(e) healthd reconnected" "connections logged: $n"; fi

# (f) SIGTERM: every protocol disabled before healthd exits
if stop_healthd 5 && [ "$HEALTHD_RC" = 0 ]; then ok "(f) healthd exits 0 on SIGTERM"; else not_ok "(f) healthd exits 0 on SIGTERM" "status $HEALTHD_RC"; fi
if wait_peer_routes "" 5; then ok "(f) the peer lost every route after SIGTERM to healthd (${ELAPSED}s)"; else not_ok "(f) the peer lost every route after SIGTERM" "peer has: $PEER_NOW"; fi
up=$(spk_birdc show protocols | awk '$1 ~ /^p_/ && $4 == "up"' | wc -l)
if [ "$up" -eq 0 ]; then ok "(f) no healthd protocol is up in BIRD"; else not_ok "(f) no healthd protocol is up" "$up up"; fi
bad=$(grep -E 'BIRD refused|not a reply|did not greet' "$T/healthd.err" | head -n 3)
if [ -z "$bad" ]; then ok "BIRD accepted every command healthd sent"; else not_ok "BIRD accepted every command healthd sent" "$bad"; fi

bird_lab_finish
