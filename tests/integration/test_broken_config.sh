#!/usr/bin/env bash
# One typo must not take a node off the network. A real ExaBGP runs two healthd helpers
# (ExaBGP's default: respawn a helper that exits, and exit itself after more than 5
# deaths in 64 s); one helper's config is broken:
#   for 75 s ExaBGP stays up and the good helper's prefix stays at a real BIRD peer;
#   the broken helper stays up too, announces nothing and says why;
#   fixing its file brings its prefix within seconds, with no restart;
#   its routes are recorded in a state file: killed (-9, ExaBGP respawns it) with its
#   config broken again, the new instance withdraws what the old one had announced.
#
#   HEALTHD=/abs/path/healthd bash tests/integration/test_broken_config.sh
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

it_init
it_need exabgp bird birdc nginx
it_need_healthd

GOOD=203.0.113.100/32 FIXED=203.0.113.101/32
HOLD_S=${HOLD_S:-75}

start_nginx || {
	not_ok "nginx starts"
	it_finish
	exit
}
start_bird || {
	not_ok "BIRD starts"
	it_finish
	exit
}

# config FILE NAME PREFIX: one service checked against nginx.
config() {
	cat >"$1.tmp" <<EOF
{
	"speaker": { "type": "exabgp" },
	"defaults": { "interval": "500ms", "fast_interval": "100ms", "timeout": "300ms", "rise": 2, "fall": 2 },
	"services": [ { "name": "$2", "prefixes": [ "$3" ], "announce": { "next_hop": "self" },
	                "checks": [ { "type": "tcp", "host": "$SERVICE_ADDR", "port": $NGINX_PORT } ] } ]
}
EOF
	mv "$1.tmp" "$1"
}
GOOD_CFG=$T/good.json BAD_CFG=$T/bad.json
config "$GOOD_CFG" good "$GOOD"
config "$BAD_CFG" fixed "$FIXED"
cp "$BAD_CFG" "$T/fixed.json"
sed -i 's/"port"/"prot"/' "$BAD_CFG" # the typo of the story

# ExaBGP as shipped: helpers are respawned (the env file of lib.sh says no: override).
write_exabgp "$HEALTHD run -c $GOOD_CFG"
sed -i 's/^respawn = false/respawn = true/' "$T/exabgp.env"
awk -v bad="$HEALTHD run -c $BAD_CFG" '
	/^process healthd \{/ { inproc = 1 }
	{ if (inproc && /respawn false;/) next; print }
	inproc && /^\}/ { inproc = 0; print "\nprocess broken {\n\trun " bad ";\n\tencoder text;\n}" }
	' "$T/exabgp.conf" >"$T/exabgp.conf.new" && mv "$T/exabgp.conf.new" "$T/exabgp.conf"
sed -i 's/processes \[ healthd \];/processes [ healthd broken ];/' "$T/exabgp.conf"
start_exabgp
wait_established 20 || not_ok "BGP session ExaBGP - BIRD established"
check "the good helper's prefix is announced" wait_route_present "$GOOD" 15

# broken_pid: the helper running the broken config (a child of ExaBGP).
broken_pid() {
	local p
	for p in $(pgrep -P "$EXABGP_PID" 2>/dev/null); do
		if alive "$p" && tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q -- "$BAD_CFG"; then
			printf '%s\n' "$p"
			return 0
		fi
	done
	return 1
}
sleep 1
B1=$(broken_pid) || not_ok "the broken helper runs"
note "holding for ${HOLD_S}s with a broken helper"
t0=$(now)
if stays_present "$GOOD" "$HOLD_S"; then
	ok "for ${HOLD_S}s the good helper's prefix stayed at the BIRD peer"
else
	not_ok "for ${HOLD_S}s the good helper's prefix stayed at the BIRD peer" "lost after $(since "$t0")s"
fi
check "ExaBGP is still running" alive "$EXABGP_PID"
B2=$(broken_pid)
if [ -n "$B1" ] && [ "$B1" = "$B2" ]; then ok "the broken helper was never restarted"; else not_ok "the broken helper was never restarted" "pid $B1 then $B2"; fi
route_absent_now() { ! route_present "$1"; }
check "the broken helper announced nothing" route_absent_now "$FIXED"
errs=$(grep -c "bad.json:[0-9]*:[0-9]*: services\[0\]\.checks\[0\]\.prot: unknown key" "$T/exabgp.out")
if [ "${errs:-0}" -ge 2 ]; then ok "the broken helper logged its error at start and again a minute later ($errs times)"; else not_ok "the broken helper logged its error at start and again a minute later" "seen $errs times"; fi

# Fix the file: its prefix comes within seconds (mtime poll, rise), no restart.
cp "$T/fixed.json" "$BAD_CFG"
t0=$(now)
if wait_route_present "$FIXED" 10; then ok "fixed file: the prefix is announced after ${ELAPSED}s"; else not_ok "fixed file: the prefix is announced within 10s"; fi
B3=$(broken_pid)
if [ "$B3" = "$B1" ]; then ok "fixed file: same process, no restart"; else not_ok "fixed file: same process, no restart" "pid $B1 then $B3"; fi

# The state file: the helper dies hard with the file broken again; ExaBGP keeps the
# route it had announced and respawns the helper, which withdraws it from the state file.
STATE=$(ls "$STATE_DIRECTORY"/*bad.json.state 2>/dev/null | head -n 1)
if [ -n "$STATE" ] && grep -q "$FIXED" "$STATE"; then ok "the state file records the announced prefix"; else not_ok "the state file records the announced prefix" "$(ls "$STATE_DIRECTORY")"; fi
sed -i 's/"port"/"prot"/' "$BAD_CFG"
kill -KILL "$B3"
if wait_route_absent "$FIXED" 15; then ok "respawned with a broken file: the previous instance's prefix is withdrawn (${ELAPSED}s)"; else not_ok "respawned with a broken file: the previous instance's prefix is withdrawn"; fi
check "the good helper's prefix is still there" route_present "$GOOD"
check "ExaBGP is still running" alive "$EXABGP_PID"
B4=$(broken_pid) && check "the respawned helper keeps running" alive "$B4"

if [ "$FAIL" -ne 0 ]; then it_tail 40 "$T/exabgp.out"; fi
it_finish
