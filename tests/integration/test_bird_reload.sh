#!/usr/bin/env bash
# Reload (SIGHUP) in the BIRD modes, judged at the peer BIRD and in the speaker BIRD's
# log of client commands:
#   mode static: the same file again costs no configure; a new file (a MED changed, a
#   service removed, one added) costs configures and the peer sees each change;
#   mode protocol: the same file again sends no enable/disable at all; a removed service's
#   protocol is disabled, an added one's enabled, and the unchanged ones are not touched.
#
#   HEALTHD=/abs/path/healthd bash tests/integration/test_bird_reload.sh
set -u
# shellcheck source-path=SCRIPTDIR source=lib_bird.sh
. "$(dirname "$0")/lib_bird.sh"

bird_lab_init

KEEP=198.51.100.90/32 CHANGE=198.51.100.91/32 GONE=198.51.100.92/32 ADDED=198.51.100.93/32
INC4=$T/healthd-routes.conf INC6=$T/healthd-routes6.conf
: >"$INC4"
: >"$INC6"

start_nginx || {
	not_ok "nginx starts"
	bird_lab_finish
	exit
}
# "debug commands 2": BIRD logs every command a client sends.
write_speaker "
debug commands 2;
protocol static healthd4 {
	ipv4;
	include \"$INC4\";
}
protocol static healthd6 {
	ipv6;
	include \"$INC6\";
}
protocol static p_keep { ipv4; disabled; route $KEEP blackhole; }
protocol static p_change { ipv4; disabled; route $CHANGE blackhole; }
protocol static p_gone { ipv4; disabled; route $GONE blackhole; }
protocol static p_added { ipv4; disabled; route $ADDED blackhole; }"
if ! { start_peer && start_speaker; }; then
	not_ok "both BIRDs start"
	bird_lab_finish
	exit
fi
if wait_session 20; then ok "BGP session speaker BIRD -> peer BIRD established"; else not_ok "BGP session established within 20s"; fi

# write_config FILE MODE "name:prefix:med" ...
write_config() {
	local f=$1 mode=$2 sep="" s name pfx med
	shift 2
	{
		if [ "$mode" = static ]; then
			printf '{\n"speaker": { "type": "bird", "socket": "%s", "include": "%s", "include6": "%s", "reconnect": "1s", "batch": "100ms", "configure_gap": "200ms" },\n' "$SPK_SOCK" "$INC4" "$INC6"
		else
			printf '{\n"speaker": { "type": "bird", "socket": "%s", "mode": "protocol", "reconnect": "1s", "reassert": "1h" },\n' "$SPK_SOCK"
		fi
		printf '"defaults": { "interval": "300ms", "fast_interval": "100ms", "timeout": "200ms", "rise": 2, "fall": 2 },\n"services": [\n'
		for s in "$@"; do
			IFS=: read -r name pfx med <<<"$s"
			printf '%s{ "name": "%s", "prefixes": [ "%s" ], ' "$sep" "$name" "$pfx"
			if [ "$mode" = static ]; then printf '"announce": { "med": %s }, ' "$med"; else printf '"bird_protocol": "p_%s", ' "$name"; fi
			printf '"checks": [ { "type": "tcp", "host": "127.0.0.1", "port": %s } ] }' "$NGINX_PORT"
			sep=$',\n'
		done
		printf '\n]\n}\n'
	} >"$f.tmp" && mv "$f.tmp" "$f"
}
commands() { grep -c -- "$1" "$T/spk.log" 2>/dev/null || true; }
peer_med() { peer_birdc show route "$1" all 2>/dev/null | awk '/BGP.med:/ { print $2; exit }'; }
wait_err() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		[ "$(grep -c -- "$1" "$T/healthd.err")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# ---- mode static
CFG=$T/healthd.json
write_config "$CFG" static "keep:$KEEP:100" "change:$CHANGE:100" "gone:$GONE:100"
start_healthd "$CFG"
if wait_peer_routes "$KEEP $CHANGE $GONE" 15; then ok "static: the three services reach the peer"; else not_ok "static: the three services reach the peer" "peer has: $PEER_NOW"; fi
sleep 1 # let the last configure settle
c0=$(configures)
kill -HUP "$HEALTHD_PID"
check "static: same file reloaded (3 unchanged)" wait_err "reload: 3 unchanged, 0 changed, 0 added, 0 removed" 1 5
sleep 1.5
n=$(($(configures) - c0))
if [ "$n" -eq 0 ]; then ok "static: the same file again costs no configure"; else not_ok "static: the same file again costs no configure" "BIRD logged $n"; fi

write_config "$CFG" static "keep:$KEEP:100" "change:$CHANGE:200" "added:$ADDED:100"
kill -HUP "$HEALTHD_PID"
check "static: new file reloaded" wait_err "reload: 1 unchanged, 1 changed, 1 added, 1 removed" 1 5
if wait_peer_routes "$KEEP $CHANGE $ADDED" 10; then ok "static: the removed service left the peer and the added one came (${ELAPSED}s)"; else not_ok "static: removed left, added came" "peer has: $PEER_NOW"; fi
med=""
for ((i = 0; i < 25; i++)); do
	med=$(peer_med "$CHANGE")
	[ "$med" = 200 ] && break
	sleep 0.2
done
if [ "$med" = 200 ]; then ok "static: the peer sees the changed MED 200"; else not_ok "static: the peer sees the changed MED 200" "MED: $med"; fi
check "static: healthd keeps running" alive "$HEALTHD_PID"
stop_healthd 5 || not_ok "static: healthd stops on SIGTERM"
if wait_peer_routes "" 10; then ok "static: SIGTERM empties the peer"; else not_ok "static: SIGTERM empties the peer" "peer has: $PEER_NOW"; fi

# ---- mode protocol
write_config "$CFG" protocol "keep:$KEEP" "change:$CHANGE" "gone:$GONE"
start_healthd "$CFG"
if wait_peer_routes "$KEEP $CHANGE $GONE" 15; then ok "protocol: the three services reach the peer"; else not_ok "protocol: the three services reach the peer" "peer has: $PEER_NOW"; fi
sleep 1
e0=$(commands 'CLI: \(en\|dis\)able') k0=$(commands 'CLI: .*p_keep')
if [ "$e0" -ge 3 ]; then ok "protocol: BIRD logs the enable commands ($e0)"; else not_ok "protocol: BIRD logs the enable commands" "$(grep CLI "$T/spk.log" | tail -n 3)"; fi
kill -HUP "$HEALTHD_PID"
check "protocol: same file reloaded (3 unchanged)" wait_err "reload: 3 unchanged, 0 changed, 0 added, 0 removed" 2 5
sleep 1.5
n=$(($(commands 'CLI: \(en\|dis\)able') - e0))
if [ "$n" -eq 0 ]; then ok "protocol: the same file again sends no enable or disable"; else not_ok "protocol: the same file again sends no enable or disable" "$(grep CLI "$T/spk.log" | tail -n "$n")"; fi

write_config "$CFG" protocol "keep:$KEEP" "change:$CHANGE" "added:$ADDED"
sed -i 's/"rise": 2, "fall": 2 },/"rise": 2, "fall": 3 },/' "$CFG" # every service's checks change
sed -i 's/"name": "keep", "prefixes": \[ "[^"]*" \], "bird_protocol": "p_keep", "checks": \[ { "type": "tcp", "host": "127.0.0.1", "port": [0-9]* } \]/&, "fall": 2/' "$CFG"
kill -HUP "$HEALTHD_PID"
check "protocol: new file reloaded" wait_err "reload: 1 unchanged, 1 changed, 1 added, 1 removed" 1 5
if wait_peer_routes "$KEEP $CHANGE $ADDED" 10; then ok "protocol: p_gone disabled, p_added enabled (${ELAPSED}s)"; else not_ok "protocol: p_gone disabled, p_added enabled" "peer has: $PEER_NOW"; fi
if [ "$(commands 'CLI: .*p_keep')" = "$k0" ]; then ok "protocol: nothing sent for the unchanged service"; else not_ok "protocol: nothing sent for the unchanged service" "$(grep 'CLI: .*p_keep' "$T/spk.log" | tail -n 2)"; fi
check "protocol: the changed service's route never left" peer_routes_stay "$KEEP $CHANGE $ADDED" 1
stop_healthd 5 || not_ok "protocol: healthd stops on SIGTERM"
if wait_peer_routes "" 10; then ok "protocol: SIGTERM empties the peer"; else not_ok "protocol: SIGTERM empties the peer" "peer has: $PEER_NOW"; fi

bird_lab_finish
