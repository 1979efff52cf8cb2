#!/usr/bin/env bash
# `healthd probe` against real services on loopback: nginx (http, tcp) and Knot DNS (dns,
# dns-serial, with NSID identity and a query ACL that answers only the unique source
# address). What an operator or an Icinga/Nagios check reads: the plugin line, the exit
# code, the facts, --json, --count.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=lib_dns.sh
. "$(dirname "$0")/lib_dns.sh"

it_init
dns_init
it_need_healthd
it_need nginx

SRC=127.0.0.7
KP=$(free_port)

# probe ARGS...: runs `healthd probe ARGS` (bounded); stdout in $OUT, stderr in $ERR,
# exit code in $RC.
probe() {
	timeout -k 1 20 "$HEALTHD" probe "$@" >"$T/out" 2>"$T/err"
	RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}
# expect DESC CODE REGEX: the last probe exited CODE and its stdout matches REGEX
# (grep -E, multi-line).
expect() {
	if [ "$RC" = "$2" ] && grep -Eq -- "$3" "$T/out"; then
		ok "$1"
	else
		not_ok "$1" "exit $RC (want $2)" "stdout: $(head -c 400 "$T/out" | tr '\n' '|')" \
			"stderr: $(head -c 300 "$T/err")"
	fi
}
json_field() { # json_field EXPR: evaluates EXPR on the first JSON object of $T/out
	/usr/bin/python3 -c "import json,sys; j=json.loads(sys.stdin.readline()); print($1)" <"$T/out"
}

start_nginx || {
	not_ok "nginx starts"
	it_finish
	exit
}
URL=http://$SERVICE_ADDR:$NGINX_PORT/

probe http --url "$URL" --expect-status 200
expect "http: plugin line, exit 0" 0 "^HTTP OK - .* \| time=[0-9]+\.[0-9]{6}s;;;0$"
expect "http: the status and size it saw" 0 "^status: +200$"
line=$(grep -E '^connect_ms: ' "$T/out")
if grep -Eq '^connect_ms: +[0-9]+(\.[0-9]{1,9})?$' <<<"$line" && ! grep -Eq '[0-9]{12}' "$T/out"; then
	ok "http: timings as a person reads them ($line)"
else
	not_ok "http: timings without float noise" "$(grep -E '_ms:' "$T/out" | tr '\n' '|')"
fi
probe http --url "$URL" --expect-status 404,410
expect "http: unexpected status is CRITICAL with its reason code" 2 "^HTTP CRITICAL - bad-status: "
probe tcp --host "$SERVICE_ADDR" --port "$NGINX_PORT" --source 127.0.0.1
expect "tcp: connected, source shown" 0 "^TCP OK - connected to $SERVICE_ADDR:$NGINX_PORT from 127.0.0.1 "
probe tcp --host "$SERVICE_ADDR" --port "$NGINX_PORT" -c 3 -i 100ms
expect "tcp --count 3: three runs, then min/median/max" 0 \
	"^latency min/median/max = [0-9.]+/[0-9.]+/[0-9.]+ ms$"
if [ "$(grep -c '^[123]: TCP OK - ' "$T/out")" = 3 ]; then ok "tcp --count 3: one line per run"; else not_ok "one line per run" "$OUT"; fi
if head -n 1 "$T/out" | grep -Eq '^TCP OK - 3 runs: 3 ok; latency min/median/max [0-9.]+/[0-9.]+/[0-9.]+ ms \| time=[0-9]+\.[0-9]{6}s;;;0$'; then
	ok "tcp --count 3: the first line is the series' plugin line: $(head -n 1 "$T/out")"
else
	not_ok "tcp --count 3: the first line is a plugin line" "$(head -n 1 "$T/out")"
fi
stop_nginx
probe tcp --host "$SERVICE_ADDR" --port "$NGINX_PORT"
expect "tcp: nginx stopped: CRITICAL refused" 2 "^TCP CRITICAL - refused: "

d=$(knot_dir k1)
mkdir -p "$d"
dns_zone example.test 7 >"$d/example.test.zone"
dns_zone acl.test 7 >"$d/acl.test.zone"
knot_conf k1 127.0.0.1 "$KP" node1 <<EOF
mod-queryacl:
  - id: only-source
    address: [ $SRC ]
zone:
  - domain: example.test
  - domain: acl.test
    module: mod-queryacl/only-source
EOF
if ! knot_start k1 || ! wait_serial 127.0.0.1 "$KP" example.test 7 5; then
	not_ok "Knot serves example.test on 127.0.0.1@$KP"
	it_finish
	exit
fi
probe dns --server 127.0.0.1 --port "$KP" --name example.test --qtype SOA --expect-identity node1
expect "dns: NSID identity, rcode, flags, serial" 0 "^DNS OK - NOERROR .*identity \"node1\""
expect "dns: facts for a person" 0 "^serial: +7$"
probe dns --server "127.0.0.1@$KP" --name example.test --qtype SOA --expect-identity node2 \
	--identity-method hostname.bind
expect "dns: another node's identity is CRITICAL bad-identity" 2 "^DNS CRITICAL - bad-identity: "
probe dns --server "127.0.0.1@$KP" --name acl.test --qtype SOA --source "$SRC"
expect "dns --source $SRC: the ACL answers the unique address" 0 "^source: +$SRC "
probe dns --server "127.0.0.1@$KP" --name acl.test --qtype SOA --source 127.0.0.8
expect "dns from another address: refused by the ACL" 2 "^DNS CRITICAL - bad-rcode: "
probe dns-serial --zone example.test --server "127.0.0.1@$KP" --primaries "127.0.0.1@$KP" --json
if [ "$RC" = 0 ] && [ "$(json_field 'j["status"], j["facts"]["local_serial"], j["type"]')" = "OK 7 dns-serial" ]; then
	ok "dns-serial --json: one object with status and facts"
else
	not_ok "dns-serial --json" "exit $RC" "$OUT" "$ERR"
fi
knot_pause k1
t0=$(now)
probe dns --server "127.0.0.1@$KP" --name example.test --qtype SOA --timeout 300ms
if [ "$RC" = 2 ] && grep -q '^DNS CRITICAL - timeout: ' "$T/out" && le "$(since "$t0")" 3; then
	ok "dns: server paused: CRITICAL timeout after --timeout ($(since "$t0")s)"
else
	not_ok "dns timeout within 3s" "exit $RC" "$OUT"
fi
knot_resume k1

probe exec -- /bin/sh -c 'echo "DISK WARNING - 91% used"; exit 1'
expect "exec: a monitoring plugin's WARNING passes through" 1 "^EXEC WARNING - warning: exit 1: DISK WARNING - 91% used \| time="
probe exec -- sh -c 'echo "DISK UNKNOWN - no such mount"; exit 3'
expect "exec: a monitoring plugin's UNKNOWN passes through" 3 "^EXEC UNKNOWN - exit-status: exit 3: DISK UNKNOWN - no such mount \| time="
probe tcp --host 127.0.0.1 --port 70000
if [ "$RC" = 3 ] && [ -z "$OUT" ] && [ "$ERR" = "healthd probe tcp: --port: expected integer 1-65535" ]; then
	ok "bad option: UNKNOWN (3), the config error with the flag's name"
else
	not_ok "bad option: exit 3 and the flag named" "exit $RC" "$ERR"
fi

it_finish
