#!/usr/bin/env bash
# dns-axfr against a real Knot DNS whose transfer ACL allows only the node's unique
# source address: from the source the transfer is complete and counted; without it Knot
# refuses (NOTAUTH); too few records or too many bytes fail; a stopped server fails.
#
#   HEALTHD=/abs/path/healthd bash tests/integration/test_dns_axfr.sh
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=lib_dns.sh
. "$(dirname "$0")/lib_dns.sh"

it_init
dns_init
it_need_healthd

SRC=127.0.0.7
KP=$(free_port)
K=127.0.0.1@$KP
ZONE=example.test
RECORDS=46 # dns_zone: SOA, NS, 2 A, AAAA, 40 TXT, and the closing SOA

d=$(knot_dir k1)
mkdir -p "$d"
dns_zone $ZONE 7 >"$d/$ZONE.zone"
knot_conf k1 127.0.0.1 "$KP" node1 <<EOF
acl:
  - id: transfer-from-source
    address: [ $SRC ]
    action: transfer
zone:
  - domain: $ZONE
    acl: transfer-from-source
EOF
if ! knot_start k1 || ! wait_serial 127.0.0.1 "$KP" $ZONE 7 5; then
	not_ok "Knot serves $ZONE on $K"
	it_finish
	exit
fi
# The ACL as kdig sees it.
n_src=$(timeout 5 kdig "@127.0.0.1" -p "$KP" -b $SRC +noall +answer $ZONE AXFR 2>/dev/null | grep -c .)
n_any=$(timeout 5 kdig "@127.0.0.1" -p "$KP" +noall +answer $ZONE AXFR 2>/dev/null | grep -c .)
if [ "$n_src" = "$RECORDS" ] && [ "$n_any" = 0 ]; then
	ok "kdig: AXFR allowed from $SRC ($n_src records), refused from elsewhere"
else
	not_ok "kdig: AXFR allowed from $SRC only" "from $SRC: $n_src records, from 127.0.0.1: $n_any"
fi

check_json() { # check_json EXTRA
	printf '{ "type": "dns-axfr", "zone": "%s", "server": "%s"%s }' "$ZONE" "$K" "$1"
}
cat >"$T/healthd.json" <<EOF
{
	"speaker": { "type": "exabgp" },
	"defaults": { "interval": "1s", "fast_interval": "500ms", "timeout": "800ms", "rise": 1, "fall": 1 },
	"source": { "ipv4": "$SRC" },
	"services": [
		{ "name": "allowed", "prefixes": [ "203.0.113.1/32" ],
		  "checks": [ $(check_json ", \"min_records\": $RECORDS") ] },
		{ "name": "refused", "prefixes": [ "203.0.113.2/32" ], "source": { "ipv4": "127.0.0.1" },
		  "checks": [ $(check_json "") ] },
		{ "name": "too-few", "prefixes": [ "203.0.113.3/32" ],
		  "checks": [ $(check_json ", \"min_records\": $((RECORDS + 1))") ] },
		{ "name": "too-big", "prefixes": [ "203.0.113.4/32" ],
		  "checks": [ $(check_json ", \"max_bytes\": 1024") ] },
		{ "name": "wrong-zone", "prefixes": [ "203.0.113.5/32" ],
		  "checks": [ { "type": "dns-axfr", "zone": "other.test", "server": "$K" } ] }
	]
}
EOF
hd_start "$T/healthd.json"

expect_code "AXFR from the unique source $SRC" allowed ok 6 "AXFR of $ZONE. from 127.0.0.1:$KP from $SRC: serial 7, $RECORDS records"
expect_code "AXFR from another address: Knot refuses" refused transfer 6 "refused with rcode NOTAUTH"
expect_code "fewer records than min_records" too-few transfer 6 "$RECORDS records, expected at least $((RECORDS + 1))"
expect_code "more bytes than max_bytes" too-big transfer 6 "more than max_bytes 1024"
expect_code "a zone the server does not have" wrong-zone transfer 6 "refused with rcode"
sleep 0.3
if [ "$(hd_route 203.0.113.1/32)" = announce ] && [ "$(hd_route 203.0.113.2/32)" = withdraw ]; then
	ok "stdout: the allowed transfer's service announced, the refused one not"
else
	not_ok "stdout: the allowed transfer's service announced, the refused one not"
fi

knot_stop k1
c=$(hd_count allowed)
if wait_code allowed refused 4 "$c"; then ok "Knot stopped: refused"; else not_ok "Knot stopped: refused" "last: $(hd_last allowed)"; fi

hd_stop
it_finish
