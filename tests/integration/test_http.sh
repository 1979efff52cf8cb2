#!/usr/bin/env bash
# The http probe against a real nginx on loopback: status, body substring and regex,
# a body that trickles past the timeout, max_body, HEAD, the Host header and
# connect_to (name in the URL, this node's address to connect to), request headers, a
# closed port, and HTTPS with a certificate made here: verified with ca_file, refused
# without it or for another name, accepted with "insecure". Every check is one service
# with its own prefix; healthd runs them all at once in one event loop (one thread),
# and what it decided is read from its debug log and from what it told the speaker.
# nginx's access log shows what each probe really sent, and from which address.
#
#   HEALTHD=/abs/path/healthd bash tests/integration/test_http.sh
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=lib_http.sh
. "$(dirname "$0")/lib_http.sh"

it_init
it_need_healthd
it_need nginx openssl
http_scale
TIMEOUT_MS=$((1000 * HTTP_S))

NAME=web.healthd.test
HTTP_PORT=$(free_port) && HTTPS_PORT=$(free_port) && CLOSED_PORT=$(free_port) || exit 1
http_make_certs "$NAME" || {
	not_ok "openssl makes a CA and a server certificate" "$(tail -5 "$T/tls/openssl.log")"
	it_finish
	exit
}

# A body nginx sends at 4 KiB/s: a marker at the start, another 60 KiB later.
mkdir -p "$T/nginx-http/www"
{
	echo "BEGIN-MARKER"
	head -c 61440 /dev/zero | tr '\0' 'x'
	echo
	echo "END-MARKER"
} >"$T/nginx-http/www/big.txt"

http_nginx_start "
	server {
		listen 127.0.0.1:$HTTP_PORT default_server;
		server_name _;
		location = /ok { return 200 \"ok\n\"; }
		location = /fail { return 500 \"database down\n\"; }
		location = /status { return 200 \"status: healthy node=n1\n\"; }
		location = /big.txt { root $T/nginx-http/www; limit_rate 4k; }
		location = /headers {
			if (\$http_x_probe != \"healthd\") { return 403 \"no probe header\n\"; }
			return 200 \"probe header seen\n\";
		}
		location = /vhost { return 404 \"default server\n\"; }
	}
	server {
		listen 127.0.0.1:$HTTP_PORT;
		server_name $NAME;
		location = /vhost { return 200 \"vhost $NAME\n\"; }
	}
	server {
		listen 127.0.0.1:$HTTPS_PORT ssl;
		server_name $NAME;
		ssl_certificate $HTTP_CERT;
		ssl_certificate_key $HTTP_KEY;
		location = /ok { return 200 \"tls ok\n\"; }
	}" || {
	not_ok "nginx starts" "$(tail -5 "$T/nginx-http/error.log" 2>/dev/null)"
	it_finish
	exit
}

H=http://127.0.0.1:$HTTP_PORT
S=https://$NAME:$HTTPS_PORT
n=0
services=""
# svc NAME CHECK_JSON_MEMBERS: one service, prefix 203.0.113.N/32, one http check.
svc() {
	n=$((n + 1))
	eval "PFX_$1=203.0.113.$n/32"
	services="$services${services:+,}
		{ \"name\": \"$1\", \"prefixes\": [ \"203.0.113.$n/32\" ],
		  \"checks\": [ { \"type\": \"http\", $2 } ] }"
}
svc ok "\"url\": \"$H/ok\""
svc fail "\"url\": \"$H/fail\""
svc body "\"url\": \"$H/ok\", \"expect_body\": \"healthy\""
svc regex_ok "\"url\": \"$H/status\", \"expect_body_regex\": \"^status: (healthy|degraded) node=n[0-9]+\""
svc regex_bad "\"url\": \"$H/status\", \"expect_body_regex\": \"^status: down\""
svc slow "\"url\": \"$H/big.txt?slow\""
svc max_body "\"url\": \"$H/big.txt?max\", \"max_body\": 2048"
svc early "\"url\": \"$H/big.txt?early\", \"expect_body\": \"BEGIN-MARKER\""
svc head "\"url\": \"$H/ok?head\", \"method\": \"HEAD\""
svc host "\"url\": \"$H/vhost?host\", \"host\": \"$NAME\", \"expect_body\": \"vhost $NAME\""
svc connect_to "\"url\": \"http://$NAME:$HTTP_PORT/vhost?connect_to\", \"connect_to\": \"127.0.0.1\", \"expect_body\": \"vhost\""
svc headers "\"url\": \"$H/headers?with\", \"headers\": { \"X-Probe\": \"healthd\" }"
svc no_headers "\"url\": \"$H/headers?without\""
svc refused "\"url\": \"http://127.0.0.1:$CLOSED_PORT/\""
svc tls_ca "\"url\": \"$S/ok?ca\", \"connect_to\": \"127.0.0.1\", \"ca_file\": \"$HTTP_CA\", \"expect_body\": \"tls ok\""
svc tls_no_ca "\"url\": \"$S/ok?noca\", \"connect_to\": \"127.0.0.1\""
svc tls_name "\"url\": \"https://other.healthd.test:$HTTPS_PORT/ok?name\", \"connect_to\": \"127.0.0.1\", \"ca_file\": \"$HTTP_CA\""
svc tls_insecure "\"url\": \"$S/ok?insecure\", \"connect_to\": \"127.0.0.1\", \"insecure\": true"
svc source7 "\"url\": \"$H/ok?source7\", \"source\": { \"ipv4\": \"127.0.0.7\" }"

cat >"$T/healthd.json" <<EOF
{
	"speaker": { "type": "exabgp" },
	"defaults": { "interval": "$((2 * HTTP_S))s", "fast_interval": "$((2 * HTTP_S))s", "timeout": "${TIMEOUT_MS}ms",
	              "rise": 1, "fall": 1 },
	"services": [ $services
	]
}
EOF

if "$HEALTHD" check -c "$T/healthd.json" >/dev/null 2>"$T/check.err"; then
	ok "healthd check accepts the $n http checks"
else
	not_ok "healthd check accepts the $n http checks" "$(head -5 "$T/check.err")"
fi

RUN_S=$(awk -v s="$HTTP_S" 'BEGIN { print 4.5 * s }')
note "healthd runs $n http checks for ${RUN_S}s"
http_run_healthd "$T/healthd.json" "$RUN_S"
if [ "$HTTP_RC" = 0 ]; then ok "healthd ran and exited 0 on SIGTERM"; else not_ok "healthd ran and exited 0 on SIGTERM" "exit: $HTTP_RC" "$(tail -5 "$T/healthd.err")"; fi
if [ "$HTTP_THREADS" = 1 ]; then
	ok "every transfer ran in healthd's one thread (no resolver or worker threads)"
else
	not_ok "every transfer ran in healthd's one thread" "threads seen: $HTTP_THREADS"
fi

# healthy: announced; unhealthy: never announced.
routes() {
	local want=$1 s p got
	shift
	for s in "$@"; do
		p=PFX_$s
		if http_announced "${!p}"; then got=yes; else got=no; fi
		if [ "$got" = "$want" ] && [ "$want" = yes ]; then
			ok "$s: ${!p} announced"
		elif [ "$got" = "$want" ]; then
			ok "$s: ${!p} not announced"
		else
			not_ok "$s: ${!p} announced: $got, expected: $want" "$(http_last "$s")"
		fi
	done
}

expect_code ok ok "HTTP 200 from 127.0.0.1:$HTTP_PORT from 127.0.0.1"
expect_code fail bad-status "HTTP 500 from 127.0.0.1:$HTTP_PORT, expected 200-399: \"database down\\n\""
expect_code body body-mismatch "no \"healthy\" in 3 bytes: \"ok\\n\""
expect_code regex_ok ok "regex matched"
expect_code regex_bad body-mismatch "does not match /^status: down/"
expect_code slow timeout "no result within ${TIMEOUT_MS}ms"
expect_code max_body ok
expect_code early ok "body matched"
expect_code head ok
expect_code host ok "body matched"
expect_code connect_to ok "body matched"
expect_code headers ok
expect_code no_headers bad-status "HTTP 403"
expect_code refused refused "connect to 127.0.0.1:$CLOSED_PORT from any: Connection refused"
expect_code tls_ca ok "body matched"
expect_code tls_no_ca tls "unable to get local issuer certificate"
expect_code tls_name tls "other.healthd.test"
expect_code tls_insecure ok
expect_code source7 ok "from 127.0.0.7"
routes yes ok regex_ok max_body early head host connect_to headers tls_ca tls_insecure source7
routes no fail body regex_bad slow no_headers refused tls_no_ca tls_name

# Latency ends at the last byte needed: the start of a body that takes 15 s to send.
for s in max_body early; do
	l=$(http_latency "$s")
	if [ -n "$l" ] && le "$l" $((500 * HTTP_S)); then
		ok "$s: done after ${l}ms, not after the whole body"
	else
		not_ok "$s: done within $((500 * HTTP_S))ms" "$(http_last "$s")"
	fi
done

# What nginx saw.
access_check() {
	local desc=$1 pat=$2 want=$3 lines
	lines=$(http_access "$pat")
	if [ -n "$lines" ] && ! grep -qvE -- "$want" <<<"$lines"; then
		ok "nginx: $desc"
	else
		not_ok "nginx: $desc" "requests matching $pat: ${lines:-none}" "each must match: $want"
	fi
}
access_check "HEAD was a HEAD" 'ok\?head' '"HEAD /ok\?head HTTP/1\.1"'
# http:// runs hand their easy handle on to the next run of any check: nothing of one
# check's request (method, headers, Host) may reach another's.
access_check "the other probes sent GET, after the HEAD probe's runs" '^[A-Z]+ /(ok|fail|status|headers\?[a-z]+) ' '"GET /'
access_check "Host was the URL's where no host was set" '^GET /(ok|fail|status) ' " host=127\.0\.0\.1:$HTTP_PORT "
access_check "host sent Host: $NAME" 'vhost\?host' " 200 [0-9]+ host=$NAME "
access_check "connect_to kept the URL's name in Host" 'vhost\?connect_to' " 200 [0-9]+ host=$NAME:$HTTP_PORT "
access_check "the TLS probe sent SNI $NAME" 'ok\?ca ' "sni=$NAME\$"
access_check "the probe with source 127.0.0.7 came from 127.0.0.7" 'source7' '^127\.0\.0\.7 '
access_check "probes without a source came from 127.0.0.1" 'ok HTTP|fail' '^127\.0\.0\.1 '
# max_body 2048: nginx had sent far less than the 60 KiB body when the probe hung up.
access_check "max_body stopped the transfer early" 'big\.txt\?max' ' 200 [0-9]{1,5} '
big=$(http_access 'big\.txt\?max' | awk -F'"' '{ split($3, f, " "); print f[2] }' | sort -n | tail -n 1)
if [ -n "$big" ] && [ "$big" -lt 30000 ]; then ok "nginx: at most $big of 61 KiB sent to the max_body probe"; else not_ok "nginx sent under 30000 bytes to the max_body probe" "sent: ${big:-nothing}"; fi

# Bad input: refused, named at its path, nothing announced.
cat >"$T/bad.json" <<EOF
{
	"services": [ { "name": "web", "prefixes": [ "203.0.113.99/32" ],
		"checks": [ { "type": "http", "url": "http://$NAME/", "expect_body_regex": "([a-z" } ] } ]
}
EOF
"$HEALTHD" run --exit-on-error -c "$T/bad.json" </dev/null >"$T/bad.out" 2>"$T/bad.err"
rc=$?
if [ "$rc" -eq 1 ] && [ ! -s "$T/bad.out" ] &&
	grep -q "bad.json:3:.*services\[0\].checks\[0\].url: host \"$NAME\" is a name" "$T/bad.err" &&
	grep -q 'services\[0\].checks\[0\].expect_body_regex: invalid POSIX extended regular expression' "$T/bad.err"; then
	ok "a bad http check: healthd run --exit-on-error exits 1, says where, announces nothing"
else
	not_ok "a bad http check: healthd run --exit-on-error exits 1, says where, announces nothing" "exit $rc" "$(head -3 "$T/bad.err")"
fi

it_finish
