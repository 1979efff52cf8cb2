#!/usr/bin/env bash
# The lab itself, without healthd: a stand-in helper announces one route through a
# real ExaBGP to a real BIRD. Proves the peering, the assertions on BIRD's table, and
# the ExaBGP behaviour that test_exabgp_bird.sh's SIGTERM scenario relies on: a
# helper that dies WITHOUT withdrawing leaves its routes announced.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

it_init
it_need exabgp bird birdc

PREFIX=203.0.113.99/32
cat >"$T/standin.sh" <<EOF
#!/bin/bash
# Announces one route, then reads ExaBGP's acks until shutdown or EOF.
echo "announce route $PREFIX next-hop self med 100 community [ 65000:99 ]"
while read -r line; do
	case \$line in shutdown*) exit 0 ;; esac
done
EOF
chmod +x "$T/standin.sh"

start_bird || {
	not_ok "BIRD starts"
	it_finish
	exit
}
start_exabgp "$T/standin.sh"

if wait_established 20; then ok "ExaBGP and BIRD establish a BGP session (${ELAPSED}s)"; else not_ok "BGP session established within 20s"; fi
if wait_route_present "$PREFIX" 10; then ok "the stand-in's route is in BIRD (${ELAPSED}s)"; else not_ok "route $PREFIX in BIRD within 10s"; fi

all=$(birdc_ show route all "$PREFIX" 2>&1)
if grep -q 'BGP.med: 100' <<<"$all" && grep -q 'BGP.community: (65000,99)' <<<"$all"; then
	ok "BIRD shows the MED and community the helper sent"
else
	not_ok "BIRD shows MED 100 and community (65000,99)" "$(printf '%s' "$all" | tr '\n' '|')"
fi

if find_helper 5; then ok "the helper is a child of ExaBGP (pid $HEALTHD_PID)"; else not_ok "helper found as child of ExaBGP"; fi
kill -KILL "$HEALTHD_PID" 2>/dev/null
if wait_gone "$HEALTHD_PID" 5; then ok "the helper died"; else not_ok "helper died after SIGKILL"; fi
if stays_present "$PREFIX" 3; then
	ok "ExaBGP keeps a dead helper's route (a helper must withdraw by itself)"
else
	not_ok "route stays in BIRD after its helper died without withdrawing"
fi
sleep 1
if [ -z "$(pgrep -P "$EXABGP_PID")" ]; then ok "ExaBGP did not respawn the helper (respawn false)"; else not_ok "helper not respawned" "children: $(pgrep -P "$EXABGP_PID" | tr '\n' ' ')"; fi

t0=$(now)
stop_exabgp 5
if wait_route_absent "$PREFIX" 5; then ok "stopping ExaBGP removes the route from BIRD ($(since "$t0")s)"; else not_ok "route gone after ExaBGP stopped"; fi

it_finish
