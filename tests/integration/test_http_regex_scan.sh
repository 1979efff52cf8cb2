#!/usr/bin/env bash
# A hostile body against an unanchored regex: nginx on 127.0.124.1 sends more than
# max_body (64 KiB) of "a", and an http check wants /.+x/ in it. glibc's regexec tried
# the pattern from every byte, each try scanning to the end: 6 s of CPU per run, on the
# event loop every check shares. Here the http check must fail quickly (body-mismatch,
# cut at max_body) while a tcp check at 200 ms on the same healthd keeps its cadence:
# no gap between its results longer than 1 s.
#
#   HEALTHD=/abs/path/healthd bash tests/integration/test_http_regex_scan.sh
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=lib_http.sh
. "$(dirname "$0")/lib_http.sh"

it_init
it_need_healthd
it_need nginx
http_scale

ADDR=127.0.124.1
PORT=$(free_port) || exit 1
mkdir -p "$T/nginx-http/www"
head -c 262144 /dev/zero | tr '\0' 'a' >"$T/nginx-http/www/flood.txt"
http_nginx_start "
	server {
		listen $ADDR:$PORT default_server;
		location = /flood.txt { root $T/nginx-http/www; }
	}" || {
	not_ok "nginx starts on $ADDR:$PORT" "$(tail -5 "$T/nginx-http/error.log" 2>/dev/null)"
	it_finish
	exit
}

cat >"$T/healthd.json" <<EOF
{
	"speaker": { "type": "exabgp" },
	"defaults": { "timeout": "$((800 * HTTP_S))ms", "rise": 1, "fall": 1 },
	"services": [
		{ "name": "scan", "prefixes": [ "203.0.113.1/32" ], "interval": "${HTTP_S}s",
		  "fast_interval": "${HTTP_S}s",
		  "checks": [ { "type": "http", "url": "http://$ADDR:$PORT/flood.txt",
		                "expect_body_regex": ".+x" } ] },
		{ "name": "beat", "prefixes": [ "203.0.113.2/32" ], "interval": "200ms",
		  "fast_interval": "200ms", "timeout": "100ms",
		  "checks": [ { "type": "tcp", "host": "$ADDR", "port": $PORT } ] }
	]
}
EOF

RUN_S=$((5 * HTTP_S))
note "healthd runs an http check with /.+x/ against 256 KiB of \"a\" and a tcp check at 200ms, for ${RUN_S}s"
http_run_healthd "$T/healthd.json" "$RUN_S"
if [ "$HTTP_RC" = 0 ]; then ok "healthd ran and exited 0 on SIGTERM"; else not_ok "healthd ran and exited 0 on SIGTERM" "exit: $HTTP_RC" "$(tail -5 "$T/healthd.err")"; fi

expect_code scan body-mismatch "does not match /.+x/ in 65536 bytes (max_body)"
runs=$(grep -cF "engine_check_done: scan: " "$T/healthd.err")
if [ "$runs" -ge 3 ]; then ok "scan: $runs runs, each judged"; else not_ok "scan: at least 3 runs" "runs: $runs"; fi

# The beat check's results, as seconds of the day from the log's time stamps: how many
# there were, and the largest gap between two of them or the last one and SIGTERM.
read -r beats gap < <(grep -E "engine_check_done: beat: |engine_stop: stopping" "$T/healthd.err" |
	awk '{ split(substr($1, 12), t, ":"); s = t[1] * 3600 + t[2] * 60 + t[3]
	       if (k++ > 0 && s - last > gap) gap = s - last; last = s; n += /beat: / }
	     END { printf "%d %.3f\n", n, gap + 0 }')
if [ "$beats" -ge $((3 * RUN_S)) ] && le "$gap" "$HTTP_S"; then
	ok "beat: $beats tcp results in ${RUN_S}s, at most ${gap}s apart"
else
	not_ok "beat: at least $((3 * RUN_S)) tcp results, at most ${HTTP_S}s apart" "results: $beats, largest gap: ${gap}s" "$(grep -F "engine_check_done: scan: " "$T/healthd.err" | tail -n 2)"
fi
if http_announced 203.0.113.2/32 && ! http_announced 203.0.113.1/32; then
	ok "beat announced, scan not"
else
	not_ok "beat announced, scan not" "$(cat "$T/healthd.out")"
fi

it_finish
