#!/usr/bin/env bash
# The unique source address, proven from the server's side: a real nginx logs the
# address of every request, and each probe type must arrive from the source set for it
# (node-wide, per service, per check; nearest wins): http and tcp bind it themselves,
# an exec check gets it in HEALTHD_SOURCE and connects from it. Then "source_check":
# a source this machine does not have is refused by "healthd check" and "healthd run"
# at the path that sets it; with "source_check": false the probes run and fail loudly
# (the bind fails), and nothing is announced.
#
#   HEALTHD=/abs/path/healthd bash tests/integration/test_source.sh
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=lib_http.sh
. "$(dirname "$0")/lib_http.sh"

it_init
it_need_healthd
it_need nginx python3
http_scale

HTTP_PORT=$(free_port) || exit 1
http_nginx_start "
	server {
		listen 127.0.0.1:$HTTP_PORT;
		location = /ok { return 200 \"ok\n\"; }
	}" || {
	not_ok "nginx starts" "$(tail -5 "$T/nginx-http/error.log" 2>/dev/null)"
	it_finish
	exit
}

# The exec check: connects from $HEALTHD_SOURCE (as a user's script would) and records
# the variable it was given.
cat >"$T/from_source.py" <<'EOF'
import os, socket, sys
env_file, port, tag = sys.argv[1], int(sys.argv[2]), sys.argv[3]
src = os.environ.get("HEALTHD_SOURCE", "")
with open(env_file, "a") as f:
    f.write(tag + " " + src + "\n")
s = socket.create_connection(("127.0.0.1", port), timeout=1,
                             source_address=(src, 0) if src else None)
s.sendall(("GET /ok?" + tag + " HTTP/1.0\r\n\r\n").encode())
sys.exit(0 if s.recv(64).startswith(b"HTTP/1.1 200") else 2)
EOF

H=http://127.0.0.1:$HTTP_PORT
tcp_check() { printf '{ "type": "tcp", "host": "127.0.0.1", "port": %s, "send": "GET /ok?%s HTTP/1.0\\\\r\\\\n\\\\r\\\\n", "expect": "200 OK"%s }' "$HTTP_PORT" "$1" "${2:+, $2}"; }
exec_check() { printf '{ "type": "exec", "command": [ "/usr/bin/python3", "%s", "%s", "%s", "%s" ]%s }' "$T/from_source.py" "$T/env.txt" "$HTTP_PORT" "$1" "${2:+, $2}"; }

cat >"$T/healthd.json" <<EOF
{
	"source": { "ipv4": "127.0.0.9" },
	"allow_root_exec": true,
	"speaker": { "type": "exabgp" },
	"defaults": { "interval": "$HTTP_S.5s", "fast_interval": "$HTTP_S.5s", "timeout": "${HTTP_S}s",
	              "rise": 1, "fall": 1 },
	"services": [
		{ "name": "node", "prefixes": [ "203.0.113.1/32" ], "checks": [
			{ "type": "http", "url": "$H/ok?http-node" },
			$(tcp_check tcp-node),
			$(exec_check exec-node) ] },
		{ "name": "service", "prefixes": [ "203.0.113.2/32" ], "source": { "ipv4": "127.0.0.8" },
		  "checks": [
			{ "type": "http", "url": "$H/ok?http-service" },
			$(tcp_check tcp-service),
			$(exec_check exec-service) ] },
		{ "name": "check", "prefixes": [ "203.0.113.3/32" ], "source": { "ipv4": "127.0.0.8" },
		  "checks": [
			{ "type": "http", "url": "$H/ok?http-check", "source": { "ipv4": "127.0.0.7" } },
			$(tcp_check tcp-check '"source": { "ipv4": "127.0.0.7" }'),
			$(exec_check exec-check '"source": { "ipv4": "127.0.0.7" }') ] }
	]
}
EOF

if "$HEALTHD" check -c "$T/healthd.json" >/dev/null 2>"$T/check.err"; then
	ok "healthd check accepts sources 127.0.0.7-9 (inside lo's 127.0.0.0/8)"
else
	not_ok "healthd check accepts sources 127.0.0.7-9" "$(head -3 "$T/check.err")"
fi
http_run_healthd "$T/healthd.json" "$((3 * HTTP_S))"
if [ "$HTTP_RC" = 0 ]; then ok "healthd ran and exited 0 on SIGTERM"; else not_ok "healthd ran and exited 0 on SIGTERM" "exit: $HTTP_RC" "$(tail -3 "$T/healthd.err")"; fi
for p in 203.0.113.1/32 203.0.113.2/32 203.0.113.3/32; do
	if http_announced "$p"; then ok "$p announced (all three probes pass)"; else not_ok "$p announced" "$(grep -F engine_check_done "$T/healthd.err" | tail -3)"; fi
done

# from TYPE-LEVEL ADDR: every request of that probe came from ADDR, and there was one.
from() {
	local lines
	lines=$(http_access "\\?$1 ")
	if [ -n "$lines" ] && ! grep -qv "^$2 " <<<"$lines"; then
		ok "nginx saw $1 from $2"
	else
		not_ok "nginx saw $1 from $2" "${lines:-no request}"
	fi
}
for level in node service check; do
	case $level in node) a=127.0.0.9 ;; service) a=127.0.0.8 ;; check) a=127.0.0.7 ;; esac
	for type in http tcp exec; do from "$type-$level" "$a"; done
	if grep -q "^exec-$level $a\$" "$T/env.txt" && ! grep "^exec-$level " "$T/env.txt" | grep -vq " $a\$"; then
		ok "exec-$level ran with HEALTHD_SOURCE=$a"
	else
		not_ok "exec-$level ran with HEALTHD_SOURCE=$a" "$(grep "^exec-$level " "$T/env.txt" | sort -u | tr '\n' ' ')"
	fi
done

# source_check: 198.51.100.7 is a documentation address, on no test machine.
cat >"$T/foreign.json" <<EOF
{
	"speaker": { "type": "exabgp" },
	"defaults": { "interval": "${HTTP_S}s", "timeout": "$((500 * HTTP_S))ms", "rise": 1, "fall": 1 },
	"services": [
		{ "name": "web", "prefixes": [ "203.0.113.4/32" ], "checks": [
			{ "type": "http", "url": "$H/ok?foreign", "source": { "ipv4": "198.51.100.7" } },
			$(tcp_check tcp-foreign) ] }
	],
	"source": { "ipv4": "198.51.100.7" }
}
EOF
# In the order healthd reads them: the top level first.
want1="$T/foreign.json:9:14: source.ipv4: 198.51.100.7 is not configured on any local interface (set \"source_check\": false to skip)"
want2="$T/foreign.json:6:78: services[0].checks[0].source.ipv4: 198.51.100.7 is not configured on any local interface (set \"source_check\": false to skip)"
"$HEALTHD" check -c "$T/foreign.json" >"$T/foreign.out" 2>"$T/foreign.err"
rc=$?
if [ "$rc" -eq 1 ] && [ ! -s "$T/foreign.out" ] && [ "$(cat "$T/foreign.err")" = "$want1
$want2" ]; then
	ok "healthd check refuses a source not on any interface, at each path that sets it"
else
	not_ok "healthd check refuses a source not on any interface, at each path that sets it" \
		"exit $rc" "got: $(cat "$T/foreign.err")" "want: $want1" "want: $want2"
fi
"$HEALTHD" run --exit-on-error -c "$T/foreign.json" </dev/null >"$T/foreign.out" 2>"$T/foreign.err"
rc=$?
if [ "$rc" -eq 1 ] && [ ! -s "$T/foreign.out" ] && grep -qxF "$want1" "$T/foreign.err" &&
	grep -qxF "$want2" "$T/foreign.err"; then
	ok "healthd run --exit-on-error refuses it too: exit 1, nothing on stdout"
else
	not_ok "healthd run --exit-on-error refuses it too: exit 1, nothing on stdout" "exit $rc" "$(head -3 "$T/foreign.err")"
fi

sed 's/"source": { "ipv4": "198.51.100.7" }$/&, "source_check": false/' "$T/foreign.json" >"$T/foreign-off.json"
if "$HEALTHD" check -c "$T/foreign-off.json" >"$T/off.out" 2>"$T/off.err" && grep -q '"source_check": false' "$T/off.out"; then
	ok "\"source_check\": false accepts it"
else
	not_ok "\"source_check\": false accepts it" "$(head -3 "$T/off.err")"
fi
http_run_healthd "$T/foreign-off.json" "$((2 * HTTP_S))"
if grep -qF "http $H/ok?foreign: fail (connect) connect to 127.0.0.1:$HTTP_PORT from 198.51.100.7: Cannot assign requested address" "$T/healthd.err" &&
	grep -qF ": fail (connect) connect to 127.0.0.1:$HTTP_PORT from 198.51.100.7: Cannot assign requested address" <(grep -F "web: tcp " "$T/healthd.err"); then
	ok "unchecked, the http and tcp probes fail at bind: Cannot assign requested address"
else
	not_ok "unchecked, the http and tcp probes fail at bind" "$(grep -F engine_check_done "$T/healthd.err" | tail -2)"
fi
if ! http_announced 203.0.113.4/32 && [ -z "$(http_access 'foreign')" ]; then
	ok "nothing announced, no request reached nginx"
else
	not_ok "nothing announced, no request reached nginx" "$(cat "$T/healthd.out")"
fi

it_finish
