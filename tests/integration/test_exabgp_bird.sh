#!/usr/bin/env bash
# healthd end to end: a real ExaBGP 4.2 spawns healthd and peers with a real BIRD 2;
# a real nginx is the service. What an operator checks: the route is in BIRD while
# the service is healthy, gone soon after it breaks or is put in maintenance, gone
# when healthd is stopped, and announced with the configured attributes.
#
#   HEALTHD=/abs/path/healthd bash tests/integration/test_exabgp_bird.sh
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

it_init
it_need exabgp bird birdc nginx
it_need_healthd

# Timing of every check (the config's "defaults"), and the bounds derived from it.
INTERVAL=1s FAST=200ms TIMEOUT=500ms RISE=2 FALL=2
interval_s=$(dur_s $INTERVAL)
fast_s=$(dur_s $FAST)
timeout_s=$(dur_s $TIMEOUT)
# Service stops -> route withdrawn: FALL failed checks at the fast interval, one
# timeout, plus 2 s for the first failing regular check (<= interval = 1 s) and
# for ExaBGP -> BIRD. Generous by construction: a refused connect fails at once.
DOWN_BOUND=$(awk -v f="$FALL" -v fi="$fast_s" -v t="$timeout_s" 'BEGIN { printf "%.3f", f * fi + t + 2 }')
# Service back -> route announced: RISE successes, same slack, plus BGP.
UP_BOUND=$(awk -v r="$RISE" -v i="$interval_s" -v fi="$fast_s" -v t="$timeout_s" 'BEGIN { printf "%.3f", i + r * (fi + t) + 3 }')
# Service hangs (accepts, never answers) -> route withdrawn: the first failing run
# starts within one interval; the check (tcp, overlap on by default, fall > 1,
# fast_interval < timeout) starts another run beside it every fast interval, so the
# fall-th failure comes (fall - 1) fast intervals and one timeout later; plus 2 s for
# ExaBGP -> BIRD.
HANG_BOUND=$(awk -v i="$interval_s" -v f="$FALL" -v fi="$fast_s" -v t="$timeout_s" 'BEGIN { printf "%.3f", i + (f - 1) * fi + t + 2 }')
# Maintenance file: noticed at the next check at the latest, plus BGP.
MAINT_BOUND=$(awk -v i="$interval_s" 'BEGIN { printf "%.3f", i + 3 }')

WEB=203.0.113.80/32    # served by nginx: healthy
BROKEN=203.0.113.81/32 # its check connects to a port where nothing listens
HTTPCHK=203.0.113.82/32 # its check asks nginx over HTTP: a hung nginx fails it
# IPv6 over the IPv4 session: "next-hop self" would make ExaBGP send next hop 0.0.0.0
# (BIRD drops it: "mismatched address family"), so this one names an IPv6 next hop.
WEB6=2001:db8::80/128
MAINT=$T/maintenance-web

start_nginx || {
	not_ok "nginx starts"
	it_finish
	exit
}
DEAD_PORT=$(free_port)
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
			"prefixes": [ "$WEB" ],
			"announce": { "next_hop": "self", "med": 100,
			              "communities": [ "65000:80" ], "large_communities": [ "65000:0:80" ] },
			"disable_file": "$MAINT",
			"checks": [ { "type": "tcp", "host": "$SERVICE_ADDR", "port": $NGINX_PORT } ]
		},
		{
			"name": "web6",
			"prefixes": [ "$WEB6" ],
			"announce": { "next_hop": "::1", "med": 100 },
			"checks": [ { "type": "tcp", "host": "$SERVICE_ADDR", "port": $NGINX_PORT } ]
		},
		{
			"name": "http",
			"prefixes": [ "$HTTPCHK" ],
			"announce": { "next_hop": "self", "med": 100 },
			"checks": [ { "type": "tcp", "host": "$SERVICE_ADDR", "port": $NGINX_PORT,
			              "send": "HEAD / HTTP/1.0\\r\\n\\r\\n", "expect": "HTTP/1.1 200" } ]
		},
		{
			"name": "broken",
			"prefixes": [ "$BROKEN" ],
			"announce": { "next_hop": "self", "med": 200 },
			"checks": [ { "type": "tcp", "host": "$SERVICE_ADDR", "port": $DEAD_PORT } ]
		}
	]
}
EOF
note "lab in $T: nginx $SERVICE_ADDR:$NGINX_PORT, BGP $EXA_ADDR -> $BIRD_ADDR port $BGP_PORT"
note "bounds: down ${DOWN_BOUND}s (fall*fast_interval + timeout + 2), hung ${HANG_BOUND}s (interval + (fall-1)*fast_interval + timeout + 2), up ${UP_BOUND}s, maintenance ${MAINT_BOUND}s"

start_exabgp "$HEALTHD run -c $T/healthd.json"
if find_helper 10; then ok "ExaBGP spawned healthd (pid $HEALTHD_PID)"; else not_ok "ExaBGP spawned healthd within 10s"; fi
if wait_established 20; then ok "BGP session ExaBGP -> BIRD established"; else not_ok "BGP session established within 20s"; fi

# (a) healthy service -> route in BIRD
if wait_route_present "$WEB" 15; then
	ok "(a) $WEB in BIRD once nginx is healthy (${ELAPSED}s)"
else
	not_ok "(a) $WEB in BIRD within 15s"
fi

if wait_route_present "$WEB6" 5; then
	ok "(a) IPv6 $WEB6 in BIRD too (next hop ::1)"
else
	not_ok "(a) IPv6 $WEB6 in BIRD" "$(birdc_ show route "$WEB6" 2>&1 | tr '\n' '|')"
fi

# (e) two services: only the healthy one is announced
if stays_absent "$BROKEN" "$(awk -v i="$interval_s" 'BEGIN { print 2 * i + 0.5 }')" && route_present "$WEB"; then
	ok "(e) only the healthy service's prefix is in BIRD ($WEB yes, $BROKEN no)"
else
	not_ok "(e) $WEB present and $BROKEN absent"
fi

# (f) route attributes as configured
all=$(birdc_ show route all "$WEB" 2>&1)
if grep -q 'BGP.med: 100$' <<<"$all"; then ok "(f) BIRD shows MED 100"; else not_ok "(f) BIRD shows MED 100" "$(tr '\n' '|' <<<"$all")"; fi
if grep -q 'BGP.community:.*(65000,80)' <<<"$all"; then ok "(f) BIRD shows community (65000,80)"; else not_ok "(f) BIRD shows community (65000,80)" "$(tr '\n' '|' <<<"$all")"; fi
if grep -q 'BGP.large_community:.*(65000, 0, 80)' <<<"$all"; then ok "(f) BIRD shows large community (65000, 0, 80)"; else not_ok "(f) BIRD shows large community (65000, 0, 80)" "$(tr '\n' '|' <<<"$all")"; fi
if grep -q "BGP.next_hop: $EXA_ADDR" <<<"$all"; then ok "(f) next hop is ExaBGP's address (next-hop self)"; else not_ok "(f) next hop $EXA_ADDR" "$(tr '\n' '|' <<<"$all")"; fi

# (b) service down -> withdrawn within the bound; back up -> announced again
stop_nginx || not_ok "(b) nginx stopped"
if wait_route_absent "$WEB" "$(awk -v b="$DOWN_BOUND" 'BEGIN { print b + 8 }')"; then
	ok "(b) $WEB withdrawn after nginx stopped (${ELAPSED}s)"
	if le "$ELAPSED" "$DOWN_BOUND"; then
		ok "(b) withdrawn within ${DOWN_BOUND}s"
	else
		not_ok "(b) withdrawn within ${DOWN_BOUND}s" "took ${ELAPSED}s"
	fi
else
	not_ok "(b) $WEB withdrawn after nginx stopped" "still present after ${ELAPSED}s"
fi
if wait_route_absent "$WEB6" 5; then ok "(b) IPv6 $WEB6 withdrawn too"; else not_ok "(b) IPv6 $WEB6 withdrawn after nginx stopped"; fi
start_nginx || not_ok "(b) nginx restarted"
if wait_route_present "$WEB" "$UP_BOUND"; then
	ok "(b) $WEB announced again after nginx restarted (${ELAPSED}s)"
	if wait_route_present "$WEB6" 5; then ok "(b) IPv6 $WEB6 announced again"; else not_ok "(b) IPv6 $WEB6 announced again"; fi
else
	not_ok "(b) $WEB back within ${UP_BOUND}s of nginx restarting"
fi

# (c) maintenance file
: >"$MAINT"
if wait_route_absent "$WEB" "$MAINT_BOUND"; then
	ok "(c) touching the disable_file withdraws $WEB (${ELAPSED}s)"
	if stays_absent "$WEB" 2; then ok "(c) $WEB stays withdrawn while the file exists"; else not_ok "(c) $WEB stays withdrawn while the file exists"; fi
else
	not_ok "(c) disable_file withdraws $WEB within ${MAINT_BOUND}s"
fi
rm -f -- "$MAINT"
if wait_route_present "$WEB" "$UP_BOUND"; then
	ok "(c) removing the disable_file announces $WEB again (${ELAPSED}s)"
else
	not_ok "(c) $WEB back within ${UP_BOUND}s of removing the disable_file"
fi

# (h) a hung service: nginx stopped with SIGSTOP still accepts connections (the kernel
# completes the handshake) but never answers, so the HTTP check times out.
if wait_route_present "$HTTPCHK" 10; then
	nginx_pids="$NGINX_PID $(pgrep -P "$NGINX_PID" | tr '\n' ' ')"
	# shellcheck disable=SC2086 # a list of PIDs
	kill -STOP $nginx_pids
	if wait_route_absent "$HTTPCHK" "$(awk -v b="$HANG_BOUND" 'BEGIN { print b + 8 }')"; then
		if le "$ELAPSED" "$HANG_BOUND"; then
			ok "(h) hung nginx: $HTTPCHK withdrawn within ${HANG_BOUND}s (${ELAPSED}s)"
		else
			not_ok "(h) hung nginx: $HTTPCHK withdrawn within ${HANG_BOUND}s" "took ${ELAPSED}s"
		fi
	else
		not_ok "(h) hung nginx: $HTTPCHK withdrawn" "still present after ${ELAPSED}s"
	fi
	# shellcheck disable=SC2086
	kill -CONT $nginx_pids
	if wait_route_present "$HTTPCHK" "$UP_BOUND"; then
		ok "(h) $HTTPCHK announced again once nginx answers (${ELAPSED}s)"
	else
		not_ok "(h) $HTTPCHK back within ${UP_BOUND}s of nginx answering again"
	fi
else
	not_ok "(h) $HTTPCHK (HTTP check over tcp send/expect) in BIRD"
fi

# Every line healthd wrote was a command ExaBGP understood.
bad=$(grep -E 'not understood|could not parse|reason:' "$T/exabgp.log" 2>/dev/null | head -n 5)
if [ -z "$bad" ]; then ok "ExaBGP understood every command healthd sent"; else not_ok "ExaBGP understood every command healthd sent" "$bad"; fi

# BIRD took every route as valid (a bad next hop is logged and treated as withdraw).
bad=$(grep -E 'Invalid|malformed|Malformed' "$T/bird.log" 2>/dev/null | head -n 5)
if [ -z "$bad" ]; then ok "BIRD found no invalid route or attribute"; else not_ok "BIRD found no invalid route or attribute" "$bad"; fi

# (d) SIGTERM to healthd itself: it withdraws before it exits. (ExaBGP would keep
# the routes of a helper that died without withdrawing, see test_plumbing.sh, and
# respawn is off, so only healthd's own withdraw can remove the route.)
if [ -n "$HEALTHD_PID" ] && alive "$HEALTHD_PID"; then
	route_present "$WEB" || wait_route_present "$WEB" 5
	kill -TERM "$HEALTHD_PID"
	if wait_route_absent "$WEB" 5; then
		ok "(d) SIGTERM to healthd withdraws $WEB (${ELAPSED}s)"
	else
		not_ok "(d) SIGTERM to healthd withdraws $WEB within 5s"
	fi
	if wait_route_absent "$WEB6" 3; then ok "(d) ... and IPv6 $WEB6 too"; else not_ok "(d) SIGTERM to healthd withdraws IPv6 $WEB6"; fi
	if wait_gone "$HEALTHD_PID" 5; then ok "(d) healthd exited after SIGTERM"; else not_ok "(d) healthd exited within 5s of SIGTERM"; fi
	if alive "$EXABGP_PID"; then ok "(d) ExaBGP still runs (it was healthd that stopped)"; else not_ok "(d) ExaBGP still running"; fi
else
	not_ok "(d) healthd running before SIGTERM"
fi

# (g) stopping ExaBGP (it writes "shutdown" to healthd, then SIGTERMs it and waits
# for it without a timeout): ExaBGP must not hang on healthd.
stop_exabgp 5
[ -n "$HEALTHD_PID" ] && kill_pid "$HEALTHD_PID" 2 # only when (d) left it running
HEALTHD_PID=""
wait_route_absent "$WEB" 5 >/dev/null
start_exabgp
if find_helper 10 && wait_established 20 && wait_route_present "$WEB" 15; then
	old=$HEALTHD_PID
	t0=$(now)
	kill -TERM "$EXABGP_PID"
	if wait_gone "$EXABGP_PID" 5; then
		ok "(g) ExaBGP stops within 5s with healthd attached ($(since "$t0")s)"
	else
		not_ok "(g) ExaBGP stops within 5s with healthd attached" "ExaBGP waits for its helper; healthd did not exit on shutdown/SIGTERM"
	fi
	if wait_gone "$old" 2; then ok "(g) healthd exited with ExaBGP"; else not_ok "(g) healthd exited with ExaBGP"; fi
else
	not_ok "(g) second ExaBGP run announces $WEB"
fi

it_finish
