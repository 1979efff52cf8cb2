#!/usr/bin/env bash
# The http check's connection between runs, seen from a real nginx on loopback
# (127.0.117.1): by default every run opens a new connection, over http and https;
# with "reuse_connection": true the next run's request goes over the connection the
# last run left open, and a new one is opened when the server closed it. nginx logs
# each request's connection serial number and its request count on that connection.
# Certificate verification stays on for a reused connection's first handshake.
#
#   HEALTHD=/abs/path/healthd bash tests/integration/test_http_reuse.sh
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=lib_http.sh
. "$(dirname "$0")/lib_http.sh"

it_init
it_need_healthd
it_need nginx openssl
http_scale

ADDR=127.0.117.1
NAME=reuse.healthd.test
HTTP_PORT=$(free_port) && HTTPS_PORT=$(free_port) || exit 1
http_make_certs "$NAME" || {
	not_ok "openssl makes a CA and a server certificate" "$(tail -5 "$T/tls/openssl.log")"
	it_finish
	exit
}
# A second CA, which did not sign the server's certificate.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=healthd other CA" \
	-keyout "$T/tls/other.key" -out "$T/tls/other.crt" >>"$T/tls/openssl.log" 2>&1

d=$T/nginx-reuse
mkdir -p "$d"
cat >"$d/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 64; }
http {
	log_format conn '\$connection \$connection_requests "\$request" \$status';
	access_log $d/access.log conn;
	keepalive_timeout 60s;
	client_body_temp_path $d/tmp_body;
	proxy_temp_path $d/tmp_proxy;
	fastcgi_temp_path $d/tmp_fastcgi;
	uwsgi_temp_path $d/tmp_uwsgi;
	scgi_temp_path $d/tmp_scgi;
	server {
		listen $ADDR:$HTTP_PORT;
		listen $ADDR:$HTTPS_PORT ssl;
		ssl_certificate $HTTP_CERT;
		ssl_certificate_key $HTTP_KEY;
		ssl_session_cache shared:reuse:1m;
		location / { return 200 "ok\n"; }
		location /noka { keepalive_timeout 0; return 200 "ok\n"; }
	}
}
EOF
nginx -p "$d" -c "$d/nginx.conf" -e "$d/error.log" </dev/null >>"$d/stdout.log" 2>&1 &
NGINX_PID=$!
if ! wait_tcp "$ADDR" "$HTTP_PORT" 5 || ! wait_tcp "$ADDR" "$HTTPS_PORT" 5; then
	not_ok "nginx starts" "$(tail -5 "$d/error.log" 2>/dev/null)"
	it_finish
	exit
fi
# The wait's own connections are not requests: they leave nothing in the log.

RUNS=3
# probe TAG ARGS...: RUNS runs of an http check 150 ms apart; JSON lines in $T/TAG.json.
probe() {
	local tag=$1
	shift
	timeout $((20 * HTTP_S)) "$HEALTHD" probe http --json -c "$RUNS" -i 150ms --timeout $((2000 * HTTP_S))ms \
		"$@" >"$T/$tag.json" 2>"$T/$tag.err"
}
# conns PATH: how many distinct connections carried the requests for PATH.
conns() { awk -v p="\"GET $1 HTTP/1.1\"" 'index($0, p) { print $1 }' "$d/access.log" | sort -u | wc -l; }
# reqs PATH: the request count on its connection of each request for PATH, in order.
reqs() { awk -v p="\"GET $1 HTTP/1.1\"" 'index($0, p) { printf "%s ", $2 }' "$d/access.log"; }
# facts TAG KEY: KEY's value in each run's facts.
facts() { grep -o "\"$2\":[a-z]*" "$T/$1.json" | sed 's/^.*://' | tr '\n' ' '; }
all_ok() { [ "$(grep -c '"status":"OK"' "$T/$1.json")" = "$RUNS" ]; }

check_case() { # DESC TAG PATH WANT_CONNS
	local desc=$1 tag=$2 path=$3 want=$4 n
	n=$(conns "$path")
	if all_ok "$tag" && [ "$n" = "$want" ]; then
		ok "$desc: $RUNS runs ok over $n connection(s)"
	else
		not_ok "$desc: $RUNS runs ok over $want connection(s)" "connections: $n; requests per connection: $(reqs "$path")" \
			"$(head -c 600 "$T/$tag.json")" "$(head -3 "$T/$tag.err")"
	fi
}

H=http://$ADDR:$HTTP_PORT
S=https://$NAME:$HTTPS_PORT
TLS=(--connect-to "$ADDR" --ca-file "$HTTP_CA")

probe plain --url "$H/plain"
check_case "http, by default" plain /plain "$RUNS"
probe reuse --url "$H/reuse" --reuse-connection
check_case "http, reuse_connection" reuse /reuse 1
if [ "$(reqs /reuse)" = "1 2 3 " ] && [ "$(facts reuse connection_reused)" = "false true true " ]; then
	ok "http, reuse_connection: requests 1, 2, 3 on one connection; connection_reused false, true, true"
else
	not_ok "http, reuse_connection: requests 1, 2, 3 on one connection" "requests: $(reqs /reuse)" "facts: $(facts reuse connection_reused)"
fi
probe noka --url "$H/noka" --reuse-connection
check_case "http, reuse_connection, the server closes each connection" noka /noka "$RUNS"

probe tls --url "$S/tls" "${TLS[@]}"
check_case "https, by default" tls /tls "$RUNS"
probe tlsreuse --url "$S/tlsreuse" "${TLS[@]}" --reuse-connection
check_case "https, reuse_connection" tlsreuse /tlsreuse 1
probe tlsnoka --url "$S/noka?tls" "${TLS[@]}" --reuse-connection
check_case "https, reuse_connection, the server closes each connection" tlsnoka '/noka?tls' "$RUNS"
if [ "$(facts tlsnoka tls_resumed)" = "false true true " ]; then
	ok "https, reuse_connection: a new connection still resumes the TLS session"
else
	not_ok "https, reuse_connection: a new connection still resumes the TLS session" "tls_resumed: $(facts tlsnoka tls_resumed)"
fi

# Verification stays on: a CA that did not sign the certificate fails every run.
probe badca --url "$S/badca" --connect-to "$ADDR" --ca-file "$T/tls/other.crt" --reuse-connection
if [ "$(grep -c '"reason":"tls"' "$T/badca.json")" = "$RUNS" ] && [ "$(conns /badca)" = 0 ]; then
	ok "https, reuse_connection, another CA: every run fails (tls), no request sent"
else
	not_ok "https, reuse_connection, another CA: every run fails (tls)" "$(head -c 600 "$T/badca.json")"
fi

# The key in a config file: a boolean, shown by healthd check's normalized config.
cat >"$T/good.json" <<EOF
{ "services": [ { "name": "web", "prefixes": [ "203.0.113.1/32" ],
	"checks": [ { "type": "http", "url": "$H/", "reuse_connection": true } ] } ] }
EOF
cat >"$T/bad.json" <<EOF
{ "services": [ { "name": "web", "prefixes": [ "203.0.113.1/32" ],
	"checks": [ { "type": "http", "url": "$H/", "reuse_connection": "yes" } ] } ] }
EOF
if "$HEALTHD" check -c "$T/good.json" >/dev/null 2>"$T/good.err"; then
	ok "healthd check accepts \"reuse_connection\": true"
else
	not_ok "healthd check accepts \"reuse_connection\": true" "$(head -3 "$T/good.err")"
fi
"$HEALTHD" check -c "$T/bad.json" >/dev/null 2>"$T/bad.err"
rc=$?
if [ "$rc" -ne 0 ] && grep -q 'bad.json:2:.*services\[0\]\.checks\[0\]\.reuse_connection' "$T/bad.err"; then
	ok "healthd check refuses \"reuse_connection\": \"yes\", naming where"
else
	not_ok "healthd check refuses \"reuse_connection\": \"yes\", naming where" "exit $rc" "$(head -3 "$T/bad.err")"
fi

it_finish
