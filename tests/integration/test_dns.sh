#!/usr/bin/env bash
# The dns probe against a real Knot DNS on loopback, and against a fake responder that
# sends spoofed and malformed replies: what an operator reads in healthd's log for each
# case (the result code and its detail), and what healthd tells the BGP speaker.
#
#   pass, SOA serial floor, wrong rcode, no AA, missing record, NSID / hostname.bind /
#   id.server identity right and wrong, TCP, truncated-then-TCP, IPv6, the source address
#   proven by Knot's query ACL (mod-queryacl) and by the fake's log, bad replies ignored
#   (then the good one taken, or a timeout), server stopped (refused) and paused
#   (timeout), and back.
#
#   HEALTHD=/abs/path/healthd BUILD=/abs/build bash tests/integration/test_dns.sh
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=lib_dns.sh
. "$(dirname "$0")/lib_dns.sh"

it_init
dns_init
it_need_healthd

SRC=127.0.0.7 # the node's unique source address in this lab
KP=$(free_port)
FAKE_GOOD=$(free_port)
FAKE_BAD=$(free_port)
K=127.0.0.1@$KP
RESULT_S=8 # first result of every check: first run (jitter <= interval) + timeout

d=$(knot_dir k1)
mkdir -p "$d"
dns_zone example.test 1 >"$d/example.test.zone"
dns_zone acl.test 1 >"$d/acl.test.zone"
knot_conf k1 "127.0.0.1 ::1" "$KP" node1 <<EOF
mod-queryacl:
  - id: only-source
    address: [ $SRC ]
zone:
  - domain: example.test
  - domain: acl.test
    module: mod-queryacl/only-source
EOF
if ! knot_start k1 || ! wait_serial 127.0.0.1 "$KP" example.test 1 5; then
	not_ok "Knot serves example.test on 127.0.0.1@$KP"
	it_finish
	exit
fi
ok "Knot serves example.test on $K"
# What an operator would see with kdig: the ACL answers only the unique address.
if [ -z "$(soa_serial 127.0.0.1 "$KP" acl.test)" ] && [ "$(soa_serial 127.0.0.1 "$KP" acl.test "$SRC")" = 1 ]; then
	ok "kdig: acl.test answers $SRC only"
else
	not_ok "kdig: acl.test answers $SRC only"
fi
fake_start 127.0.0.1 "$FAKE_GOOD" good || not_ok "fake responder (good) starts"
fake_start 127.0.0.1 "$FAKE_BAD" bad || not_ok "fake responder (bad) starts"

# One service per case, prefix 203.0.113.N/32 for the N-th; each check's result is read
# from the debug log.
cat >"$T/healthd.json" <<EOF
{
	"speaker": { "type": "exabgp" },
	"defaults": { "interval": "1s", "fast_interval": "500ms", "timeout": "400ms", "rise": 1, "fall": 1 },
	"services": [
		{ "name": "pass", "prefixes": [ "203.0.113.1/32" ],
		  "checks": [ { "type": "dns", "server": "$K", "name": "www.example.test", "qtype": "A", "expect": [ "192.0.2.1" ], "min_answers": 1 } ] },
		{ "name": "soa", "prefixes": [ "203.0.113.2/32" ],
		  "checks": [ { "type": "dns", "server": "$K", "name": "example.test", "expect": [ "1" ] } ] },
		{ "name": "soa-floor", "prefixes": [ "203.0.113.3/32" ],
		  "checks": [ { "type": "dns", "server": "$K", "name": "example.test", "expect": [ "2" ] } ] },
		{ "name": "nxdomain", "prefixes": [ "203.0.113.4/32" ],
		  "checks": [ { "type": "dns", "server": "$K", "name": "missing.example.test", "qtype": "A" } ] },
		{ "name": "nxdomain-expected", "prefixes": [ "203.0.113.5/32" ],
		  "checks": [ { "type": "dns", "server": "$K", "name": "missing.example.test", "qtype": "A", "rcode": "NXDOMAIN" } ] },
		{ "name": "no-aa", "prefixes": [ "203.0.113.6/32" ],
		  "checks": [ { "type": "dns", "server": "$K", "name": "www.other.test", "qtype": "A", "rcode": "REFUSED" } ] },
		{ "name": "missing", "prefixes": [ "203.0.113.7/32" ],
		  "checks": [ { "type": "dns", "server": "$K", "name": "www.example.test", "qtype": "A", "expect": [ "192.0.2.99" ] } ] },
		{ "name": "nsid", "prefixes": [ "203.0.113.8/32" ],
		  "checks": [ { "type": "dns", "server": "$K", "name": "example.test", "expect_identity": "node1" } ] },
		{ "name": "nsid-wrong", "prefixes": [ "203.0.113.9/32" ],
		  "checks": [ { "type": "dns", "server": "$K", "name": "example.test", "expect_identity": "node2" } ] },
		{ "name": "hostname", "prefixes": [ "203.0.113.10/32" ],
		  "checks": [ { "type": "dns", "server": "$K", "name": "example.test", "expect_identity": "node1", "identity_method": "hostname.bind" } ] },
		{ "name": "hostname-wrong", "prefixes": [ "203.0.113.11/32" ],
		  "checks": [ { "type": "dns", "server": "$K", "name": "example.test", "expect_identity": "node9", "identity_method": "hostname.bind" } ] },
		{ "name": "id-server", "prefixes": [ "203.0.113.12/32" ],
		  "checks": [ { "type": "dns", "server": "$K", "name": "example.test", "expect_identity": "node1", "identity_method": "id.server" } ] },
		{ "name": "tcp", "prefixes": [ "203.0.113.13/32" ],
		  "checks": [ { "type": "dns", "server": "$K", "name": "www.example.test", "qtype": "AAAA", "transport": "tcp", "expect": [ "2001:db8::1" ] } ] },
		{ "name": "truncated", "prefixes": [ "203.0.113.14/32" ],
		  "checks": [ { "type": "dns", "server": "$K", "name": "big.example.test", "qtype": "TXT", "min_answers": 40 } ] },
		{ "name": "acl-source", "prefixes": [ "203.0.113.15/32" ], "source": { "ipv4": "$SRC" },
		  "checks": [ { "type": "dns", "server": "$K", "name": "acl.test" } ] },
		{ "name": "acl-no-source", "prefixes": [ "203.0.113.16/32" ],
		  "checks": [ { "type": "dns", "server": "$K", "name": "acl.test" } ] },
		{ "name": "fake-good", "prefixes": [ "203.0.113.17/32" ], "source": { "ipv4": "$SRC" },
		  "checks": [ { "type": "dns", "server": "127.0.0.1@$FAKE_GOOD", "name": "www.example.test", "qtype": "A", "expect": [ "192.0.2.1" ] } ] },
		{ "name": "fake-bad", "prefixes": [ "203.0.113.18/32" ],
		  "checks": [ { "type": "dns", "server": "127.0.0.1@$FAKE_BAD", "name": "www.example.test", "qtype": "A" } ] },
		{ "name": "ipv6", "prefixes": [ "203.0.113.19/32" ], "source": { "ipv4": "$SRC", "ipv6": "::1" },
		  "checks": [ { "type": "dns", "server": "::1@$KP", "name": "www.example.test", "qtype": "AAAA", "expect": [ "2001:db8::1" ], "expect_identity": "node1" } ] }
	]
}
EOF

if "$HEALTHD" check -c "$T/healthd.json" >/dev/null 2>"$T/check.err"; then
	ok "healthd check accepts the dns checks"
else
	not_ok "healthd check accepts the dns checks" "$(head -n 5 "$T/check.err")"
fi
hd_start "$T/healthd.json"
note "Knot k1 on $K (identity node1), fake responders on :$FAKE_GOOD (good) and :$FAKE_BAD (bad)"

expect_code "pass: www A 192.0.2.1 from Knot" pass ok "$RESULT_S" "1 A from 127.0.0.1:$KP"
expect_code "SOA serial at the floor 1" soa ok "$RESULT_S"
expect_code "SOA serial below the floor 2" soa-floor bad-answer "$RESULT_S" "older than the floor 2"
expect_code "missing name: NXDOMAIN when NOERROR is expected" nxdomain bad-rcode "$RESULT_S" "rcode NXDOMAIN, expected NOERROR"
expect_code "missing name with rcode NXDOMAIN expected" nxdomain-expected ok "$RESULT_S"
expect_code "a name outside the zone: no AA" no-aa bad-flags "$RESULT_S" "AA bit clear"
expect_code "expected record missing" missing bad-answer "$RESULT_S" "no A 192.0.2.99 in the answer (1 A: 192.0.2.1)"
expect_code "NSID identity right" nsid ok "$RESULT_S" 'identity "node1"'
expect_code "NSID identity wrong" nsid-wrong bad-identity "$RESULT_S" 'nsid "node1", expected "node2"'
expect_code "hostname.bind identity right" hostname ok "$RESULT_S" 'identity "node1"'
expect_code "hostname.bind identity wrong" hostname-wrong bad-identity "$RESULT_S" 'hostname.bind "node1", expected "node9"'
expect_code "id.server identity right" id-server ok "$RESULT_S"
expect_code "transport tcp" tcp ok "$RESULT_S" "over tcp from"
expect_code "big RRset: truncated over UDP, whole over TCP" truncated ok "$RESULT_S" "40 TXT from 127.0.0.1:$KP over udp, truncated, then tcp"
expect_code "source $SRC: Knot's query ACL answers" acl-source ok "$RESULT_S" "from $SRC"
expect_code "no source: Knot's query ACL refuses" acl-no-source bad-rcode "$RESULT_S" "rcode NOTAUTH"
expect_code "fake: bad replies ignored, good one taken" fake-good ok "$RESULT_S" "4 bad replies ignored"
expect_code "fake: only bad replies -> timeout" fake-bad timeout "$RESULT_S" "ignored (last:"
expect_code "IPv6: Knot on ::1, source ::1 for the IPv6 target" ipv6 ok "$RESULT_S" "1 AAAA from [::1]:$KP over udp from ::1"
if grep -q "query from $SRC" "$T/fake-$FAKE_GOOD.err" && ! grep -v "query from $SRC" "$T/fake-$FAKE_GOOD.err" | grep -q "query from"; then
	ok "the fake responder saw every query come from $SRC"
else
	not_ok "the fake responder saw every query come from $SRC" "$(sort "$T/fake-$FAKE_GOOD.err" | uniq -c | head -n 3)"
fi
# What the speaker was told: announced exactly the passing services.
sleep 0.5
bad_route=""
for s in 1 2 5 8 10 12 13 14 15 17 19; do
	[ "$(hd_route "203.0.113.$s/32")" = announce ] || bad_route="$bad_route 203.0.113.$s(not announced)"
done
for s in 3 4 6 7 9 11 16 18; do
	[ "$(hd_route "203.0.113.$s/32")" = announce ] && bad_route="$bad_route 203.0.113.$s(announced)"
done
if [ -z "${bad_route:-}" ]; then ok "stdout: the passing services announced, the failing ones not"; else not_ok "stdout: announce exactly the passing services" "$bad_route"; fi

# The server goes away: refused at once (ICMP port unreachable for UDP, RST for TCP).
knot_stop k1
c_pass=$(hd_count pass) c_tcp=$(hd_count tcp)
if wait_code pass refused 4 "$c_pass"; then ok "Knot stopped: udp check refused ($(hd_last pass | cut -c1-90))"; else not_ok "Knot stopped: udp check refused" "last: $(hd_last pass)"; fi
if wait_code tcp refused 4 "$c_tcp"; then ok "Knot stopped: tcp check refused"; else not_ok "Knot stopped: tcp check refused" "last: $(hd_last tcp)"; fi
sleep 0.2
if [ "$(hd_route 203.0.113.1/32)" = withdraw ]; then ok "Knot stopped: the route is withdrawn"; else not_ok "Knot stopped: the route is withdrawn"; fi

knot_start k1 || not_ok "Knot restarts"
c_pass=$(hd_count pass)
if wait_code pass ok 5 "$c_pass"; then ok "Knot back: the check passes again (${ELAPSED}s)"; else not_ok "Knot back: the check passes again" "last: $(hd_last pass)"; fi
sleep 0.2
if [ "$(hd_route 203.0.113.1/32)" = announce ]; then ok "Knot back: the route is announced again"; else not_ok "Knot back: the route is announced again"; fi

# The server hangs (SIGSTOP): nothing answers, the sockets stay open: timeouts.
knot_pause k1
c_pass=$(hd_count pass) c_tcp=$(hd_count tcp)
if wait_code pass timeout 4 "$c_pass"; then ok "Knot paused: udp check times out ($(hd_last pass | cut -c1-80))"; else not_ok "Knot paused: udp check times out" "last: $(hd_last pass)"; fi
if wait_code tcp timeout 4 "$c_tcp"; then ok "Knot paused: tcp check times out"; else not_ok "Knot paused: tcp check times out" "last: $(hd_last tcp)"; fi
knot_resume k1
c_pass=$(hd_count pass)
if wait_code pass ok 5 "$c_pass"; then ok "Knot resumed: the check passes again"; else not_ok "Knot resumed: the check passes again" "last: $(hd_last pass)"; fi

hd_stop
bad=$(grep -Ev '^(announce|withdraw) route ' "$T/healthd.out" | head -n 3)
if [ -z "$bad" ]; then ok "stdout holds only ExaBGP commands"; else not_ok "stdout holds only ExaBGP commands" "$bad"; fi
if grep -qiE 'sanitizer|runtime error' "$T/healthd.err"; then not_ok "no sanitizer report from healthd" "$(grep -iE 'sanitizer|runtime error' "$T/healthd.err" | head -n 3)"; else ok "no sanitizer report from healthd"; fi

it_finish
