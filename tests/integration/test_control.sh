#!/usr/bin/env bash
# The control endpoint of a healthd that drives a real BIRD 2 (mode "protocol"), judged by
# what a second BIRD, its BGP peer, receives:
#   /metrics passes promtool and the Prometheus Python client's parser, and changes as a
#   service fails (state gauge, transition counter, failures by reason);
#   /status and `healthd status` show the failing check's reason;
#   a write over TCP without a token is refused (403) and the route stays at the peer; over
#   the unix socket a disable withdraws it, and it stays withdrawn across SIGHUP and a
#   restart (control.state_file); an enable with the token brings it back after rise;
#   hostile clients (1,000 idle connections, a request dribbled a byte a second, a 10 MB
#   header, garbage) while the probes run on time (healthd's debug log of results).
#
#   HEALTHD=/abs/path/healthd bash tests/integration/test_control.sh
set -u
# shellcheck source-path=SCRIPTDIR source=lib_bird.sh
. "$(dirname "$0")/lib_bird.sh"
# This test's own loopback addresses: it may run beside the other BIRD tests.
SPK_ADDR=127.0.81.4
PEER_ADDR=127.0.81.5
CTL_ADDR=127.0.81.1
export TZ=UTC # healthd stamps its log in local time; the on-time check reads it as UTC

bird_lab_init
it_need promtool curl
ulimit -n 4096 2>/dev/null || true # 1,000 idle clients: healthd needs room for its cap

WEB=198.51.100.90/32 FLIP=198.51.100.91/32
WEB_PORT=$(free_port) FLIP_PORT=$(free_port) CTL_PORT=$(free_port)
CTL_SOCK=$T/ctl.sock CTL_URL=http://$CTL_ADDR:$CTL_PORT
if ! { start_listener "$WEB_PORT" && start_listener "$FLIP_PORT"; }; then not_ok "listeners start"; fi

write_speaker "protocol static p_web { ipv4; disabled; route $WEB blackhole; }
protocol static p_flip { ipv4; disabled; route $FLIP blackhole; }"
if ! { start_peer && start_speaker; }; then
	not_ok "both BIRDs start"
	bird_lab_finish
	exit
fi
wait_session 20 || not_ok "BGP session established within 20s"

TOKEN=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
printf '%s\n' "$TOKEN" >"$T/token"
chmod 600 "$T/token"
svc() { # name prefix port protocol
	printf '{ "name": "%s", "prefixes": [ "%s" ], "bird_protocol": "%s", "checks": [ { "type": "tcp", "host": "127.0.0.1", "port": %s } ] }' "$1" "$2" "$4" "$3"
}
cat >"$T/healthd.json" <<JSON
{
"speaker": { "type": "bird", "socket": "$SPK_SOCK", "mode": "protocol", "reconnect": "1s" },
"log": { "level": "debug" },
"control": { "listen": [ "$CTL_ADDR:$CTL_PORT", "unix:$CTL_SOCK" ], "socket_mode": "0600",
             "token_file": "$T/token", "state_file": "$T/control.state" },
"defaults": { "interval": "200ms", "fast_interval": "100ms", "timeout": "150ms", "rise": 2, "fall": 2 },
"services": [
$(svc web "$WEB" "$WEB_PORT" p_web),
$(svc flip "$FLIP" "$FLIP_PORT" p_flip)
]
}
JSON
if "$HEALTHD" check -c "$T/healthd.json" >/dev/null 2>"$T/check.err"; then ok "the config with a control section is valid"; else not_ok "the config is valid" "$(head -5 "$T/check.err")"; fi

# A token file others can read is refused, naming where.
chmod 644 "$T/token"
if ! "$HEALTHD" check -c "$T/healthd.json" >/dev/null 2>"$T/check.err" &&
	grep -q "healthd.json:[0-9]*:[0-9]*: control.token_file: .*readable by every user" "$T/check.err"; then
	ok "a world-readable token file is refused at load ($(head -1 "$T/check.err" | sed 's/.*control/control/'))"
else not_ok "a world-readable token file is refused" "$(cat "$T/check.err")"; fi
chmod 600 "$T/token"

start_healthd "$T/healthd.json"
if wait_peer_routes "$WEB $FLIP" 10; then ok "both services announced at the peer (${ELAPSED}s)"; else not_ok "both announced" "peer has: $PEER_NOW"; fi

metrics() { curl -s --max-time 5 --unix-socket "$CTL_SOCK" http://healthd/metrics; }
# metric LINE-PREFIX: the value of the first sample starting with it.
metric() { metrics | awk -v p="$1" 'index($0, p) == 1 { print $NF; exit }'; }

metrics >"$T/m1.txt"
if promtool check metrics <"$T/m1.txt" >"$T/promtool.out" 2>&1; then
	ok "promtool check metrics: no problem ($(grep -vc '^#' "$T/m1.txt") samples)"
else not_ok "promtool check metrics" "$(head -5 "$T/promtool.out")"; fi
if "$PY" -c '
import sys
from prometheus_client.parser import text_string_to_metric_families
fams = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1]).read())}
up = [s for s in fams["healthd_service_state"].samples if s.labels == {"service": "web", "state": "UP"}]
assert up and up[0].value == 1, up
assert fams["healthd_check_latency_seconds"].type == "histogram"
assert fams["healthd_config_last_reload_success"].samples[0].value == 1
' "$T/m1.txt" 2>"$T/py.err"; then ok "the Prometheus Python client parses it: web UP, a latency histogram, reload success"
else not_ok "the Prometheus Python client parses it" "$(tail -3 "$T/py.err")"; fi
if grep -Eq '^healthd_bird_replies_total\{code="[0-9]{4}"\} [1-9]' "$T/m1.txt" &&
	grep -q '^healthd_service_announced{service="flip"} 1' "$T/m1.txt"; then
	ok "speaker metrics: BIRD's replies by code, flip announced"
else not_ok "speaker metrics" "$(grep -E 'bird_|announced' "$T/m1.txt")"; fi

# ---- a service fails: the metrics and the status follow
stop_listener "$FLIP_PORT"
if wait_peer_routes "$WEB" 10; then ok "flip fails: withdrawn at the peer (${ELAPSED}s)"; else not_ok "flip withdrawn" "peer has: $PEER_NOW"; fi
metrics >"$T/m2.txt"
down=$(awk '/^healthd_service_state\{service="flip",state="DOWN"\}/ { print $2 }' "$T/m2.txt")
trans=$(awk '/^healthd_service_transitions_total\{service="flip",from="FALLING",to="DOWN"\}/ { print $2 }' "$T/m2.txt")
refused=$(awk '/^healthd_check_failures_total\{service="flip",check="0",type="tcp",reason="refused"\}/ { print $2 }' "$T/m2.txt")
if [ "$down" = 1 ] && [ "${trans:-0}" -ge 1 ] && [ "${refused:-0}" -ge 2 ]; then
	ok "metrics: flip DOWN=1, FALLING->DOWN $trans, failures{reason=refused} $refused"
else not_ok "metrics follow the failure" "DOWN=$down FALLING->DOWN=$trans refused=$refused"; fi
st=$(curl -s --max-time 5 "$CTL_URL/status/flip")
if "$PY" -c 'import json,sys; s=json.loads(sys.argv[1]); c=s["checks"][0]
assert s["state"]=="DOWN" and s["action"]=="withdraw" and c["reason"]=="refused" and c["status"]=="fail", s' "$st" 2>"$T/py.err"; then
	ok "/status/flip over TCP: DOWN, withdraw, check reason refused"
else not_ok "/status/flip" "$st"; fi
"$HEALTHD" status -s "$CTL_SOCK" >"$T/status.out" 2>&1
if grep -q '^flip  *DOWN .*refused' "$T/status.out" && grep -q '^web  *UP ' "$T/status.out"; then
	ok "healthd status: $(grep '^flip' "$T/status.out" | tr -s ' ' | cut -c1-70)"
else not_ok "healthd status shows flip's reason" "$(cat "$T/status.out")"; fi

# ---- writes
code=$(curl -s -o "$T/w.out" -w '%{http_code}' --max-time 5 -X POST "$CTL_URL/services/web/disable")
code2=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X POST -H 'Authorization: Bearer wrong' "$CTL_URL/services/web/disable")
if [ "$code" = 403 ] && [ "$code2" = 403 ] && grep -q '^{"error":' "$T/w.out" && peer_routes_stay "$WEB" 1.5; then
	ok "a write over TCP without a token, or a wrong one: 403, and web stays at the peer"
else not_ok "TCP write without token refused" "codes $code $code2; $(cat "$T/w.out"); peer: $PEER_NOW"; fi
code=$(curl -s -o "$T/w.out" -w '%{http_code}' --max-time 5 --unix-socket "$CTL_SOCK" -X POST -d '{"reason": 5}' http://h/services/web/disable)
code2=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --unix-socket "$CTL_SOCK" -X PUT http://h/services/web/disable)
code3=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --unix-socket "$CTL_SOCK" -X POST http://h/services/nosuch/disable)
if [ "$code" = 400 ] && [ "$code2" = 405 ] && [ "$code3" = 404 ]; then
	ok "bad body 400 ($(cat "$T/w.out")), bad method 405, unknown service 404"
else not_ok "bad requests get 4xx" "codes $code $code2 $code3"; fi

if "$HEALTHD" disable -s "$CTL_SOCK" web --reason "kernel upgrade" >"$T/d.out" 2>&1 && wait_peer_routes "" 5; then
	ok "healthd disable web over the unix socket: withdrawn at the peer (${ELAPSED}s)"
else not_ok "disable withdraws" "$(cat "$T/d.out"); peer: $PEER_NOW"; fi
api_disabled() {
	curl -s --max-time 5 --unix-socket "$CTL_SOCK" http://h/status/web |
		"$PY" -c 'import json,sys; s=json.load(sys.stdin); a=s["disabled"]["api"]
assert s["state"]=="DISABLED" and a["reason"]=="kernel upgrade" and a["by"]=="uid %d" % int(sys.argv[1]), s' "$(id -u)"
}
if api_disabled; then ok "status: web DISABLED, api {reason: kernel upgrade, by: uid $(id -u)}"; else not_ok "status shows the API disable"; fi

kill -HUP "$HEALTHD_PID"
sleep 0.5
if peer_routes_stay "" 1.5 && api_disabled && grep -q 'reload: ' "$T/healthd.err"; then
	ok "SIGHUP: web stays disabled and withdrawn"
else not_ok "disable survives SIGHUP" "peer: $PEER_NOW"; fi
stop_healthd 5
start_healthd "$T/healthd.json"
sleep 1
if wait_tcp "$CTL_ADDR" "$CTL_PORT" 5 && peer_routes_stay "" 1.5 && api_disabled; then
	ok "restart: web stays disabled from control.state_file ($(grep -o '"reason": "[^"]*"' "$T/control.state"))"
else not_ok "disable survives a restart" "peer: $PEER_NOW; $(cat "$T/control.state" 2>&1)"; fi

start_listener "$FLIP_PORT"
if "$HEALTHD" enable --url "$CTL_URL" --token-file "$T/token" web >"$T/e.out" 2>&1 && wait_peer_routes "$WEB $FLIP" 5; then
	ok "healthd enable over TCP with the token: web back at the peer after rise (${ELAPSED}s)"
else not_ok "enable brings web back" "$(cat "$T/e.out"); peer: $PEER_NOW"; fi

# ---- hostile clients, with the probes running on time throughout
runs0=$(metric 'healthd_check_runs_total{service="web"')
t0=$(now)
"$PY" "$IT_LIB_DIR/control_hostile.py" "$CTL_ADDR" "$CTL_PORT" 1000 12 >"$T/hostile.out" 2>&1 &
HOSTILE_PID=$!
sleep 3
scrape=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 3 --unix-socket "$CTL_SOCK" http://h/metrics)
wait "$HOSTILE_PID"
el=$(since "$t0")
runs1=$(metric 'healthd_check_runs_total{service="web"')
note "$(tr '\n' ';' <"$T/hostile.out")"
if grep -q '^idle [0-9]* opened' "$T/hostile.out" && [ "$(sed -n 's/^idle \([0-9]*\) opened/\1/p' "$T/hostile.out")" = "$(sed -n 's/^idle \([0-9]*\) closed by healthd/\1/p' "$T/hostile.out")" ]; then
	ok "1,000 idle connections: every one closed by healthd (the cap or the deadline)"
else not_ok "idle connections closed" "$(cat "$T/hostile.out")"; fi
dribble=$(sed -n 's/^dribble closed after \([0-9.]*\)s/\1/p' "$T/hostile.out")
if [ -n "$dribble" ] && le "$dribble" 12 && le 9 "$dribble"; then ok "a request dribbled a byte a second: closed at the deadline (${dribble}s)"; else not_ok "dribbler closed at the deadline" "$(cat "$T/hostile.out")"; fi
if grep -Eq "^bigheader sent [0-9]+ of 10485760 bytes; reply b'HTTP/1.1 431'|^bigheader sent [0-9]* of" "$T/hostile.out" && ! grep -q '^bigheader sent 10485760' "$T/hostile.out"; then
	ok "a 10 MB header: refused before the end ($(grep -o 'sent [0-9]* of' "$T/hostile.out"))"
else not_ok "10 MB header refused" "$(cat "$T/hostile.out")"; fi
if grep -q "^garbage reply b'HTTP/1.1 400'" "$T/hostile.out"; then ok "garbage bytes: 400"; else not_ok "garbage gets 400" "$(cat "$T/hostile.out")"; fi
case $scrape in 200\ *) ok "a scrape over the unix socket during the flood: $scrape s" ;; *) not_ok "scrape during the flood" "$scrape" ;; esac
# On time: web's check results in the debug log, during the hostile window.
gaps=$(awk -v t0="$t0" -v t1="$(now)" '/healthd\[debug\] [a-z_]*: web: tcp/ {
	split($1, d, "T"); split(d[2], h, ":"); s = h[1] * 3600 + h[2] * 60 + h[3]
	if (!(d[1] in day)) { cmd = "date -u -d " d[1] " +%s"; cmd | getline day[d[1]]; close(cmd) }
	s += day[d[1]]
	if (s < t0 || s > t1) next
	if (prev) { g = s - prev; if (g > max) max = g }
	prev = s; n++ }
	END { printf "%d %.3f\n", n, max }' "$T/healthd.err")
n=${gaps% *} maxgap=${gaps#* }
want=$(awk -v e="$el" 'BEGIN { printf "%d", e / 0.2 * 0.8 }')
if [ "$n" -ge "$want" ] && le "$maxgap" 0.6; then
	ok "probes on time throughout: $n results of web in ${el}s (interval 200ms; >= $want), largest gap ${maxgap}s"
else not_ok "probes on time" "$n results in ${el}s (want >= $want), largest gap ${maxgap}s"; fi
if [ $((runs1 - runs0)) -ge "$want" ]; then ok "healthd_check_runs_total of web: +$((runs1 - runs0))"; else not_ok "runs_total grows" "$runs0 -> $runs1"; fi
refused=$(metric 'healthd_control_connections_refused_total')
if [ "${refused:-0}" -ge 400 ]; then ok "healthd_control_connections_refused_total: $refused (the cap of 512 per kind)"; else not_ok "the cap refused connections" "refused=$refused"; fi
if alive "$HEALTHD_PID" && wait_peer_routes "$WEB $FLIP" 3; then ok "healthd alive, both routes at the peer"; else not_ok "healthd alive with both routes" "peer: $PEER_NOW"; fi

# A burst of 100 scrapes at once: rendered once per 250 ms at most, not once each.
r0=$(grep -c 'control: /metrics: ' "$T/healthd.err")
t0=$(now)
curl -s -f -Z --parallel-max 100 --max-time 10 --unix-socket "$CTL_SOCK" -o /dev/null "http://h/metrics?[1-100]"
crc=$?
el=$(since "$t0")
renders=$(($(grep -c 'control: /metrics: ' "$T/healthd.err") - r0))
most=$(awk -v e="$el" 'BEGIN { printf "%d", e / 0.25 + 2 }')
# 0 is right too: a rendering younger than 250 ms (an earlier scrape's) serves them all.
if [ "$crc" -eq 0 ] && [ "$renders" -le "$most" ]; then
	ok "100 scrapes at once in ${el}s: $renders renderings (at most one per 250 ms)"
else not_ok "a burst of scrapes shares renderings" "curl exit $crc, $renders renderings in ${el}s"; fi

stop_healthd 5
if [ ! -e "$CTL_SOCK" ]; then ok "the unix socket is removed at exit"; else not_ok "the unix socket is removed at exit"; fi
bird_lab_finish
