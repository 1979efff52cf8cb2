#!/usr/bin/env bash
# healthd drives a real FRR bgpd (Debian's frr) through vtysh: "network" statements with
# HEALTHD-... route-maps. bgpd peers over eBGP with a real BIRD 2 (IPv4 on
# 127.0.41.2 -> 127.0.41.3, IPv6 on ::1); everything is judged by what that BIRD receives:
#   the healthy services' routes with MED, communities, large communities and the
#   prepended AS path; a leftover of an earlier run is removed at start;
#   a service that fails leaves, and returns; on_down attributes replace announce's;
#   20 services failing at once cost a handful of vtysh runs, not 20;
#   a statement removed by hand is re-asserted;
#   a hanging vtysh is killed at vtysh_timeout, and the change goes through after;
#   bgpd killed and restarted (with a leftover in its config): BIRD gets exactly the
#   healthy services again;
#   SIGTERM to healthd: BIRD loses every route of healthd's; with bgpd stalled, healthd
#   still exits within the drain deadline, with status 3;
#   all along, a "network" statement someone else wrote stays announced.
#
#   HEALTHD=/abs/path/healthd bash tests/integration/test_frr.sh
set -u
# shellcheck source-path=SCRIPTDIR source=lib_bird.sh
. "$(dirname "$0")/lib_bird.sh"

# The lab's own addresses (lib_bird.sh's peer functions use these names).
SPK_ADDR=127.0.41.2 SPK_AS=65041 PEER_ADDR=127.0.41.3 PEER_AS=65042
BGPD=/usr/lib/frr/bgpd
VTYSH=/usr/bin/vtysh
FRR_PID="" LAB_PORT6=""

frr_lab_exit() {
	local rc=$?
	stop_healthd 3 >/dev/null 2>&1
	kill_pid "$FRR_PID" 3
	(exit "$rc")
	bird_lab_exit
}

bird_lab_init
it_need "$BGPD" "$VTYSH"
trap frr_lab_exit EXIT
LAB_PORT6=$(free_port) || exit 1
FRR_DIR=$T/frr
mkdir -p "$FRR_DIR"

# The peer: IPv4 from bgpd's 127.0.41.2, IPv6 over its own session on ::1 (bgpd without
# zebra knows no IPv6 address to send as the next hop over an IPv4 session). Graceful
# restart off: a killed bgpd's routes leave at once instead of staying as stale.
write_peer() {
	cat >"$T/peer.conf" <<EOF
log "$T/peer.log" all;
router id $PEER_ADDR;
protocol device { }
protocol bgp speaker {
	local $PEER_ADDR port $LAB_PORT as $PEER_AS;
	neighbor $SPK_ADDR port $LAB_PORT as $SPK_AS;
	multihop 2;
	strict bind on;
	passive on;
	graceful restart off;
	error wait time 1, 5;
	ipv4 { import all; export none; };
}
protocol bgp speaker6 {
	local ::1 port $LAB_PORT6 as $PEER_AS;
	neighbor ::1 port $LAB_PORT6 as $SPK_AS;
	multihop 2;
	strict bind on;
	passive on;
	graceful restart off;
	error wait time 1, 5;
	ipv6 { import all; export none; };
}
EOF
}

# bgpd's configuration file: the operator's part (examples/frr.conf), a network statement
# of someone else, and what an earlier healthd left behind (as after "write memory").
HAND=198.51.100.99/32 LEFT=198.51.100.98/32
write_frr() {
	cat >"$FRR_DIR/bgpd.conf" <<EOF
router bgp $SPK_AS
 bgp router-id $SPK_ADDR
 no bgp ebgp-requires-policy
 no bgp network import-check
 neighbor $PEER_ADDR remote-as $PEER_AS
 neighbor $PEER_ADDR port $LAB_PORT
 neighbor $PEER_ADDR update-source $SPK_ADDR
 neighbor $PEER_ADDR ebgp-multihop 2
 neighbor $PEER_ADDR timers connect 1
 neighbor ::1 remote-as $PEER_AS
 neighbor ::1 port $LAB_PORT6
 neighbor ::1 update-source ::1
 neighbor ::1 ebgp-multihop 2
 neighbor ::1 timers connect 1
 address-family ipv4 unicast
  network $HAND
  network $LEFT route-map HEALTHD-old-00000000
  no neighbor ::1 activate
 exit-address-family
 address-family ipv6 unicast
  neighbor ::1 activate
 exit-address-family
exit
route-map HEALTHD-old-00000000 permit 10
 set metric 7
exit
EOF
}

# start_frr: bgpd alone (no zebra: -Z, no BGP listener: -p 0), in the foreground as a
# child of this script, with its vty socket under $FRR_DIR; waits until vtysh answers.
start_frr() {
	local i
	rm -f "$FRR_DIR/bgpd.vty"
	"$BGPD" -Z -S -p 0 -f "$FRR_DIR/bgpd.conf" -i "$FRR_DIR/bgpd.pid" \
		--vty_socket "$FRR_DIR" -z "$FRR_DIR/zserv.api" --log "file:$FRR_DIR/bgpd.log" \
		</dev/null >>"$T/bgpd.out" 2>&1 &
	FRR_PID=$!
	for ((i = 0; i < 50; i++)); do
		if [ -S "$FRR_DIR/bgpd.vty" ] && frr_vtysh -c 'show running-config' >/dev/null 2>&1; then
			return 0
		fi
		alive "$FRR_PID" || break
		sleep 0.1
	done
	return 1
}

kill_frr() {
	[ -n "$FRR_PID" ] && kill -KILL "$FRR_PID" 2>/dev/null
	wait "$FRR_PID" 2>/dev/null
	FRR_PID=""
}

frr_vtysh() { timeout 5 "$VTYSH" --vty_socket "$FRR_DIR" "$@"; }

# wait_sessions TIMEOUT_S: both BGP sessions bgpd -> BIRD are established.
wait_sessions() {
	local i n
	n=$(awk -v s="$1" 'BEGIN { printf "%d", s * 5 + 1 }')
	for ((i = 0; i < n; i++)); do
		[ "$(peer_birdc show protocols 2>/dev/null | grep -c Established)" -ge 2 ] && return 0
		sleep 0.2
	done
	return 1
}

# vtysh runs that changed FRR, counted by the wrapper healthd runs as its "vtysh".
changes() {
	grep -c 'configure terminal' "$T/vtysh.calls" 2>/dev/null || true
}

frr_diag() {
	it_tail 20 "$FRR_DIR/bgpd.log" "$T/bgpd.out" "$T/vtysh.calls"
}

WEB=198.51.100.80/32 WEB6=2001:db8:80::/48 FLIP=198.51.100.81/32 DEAD=198.51.100.82/32
NAMED=198.51.100.83/32
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

if "$VTYSH" -C -f "$IT_ROOT/examples/frr.conf" >"$T/example.err" 2>&1; then
	ok "FRR accepts examples/frr.conf (vtysh --dryrun)"
else
	not_ok "FRR accepts examples/frr.conf" "$(head -3 "$T/example.err")"
fi
write_frr
if ! { start_peer && start_frr; }; then
	not_ok "BIRD and bgpd start"
	frr_diag
	bird_lab_finish
	exit
fi
if wait_sessions 20; then ok "BGP sessions bgpd -> BIRD established (IPv4 and IPv6)"; else not_ok "BGP sessions established within 20s"; fi
if wait_peer_routes "$HAND $LEFT" 10; then ok "before healthd: BIRD has the hand-made $HAND and the leftover $LEFT"; else not_ok "before healthd: BIRD has $HAND and $LEFT" "peer has: $PEER_NOW"; fi

# healthd's "vtysh": the real one, each run's arguments on one line of vtysh.calls
cat >"$T/vtysh" <<EOF
#!/bin/sh
printf '%s\n' "\$*" >>"$T/vtysh.calls"
if [ -e "$T/vtysh.stall" ]; then echo \$\$ >>"$T/vtysh.stalled"; sleep 30; fi
exec $VTYSH "\$@"
EOF
chmod 755 "$T/vtysh"

svc() { # name prefixes-json port [extra]
	printf '{ "name": "%s", "prefixes": %s, %s "checks": [ { "type": "tcp", "host": "127.0.0.1", "port": %s } ] }' "$1" "$2" "${4:-}" "$3"
}
{
	printf '{\n"speaker": { "type": "frr", "vty_socket": "%s", "vtysh": "%s", "batch": "300ms", "reassert": "1s", "vtysh_timeout": "2s" },\n' "$FRR_DIR" "$T/vtysh"
	printf '"defaults": { "interval": "300ms", "fast_interval": "100ms", "timeout": "200ms", "rise": 2, "fall": 2 },\n'
	printf '"services": [\n'
	svc web "[ \"$WEB\", \"$WEB6\" ]" "$NGINX_PORT" '"announce": { "med": 100, "local_preference": 300, "communities": [ "65000:80", "65535:0" ], "large_communities": [ "65000:0:80" ], "extended_communities": [ "target:65000:80", "origin:65000:81" ], "as_path": [ 65100 ] },'
	printf ',\n'
	# well-known communities that keep it from eBGP: checked in FRR itself
	svc named "[ \"$NAMED\" ]" "$BULK_PORT" '"announce": { "communities": [ "no-export", "no-advertise", "no-export-subconfed", "no-peer", "blackhole", "65535:65281" ] },'
	printf ',\n'
	svc flip "[ \"$FLIP\" ]" "$FLIP_PORT" '"announce": { "med": 10 }, "on_down": { "med": 900, "communities": [ "65000:99" ] },'
	printf ',\n'
	svc dead "[ \"$DEAD\" ]" "$DEAD_PORT"
	for ((i = 0; i < NBULK; i++)); do
		printf ',\n'
		svc "bulk$i" "[ \"198.51.101.$i/32\" ]" "$BULK_PORT"
	done
	printf '\n]\n}\n'
} >"$T/healthd.json"
if "$HEALTHD" check -c "$T/healthd.json" >/dev/null 2>"$T/check.err"; then ok "the config is valid"; else not_ok "the config is valid" "$(head -5 "$T/check.err")"; fi

start_healthd "$T/healthd.json"
HEALTHY="$WEB $WEB6 $FLIP $BULK $HAND"

# (a) healthy routes reach BIRD with their attributes; the leftover is gone
if wait_peer_routes "$HEALTHY" 15; then
	ok "(a) BIRD has exactly the healthy services' $((NBULK + 3)) routes and $HAND, not $LEFT (${ELAPSED}s)"
else
	not_ok "(a) BIRD has exactly the healthy services' routes" "peer has: $PEER_NOW"
fi
all=$(peer_birdc show route all "$WEB" 2>&1)
if grep -q 'BGP.med: 100$' <<<"$all" && grep -q 'BGP.community:.*(65000,80)' <<<"$all" &&
	grep -q 'BGP.community:.*(65535,0)' <<<"$all" &&
	grep -q 'BGP.large_community:.*(65000, 0, 80)' <<<"$all" &&
	grep -q 'BGP.ext_community:.*(rt, 65000, 80)' <<<"$all" &&
	grep -q 'BGP.ext_community:.*(ro, 65000, 81)' <<<"$all" &&
	grep -q "BGP.as_path: $SPK_AS 65100\$" <<<"$all"; then
	ok "(a) $WEB arrives with MED 100, communities (65000,80) and (65535,0) (FRR's graceful-shutdown), large community (65000, 0, 80), extended (rt, 65000, 80) (ro, 65000, 81), AS path $SPK_AS 65100"
else
	not_ok "(a) $WEB carries its attributes" "$(tr '\n' '|' <<<"$all")"
fi
all6=$(peer_birdc show route all "$WEB6" 2>&1)
if grep -q 'BGP.med: 100$' <<<"$all6" && grep -q 'BGP.community:.*(65000,80)' <<<"$all6"; then
	ok "(a) $WEB6 arrives over IPv6 with MED 100 and (65000,80)"
else
	not_ok "(a) $WEB6 carries its attributes" "$(tr '\n' '|' <<<"$all6")"
fi
rc_lp=$(frr_vtysh -c "show bgp ipv4 unicast $WEB json" 2>/dev/null | grep -c '"locPrf":300')
if [ "$rc_lp" -ge 1 ]; then ok "(a) FRR holds $WEB with local preference 300"; else not_ok "(a) FRR holds $WEB with local preference 300" "$(frr_vtysh -c "show bgp ipv4 unicast $WEB json" 2>&1 | head -30 | tr '\n' ' ')"; fi
named=$(frr_vtysh -c "show bgp ipv4 unicast $NAMED json" 2>/dev/null | tr -d ' \n')
if grep -q '"community":{"string":"blackholeno-exportno-advertiselocal-ASno-peer"' <<<"$named"; then
	ok "(a) FRR holds $NAMED with the well-known communities, in FRR's spelling"
else
	not_ok "(a) FRR holds $NAMED with the well-known communities" "$(cut -c1-400 <<<"$named")"
fi
if frr_vtysh -c 'show running-config' | grep -q 'HEALTHD-old'; then
	not_ok "(a) the leftover route-map HEALTHD-old-00000000 was removed"
else
	ok "(a) the leftover route-map HEALTHD-old-00000000 was removed"
fi

if grep -q 'does not hold' "$T/healthd.err"; then
	not_ok "(a) every change was verified at the first read-back" "$(grep -m1 'does not hold' "$T/healthd.err")"
else
	ok "(a) every change was verified at the first read-back (no \"does not hold\" in the log)"
fi

# (b) the service fails: its routes leave BIRD; it recovers: they return
stop_nginx || not_ok "(b) nginx stopped"
if wait_peer_routes "$FLIP $BULK $HAND" 10; then
	ok "(b) $WEB and $WEB6 leave BIRD after nginx stops (${ELAPSED}s)"
else
	not_ok "(b) $WEB and $WEB6 leave BIRD" "peer has: $PEER_NOW"
fi
start_nginx || not_ok "(b) nginx restarted"
if wait_peer_routes "$HEALTHY" 10; then
	ok "(b) they return once nginx is back (${ELAPSED}s)"
else
	not_ok "(b) the routes return once nginx is back" "peer has: $PEER_NOW"
fi

# (b2) on_down with attributes: the route stays, with on_down's MED and community
flip_has() { peer_birdc show route all "$FLIP" 2>/dev/null | grep -q "$1"; }
stop_listener "$FLIP_PORT"
for ((i = 0; i < 50; i++)); do
	flip_has 'BGP.med: 900$' && break
	sleep 0.2
done
if flip_has 'BGP.med: 900$' && flip_has 'BGP.community:.*(65000,99)'; then
	ok "(b2) $FLIP down: still announced, with on_down's MED 900 and (65000,99)"
else
	not_ok "(b2) $FLIP down carries on_down's attributes" "$(peer_birdc show route all "$FLIP" 2>&1 | tr '\n' '|')"
fi
start_listener "$FLIP_PORT" || not_ok "(b2) flip listener restarted"
for ((i = 0; i < 50; i++)); do
	flip_has 'BGP.med: 10$' && break
	sleep 0.2
done
if flip_has 'BGP.med: 10$' && ! flip_has 'BGP.community'; then ok "(b2) $FLIP up: announce's MED 10 again"; else not_ok "(b2) $FLIP up: announce's MED 10 again" "$(peer_birdc show route all "$FLIP" 2>&1 | tr '\n' '|')"; fi

# (c) 20 services fail at once, and come back at once: a handful of vtysh runs each
sleep 0.5
before=$(changes)
stop_listener "$BULK_PORT"
if wait_peer_routes "$WEB $WEB6 $FLIP $HAND" 10; then
	ok "(c) all $NBULK bulk routes leave BIRD (${ELAPSED}s)"
else
	not_ok "(c) all $NBULK bulk routes leave BIRD" "peer has: $PEER_NOW"
fi
sleep 0.5
down=$(($(changes) - before))
if [ "$down" -ge 1 ] && [ "$down" -le 5 ]; then
	ok "(c) $NBULK services going down cost $down vtysh runs that change FRR (batch 300ms)"
else
	not_ok "(c) $NBULK services going down cost 1-5 vtysh runs that change FRR" "counted $down"
fi
before=$(changes)
start_listener "$BULK_PORT" || not_ok "(c) bulk listener restarted"
if wait_peer_routes "$HEALTHY" 10; then
	ok "(c) all $NBULK bulk routes return (${ELAPSED}s)"
else
	not_ok "(c) all $NBULK bulk routes return" "peer has: $PEER_NOW"
fi
sleep 0.5
up=$(($(changes) - before))
if [ "$up" -ge 1 ] && [ "$up" -le 5 ]; then
	ok "(c) $NBULK services coming up cost $up vtysh runs that change FRR"
else
	not_ok "(c) $NBULK services coming up cost 1-5 vtysh runs that change FRR" "counted $up"
fi

# (c2) someone removes healthd's statement by hand: the next re-assert puts it back.
# Proof that it was gone and healthd put it back: healthd writes the statement again
# (its vtysh runs that change FRR, in vtysh.calls), and FRR then has it. A re-assert may
# come before the first look at FRR, so not finding it missing there proves nothing.
flip_writes() {
	awk -v p="network $FLIP route-map" 'index($0, "configure terminal") && index($0, p) { n++ } END { print n + 0 }' \
		"$T/vtysh.calls" 2>/dev/null
}
w0=$(flip_writes)
frr_vtysh -c 'configure terminal' -c "router bgp $SPK_AS" -c 'address-family ipv4 unicast' \
	-c "no network $FLIP" -c end >/dev/null 2>&1
for ((i = 0; i < 50; i++)); do
	[ "$(flip_writes)" -gt "$w0" ] &&
		frr_vtysh -c 'show running-config' 2>/dev/null | grep -q "^  network $FLIP route-map HEALTHD-flip-" && break
	sleep 0.1
done
if [ "$i" -lt 50 ]; then
	ok "(c2) the statement for $FLIP removed by hand is written again by healthd and back in FRR ($((i / 10)).$((i % 10))s)"
else
	not_ok "(c2) the statement for $FLIP removed by hand is written again by healthd and back in FRR" \
		"healthd's writes of it: $w0 before the removal, $(flip_writes) now"
fi
if wait_peer_routes "$HEALTHY" 10; then ok "(c2) BIRD has $FLIP again"; else not_ok "(c2) BIRD has $FLIP again" "peer has: $PEER_NOW"; fi

# (c3) vtysh hangs: killed at vtysh_timeout (2s), logged, and the change goes through once
# vtysh works again
killed() { grep -c 'vtysh did not finish within 2000ms: killed' "$T/healthd.err" || true; }
before=$(killed)
touch "$T/vtysh.stall"
stop_listener "$FLIP_PORT"
for ((i = 0; i < 80; i++)); do
	[ "$(killed)" -gt "$before" ] && [ -s "$T/vtysh.stalled" ] && break
	sleep 0.1
done
if [ "$(killed)" -gt "$before" ] && [ -s "$T/vtysh.stalled" ]; then ok "(c3) a hanging vtysh is killed after vtysh_timeout and logged"; else not_ok "(c3) a hanging vtysh is killed after vtysh_timeout and logged" "kills logged: $before -> $(killed)"; fi
rm -f "$T/vtysh.stall"
# every stalled run (a retry may have stalled too) is killed with its group and reaped
for ((i = 0; i < 30; i++)); do
	stuck=""
	while read -r p; do alive "$p" && stuck="$stuck $p"; done <"$T/vtysh.stalled"
	[ -z "$stuck" ] && break
	sleep 0.1
done
n=$(wc -l <"$T/vtysh.stalled" 2>/dev/null || echo 0)
if [ "$n" -ge 1 ] && [ -z "$stuck" ]; then ok "(c3) the $n hanging vtysh run(s) are gone"; else not_ok "(c3) the hanging vtysh runs are gone" "stalled: $n, still there:$stuck"; fi
for ((i = 0; i < 50; i++)); do
	flip_has 'BGP.med: 900$' && break
	sleep 0.2
done
if flip_has 'BGP.med: 900$'; then ok "(c3) vtysh works again: $FLIP gets on_down's MED 900"; else not_ok "(c3) $FLIP gets on_down's MED 900 once vtysh works" "$(peer_birdc show route all "$FLIP" 2>&1 | tr '\n' '|')"; fi
start_listener "$FLIP_PORT" || not_ok "(c3) flip listener restarted"
for ((i = 0; i < 50; i++)); do
	flip_has 'BGP.med: 10$' && break
	sleep 0.2
done

# (d) bgpd is killed; while it is away a service fails; bgpd restarts from its file,
# which still has the leftover: BIRD gets exactly the healthy services again
kill_frr
if wait_peer_routes "" 10; then ok "(d) bgpd killed: BIRD lost the routes"; else not_ok "(d) BIRD lost the routes of the killed bgpd" "peer has: $PEER_NOW"; fi
stop_nginx || not_ok "(d) nginx stopped"
sleep 1.5 # fall 2 x 100ms: healthd notices while bgpd is away
if alive "$HEALTHD_PID"; then ok "(d) healthd keeps running while bgpd is away"; else not_ok "(d) healthd keeps running while bgpd is away"; fi
start_frr || not_ok "(d) bgpd restarted"
if wait_peer_routes "$FLIP $BULK $HAND" 20; then
	ok "(d) after the restart BIRD has exactly the healthy services (no $WEB, no $LEFT) and $HAND (${ELAPSED}s)"
else
	not_ok "(d) after the restart BIRD has exactly the healthy services" "peer has: $PEER_NOW"
fi
start_nginx || not_ok "(d) nginx restarted"
if wait_peer_routes "$HEALTHY" 10; then ok "(d) $WEB returns when its service does"; else not_ok "(d) $WEB returns" "peer has: $PEER_NOW"; fi
if grep -q 'healthd\[error\].*\(vtysh\|FRR\)' "$T/healthd.err"; then
	ok "(d) the failed reads while bgpd was away were logged: $(grep -m1 'healthd\[error\].*\(vtysh\|FRR\)' "$T/healthd.err" | sed 's/.*\] //' | cut -c1-100)"
else
	not_ok "(d) the failed reads while bgpd was away were logged"
fi

# (e) SIGTERM: every route of healthd's leaves BIRD; the hand-made one stays
if stop_healthd 5 && [ "$HEALTHD_RC" = 0 ]; then ok "(e) healthd exits 0 on SIGTERM"; else not_ok "(e) healthd exits 0 on SIGTERM" "status $HEALTHD_RC"; fi
if wait_peer_routes "$HAND" 5; then ok "(e) BIRD lost every route of healthd's and kept $HAND (${ELAPSED}s)"; else not_ok "(e) BIRD lost every route of healthd's" "peer has: $PEER_NOW"; fi
left=$(frr_vtysh -c 'show running-config' 2>&1 | grep -c HEALTHD)
if [ "$left" -eq 0 ]; then ok "(e) FRR's configuration has no HEALTHD- statement or route-map left"; else not_ok "(e) nothing of healthd's left in FRR" "$left lines name HEALTHD"; fi

# (f) bgpd stalls (SIGSTOP) under a running healthd: SIGTERM still ends healthd within
# the drain deadline (2s), with exit status 3: FRR never confirmed the withdrawals
start_healthd "$T/healthd.json"
if wait_peer_routes "$HEALTHY" 15; then ok "(f) healthd started again: the healthy services are back (${ELAPSED}s)"; else not_ok "(f) healthd started again: the healthy services are back" "peer has: $PEER_NOW"; fi
kill -STOP "$FRR_PID"
t0=$(now)
stop_healthd 6
took=$(since "$t0")
kill -CONT "$FRR_PID"
if [ "$HEALTHD_RC" = 3 ] && le "$took" 4; then
	ok "(f) SIGTERM with bgpd stalled: healthd exits 3 after ${took}s"
else
	not_ok "(f) SIGTERM with bgpd stalled: healthd exits 3 within 4s" "status $HEALTHD_RC after ${took}s"
fi
if grep -q 'FRR was not confirmed free of healthd' "$T/healthd.err"; then ok "(f) it says FRR was not confirmed clean"; else not_ok "(f) it says FRR was not confirmed clean"; fi

if [ "$FAIL" -ne 0 ]; then frr_diag; fi
bird_lab_finish
