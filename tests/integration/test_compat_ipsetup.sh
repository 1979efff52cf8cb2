#!/usr/bin/env bash
# The healthcheck drop-in's loopback address management, side by side with ExaBGP 4.2.21's
# healthcheck, each in a network namespace of its own made here (nothing touches the
# host's lo): addresses added at start (with --label), removed at exit, removed and
# restored with --dynamic-ip-setup, found on lo when no --ip is given; and --user/--group.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=lib_compat.sh
. "$(dirname "$0")/lib_compat.sh"

it_init
it_need ip
compat_init
NS_PY=hdc$$py
NS_HD=hdc$$hd
ns_cleanup() {
	local rc=$?
	ip netns del "$NS_PY" 2>/dev/null
	ip netns del "$NS_HD" 2>/dev/null
	return $rc
}
trap 'ns_cleanup; it_cleanup' EXIT

# ns_reset: both namespaces fresh, lo up, plus the addresses given ("ADDR/LEN LABEL").
ns_reset() {
	local ns a
	for ns in "$NS_PY" "$NS_HD"; do
		ip netns del "$ns" 2>/dev/null
		ip netns add "$ns" || return 1
		ip -n "$ns" link set lo up
		for a in "$@"; do
			# shellcheck disable=SC2086 # "ADDR label LABEL" is three words
			ip -n "$ns" addr add $a dev lo
		done
	done
}
# lo_of NS: lo's IPv4 addresses and labels, one line.
lo_of() {
	ip -n "$1" -o -4 addr show dev lo | sed -E 's/.* inet ([^ ]+) .* (lo[^ \\]*).*/\1 \2/' |
		paste -sd' '
}
# pair_ns NAME SEQ ARGS...: compat_pair with each program in its namespace.
pair_ns() {
	local name=$1 seq=$2
	shift 2
	COMPAT_N=$((COMPAT_N + 1))
	COMPAT_PY=$T/ns$COMPAT_N.py COMPAT_HD=$T/ns$COMPAT_N.hd
	(
		COMPAT_WRAP=(ip netns exec "$NS_PY")
		compat_one py "$COMPAT_PY" "$seq" "$@"
	) &
	local p1=$!
	(
		COMPAT_WRAP=(ip netns exec "$NS_HD")
		compat_one hd "$COMPAT_HD" "$seq" "$@"
	) &
	local p2=$!
	wait "$p1" "$p2"
	compat_same "$name" "$COMPAT_PY" "$COMPAT_HD" out
}
FAST=(--interval 0.1 --fast-interval 0.05)
COMPAT_CHECK=seq_check_lo.sh

ns_reset || {
	not_ok "network namespaces can be made (ip netns add)"
	it_finish
	exit
}
pair_ns "ip setup with --label: stdout" "0 0 0" "${FAST[@]}" --rise 1 --label hc \
	--ip 192.0.2.10 --ip 192.0.2.12/31
compat_same "ip setup with --label: the addresses each check saw on lo" \
	"$COMPAT_PY" "$COMPAT_HD" addrs
if grep -q '127.0.0.1/8 lo 192.0.2.10/32 lo:hc 192.0.2.12/32 lo:hc 192.0.2.13/32 lo:hc' "$COMPAT_HD/addrs"; then
	ok "ip setup: every address of --ip is on lo with label lo:hc"
else
	not_ok "ip setup: addresses on lo" "$(head -n 1 "$COMPAT_HD/addrs")"
fi
if [ "$(lo_of "$NS_HD")" = "127.0.0.1/8 lo" ] && [ "$(lo_of "$NS_HD")" = "$(lo_of "$NS_PY")" ]; then
	ok "ip setup with --label: the addresses are removed at exit, as the original does"
else
	not_ok "labelled addresses removed at exit" "healthd: $(lo_of "$NS_HD")" "python: $(lo_of "$NS_PY")"
fi

ns_reset
pair_ns "ip setup without a label: stdout" "0 0" "${FAST[@]}" --rise 1 --ip 192.0.2.10
if [ "$(lo_of "$NS_HD")" = "$(lo_of "$NS_PY")" ] &&
	[ "$(lo_of "$NS_HD")" = "127.0.0.1/8 lo 192.0.2.10/32 lo" ]; then
	ok "ip setup without a label: the address stays at exit, as the original leaves it"
else
	not_ok "unlabelled address kept at exit" "healthd: $(lo_of "$NS_HD")" "python: $(lo_of "$NS_PY")"
fi

ns_reset
pair_ns "--dynamic-ip-setup: stdout" "0 1 0 1 0" "${FAST[@]}" --rise 1 --fall 1 \
	--dynamic-ip-setup --label dyn --ip 192.0.2.20
compat_same "--dynamic-ip-setup: removed when down, restored when up (as each check saw lo)" \
	"$COMPAT_PY" "$COMPAT_HD" addrs
# line N: what check N saw; check 2 ran after UP, 3 after DOWN, 4 after UP again
if [ "$(sed -n 3p "$COMPAT_HD/addrs")" = "127.0.0.1/8 lo" ] &&
	[ "$(sed -n 4p "$COMPAT_HD/addrs")" = "127.0.0.1/8 lo 192.0.2.20/32 lo:dyn" ]; then
	ok "--dynamic-ip-setup: gone after DOWN, back after UP"
else
	not_ok "--dynamic-ip-setup removes and restores" "$(tr '\n' '|' <"$COMPAT_HD/addrs")"
fi

ns_reset "198.51.100.5/32 label lo:web1" "198.51.100.6/32 label lo:web2" \
	"198.51.100.7/32 label lo:db" "192.0.2.0/24" "2001:db8::5/128"
pair_ns "no --ip: lo's addresses with --label" "0 1" "${FAST[@]}" --rise 1 --no-ip-setup \
	--label web
pair_ns "no --ip, no --label: all of lo's addresses" "0 1" "${FAST[@]}" --rise 1 --no-ip-setup
if grep -q '2001:db8::5/128' "$COMPAT_HD/out" && grep -q '192.0.2.0/24' "$COMPAT_HD/out" &&
	! grep -q '127.0.0' "$COMPAT_HD/out"; then
	ok "no --ip: IPv4 and IPv6 of lo announced, loopback ones not"
else
	not_ok "lo's addresses announced" "$(tr '\n' '|' <"$COMPAT_HD/out")"
fi
ns_reset
COMPAT_WRAP=(ip netns exec "$NS_HD")
compat_one hd "$T/noip.hd" "0" "${FAST[@]}" --no-ip-setup
COMPAT_WRAP=()
if [ "$(cat "$T/noip.hd/rc")" = 1 ] && [ ! -s "$T/noip.hd/out" ] && grep -q 'No IP found' "$T/noip.hd/err"; then
	ok "no --ip and nothing on lo: \"No IP found\", exit 1, nothing announced"
else
	not_ok "No IP found: exit 1" "rc $(cat "$T/noip.hd/rc")" "$(cat "$T/noip.hd/err")"
fi

# --user/--group: the privileges are dropped after the addresses are set up.
# shellcheck disable=SC2016 # $1 is the script's
printf '#!/bin/sh\nid -u >"$1/ids"; id -g >>"$1/ids"; exit 0\n' >"$T/id_check.sh"
chmod 755 "$T/id_check.sh"
for who in py hd; do
	mkdir -p "$T/id.$who"
	chmod 777 "$T/id.$who"
done
ns_reset
ip netns exec "$NS_PY" "${PYHC[@]}" --no-syslog --user nobody --group nogroup --rise 1 \
	--interval 0 --label u --ip 192.0.2.30 --cmd "$T/id_check.sh $T/id.py" \
	</dev/null >"$T/id.py/out" 2>"$T/id.py/err" &
p1=$!
ip netns exec "$NS_HD" "$HEALTHD" --no-syslog --user nobody --group nogroup --rise 1 \
	--interval 0 --label u --ip 192.0.2.30 --cmd "$T/id_check.sh $T/id.hd" \
	</dev/null >"$T/id.hd/out" 2>"$T/id.hd/err" &
p2=$!
wait_gone "$p1" 10
wait_gone "$p2" 10
wait "$p1"
echo $? >"$T/id.py/rc"
wait "$p2"
echo $? >"$T/id.hd/rc"
compat_same "--user nobody --group nogroup: stdout" "$T/id.py" "$T/id.hd" out
compat_same "--user nobody --group nogroup: the check runs as nobody:nogroup" \
	"$T/id.py" "$T/id.hd" ids
if [ "$(lo_of "$NS_HD")" = "127.0.0.1/8 lo 192.0.2.30/32 lo:u" ]; then
	ok "--user: the address was set up as root first"
else
	not_ok "--user: address set up before dropping privileges" "$(lo_of "$NS_HD")"
fi

it_finish
