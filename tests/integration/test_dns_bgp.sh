#!/usr/bin/env bash
# The core end-to-end lab with a dns check: a real ExaBGP spawns healthd and peers with
# a real BIRD; a real Knot DNS is the service, probed from the unique source address
# with its NSID checked. Stop Knot: the route leaves BIRD's table. Start it: it returns.
#
#   HEALTHD=/abs/path/healthd bash tests/integration/test_dns_bgp.sh
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=lib_dns.sh
. "$(dirname "$0")/lib_dns.sh"

it_init
dns_init
it_need exabgp bird birdc
it_need_healthd

INTERVAL=1s FAST=200ms TIMEOUT=500ms RISE=2 FALL=2
interval_s=$(dur_s $INTERVAL)
fast_s=$(dur_s $FAST)
timeout_s=$(dur_s $TIMEOUT)
# As in test_exabgp_bird.sh: FALL failures at the fast interval, one timeout, 2 s for
# the first failing regular check and ExaBGP -> BIRD.
DOWN_BOUND=$(awk -v f="$FALL" -v fi="$fast_s" -v t="$timeout_s" 'BEGIN { printf "%.3f", f * fi + t + 2 }')
UP_BOUND=$(awk -v r="$RISE" -v i="$interval_s" -v fi="$fast_s" -v t="$timeout_s" 'BEGIN { printf "%.3f", i + r * (fi + t) + 3 }')

SRC=127.0.0.7
ANYCAST=203.0.113.53/32
KP=$(free_port)

d=$(knot_dir k1)
mkdir -p "$d"
dns_zone example.test 1 >"$d/example.test.zone"
knot_conf k1 "$SERVICE_ADDR" "$KP" node1 <<EOF
mod-queryacl:
  - id: only-source
    address: [ $SRC ]
zone:
  - domain: example.test
    module: mod-queryacl/only-source
EOF
if ! knot_start k1; then
	not_ok "Knot starts"
	it_finish
	exit
fi
start_bird || {
	not_ok "BIRD starts"
	it_finish
	exit
}

cat >"$T/healthd.json" <<EOF
{
	"speaker": { "type": "exabgp" },
	"source": { "ipv4": "$SRC" },
	"defaults": { "interval": "$INTERVAL", "fast_interval": "$FAST", "timeout": "$TIMEOUT",
	              "rise": $RISE, "fall": $FALL },
	"services": [
		{
			"name": "dns",
			"prefixes": [ "$ANYCAST" ],
			"announce": { "next_hop": "self", "med": 100, "communities": [ "65000:53" ] },
			"checks": [ { "type": "dns", "server": "$SERVICE_ADDR@$KP", "name": "www.example.test",
			              "qtype": "A", "expect": [ "192.0.2.1" ], "expect_identity": "node1" } ]
		}
	]
}
EOF
note "Knot $SERVICE_ADDR@$KP answers $SRC only; bounds: down ${DOWN_BOUND}s, up ${UP_BOUND}s"

start_exabgp "$HEALTHD run -c $T/healthd.json"
if find_helper 10; then ok "ExaBGP spawned healthd (pid $HEALTHD_PID)"; else not_ok "ExaBGP spawned healthd within 10s"; fi
if wait_established 20; then ok "BGP session ExaBGP -> BIRD established"; else not_ok "BGP session established within 20s"; fi
if wait_route_present "$ANYCAST" 15; then
	ok "Knot answers: $ANYCAST in BIRD (${ELAPSED}s)"
else
	not_ok "$ANYCAST in BIRD within 15s" "$(grep -F 'service dns' "$T/exabgp.out" | tail -n 3)"
fi
if birdc_ show route all "$ANYCAST" 2>&1 | grep -q 'BGP.community:.*(65000,53)'; then ok "with community (65000,53)"; else not_ok "BIRD shows community (65000,53)"; fi

knot_stop k1
if wait_route_absent "$ANYCAST" "$(awk -v b="$DOWN_BOUND" 'BEGIN { print b + 8 }')"; then
	ok "Knot stopped: $ANYCAST left BIRD's table (${ELAPSED}s)"
	if le "$ELAPSED" "$DOWN_BOUND"; then ok "... within ${DOWN_BOUND}s"; else not_ok "... within ${DOWN_BOUND}s" "took ${ELAPSED}s"; fi
else
	not_ok "Knot stopped: $ANYCAST left BIRD's table" "still present after ${ELAPSED}s"
fi
if grep -q "service dns: UP -> FALLING (dns .*: refused" "$T/exabgp.out"; then
	ok "healthd logged why: refused"
else
	not_ok "healthd logged why: refused" "$(grep -F 'service dns' "$T/exabgp.out" | tail -n 2)"
fi

knot_start k1 || not_ok "Knot restarts"
if wait_route_present "$ANYCAST" "$UP_BOUND"; then
	ok "Knot back: $ANYCAST in BIRD again (${ELAPSED}s)"
else
	not_ok "Knot back: $ANYCAST in BIRD within ${UP_BOUND}s"
fi

bad=$(grep -E 'not understood|could not parse|reason:' "$T/exabgp.log" 2>/dev/null | head -n 5)
if [ -z "$bad" ]; then ok "ExaBGP understood every command healthd sent"; else not_ok "ExaBGP understood every command healthd sent" "$bad"; fi

it_finish
