#!/usr/bin/env bash
# What healthd hands BIRD is BIRD's own language, checked by a real BIRD 2:
#   every examples/bird*.conf parses (bird -p), with its include files as healthd
#   leaves them before any service is healthy;
#   an include file that healthd wrote with every kind of route attribute loads into a
#   running BIRD, and the routes carry those attributes.
#
#   HEALTHD=/abs/path/healthd bash tests/integration/test_bird_examples.sh
set -u
# shellcheck source-path=SCRIPTDIR source=lib_bird.sh
. "$(dirname "$0")/lib_bird.sh"

bird_lab_init

# (a) the examples
for ex in "$IT_ROOT"/examples/bird*.conf; do
	[ -f "$ex" ] || continue
	name=$(basename "$ex")
	dir=$T/ex-${name%.conf}
	mkdir -p "$dir"
	sed "s|/var/lib/healthd|$dir|g" "$ex" >"$dir/bird.conf"
	: >"$dir/bird-routes.conf"
	: >"$dir/bird-routes6.conf"
	if grep -q healthd_v4 "$ex"; then
		printf 'define healthd_v4 = [ ];\ndefine healthd_v6 = [ ];\n' >"$dir/bird-routes.conf"
	fi
	if out=$(bird -p -c "$dir/bird.conf" 2>&1); then ok "(a) examples/$name parses with bird -p"; else not_ok "(a) examples/$name parses with bird -p" "$out"; fi
done

# (b) every attribute healthd can write, as written by healthd, into a running BIRD
PORT=$(free_port)
start_listener "$PORT" || not_ok "(b) listener starts"
INC4=$T/routes.conf INC6=$T/routes6.conf
cat >"$T/attrs.json" <<EOF
{
	"speaker": { "type": "birdc-stdout", "include": "$INC4", "include6": "$INC6" },
	"defaults": { "interval": "300ms", "fast_interval": "100ms", "timeout": "200ms", "rise": 1, "fall": 1 },
	"services": [
		{ "name": "v4", "prefixes": [ "198.51.100.53/32" ],
		  "announce": { "next_hop": "192.0.2.1", "med": 100, "local_preference": 200,
		                "communities": [ "65000:53", "no-export", "blackhole" ],
		                "large_communities": [ "4200000000:0:53" ],
		                "extended_communities": [ "target:65000:53", "origin:192.0.2.1:7",
		                                          "target:4200000000:5" ],
		                "as_path": [ 65010, 4200000000 ] },
		  "checks": [ { "type": "tcp", "host": "127.0.0.1", "port": $PORT } ] },
		{ "name": "v6", "prefixes": [ "2001:db8:53::/48" ],
		  "announce": { "next_hop": "2001:db8::1", "med": 0, "communities": [ "1:1" ] },
		  "checks": [ { "type": "tcp", "host": "127.0.0.1", "port": $PORT } ] }
	]
}
EOF
start_healthd "$T/attrs.json"
for ((i = 0; i < 50; i++)); do
	grep -q '^route' "$INC4" 2>/dev/null && grep -q '^route' "$INC6" 2>/dev/null && break
	sleep 0.1
done
cp "$INC4" "$T/keep4.conf"
cp "$INC6" "$T/keep6.conf"
stop_healthd 5
if grep -q '^route 198.51.100.53/32 blackhole {' "$T/keep4.conf" && grep -q '^route 2001:db8:53::/48 blackhole {' "$T/keep6.conf"; then
	ok "(b) healthd wrote both routes with their attributes"
else
	not_ok "(b) healthd wrote both routes" "$(cat "$T/keep4.conf" "$T/keep6.conf" | tr '\n' '|')"
fi
write_speaker "
protocol static healthd4 {
	ipv4;
	include \"$T/keep4.conf\";
}
protocol static healthd6 {
	ipv6;
	include \"$T/keep6.conf\";
}"
if start_speaker; then ok "(b) BIRD starts with healthd's include files"; else not_ok "(b) BIRD starts with healthd's include files" "$(tail -n 3 "$T/spk.out")"; fi
all=$(spk_birdc show route all 198.51.100.53/32 2>&1)
want=('BGP.next_hop: 192.0.2.1' 'BGP.med: 100' 'BGP.local_pref: 200' 'BGP.as_path: 65010 4200000000'
	'BGP.community: (65000,53) (65535,65281) (65535,666)' 'BGP.large_community: (4200000000, 0, 53)'
	'BGP.ext_community: (rt, 65000, 53) (ro, 192.0.2.1, 7) (rt, 4200000000, 5)')
for w in "${want[@]}"; do
	if grep -qF "$w" <<<"$all"; then ok "(b) BIRD has $w"; else not_ok "(b) BIRD has $w" "$(tr '\n' '|' <<<"$all")"; fi
done
all6=$(spk_birdc show route all 2001:db8:53::/48 2>&1)
if grep -qF 'BGP.next_hop: 2001:db8::1' <<<"$all6" && grep -qF 'BGP.med: 0' <<<"$all6"; then
	ok "(b) the IPv6 route has its next hop and MED 0"
else
	not_ok "(b) the IPv6 route has its next hop and MED 0" "$(tr '\n' '|' <<<"$all6")"
fi

bird_lab_finish
