#!/usr/bin/env bash
# The control socket when things are wrong, as an operator meets them:
#   BIRD not running yet: one clear error line naming the socket, probing goes on, and
#   once BIRD starts healthd connects by itself and the routes reach the peer;
#   permission denied (healthd not in BIRD's group): one line naming the socket and the
#   group to join;
#   something that is not BIRD on the socket: an error naming the socket, no crash;
#   a socket that accepts and never greets: an error within a bound, retries, probing.
#
#   HEALTHD=/abs/path/healthd bash tests/integration/test_bird_socket.sh
set -u
# shellcheck source-path=SCRIPTDIR source=lib_bird.sh
. "$(dirname "$0")/lib_bird.sh"

bird_lab_init
it_need setpriv

WEB=198.51.100.80/32
FAKE_PID=""

start_nginx || {
	not_ok "nginx starts"
	bird_lab_finish
	exit
}
write_speaker "protocol static p_web { ipv4; disabled; route $WEB blackhole; }"

# write_config NAME SOCKET
write_config() {
	cat >"$T/$1.json" <<EOF
{
	"speaker": { "type": "bird", "socket": "$2", "mode": "protocol", "reconnect": "300ms" },
	"defaults": { "interval": "300ms", "fast_interval": "100ms", "timeout": "200ms", "rise": 2, "fall": 2 },
	"services": [
		{ "name": "web", "prefixes": [ "$WEB" ], "bird_protocol": "p_web",
		  "checks": [ { "type": "tcp", "host": "127.0.0.1", "port": $NGINX_PORT } ] }
	]
}
EOF
	chmod 644 "$T/$1.json"
}

# (a) BIRD is not there yet
write_config later "$SPK_SOCK"
start_healthd "$T/later.json"
sleep 3 # ten reconnect attempts at most every 300ms
n=$(grep -c "$SPK_SOCK" "$T/healthd.err")
line=$(grep "$SPK_SOCK" "$T/healthd.err" | head -n 1)
if [ "$n" -eq 1 ] && grep -q 'does not exist' <<<"$line"; then
	ok "(a) one error line while the socket is missing: ${line#*] }"
else
	not_ok "(a) one error line naming the missing socket" "$n lines: $line"
fi
if alive "$HEALTHD_PID" && grep -q 'service web: .* -> UP' "$T/healthd.err"; then
	ok "(a) healthd keeps probing without BIRD (web is UP)"
else
	not_ok "(a) healthd keeps probing without BIRD"
fi
if ! { start_peer && start_speaker; }; then not_ok "(a) both BIRDs start"; fi
wait_session 20 || not_ok "(a) BGP session established within 20s"
if wait_peer_routes "$WEB" 15; then ok "(a) once BIRD runs, healthd connects and $WEB reaches the peer (${ELAPSED}s)"; else not_ok "(a) $WEB reaches the peer once BIRD runs" "peer has: $PEER_NOW"; fi
stop_healthd 5
if wait_peer_routes "" 5; then ok "(a) SIGTERM withdraws it"; else not_ok "(a) SIGTERM withdraws $WEB" "peer has: $PEER_NOW"; fi

# (b) permission denied: the socket as Debian's BIRD has it (group bird, mode 0660),
# healthd as a user outside that group
: >"$T/healthd.err"
if chgrp bird "$SPK_SOCK" 2>/dev/null; then group=bird; else group=$(id -gn); fi
chmod 0660 "$SPK_SOCK"
write_config denied "$SPK_SOCK"
setpriv --reuid=nobody --regid=nogroup --clear-groups "$HEALTHD" run -c "$T/denied.json" \
	</dev/null >/dev/null 2>>"$T/healthd.err" &
HEALTHD_PID=$!
HEALTHD_START=$(pid_start "$HEALTHD_PID")
sleep 2
n=$(grep -c 'permission denied' "$T/healthd.err")
line=$(grep 'permission denied' "$T/healthd.err" | head -n 1)
if [ "$n" -eq 1 ] && grep -qF "$SPK_SOCK" <<<"$line" && grep -q "group \"$group\"" <<<"$line"; then
	ok "(b) one line names the socket and the group to join: ${line#*] }"
else
	not_ok "(b) one line naming the socket and group \"$group\"" "$n lines: $line" "$(head -n 3 "$T/healthd.err")"
fi
if alive "$HEALTHD_PID"; then ok "(b) healthd keeps running"; else not_ok "(b) healthd keeps running"; fi
if peer_routes_stay "" 1; then ok "(b) nothing reaches the peer"; else not_ok "(b) nothing reaches the peer" "peer has: $PEER_NOW"; fi
stop_healthd 5

# (c) not BIRD: a server that greets with an HTTP line, and one that greets like BIRD
# but answers with nonsense
FAKE=$T/fake.ctl
"$PY" -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(16)
n = 0
while True:
    c, _ = s.accept()
    n += 1
    if n % 2:
        c.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
    else:
        c.sendall(b"0001 BIRD 9.9 ready.\n")
        c.recv(4096)
        c.sendall(b"\x00\xffnonsense\n0000 \n")
    c.close()
' "$FAKE" </dev/null >/dev/null 2>&1 &
FAKE_PID=$!
for ((i = 0; i < 50; i++)); do [ -S "$FAKE" ] && break; sleep 0.1; done
: >"$T/healthd.err"
write_config fake "$FAKE"
start_healthd "$T/fake.json"
sleep 2.5
if alive "$HEALTHD_PID"; then ok "(c) healthd survives a socket that is not BIRD"; else not_ok "(c) healthd survives a socket that is not BIRD"; fi
if grep -F "$FAKE" "$T/healthd.err" | grep -q 'did not greet like BIRD'; then
	ok "(c) a wrong greeting is named: $(grep -m1 'did not greet' "$T/healthd.err" | sed 's/.*] //')"
else
	not_ok "(c) a wrong greeting is named" "$(head -n 5 "$T/healthd.err")"
fi
if grep -F "$FAKE" "$T/healthd.err" | grep -q 'not a reply line'; then
	ok "(c) a garbage reply is named: $(grep -m1 'not a reply line' "$T/healthd.err" | sed 's/.*] //')"
else
	not_ok "(c) a garbage reply is named" "$(head -n 5 "$T/healthd.err")"
fi
# nothing there could confirm the withdrawal: exit 3 says so, within the 2s drain
if stop_healthd 5 && [ "$HEALTHD_RC" = 3 ]; then ok "(c) and still stops, in time (exit 3: withdrawal unconfirmed)"; else not_ok "(c) stops in time with exit 3" "status $HEALTHD_RC"; fi
kill_pid "$FAKE_PID" 2

# (d) a socket that accepts and never says a word: healthd gives up on the greeting
# within its bound (10s), says so once, and keeps retrying; the probes never wait for it
SILENT=$T/silent.ctl
"$PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(16)
held = []
while True:
    c, _ = s.accept()
    held.append(c)
    with open(sys.argv[2], "a") as f:
        f.write("accepted\n")
' "$SILENT" "$T/silent.accepts" </dev/null >/dev/null 2>&1 &
FAKE_PID=$!
for ((i = 0; i < 50; i++)); do [ -S "$SILENT" ] && break; sleep 0.1; done
: >"$T/healthd.err"
: >"$T/silent.runs"
: >"$T/silent.accepts"
cat >"$T/silent.json" <<EOF
{
	"allow_root_exec": true,
	"speaker": { "type": "bird", "socket": "$SILENT", "mode": "protocol", "reconnect": "300ms" },
	"defaults": { "interval": "300ms", "fast_interval": "100ms", "timeout": "200ms", "rise": 2, "fall": 2 },
	"services": [
		{ "name": "web", "prefixes": [ "$WEB" ], "bird_protocol": "p_web",
		  "checks": [ { "type": "exec", "command": [ "sh", "-c", "echo run >>$T/silent.runs" ] } ] }
	]
}
EOF
start_healthd "$T/silent.json"
t0=$(now)
for ((i = 0; i < 150; i++)); do # 15s at most
	grep -q 'did not greet' "$T/healthd.err" && break
	sleep 0.1
done
took=$(since "$t0")
line=$(grep -m1 'did not greet' "$T/healthd.err")
if grep -qF "$SILENT" <<<"$line" && le "$took" 13; then
	ok "(d) a silent socket is given up on within the bound (${took}s): ${line#*] }"
else
	not_ok "(d) a silent socket is given up on within ~10s" "after ${took}s: $(head -n 3 "$T/healthd.err")"
fi
runs=$(wc -l <"$T/silent.runs")
if [ "$runs" -ge 20 ] && grep -q 'service web: .* -> UP' "$T/healthd.err"; then
	ok "(d) the probes ran all along ($runs runs, web UP)"
else
	not_ok "(d) the probes ran all along" "$runs runs"
fi
for ((i = 0; i < 50; i++)); do # the reconnect after the timeout: at most 300ms later
	[ "$(wc -l <"$T/silent.accepts")" -ge 2 ] && break
	sleep 0.1
done
n=$(wc -l <"$T/silent.accepts")
if [ "$n" -ge 2 ] && alive "$HEALTHD_PID"; then ok "(d) healthd keeps retrying ($n connections)"; else not_ok "(d) healthd keeps retrying" "$n connections"; fi
if stop_healthd 5 && [ "$HEALTHD_RC" = 3 ]; then ok "(d) and stops in time (exit 3: withdrawal unconfirmed)"; else not_ok "(d) stops in time with exit 3" "status $HEALTHD_RC"; fi
kill_pid "$FAKE_PID" 2

bird_lab_finish
