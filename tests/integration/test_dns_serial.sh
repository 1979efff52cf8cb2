#!/usr/bin/env bash
# dns-serial against a real primary and a real secondary Knot DNS on loopback: fresh
# while the secondary follows; transfers stopped (zone-freeze) and the primary's serial
# raised -> behind, then stale after max_lag_time, and the route withdrawn; transfers
# back (zone-thaw) -> fresh and announced again. The primary answers queries only from
# the unique source addresses (mod-queryacl), so the same check without the source hears
# no primary, and fails after max_silence. A second pair of primaries: the fake responder
# at serial 3 on a lossy path (it answers every other query) and the real primary: the
# secondary is behind serial 3 all along, and a run the lossy one misses does not restart
# the lag clock.
#
#   HEALTHD=/abs/path/healthd bash tests/integration/test_dns_serial.sh
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=lib_dns.sh
. "$(dirname "$0")/lib_dns.sh"

it_init
dns_init
it_need_healthd

SRC=127.0.0.7  # healthd's unique source address
XFR=127.0.0.8  # the secondary's own source for refresh and transfers
MAX_LAG_S=2
PP=$(free_port) # primary
SP=$(free_port) # secondary
FP=$(free_port) # the fake primary at serial 3 that answers every other query
ZONE=example.test

pd=$(knot_dir primary)
mkdir -p "$pd" "$(knot_dir secondary)"
dns_zone $ZONE 1 >"$pd/$ZONE.zone"
knot_conf primary 127.0.0.1 "$PP" primary <<EOF
remote:
  - id: secondary
    address: 127.0.0.1@$SP
acl:
  - id: transfer
    address: [ $XFR ]
    action: transfer
mod-queryacl:
  - id: unique-sources
    address: [ $SRC, $XFR ]
zone:
  - domain: $ZONE
    notify: secondary
    acl: transfer
    module: mod-queryacl/unique-sources
EOF
knot_conf secondary 127.0.0.1 "$SP" secondary <<EOF
remote:
  - id: primary
    address: 127.0.0.1@$PP
    via: $XFR
acl:
  - id: notify
    address: [ 127.0.0.0/8 ]
    action: notify
zone:
  - domain: $ZONE
    master: primary
    acl: notify
EOF
if knot_start primary && knot_start secondary && wait_serial 127.0.0.1 "$SP" $ZONE 1 10; then
	ok "the secondary transferred serial 1 from the primary"
else
	not_ok "the secondary transferred serial 1 from the primary" "$(tail -n 5 "$(knot_dir secondary)/knotd.log")"
	it_finish
	exit
fi

fake_start 127.0.0.1 "$FP" flaky-soa 3 || not_ok "fake primary (flaky-soa) starts"

cat >"$T/healthd.json" <<EOF
{
	"speaker": { "type": "exabgp" },
	"defaults": { "interval": "500ms", "fast_interval": "250ms", "timeout": "200ms", "rise": 1, "fall": 1 },
	"services": [
		{
			"name": "fresh", "prefixes": [ "203.0.113.53/32" ],
			"source": { "ipv4": "$SRC" },
			"checks": [ { "type": "dns-serial", "zone": "$ZONE", "server": "127.0.0.1@$SP",
			              "primaries": [ "127.0.0.1@$PP" ], "max_lag_time": "${MAX_LAG_S}s" } ]
		},
		{
			"name": "no-source", "prefixes": [ "203.0.113.54/32" ],
			"checks": [ { "type": "dns-serial", "zone": "$ZONE", "server": "127.0.0.1@$SP",
			              "primaries": [ "127.0.0.1@$PP" ], "max_silence": "1s" } ]
		},
		{
			"name": "flaky", "prefixes": [ "203.0.113.55/32" ],
			"source": { "ipv4": "$SRC" },
			"checks": [ { "type": "dns-serial", "zone": "$ZONE", "server": "127.0.0.1@$SP",
			              "primaries": [ "127.0.0.1@$FP", "127.0.0.1@$PP" ],
			              "max_lag_time": "${MAX_LAG_S}s" } ]
		}
	]
}
EOF
hd_start "$T/healthd.json"
note "primary 127.0.0.1@$PP (queries from $SRC and $XFR only), secondary 127.0.0.1@$SP (refresh from $XFR)"

expect_code "secondary in step with the primary" fresh ok 5 "local serial 1 at 127.0.0.1:$SP from $SRC; 1 of 1 primaries answered"
expect_code "without the source the primary refuses; silent after max_silence 1s" no-source primaries-silent 6 "none of 1 primaries answered"
if grep -F "engine_check_done: no-source: " "$T/healthd.err" | grep -q "ok (ok).*0 of 1 primaries answered"; then
	ok "... and passed until max_silence had passed"
else
	not_ok "... and passed until max_silence had passed"
fi
expect_code "behind the lossy primary's serial 3: stale after max_lag_time although it misses every other run" \
	flaky stale-serial $((MAX_LAG_S + 4)) "local serial 1 behind primary serial 3 (127.0.0.1@$FP"
if grep -F "engine_check_done: flaky: " "$T/healthd.err" |
	grep -q "ok (ok) local serial 1 behind 3 (127.0.0.1@$FP, last heard [0-9.]*s ago) .*1 of 2 primaries answered"; then
	ok "... and a run the lossy primary missed still counted its last serial"
else
	not_ok "... and a run the lossy primary missed still counted its last serial" \
		"$(grep -F "engine_check_done: flaky: " "$T/healthd.err" | head -n 6)"
fi

# Stop transfers on the secondary, then raise the primary's serial.
if knotc_ secondary zone-freeze $ZONE >/dev/null; then ok "knotc zone-freeze on the secondary"; else not_ok "knotc zone-freeze on the secondary"; fi
dns_zone $ZONE 2 >"$pd/$ZONE.zone"
knotc_ primary zone-reload $ZONE >/dev/null
t0=$(now)
for ((i = 0; i < 25; i++)); do
	[ "$(soa_serial 127.0.0.1 "$PP" $ZONE $SRC)" = 2 ] && break
	sleep 0.2
done
if [ "$(soa_serial 127.0.0.1 "$PP" $ZONE $SRC)" = 2 ]; then ok "the primary serves serial 2"; else not_ok "the primary serves serial 2"; fi
sleep 1
if [ "$(soa_serial 127.0.0.1 "$SP" $ZONE)" = 1 ]; then ok "the frozen secondary still serves serial 1"; else not_ok "the frozen secondary still serves serial 1"; fi

c=$(hd_count fresh)
if wait_code fresh ok 3 "$c" && [[ $(hd_last fresh) == *"local serial 1 behind 2"* ]]; then
	ok "behind but within max_lag_time: still ok ($(hd_last fresh | cut -c4-70))"
else
	not_ok "behind but within max_lag_time: still ok" "last: $(hd_last fresh)"
fi
if wait_code fresh stale-serial $((MAX_LAG_S + 4)); then
	took=$(since "$t0")
	ok "stale-serial once max_lag_time ${MAX_LAG_S}s has passed (${took}s after the primary's change)"
	if le "$MAX_LAG_S" "$took"; then ok "... not before ${MAX_LAG_S}s"; else not_ok "... not before ${MAX_LAG_S}s" "after ${took}s"; fi
	last=$(hd_last fresh)
	if [[ $last == *"local serial 1 behind primary serial 2 (127.0.0.1@$PP)"* && $last == *"max_lag_time 2.0s"* ]]; then
		ok "the reason names the limit and both serials"
	else
		not_ok "the reason names the limit and both serials" "$last"
	fi
else
	not_ok "stale-serial within $((MAX_LAG_S + 4))s" "last: $(hd_last fresh)"
fi
sleep 0.3
if [ "$(hd_route 203.0.113.53/32)" = withdraw ]; then ok "stale: the route is withdrawn"; else not_ok "stale: the route is withdrawn"; fi

# Transfers back: the secondary catches up, the check recovers.
knotc_ secondary zone-thaw $ZONE >/dev/null
knotc_ secondary zone-refresh $ZONE >/dev/null
if wait_serial 127.0.0.1 "$SP" $ZONE 2 10; then ok "after zone-thaw the secondary transfers serial 2"; else not_ok "after zone-thaw the secondary transfers serial 2"; fi
c=$(hd_count fresh)
if wait_code fresh ok 3 "$c"; then ok "fresh again ($(hd_last fresh | cut -c4-60))"; else not_ok "fresh again" "last: $(hd_last fresh)"; fi
sleep 0.3
if [ "$(hd_route 203.0.113.53/32)" = announce ]; then ok "fresh: the route is announced again"; else not_ok "fresh: the route is announced again"; fi

hd_stop
it_finish
