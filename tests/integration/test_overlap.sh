#!/usr/bin/env bash
# Overlapping runs against a service that hangs (accepts, reads, never answers): healthd
# (speaker exabgp, its stdout read by this test) must not wait for one run's whole
# timeout before it looks again. With interval 1s, fast_interval 200ms, fall 2 and timeout
# 500ms, the debug log must show a second run started while the first had no answer, the
# two failing, and the withdraw line after exactly fall counted failures. "overlap":
# false shows none of that (runs one after the other). A slow but healthy service
# (answers after 300ms) stays announced, and no result of it is dropped. One run that
# hangs while the run beside it passes: its late timeout is dropped, not counted, and
# counted in /metrics as dropped.
# Reloads with runs in flight free them cleanly. Every healthd exits 0 with no
# sanitizer report (run it with the ASan build too).
#
#   HEALTHD=/abs/path/healthd bash tests/integration/test_overlap.sh
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

it_init
it_need python3 awk curl
it_need_healthd

SERVICE_ADDR=127.0.119.10
PFX=203.0.113.119/32
INTERVAL_MS=1000 FAST_MS=200 TIMEOUT_MS=500 FALL=2
TRIALS=5

# The service: reads a line, then answers as $T/mode says at that moment: "ok" at once,
# "slow S" after S seconds, "hang" never (the connection stays open until the client
# goes), "hangonce" never to this connection but at once to the next ones. One thread per connection: overlapping runs each get their own.
cat >"$T/svc.py" <<'EOF'
import socket, sys, threading, time
host, port, modefile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((host, port))
s.listen(64)
def serve(c):
    try:
        c.settimeout(30)
        c.recv(64)
        with open(modefile) as f:
            mode = f.read().split()
        if mode and mode[0] == "slow":
            time.sleep(float(mode[1]))
        if mode and mode[0] == "hangonce":
            with open(modefile, "w") as f:
                f.write("ok\n")
        if mode and mode[0] in ("hang", "hangonce"):
            c.recv(64)  # until healthd closes it (or 30s)
        else:
            c.sendall(b"PASS\n")
    except OSError:
        pass
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
PORT=$(free_port)
echo ok >"$T/mode"
python3 "$T/svc.py" "$SERVICE_ADDR" "$PORT" "$T/mode" </dev/null >>"$T/svc.log" 2>&1 &
SVC_PID=$!
wait_tcp "$SERVICE_ADDR" "$PORT" 5 || not_ok "test service listens on $SERVICE_ADDR:$PORT"

# write_config OVERLAP ("" or ', "overlap": false')
write_config() {
	cat >"$T/healthd.json" <<EOF
{
	"speaker": { "type": "exabgp" },
	"control": { "listen": [ "unix:$T/ctl.sock" ] },
	"defaults": { "interval": "${INTERVAL_MS}ms", "fast_interval": "${FAST_MS}ms",
	              "timeout": "${TIMEOUT_MS}ms", "rise": 2, "fall": $FALL },
	"services": [
		{
			"name": "hang",
			"prefixes": [ "$PFX" ],
			"checks": [ { "type": "tcp", "host": "$SERVICE_ADDR", "port": $PORT,
			              "send": "ping\\n", "expect": "PASS"$1 } ]
		}
	]
}
EOF
}

# start_healthd: healthd -d, stdin a fifo held open, stdout read by a stamping reader.
HPID="" RPID=""
start_healthd() {
	echo ok >"$T/mode"
	rm -f "$T/stdin" "$T/stdout" "$T/out" "$T/healthd.err"
	mkfifo "$T/stdin" "$T/stdout"
	exec 7<>"$T/stdin"
	(while IFS= read -r line; do printf '%s %s\n' "$EPOCHREALTIME" "$line"; done <"$T/stdout" >"$T/out") &
	RPID=$!
	"$HEALTHD" run -d --no-state-file -c "$T/healthd.json" <"$T/stdin" >"$T/stdout" 2>"$T/healthd.err" &
	HPID=$!
	HEALTHD_PID=$HPID HEALTHD_START=$(pid_start "$HPID")
}
# stop_healthd NAME: SIGTERM; healthd must exit 0 with no sanitizer report (ASan builds).
stop_healthd() {
	local rc=0 i
	kill -TERM "$HPID" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		alive "$HPID" || break
		sleep 0.1
	done
	if alive "$HPID"; then kill_pid "$HPID" 1; rc=timeout; else wait "$HPID" || rc=$?; fi
	kill_pid "$RPID" 2
	exec 7>&-
	if [ "$rc" = 0 ] && ! grep -qE "Sanitizer|runtime error" "$T/healthd.err"; then
		ok "$1: healthd exits 0 on SIGTERM, no sanitizer report"
	else
		not_ok "$1: healthd exits 0 on SIGTERM, no sanitizer report" "exit $rc" \
			"$(grep -E -m3 "Sanitizer|runtime error" "$T/healthd.err")"
	fi
}
# wait_line WORD N TIMEOUT_S: $T/out has N lines with WORD (announce/withdraw).
wait_line() {
	local i n
	n=$(awk -v s="$3" 'BEGIN { printf "%d", s * 20 + 1 }')
	for ((i = 0; i < n; i++)); do
		[ "$(grep -c " $1 route $PFX" "$T/out" 2>/dev/null)" -ge "$2" ] && return 0
		alive "$HPID" || return 1
		sleep 0.05
	done
	return 1
}
# lacks PATTERN FILE: no line of FILE matches.
lacks() { ! grep -q "$1" "$2"; }
count() { grep -c " $1 route $PFX" "$T/out" 2>/dev/null; }
# The last stamp of the Nth WORD line.
line_at() { grep " $1 route $PFX" "$T/out" | sed -n "${2}p" | awk '{ print $1 }'; }

# W0: the withdraw lines before the first announce (withdraw_on_start clears the prefix).
W0=0
first_up() { wait_line announce 1 10 && W0=$(count withdraw); }

# One trial: up, then hang; prints the seconds from the fault to the withdraw line.
# The debug log of the trial goes to $T/trial-K.err.
trial() {
	local k=$1 t0 tw
	echo ok >"$T/mode"
	wait_line announce "$k" 10 || return 1
	sleep 0.$((RANDOM % 10)) # the fault comes anywhere in the interval
	echo hang >"$T/mode"
	t0=$(now)
	wait_line withdraw $((W0 + k)) 10 || return 1
	tw=$(line_at withdraw $((W0 + k)))
	awk -v a="$t0" -v b="$tw" 'BEGIN { printf "%.3f\n", b - a }'
}

# Overlap on (the default for tcp).
write_config ""
start_healthd
first_up || not_ok "healthd announces $PFX"
lat=() failed_trials=0
for ((k = 1; k <= TRIALS; k++)); do
	if d=$(trial "$k"); then lat+=("$d"); else failed_trials=$((failed_trials + 1)); fi
done
stop_healthd "overlap on"
cp "$T/healthd.err" "$T/on.err"
note "fault -> withdraw (s), overlap on: ${lat[*]}"
check "$TRIALS trials: each hang withdrawn" [ "$failed_trials" -eq 0 ]

# Structure of the log: "run N has no answer after 200ms: run N+1 starts beside it", then
# both runs fail, then the state change to DOWN. For every DOWN: the last FALL results
# counted before it are failures, and the newest "starts beside it" line came before the
# first of them (the two failed runs were in flight together).
besides=$(grep -c "has no answer after ${FAST_MS}ms: run [0-9]* starts beside it" "$T/on.err")
check "overlap on: a second run started while the first had no answer ($besides times)" [ "$besides" -ge "$TRIALS" ]
awk -v fall="$FALL" '
	/starts beside it/ { beside = NR }
	/engine_check_done: hang: / && !/ dropped, / { n++; ok[n] = / fail \(/; line[n] = NR }
	/ -> DOWN/ { total++; good1 = 1
		for (i = n - fall + 1; i <= n; i++) if (i < 1 || !ok[i]) good1 = 0
		if (n - fall + 1 < 1 || !beside || beside > line[n - fall + 1]) good1 = 0
		good += good1 }
	END { printf "%d %d\n", total, good }' "$T/on.err" >"$T/shape"
read -r downs good <"$T/shape"
check "overlap on: every withdraw came after $FALL failures of runs that overlapped ($good of $downs)" [ "$downs" -ge "$TRIALS" -a "$good" -eq "$downs" ]
# No wall-clock bound is asserted tightly; only a generous one the hung service cannot
# meet without overlap at worst plus scheduling slack: interval + fall x timeout + 1s.
slack_bound=$(awk -v i=$INTERVAL_MS -v f=$FALL -v t=$TIMEOUT_MS 'BEGIN { printf "%.3f", (i + f * t) / 1000 + 1 }')
over=0
for d in "${lat[@]}"; do le "$d" "$slack_bound" || over=$((over + 1)); done
check "overlap on: every withdraw within ${slack_bound}s of the fault" [ "$over" -eq 0 ]

# Overlap off: runs one after the other, never beside each other.
write_config ', "overlap": false'
start_healthd
first_up || not_ok "healthd announces $PFX"
lat=() failed_trials=0
for ((k = 1; k <= 2; k++)); do
	if d=$(trial "$k"); then lat+=("$d"); else failed_trials=$((failed_trials + 1)); fi
done
stop_healthd "overlap off"
cp "$T/healthd.err" "$T/off.err"
note "fault -> withdraw (s), overlap off: ${lat[*]}"
check "overlap off: each hang withdrawn" [ "$failed_trials" -eq 0 ]
check "overlap off: no run started beside another" lacks "starts beside it" "$T/off.err"
if "$HEALTHD" check -c "$T/healthd.json" 2>/dev/null | grep -q '"overlap": false'; then
	ok "healthd check prints \"overlap\": false"
else
	not_ok "healthd check prints \"overlap\": false"
fi

# Slow but healthy: answers after 300ms (timeout 500ms, fast 200ms): overlapping runs
# start, and every result counts: the route stays, nothing dropped, no failure.
write_config ""
start_healthd
echo "slow 0.3" >"$T/mode"
if first_up && sleep 4 && [ "$(count withdraw)" -eq "$W0" ]; then
	ok "slow service (300ms): announced and never withdrawn"
else
	not_ok "slow service (300ms): announced and never withdrawn" "$(tr '\n' '|' <"$T/out")"
fi
stop_healthd "slow service"
cp "$T/healthd.err" "$T/slow.err"
check "slow service: runs overlapped" grep -q "starts beside it" "$T/slow.err"
check "slow service: no result dropped" lacks "dropped" "$T/slow.err"
check "slow service: no failed run" lacks "hang: tcp .*: fail" "$T/slow.err"
npass=$(grep -c "hang: tcp .*: ok (ok)" "$T/slow.err")
check "slow service: results counted ($npass)" [ "$npass" -ge 4 ]

# One hung run, the next answers: the run started beside it passes first, and the hung
# run's timeout, older, is dropped: the check never starts falling.
write_config ""
start_healthd
first_up || not_ok "healthd announces $PFX"
for ((k = 0; k < 3; k++)); do
	echo hangonce >"$T/mode"
	sleep 1.5
done
curl -s --max-time 5 --unix-socket "$T/ctl.sock" http://healthd/metrics >"$T/once.metrics"
stop_healthd "one hung run"
cp "$T/healthd.err" "$T/once.err"
ndrop=$(grep -c "hang: tcp .*: run [0-9]* dropped, run [0-9]* was counted already: fail (" "$T/once.err")
check "one hung run: its late failure dropped ($ndrop times)" [ "$ndrop" -ge 2 ]
mdrop=$(awk '/^healthd_check_dropped_total[{]service="hang",check="0",type="tcp"[}] / { print $2 }' "$T/once.metrics")
check "one hung run: /metrics counts the dropped results (${mdrop:-none}; the log $ndrop by the end)" \
	[ "${mdrop:-0}" -ge 2 -a "${mdrop:-0}" -le "$ndrop" ]
check "one hung run: no failure counted" lacks "engine_check_done: hang: tcp [0-9.:]*: fail (" "$T/once.err"
check "one hung run: the service never left UP" lacks "service hang: UP -> " "$T/once.err"

# Reloads that change the check while its runs, spares included, are in flight (the
# service hangs): the old check's probes are freed with their runs (ASan builds would
# report a use after free), and the new check overlaps again.
write_config ""
start_healthd
first_up || not_ok "healthd announces $PFX"
echo hang >"$T/mode"
for ((k = 0; k < 6; k++)); do
	sleep 0.35
	TIMEOUT_MS=$((k % 2 ? 500 : 450)) write_config ""
	kill -HUP "$HPID" 2>/dev/null
done
sleep 1.5
nrel=$(grep -c "reload: 0 unchanged, 1 changed" "$T/healthd.err")
check "reloads with runs in flight: all applied ($nrel of 6)" [ "$nrel" -eq 6 ]
check "reloads with runs in flight: healthd still runs" alive "$HPID"
n0=$(grep -c "starts beside it" "$T/healthd.err")
sleep 1.5
n1=$(grep -c "starts beside it" "$T/healthd.err")
check "after the reloads: the new check overlaps its runs ($n0 -> $n1)" [ "$n1" -gt "$n0" ]
stop_healthd "reloads"

kill_pid "$SVC_PID" 2
it_finish
