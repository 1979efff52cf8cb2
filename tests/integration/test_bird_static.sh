#!/usr/bin/env bash
# healthd drives a real BIRD 2 through its control socket in mode "static": it writes
# the include files of BIRD's static protocols and sends "configure". A second BIRD
# peers with it over BGP; everything is judged by what that peer receives:
#   the healthy services' routes (with their attributes), not the failing one's;
#   a service that fails leaves, and returns;
#   20 services failing at once cost a handful of configures, not 20, also when they
#   change over seconds (interval 2s, fast_interval 500ms);
#   a configure BIRD refuses (its config is broken) is logged and retried;
#   BIRD killed and restarted: the peer gets exactly the healthy services again;
#   BIRD stalled with a configure unanswered: the files follow, SIGTERM empties them;
#   SIGTERM to healthd: the peer loses every route;
#   format "set": the same through prefix sets in BIRD's export filter.
#
#   HEALTHD=/abs/path/healthd bash tests/integration/test_bird_static.sh
set -u
# shellcheck source-path=SCRIPTDIR source=lib_bird.sh
. "$(dirname "$0")/lib_bird.sh"

bird_lab_init

WEB=198.51.100.80/32 WEB6=2001:db8:80::/48 FLIP=198.51.100.81/32 DEAD=198.51.100.82/32
NBULK=20
BULK=""
for ((i = 0; i < NBULK; i++)); do BULK="$BULK 198.51.101.$i/32"; done
BULK=${BULK# }
INC4=$T/healthd-routes.conf INC6=$T/healthd-routes6.conf

start_nginx || {
	not_ok "nginx starts"
	bird_lab_finish
	exit
}
FLIP_PORT=$(free_port) BULK_PORT=$(free_port) DEAD_PORT=$(free_port)
if ! { start_listener "$FLIP_PORT" && start_listener "$BULK_PORT"; }; then not_ok "listeners start"; fi

# BIRD refuses a config whose include file is missing: an operator creates it empty
# before BIRD's first start (docs/bird.md); so does this test.
: >"$INC4"
: >"$INC6"
write_speaker "
protocol static healthd4 {
	ipv4;
	include \"$INC4\";
}
protocol static healthd6 {
	ipv6;
	include \"$INC6\";
}"
if ! { start_peer && start_speaker; }; then
	not_ok "both BIRDs start"
	bird_lab_finish
	exit
fi
if wait_session 20; then ok "BGP session speaker BIRD -> peer BIRD established"; else not_ok "BGP session established within 20s"; fi

svc() { # name prefixes-json port [extra]
	printf '{ "name": "%s", "prefixes": %s, %s "checks": [ { "type": "tcp", "host": "127.0.0.1", "port": %s } ] }' "$1" "$2" "${4:-}" "$3"
}
{
	printf '{\n"speaker": { "type": "bird", "socket": "%s", "include": "%s", "include6": "%s", "reconnect": "1s" },\n' "$SPK_SOCK" "$INC4" "$INC6"
	printf '"defaults": { "interval": "300ms", "fast_interval": "100ms", "timeout": "200ms", "rise": 2, "fall": 2 },\n'
	printf '"services": [\n'
	svc web "[ \"$WEB\", \"$WEB6\" ]" "$NGINX_PORT" '"announce": { "med": 100, "communities": [ "65000:80" ], "large_communities": [ "65000:0:80" ] },'
	printf ',\n'
	svc flip "[ \"$FLIP\" ]" "$FLIP_PORT"
	printf ',\n'
	svc dead "[ \"$DEAD\" ]" "$DEAD_PORT"
	for ((i = 0; i < NBULK; i++)); do
		printf ',\n'
		svc "bulk$i" "[ \"198.51.101.$i/32\" ]" "$BULK_PORT"
	done
	printf '\n]\n}\n'
} >"$T/healthd.json"
if "$HEALTHD" check -c "$T/healthd.json" >/dev/null 2>"$T/check.err"; then ok "the config is valid"; else not_ok "the config is valid" "$(head -5 "$T/check.err")"; fi

old_umask=$(umask)
umask 077 # a daemon's usual umask: BIRD, another user, must still read the files
start_healthd "$T/healthd.json"
umask "$old_umask"
HEALTHY="$WEB $WEB6 $FLIP $BULK"

# (a) healthy routes reach the peer; the failing service's does not
if wait_peer_routes "$HEALTHY" 15; then
	ok "(a) the peer has exactly the healthy services' $((NBULK + 3)) routes (${ELAPSED}s)"
else
	not_ok "(a) the peer has exactly the healthy services' routes" "peer has: $PEER_NOW"
fi
all=$(peer_birdc show route all "$WEB" 2>&1)
if grep -q 'BGP.med: 100$' <<<"$all" && grep -q 'BGP.community:.*(65000,80)' <<<"$all" &&
	grep -q 'BGP.large_community:.*(65000, 0, 80)' <<<"$all"; then
	ok "(a) $WEB arrives with MED 100, community (65000,80), large community (65000, 0, 80)"
else
	not_ok "(a) $WEB carries its attributes" "$(tr '\n' '|' <<<"$all")"
fi
if grep -q "^route $WEB blackhole {" "$INC4" && grep -q "^route $WEB6 blackhole {" "$INC6"; then
	ok "(a) the include files hold the routes, one family each"
else
	not_ok "(a) the include files hold the routes" "$(cat "$INC4" "$INC6" | tr '\n' '|')"
fi
modes=$(stat -c %a "$INC4" "$INC6" | tr '\n' ' ')
if [ "$modes" = "644 644 " ]; then ok "(a) the include files are mode 644 under umask 077"; else not_ok "(a) the include files are mode 644 under umask 077" "modes: $modes"; fi

# (b) the service fails: its routes leave the peer; it recovers: they return
stop_nginx || not_ok "(b) nginx stopped"
if wait_peer_routes "$FLIP $BULK" 10; then
	ok "(b) $WEB and $WEB6 leave the peer after nginx stops (${ELAPSED}s)"
else
	not_ok "(b) $WEB and $WEB6 leave the peer" "peer has: $PEER_NOW"
fi
start_nginx || not_ok "(b) nginx restarted"
if wait_peer_routes "$HEALTHY" 10; then
	ok "(b) they return once nginx is back (${ELAPSED}s)"
else
	not_ok "(b) the routes return once nginx is back" "peer has: $PEER_NOW"
fi

# (c) 20 services fail at once, and come back at once: a handful of configures each
before=$(configures)
stop_listener "$BULK_PORT"
if wait_peer_routes "$WEB $WEB6 $FLIP" 10; then
	ok "(c) all $NBULK bulk routes leave the peer (${ELAPSED}s)"
else
	not_ok "(c) all $NBULK bulk routes leave the peer" "peer has: $PEER_NOW"
fi
sleep 0.5 # a last batch may still be on its way
down=$(($(configures) - before))
if [ "$down" -ge 1 ] && [ "$down" -le 5 ]; then
	ok "(c) $NBULK services going down cost $down configures (the first at once, the rest after configure_gap)"
else
	not_ok "(c) $NBULK services going down cost 1-5 configures" "BIRD logged $down"
fi
before=$(configures)
start_listener "$BULK_PORT" || not_ok "(c) bulk listener restarted"
if wait_peer_routes "$HEALTHY" 10; then
	ok "(c) all $NBULK bulk routes return (${ELAPSED}s)"
else
	not_ok "(c) all $NBULK bulk routes return" "peer has: $PEER_NOW"
fi
sleep 0.5
up=$(($(configures) - before))
if [ "$up" -ge 1 ] && [ "$up" -le 5 ]; then
	ok "(c) $NBULK services coming up cost $up configures"
else
	not_ok "(c) $NBULK services coming up cost 1-5 configures" "BIRD logged $up"
fi

# (c2) BIRD's own config is broken: the configure is refused (8002), logged with BIRD's
# message, and retried with backoff until someone fixes the config
cp "$T/spk.conf" "$T/spk.conf.good"
echo 'this is not bird syntax;' >>"$T/spk.conf"
stop_listener "$FLIP_PORT"
for ((i = 0; i < 50; i++)); do
	grep -q 'BIRD refused "configure": 8002' "$T/healthd.err" && break
	sleep 0.1
done
line=$(grep -m1 'BIRD refused "configure": 8002' "$T/healthd.err")
if grep -qF "spk.conf:" <<<"$line" && grep -q 'retrying in' <<<"$line"; then
	ok "(c2) a refused configure is logged with BIRD's message: ${line#*] }"
else
	not_ok "(c2) a refused configure is logged with BIRD's message" "$line"
fi
if peer_routes_stay "$HEALTHY" 1; then ok "(c2) BIRD kept its running config: $FLIP still announced"; else not_ok "(c2) BIRD kept its running config" "peer has: $PEER_NOW"; fi
cp "$T/spk.conf.good" "$T/spk.conf"
if wait_peer_routes "$WEB $WEB6 $BULK" 15; then
	ok "(c2) config fixed: healthd's retry took, $FLIP withdrawn (${ELAPSED}s)"
else
	not_ok "(c2) healthd's retry took once the config was fixed" "peer has: $PEER_NOW"
fi
start_listener "$FLIP_PORT" || not_ok "(c2) flip listener restarted"
if wait_peer_routes "$HEALTHY" 10; then ok "(c2) $FLIP returns"; else not_ok "(c2) $FLIP returns" "peer has: $PEER_NOW"; fi

# (d) BIRD is killed; while it is away a service fails; BIRD restarts: the peer gets
# exactly the healthy services, healthd reconnected by itself
kill_speaker
if wait_peer_routes "" 10; then ok "(d) the speaker BIRD killed: the peer lost the session's routes"; else not_ok "(d) the peer lost the routes of the killed BIRD" "peer has: $PEER_NOW"; fi
stop_listener "$FLIP_PORT"
sleep 1.5 # fall 2 x 100ms: healthd notices while BIRD is away, and keeps probing
if alive "$HEALTHD_PID"; then ok "(d) healthd keeps running while BIRD is away"; else not_ok "(d) healthd keeps running while BIRD is away"; fi
start_speaker || not_ok "(d) speaker BIRD restarted"
if wait_peer_routes "$WEB $WEB6 $BULK" 20; then
	ok "(d) after the restart the peer has exactly the healthy services, without $FLIP (${ELAPSED}s)"
else
	not_ok "(d) after the restart the peer has exactly the healthy services" "peer has: $PEER_NOW"
fi
# BIRD read healthd's files at its start: the routes may be back before healthd's
# backoff (at most "reconnect", 1s) lets it reconnect
for ((i = 0; i < 30; i++)); do
	n=$(grep -c 'connected to BIRD at' "$T/healthd.err")
	[ "$n" -ge 2 ] && break
	sleep 0.1
done
if [ "$n" -ge 2 ]; then ok "(d) healthd reconnected to the restarted BIRD ($n connections)"; else not_ok "(d) healthd reconnected to the restarted BIRD" "connections logged: $n"; fi
start_listener "$FLIP_PORT" || not_ok "(d) flip listener restarted"
if wait_peer_routes "$HEALTHY" 10; then ok "(d) $FLIP returns when its service does"; else not_ok "(d) $FLIP returns" "peer has: $PEER_NOW"; fi

# (d2) BIRD stalls (SIGSTOP) with a configure unanswered: the files still follow the
# services, SIGTERM empties them at once, and healthd exits 3 (BIRD never confirmed)
kill -STOP "$SPK_PID"
stop_listener "$FLIP_PORT"
for ((i = 0; i < 50; i++)); do
	grep -q "^route $FLIP " "$INC4" || break
	sleep 0.1
done
if ! grep -q "^route $FLIP " "$INC4"; then ok "(d2) BIRD stopped: $FLIP leaves the include file"; else not_ok "(d2) BIRD stopped: $FLIP leaves the include file"; fi
sleep 0.5 # its configure went out; BIRD will not answer it
start_listener "$FLIP_PORT" || not_ok "(d2) flip listener restarted"
for ((i = 0; i < 30; i++)); do
	grep -q "^route $FLIP " "$INC4" && break
	sleep 0.1
done
if grep -q "^route $FLIP " "$INC4"; then
	ok "(d2) while that configure is unanswered the file follows the service: $FLIP is back in it"
else
	not_ok "(d2) the file follows the service while a configure is unanswered" "$(tr '\n' '|' <"$INC4" | head -c 300)"
fi
t0=$(now)
kill -TERM "$HEALTHD_PID"
for ((i = 0; i < 20; i++)); do
	grep -q '^route' "$INC4" "$INC6" || break
	sleep 0.1
done
if ! grep -q '^route' "$INC4" "$INC6"; then ok "(d2) SIGTERM empties the include files at once ($(since "$t0")s)"; else not_ok "(d2) SIGTERM empties the include files while a configure is unanswered"; fi
for ((i = 0; i < 50; i++)); do
	alive "$HEALTHD_PID" || break
	sleep 0.1
done
if alive "$HEALTHD_PID"; then
	not_ok "(d2) healthd exits within 5s of SIGTERM"
	stop_healthd 1
else
	wait "$HEALTHD_PID"
	rc=$?
	HEALTHD_PID=""
	if [ "$rc" = 3 ]; then ok "(d2) healthd exits 3: BIRD did not confirm the withdrawals"; else not_ok "(d2) healthd exits 3" "status $rc"; fi
fi
kill -CONT "$SPK_PID"
spk_birdc configure >/dev/null 2>&1
if wait_peer_routes "" 10; then ok "(d2) BIRD continued and re-read its files: the peer has no route"; else not_ok "(d2) the peer has no route once BIRD continued" "peer has: $PEER_NOW"; fi
start_healthd "$T/healthd.json"
wait_peer_routes "$HEALTHY" 15 || not_ok "(d2) a new healthd announces the healthy services again" "peer has: $PEER_NOW"

# (e) SIGTERM: healthd empties the files and configures before it exits
if stop_healthd 5 && [ "$HEALTHD_RC" = 0 ]; then ok "(e) healthd exits 0 on SIGTERM"; else not_ok "(e) healthd exits 0 on SIGTERM" "status $HEALTHD_RC"; fi
if wait_peer_routes "" 5; then ok "(e) the peer lost every route after SIGTERM to healthd (${ELAPSED}s)"; else not_ok "(e) the peer lost every route after SIGTERM" "peer has: $PEER_NOW"; fi
if ! grep -q '^route' "$INC4" "$INC6"; then ok "(e) the include files hold no route"; else not_ok "(e) the include files hold no route"; fi
left=$(ls -A "$T" | grep -E '^\.healthd-routes|\.tmp$')
if [ -z "$left" ]; then ok "(e) no temp file left next to the include files"; else not_ok "(e) no temp file left" "$left"; fi
bad=$(grep -E 'BIRD refused|cannot replace|not a reply|did not greet' "$T/healthd.err" | grep -v ': 8002 ' | head -n 3)
if [ -z "$bad" ]; then ok "no other error from BIRD or the include files"; else not_ok "no other error from BIRD or the include files" "$bad"; fi

# (e2) the same 20 services at the timings of the defaults (interval 2s, fast_interval
# 500ms): their checks run spread over an interval, so they change state over a couple of
# seconds, not within one batch window; configure_gap keeps that to a handful of configures
sed -e 's/"interval": "300ms", "fast_interval": "100ms", "timeout": "200ms", "rise": 2, "fall": 2/"interval": "2s", "fast_interval": "500ms", "timeout": "400ms", "rise": 3, "fall": 3/' \
	"$T/healthd.json" >"$T/healthd-slow.json"
start_healthd "$T/healthd-slow.json"
if wait_peer_routes "$HEALTHY" 20; then ok "(e2) interval 2s: the peer has the healthy services (${ELAPSED}s)"; else not_ok "(e2) interval 2s: the peer has the healthy services" "peer has: $PEER_NOW"; fi
sleep 2.5 # the last of the rising services' configures
# reconfigures: "Reconfiguring" and "Reconfigured" lines in the speaker's log
reconfigures() {
	printf '%s %s\n' "$(grep -c 'Reconfiguring' "$T/spk.log")" "$(grep -c 'Reconfigured' "$T/spk.log")"
}
read -r ing0 ed0 < <(reconfigures)
stop_listener "$BULK_PORT"
if wait_peer_routes "$WEB $WEB6 $FLIP" 15; then ok "(e2) all $NBULK bulk routes leave the peer (${ELAPSED}s)"; else not_ok "(e2) all $NBULK bulk routes leave the peer" "peer has: $PEER_NOW"; fi
sleep 2.5 # a last configure may still be on its way
read -r ing1 ed1 < <(reconfigures)
if [ $((ing1 - ing0)) -le 5 ] && [ $((ed1 - ed0)) -le 5 ] && [ $((ed1 - ed0)) -ge 1 ]; then
	ok "(e2) $NBULK services going down over seconds cost $((ing1 - ing0)) configures"
else
	not_ok "(e2) $NBULK services going down cost at most 5 configures" "Reconfiguring $((ing1 - ing0)), Reconfigured $((ed1 - ed0))"
fi
start_listener "$BULK_PORT" || not_ok "(e2) bulk listener restarted"
if wait_peer_routes "$HEALTHY" 15; then ok "(e2) all $NBULK bulk routes return (${ELAPSED}s)"; else not_ok "(e2) all $NBULK bulk routes return" "peer has: $PEER_NOW"; fi
sleep 2.5
read -r ing2 ed2 < <(reconfigures)
if [ $((ing2 - ing1)) -le 5 ] && [ $((ed2 - ed1)) -le 5 ] && [ $((ed2 - ed1)) -ge 1 ]; then
	ok "(e2) $NBULK services coming up over seconds cost $((ing2 - ing1)) configures"
else
	not_ok "(e2) $NBULK services coming up cost at most 5 configures" "Reconfiguring $((ing2 - ing1)), Reconfigured $((ed2 - ed1))"
fi
stop_healthd 5
wait_peer_routes "" 5 || not_ok "(e2) SIGTERM withdraws" "peer has: $PEER_NOW"

# (f) format "set": the routes exist in BIRD all along; the export filter lets through
# what healthd's prefix sets list
SETS=$T/healthd-sets.conf
printf 'define healthd_v4 = [ ];\ndefine healthd_v6 = [ ];\n' >"$SETS"
write_speaker "include \"$SETS\";
protocol static anycast4 {
	ipv4;
	route $WEB blackhole;
	route $DEAD blackhole;
}
protocol static anycast6 {
	ipv6;
	route $WEB6 blackhole;
}" "where net ~ healthd_v4" "where net ~ healthd_v6"
if spk_birdc configure | grep -q Reconfigur; then ok "(f) speaker BIRD reconfigured for prefix sets"; else not_ok "(f) speaker BIRD reconfigured for prefix sets"; fi
{
	printf '{\n"speaker": { "type": "bird", "socket": "%s", "format": "set", "include": "%s" },\n' "$SPK_SOCK" "$SETS"
	printf '"defaults": { "interval": "300ms", "fast_interval": "100ms", "timeout": "200ms", "rise": 2, "fall": 2 },\n'
	printf '"services": [\n'
	svc web "[ \"$WEB\", \"$WEB6\" ]" "$NGINX_PORT"
	printf ',\n'
	svc flip "[ \"$FLIP\" ]" "$FLIP_PORT"
	printf ',\n'
	svc dead "[ \"$DEAD\" ]" "$DEAD_PORT"
	printf '\n]\n}\n'
} >"$T/healthd-set.json"
start_healthd "$T/healthd-set.json"
if wait_peer_routes "$WEB $WEB6" 15; then
	ok "(f) set format: the peer has exactly the healthy service's routes (${ELAPSED}s)"
else
	not_ok "(f) set format: the peer has exactly the healthy service's routes" "peer has: $PEER_NOW"
fi
for ((i = 0; i < 50; i++)); do # flip may come up a check later than web
	grep -q "define healthd_v4 = \[ $WEB, $FLIP \];" "$SETS" && break
	sleep 0.1
done
if grep -q "define healthd_v4 = \[ $WEB, $FLIP \];" "$SETS" && grep -q "define healthd_v6 = \[ $WEB6 \];" "$SETS"; then
	ok "(f) the set file lists the healthy prefixes, not $DEAD"
else
	not_ok "(f) the set file lists the healthy prefixes" "$(tr '\n' '|' <"$SETS")"
fi
stop_nginx || not_ok "(f) nginx stopped"
if wait_peer_routes "" 10; then ok "(f) set format: the routes leave when nginx stops (${ELAPSED}s)"; else not_ok "(f) set format: the routes leave" "peer has: $PEER_NOW"; fi
start_nginx || not_ok "(f) nginx restarted"
if wait_peer_routes "$WEB $WEB6" 10; then ok "(f) set format: they return (${ELAPSED}s)"; else not_ok "(f) set format: they return" "peer has: $PEER_NOW"; fi
stop_healthd 5
if wait_peer_routes "" 5; then ok "(f) set format: SIGTERM empties the sets and the peer loses every route"; else not_ok "(f) set format: SIGTERM withdraws" "peer has: $PEER_NOW"; fi

bird_lab_finish
