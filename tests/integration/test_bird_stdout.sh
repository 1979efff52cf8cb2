#!/usr/bin/env bash
# Speaker type "birdc-stdout": healthd prints birdc commands on stdout, one per line,
# and "healthd run -c FILE | birdc -s SOCKET" drives a real BIRD 2 with them. Both
# modes; a second BIRD peers with the driven one and is what the test looks at:
#   static:   healthd writes the include files itself and prints "configure";
#   protocol: healthd prints enable "NAME" / disable "NAME".
# In each: the healthy service's routes reach the peer, leave when it fails, return;
# SIGTERM to healthd withdraws everything and birdc ends at the end of its input.
#
#   HEALTHD=/abs/path/healthd bash tests/integration/test_bird_stdout.sh
set -u
# shellcheck source-path=SCRIPTDIR source=lib_bird.sh
. "$(dirname "$0")/lib_bird.sh"

bird_lab_init

WEB=198.51.100.80/32 WEB6=2001:db8:80::/48 DEAD=198.51.100.82/32
INC4=$T/healthd-routes.conf INC6=$T/healthd-routes6.conf
BIRDC_PID=""

start_nginx || {
	not_ok "nginx starts"
	bird_lab_finish
	exit
}
DEAD_PORT=$(free_port)
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
}
protocol static p_web { ipv4; disabled; route $WEB blackhole; }
protocol static p_web6 { ipv6; disabled; route $WEB6 blackhole; }
protocol static p_dead { ipv4; disabled; route $DEAD blackhole; }"
if ! { start_peer && start_speaker; }; then
	not_ok "both BIRDs start"
	bird_lab_finish
	exit
fi
if wait_session 20; then ok "BGP session speaker BIRD -> peer BIRD established"; else not_ok "BGP session established within 20s"; fi

# write_config NAME SPEAKER_JSON: web (nginx, both families) and dead, with or without
# bird_protocol names.
write_config() {
	local p1="" p2="" p3=""
	if [ "$2" = protocol ]; then
		p1='"bird_protocol": "p_web",' p2='"bird_protocol": "p_web6",' p3='"bird_protocol": "p_dead",'
		speaker='{ "type": "birdc-stdout", "mode": "protocol" }'
		web='"prefixes": [ "'$WEB'" ]'
	else
		speaker='{ "type": "birdc-stdout", "include": "'$INC4'", "include6": "'$INC6'" }'
		web='"prefixes": [ "'$WEB'", "'$WEB6'" ]'
	fi
	cat >"$T/$1.json" <<EOF
{
	"speaker": $speaker,
	"defaults": { "interval": "300ms", "fast_interval": "100ms", "timeout": "200ms", "rise": 2, "fall": 2 },
	"services": [
		{ "name": "web", $p1 $web,
		  "checks": [ { "type": "tcp", "host": "127.0.0.1", "port": $NGINX_PORT } ] },
		$([ "$2" = protocol ] && printf '%s' "{ \"name\": \"web6\", $p2 \"prefixes\": [ \"$WEB6\" ], \"checks\": [ { \"type\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": $NGINX_PORT } ] },")
		{ "name": "dead", $p3 "prefixes": [ "$DEAD" ],
		  "checks": [ { "type": "tcp", "host": "127.0.0.1", "port": $DEAD_PORT } ] }
	]
}
EOF
}

# start_pipeline NAME: healthd run -c $T/NAME.json | tee $T/NAME.stdout | birdc -s SOCK
start_pipeline() {
	rm -f "$T/pipe"
	mkfifo "$T/pipe"
	"$HEALTHD" run -c "$T/$1.json" </dev/null >"$T/pipe" 2>>"$T/healthd.err" &
	HEALTHD_PID=$!
	HEALTHD_START=$(pid_start "$HEALTHD_PID")
	tee "$T/$1.stdout" <"$T/pipe" | birdc -s "$SPK_SOCK" >>"$T/birdc.out" 2>&1 &
	BIRDC_PID=$!
}

# run_mode NAME MODE: the whole story for one mode.
run_mode() {
	local name=$1 mode=$2 healthy
	healthy="$WEB $WEB6"
	write_config "$name" "$mode"
	if "$HEALTHD" check -c "$T/$name.json" >/dev/null 2>"$T/check.err"; then ok "$mode: the config is valid"; else not_ok "$mode: the config is valid" "$(head -5 "$T/check.err")"; fi
	start_pipeline "$name"
	if wait_peer_routes "$healthy" 15; then ok "$mode: the peer has exactly the healthy service's routes, not $DEAD (${ELAPSED}s)"; else not_ok "$mode: the peer has exactly the healthy service's routes" "peer has: $PEER_NOW"; fi
	stop_nginx || not_ok "$mode: nginx stopped"
	if wait_peer_routes "" 10; then ok "$mode: they leave when nginx stops (${ELAPSED}s)"; else not_ok "$mode: the routes leave when nginx stops" "peer has: $PEER_NOW"; fi
	start_nginx || not_ok "$mode: nginx restarted"
	if wait_peer_routes "$healthy" 10; then ok "$mode: they return with nginx (${ELAPSED}s)"; else not_ok "$mode: the routes return" "peer has: $PEER_NOW"; fi
	if stop_healthd 5 && [ "$HEALTHD_RC" = 0 ]; then ok "$mode: healthd exits 0 on SIGTERM"; else not_ok "$mode: healthd exits 0 on SIGTERM" "status $HEALTHD_RC"; fi
	if wait_peer_routes "" 5; then ok "$mode: after SIGTERM the peer has no route (${ELAPSED}s)"; else not_ok "$mode: after SIGTERM the peer has no route" "peer has: $PEER_NOW"; fi
	if wait_gone "$BIRDC_PID" 5; then ok "$mode: birdc ended at the end of healthd's output"; else not_ok "$mode: birdc ended after healthd"; fi
	wait "$BIRDC_PID" 2>/dev/null
	local bad
	bad=$(grep -vE '^(configure|(enable|disable) "p_[a-z0-9]+")$' "$T/$name.stdout" | head -n 3)
	if [ -s "$T/$name.stdout" ] && [ -z "$bad" ]; then
		ok "$mode: stdout held birdc commands only ($(wc -l <"$T/$name.stdout") lines)"
	else
		not_ok "$mode: stdout held birdc commands only" "$bad"
	fi
}

run_mode static static
if grep -q '^configure$' "$T/static.stdout" && ! grep -q '^route' "$INC4" "$INC6"; then
	ok "static: healthd printed configure and left the include files empty"
else
	not_ok "static: configure printed, include files empty at exit"
fi
run_mode protocol protocol
# quoted, a pattern to BIRD: a name it does not know is "8003 No protocols match", not a
# syntax error
if grep -q '^disable "p_dead"$' "$T/protocol.stdout" && grep -q '^enable "p_web"$' "$T/protocol.stdout"; then
	ok "protocol: healthd printed enable \"p_web\" and disable \"p_dead\""
else
	not_ok "protocol: enable/disable lines printed" "$(tr '\n' '|' <"$T/protocol.stdout")"
fi
bad=$(grep -iE 'error|unknown|unexpected' "$T/birdc.out" | head -n 3)
if [ -z "$bad" ]; then ok "birdc reported no error for any command"; else not_ok "birdc reported no error" "$bad"; fi

bird_lab_finish
