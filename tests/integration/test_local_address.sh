#!/usr/bin/env bash
# require_local_address: a service whose anycast address is not configured on any
# interface is down at once, whatever its checks say, and its prefix is withdrawn;
# configuring the address brings it back. Runs in a network namespace this script
# makes, so adding and removing the address touches nothing else.
#
#   HEALTHD=/abs/path/healthd bash tests/integration/test_local_address.sh
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

it_init
it_need_healthd
it_need ip

NS=healthd-la-$$
it_extra_cleanup() { ip netns del "$NS" 2>/dev/null; }
if ! ip netns add "$NS" 2>/dev/null; then
	not_ok "create network namespace $NS (needs root)"
	it_finish
	exit 1
fi
ip netns exec "$NS" ip link set lo up

ANYCAST=192.0.2.53
cat >"$T/healthd.json" <<EOF
{
	"allow_root_exec": true,
	"speaker": { "type": "exabgp" },
	"defaults": { "interval": "300ms", "fast_interval": "100ms", "timeout": "200ms",
	              "rise": 1, "fall": 1 },
	"services": [
		{
			"name": "dns",
			"prefixes": [ "$ANYCAST/32" ],
			"require_local_address": true,
			"announce": { "med": 100 },
			"on_down": { "med": 1000 },
			"checks": [ { "type": "exec", "command": [ "true" ] } ]
		}
	]
}
EOF

mkfifo "$T/stdin"
exec 7<>"$T/stdin" # held open: healthd's stdin never reaches EOF
ip netns exec "$NS" "$HEALTHD" run -c "$T/healthd.json" <"$T/stdin" >"$T/healthd.out" 2>"$T/healthd.err" &
HPID=$!
HEALTHD_PID=$HPID HEALTHD_START=$(pid_start "$HPID")

# wait_line REGEX SECONDS: a line of healthd's stdout matches.
wait_line() {
	local i
	for ((i = 0; i <= $2 * 10; i++)); do
		grep -Eq -- "$1" "$T/healthd.out" && return 0
		sleep 0.1
	done
	return 1
}

sleep 1.5
if grep -q '^announce' "$T/healthd.out"; then
	not_ok "nothing is announced while $ANYCAST is not configured (checks pass)" "$(cat "$T/healthd.out")"
else
	ok "nothing is announced while $ANYCAST is not configured (checks pass)"
fi
if grep -q "no local interface has an address in $ANYCAST/32" "$T/healthd.err"; then
	ok "the log says the address is missing"
else
	not_ok "the log says the address is missing" "$(tail -n 5 "$T/healthd.err")"
fi

ip netns exec "$NS" ip addr add "$ANYCAST/32" dev lo
if wait_line "^announce route $ANYCAST/32 next-hop self med 100\$" 3; then
	ok "configuring the address announces the prefix"
else
	not_ok "configuring the address announces the prefix" "$(cat "$T/healthd.out")"
fi

ip netns exec "$NS" ip addr del "$ANYCAST/32" dev lo
last=""
for ((i = 0; i < 30; i++)); do
	last=$(tail -n 1 "$T/healthd.out")
	[ "$last" = "withdraw route $ANYCAST/32 next-hop self" ] && break
	sleep 0.1
done
if [ "$last" = "withdraw route $ANYCAST/32 next-hop self" ]; then
	ok "removing the address withdraws the prefix"
else
	not_ok "removing the address withdraws the prefix" "$(cat "$T/healthd.out")"
fi
if grep -q 'med 1000' "$T/healthd.out"; then
	not_ok "no backup route (on_down) for an address that is not here" "$(cat "$T/healthd.out")"
else
	ok "no backup route (on_down) for an address that is not here"
fi

kill -TERM "$HPID"
if wait_gone "$HPID" 5; then
	wait "$HPID"
	rc=$?
	check "SIGTERM -> exit 0 (status $rc)" [ "$rc" -eq 0 ]
else
	not_ok "healthd exits within 5s of SIGTERM"
fi
HEALTHD_PID=""
exec 7>&-
it_finish
